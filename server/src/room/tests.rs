//! The room task driven through its command queue, on the local log over a
//! real SQLite store (a file, as by default, or in memory), with real
//! outbound queues as members.
//! (Cluster rooms are covered end to end by `tests/cluster.rs` against a
//! real Redis.)

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use protocol::{Seq, ServerEvent};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::local_log::LocalLog;
use super::log::LogKey;
use super::{
    COMMAND_QUEUE, HistoryLimits, JoinError, Joining, Member, Post, Resume, Retire, RoomCommand,
};
use crate::frame::Frame;
use crate::outbound::{Outbound, Receiver};
use crate::store::{Store, StoreConfig};

/// How long any single expectation may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(10);
const ROOM: &str = "dev";

/// Records that the room retired itself, the way the registry's seat does:
/// only when no command is waiting.
struct Seat(Arc<AtomicBool>);

impl Retire for Seat {
    fn retire(&self, commands: &mpsc::Receiver<RoomCommand>) -> bool {
        if !commands.is_empty() {
            return false;
        }
        self.0.store(true, Ordering::SeqCst);
        true
    }
}

struct TestRoom {
    commands: mpsc::Sender<RoomCommand>,
    task: JoinHandle<()>,
    retired: Arc<AtomicBool>,
    store: Store,
    /// Where the store file is, for as long as the room runs.
    _dir: Option<tempfile::TempDir>,
}

impl TestRoom {
    /// A room whose history is in a store file, as the server's default.
    fn start() -> TestRoom {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = Store::open(&StoreConfig {
            path: Some(crate::store::file_in(dir.path())),
            ..Default::default()
        })
        .expect("store file");
        TestRoom::start_on(store, Some(dir))
    }

    /// A room whose history is in memory (`--memory`).
    fn in_memory() -> TestRoom {
        let store = Store::open(&StoreConfig::default()).expect("in-memory store");
        TestRoom::start_on(store, None)
    }

    fn start_on(store: Store, dir: Option<tempfile::TempDir>) -> TestRoom {
        let (commands, rx) = mpsc::channel(COMMAND_QUEUE);
        let retired = Arc::new(AtomicBool::new(false));
        let name: Arc<str> = Arc::from(ROOM);
        let open = Box::pin(LocalLog::open(store.clone(), LogKey::room(&name)));
        let limits = HistoryLimits {
            on_join: 50,
            resume: 1000,
        };
        let task = tokio::spawn(super::task::run(
            name,
            rx,
            Seat(retired.clone()),
            limits,
            Arc::new(crate::conversations::Directory::default()),
            Arc::new(crate::moderation::Moderation::memory()),
            open,
        ));
        TestRoom {
            commands,
            task,
            retired,
            store,
            _dir: dir,
        }
    }

    async fn send(&self, command: RoomCommand) {
        self.commands.send(command).await.expect("room is running");
    }

    async fn join(&self, client: &Client, request_id: &str) -> Result<(), JoinError> {
        let (reply, answer) = oneshot::channel();
        self.send(RoomCommand::Join(Box::new(Joining {
            member: client.member.clone(),
            request_id: request_id.into(),
            resume: Resume::default(),
            reply,
        })))
        .await;
        tokio::time::timeout(PATIENCE, answer)
            .await
            .expect("join answered in time")
            .expect("room answered")
    }

    /// Joins and reads the joiner's three answers.
    async fn enter(&self, client: &mut Client) {
        let id = format!("join-{}", client.member.id());
        self.join(client, &id).await.expect("joined");
        assert!(matches!(client.next().await, ServerEvent::RoomState { .. }));
        assert!(matches!(client.next().await, ServerEvent::History { .. }));
        assert_eq!(client.next().await, ServerEvent::ack_ok(id, None));
    }

    async fn say(&self, client: &Client, request_id: &str, text: &str) {
        self.send(RoomCommand::Post {
            connection_id: client.member.id(),
            request_id: request_id.into(),
            post: Post::Text {
                text: text.into(),
                action: false,
            },
        })
        .await;
    }

    async fn leave(&self, client: &Client, request_id: Option<&str>) {
        self.send(RoomCommand::Leave {
            connection_id: client.member.id(),
            request_id: request_id.map(str::to_owned),
        })
        .await;
    }
}

/// A member with a real outbound queue, read the way its connection would.
struct Client {
    member: Member,
    queue: Receiver,
    received: VecDeque<Frame>,
}

impl Client {
    fn new(id: u64, name: &str, capacity: usize) -> Client {
        let (outbound, queue) = Outbound::new(id, capacity);
        Client {
            member: Member {
                name: Arc::from(name),
                user: Arc::from(format!("u_{}", name.to_lowercase())),
                device: Arc::from(format!("d_{id}")),
                outbound,
            },
            queue,
            received: VecDeque::new(),
        }
    }

    /// The next event queued for this client.
    async fn next(&mut self) -> ServerEvent {
        if self.received.is_empty() {
            let mut batch = Vec::new();
            tokio::time::timeout(PATIENCE, self.queue.recv_many(&mut batch, 64))
                .await
                .expect("an event in time")
                .expect("not marked slow");
            self.received.extend(batch);
        }
        let frame = self.received.pop_front().expect("a frame");
        protocol::decode_server(frame.as_str()).expect("a valid server event")
    }

    /// The next event, which must be the ack of `id`; returns its seq.
    async fn ack(&mut self, id: &str) -> Option<Seq> {
        match self.next().await {
            ServerEvent::Ack {
                id: got,
                ok: true,
                seq,
                ..
            } if got == id => seq,
            other => panic!("expected the ack of {id}, got {other:?}"),
        }
    }

    /// The next event, which must be a message; returns (seq, from, text).
    async fn message(&mut self) -> (Seq, String, String) {
        match self.next().await {
            ServerEvent::Message {
                seq, from, text, ..
            } => (seq, from, text),
            other => panic!("expected a message, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_joiner_gets_room_state_then_history_then_its_ack() {
    let room = TestRoom::start();
    let mut ann = Client::new(1, "ann", 64);
    room.enter(&mut ann).await;
    room.say(&ann, "m1", "hello").await;
    assert_eq!(ann.ack("m1").await, Some(1));
    assert_eq!(ann.message().await, (1, "ann".into(), "hello".into()));

    let mut bob = Client::new(2, "Bob", 64);
    assert_eq!(room.join(&bob, "j").await, Ok(()));
    match bob.next().await {
        ServerEvent::RoomState { room, users, .. } => {
            assert_eq!(room, ROOM);
            assert_eq!(
                names(&users),
                ["ann", "Bob"],
                "in join order, the joiner last"
            );
            assert_eq!(users[0].id, "u_ann");
        }
        other => panic!("expected room_state first, got {other:?}"),
    }
    match bob.next().await {
        ServerEvent::History { events, more, .. } => {
            assert!(!more);
            assert!(
                matches!(&events[..], [ServerEvent::Message { seq: 1, text, .. }] if text == "hello"),
                "{events:?}"
            );
        }
        other => panic!("expected history second, got {other:?}"),
    }
    assert_eq!(bob.ack("j").await, None);
    match ann.next().await {
        ServerEvent::UserJoined { name, .. } => assert_eq!(name, "Bob"),
        other => panic!("expected user_joined, got {other:?}"),
    }
}

fn names(users: &[protocol::Member]) -> Vec<&str> {
    users.iter().map(|u| u.name.as_str()).collect()
}

/// Presence is per identity: a second connection of ann (another device,
/// or a new one while the old is stale) joins at once, is not announced
/// again, and ann leaves only when her last connection does.
#[tokio::test]
async fn a_second_connection_of_an_identity_joins_at_once_and_is_announced_once() {
    let room = TestRoom::start();
    let mut bob = Client::new(1, "bob", 64);
    room.enter(&mut bob).await;
    let mut ann = Client::new(2, "ann", 64);
    room.enter(&mut ann).await;
    match bob.next().await {
        ServerEvent::UserJoined { user, .. } => assert_eq!(user, "u_ann"),
        other => panic!("expected user_joined, got {other:?}"),
    }
    let mut ann2 = Client::new(3, "ann", 64);
    assert_eq!(room.join(&ann2, "j").await, Ok(()));
    match ann2.next().await {
        ServerEvent::RoomState { users, .. } => {
            assert_eq!(names(&users), ["bob", "ann"], "each identity once")
        }
        other => panic!("expected room_state, got {other:?}"),
    }
    room.leave(&ann, None).await;
    // Nothing announced for ann's first connection: bob's next event is
    // the answer to his post.
    room.say(&bob, "m1", "still here?").await;
    assert_eq!(bob.ack("m1").await, Some(1));
    assert_eq!(bob.message().await.0, 1);
    room.leave(&ann2, None).await;
    match bob.next().await {
        ServerEvent::UserLeft { user, name, .. } => assert_eq!((&*user, &*name), ("u_ann", "ann")),
        other => panic!("expected user_left once the last connection left, got {other:?}"),
    }
}

#[tokio::test]
async fn a_post_is_acknowledged_after_its_commit_then_broadcast_in_order() {
    let room = TestRoom::start();
    let mut ann = Client::new(1, "ann", 64);
    let mut bob = Client::new(2, "bob", 64);
    room.enter(&mut ann).await;
    room.enter(&mut bob).await;
    assert!(matches!(ann.next().await, ServerEvent::UserJoined { .. }));

    for n in 1..=3 {
        room.say(&ann, &format!("m{n}"), &format!("text {n}")).await;
    }
    // The sender hears each ack before the message itself, and by the time
    // it does, the message is in the store.
    let mut acked = Vec::new();
    let mut seen = Vec::new();
    while seen.len() < 3 {
        match ann.next().await {
            ServerEvent::Ack {
                id, ok: true, seq, ..
            } => {
                let seq = seq.expect("a numbered ack");
                let page = room
                    .store
                    .page(Arc::from(ROOM), seq - 1, seq, 1)
                    .await
                    .expect("store readable");
                assert_eq!(page.frames.len(), 1, "message {seq} stored before its ack");
                acked.push((id, seq));
            }
            ServerEvent::Message { seq, .. } => {
                assert!(
                    acked.iter().any(|(_, s)| *s == seq),
                    "ack of {seq} came first"
                );
                seen.push(seq);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        acked,
        [("m1".to_string(), 1), ("m2".into(), 2), ("m3".into(), 3)]
    );
    assert_eq!(seen, [1, 2, 3]);
    for n in 1..=3 {
        assert_eq!(bob.message().await, (n, "ann".into(), format!("text {n}")));
    }
}

#[tokio::test]
async fn in_memory_a_post_is_acknowledged_and_broadcast_without_waiting_for_its_commit() {
    let room = TestRoom::in_memory();
    let mut ann = Client::new(1, "ann", 64);
    let mut bob = Client::new(2, "bob", 64);
    room.enter(&mut ann).await;
    room.enter(&mut bob).await;
    assert!(matches!(ann.next().await, ServerEvent::UserJoined { .. }));

    // The store thread is stuck: no commit happens meanwhile.
    let release = room.store.hold().await;
    room.say(&ann, "m1", "hello").await;
    assert_eq!(ann.ack("m1").await, Some(1));
    assert_eq!(ann.message().await.0, 1);
    assert_eq!(bob.message().await, (1, "ann".into(), "hello".into()));
    // A read asked for after the ack sees the message.
    let _ = release.send(());
    let page = room
        .store
        .page(Arc::from(ROOM), 0, 1, 10)
        .await
        .expect("store readable");
    assert_eq!(page.frames.len(), 1, "message 1 stored");
}

#[tokio::test]
async fn a_resend_is_acknowledged_with_its_original_seq_and_not_broadcast_again() {
    let room = TestRoom::start();
    let mut ann = Client::new(1, "ann", 64);
    let mut bob = Client::new(2, "bob", 64);
    room.enter(&mut ann).await;
    room.enter(&mut bob).await;
    assert!(matches!(ann.next().await, ServerEvent::UserJoined { .. }));

    room.say(&ann, "x", "once").await;
    assert_eq!(ann.ack("x").await, Some(1));
    assert_eq!(ann.message().await.0, 1);
    // The connection dropped before the ack reached the client; it resends.
    room.say(&ann, "x", "once").await;
    assert_eq!(ann.ack("x").await, Some(1));
    room.say(&ann, "y", "twice").await;
    assert_eq!(ann.ack("y").await, Some(2));

    assert_eq!(bob.message().await, (1, "ann".into(), "once".into()));
    assert_eq!(bob.message().await, (2, "ann".into(), "twice".into()));
}

#[tokio::test]
async fn leaving_is_acknowledged_and_announced() {
    let room = TestRoom::start();
    let mut ann = Client::new(1, "ann", 64);
    let mut bob = Client::new(2, "bob", 64);
    let mut carl = Client::new(3, "carl", 64);
    room.enter(&mut ann).await;
    room.enter(&mut bob).await;
    assert!(matches!(ann.next().await, ServerEvent::UserJoined { .. }));

    room.leave(&bob, Some("bye")).await;
    assert_eq!(bob.ack("bye").await, None);
    match ann.next().await {
        ServerEvent::UserLeft { name, .. } => assert_eq!(name, "bob"),
        other => panic!("expected user_left, got {other:?}"),
    }

    // A connection that went away leaves without an ack, and is announced.
    room.enter(&mut carl).await;
    assert!(matches!(ann.next().await, ServerEvent::UserJoined { .. }));
    room.leave(&carl, None).await;
    match ann.next().await {
        ServerEvent::UserLeft { name, .. } => assert_eq!(name, "carl"),
        other => panic!("expected user_left, got {other:?}"),
    }
}

#[tokio::test]
async fn a_slow_consumer_is_removed_and_announced() {
    let room = TestRoom::start();
    let mut ann = Client::new(1, "ann", 64);
    // Room for its three join answers and one more frame, never read.
    let mut slow = Client::new(2, "slow", 4);
    room.join(&slow, "j").await.expect("joined");
    room.enter(&mut ann).await;

    room.say(&ann, "m1", "one").await;
    assert_eq!(ann.ack("m1").await, Some(1));
    assert_eq!(ann.message().await.0, 1);
    match ann.next().await {
        ServerEvent::UserLeft { name, .. } => assert_eq!(name, "slow"),
        other => panic!("expected the slow consumer to leave, got {other:?}"),
    }
    let mut batch = Vec::new();
    assert!(
        slow.queue.recv_many(&mut batch, 8).await.is_err(),
        "its connection is told it was too slow"
    );

    let mut carl = Client::new(3, "carl", 64);
    assert_eq!(room.join(&carl, "j").await, Ok(()));
    match carl.next().await {
        ServerEvent::RoomState { users, .. } => assert_eq!(names(&users), ["ann", "carl"]),
        other => panic!("expected room_state, got {other:?}"),
    }
    // The name is free again.
    let again = Client::new(4, "slow", 64);
    assert_eq!(room.join(&again, "j").await, Ok(()));
    drop(slow);
}

#[tokio::test]
async fn a_room_retires_when_its_last_member_leaves() {
    let room = TestRoom::start();
    let mut ann = Client::new(1, "ann", 64);
    room.enter(&mut ann).await;
    // A round trip after the join: the loop has checked for idleness since.
    room.send(RoomCommand::History {
        connection_id: 1,
        request_id: "h".into(),
        before: 1,
        limit: 10,
    })
    .await;
    assert!(matches!(ann.next().await, ServerEvent::History { .. }));
    assert_eq!(ann.ack("h").await, None);
    assert!(
        !room.retired.load(Ordering::SeqCst),
        "a room with a member stays"
    );

    room.leave(&ann, Some("bye")).await;
    assert_eq!(ann.ack("bye").await, None);
    tokio::time::timeout(PATIENCE, room.task)
        .await
        .expect("the room task ends")
        .expect("no panic");
    assert!(room.retired.load(Ordering::SeqCst));
}
