//! Conversations in cluster mode: real `chat-server` processes sharing
//! a real Redis (127.0.0.1:6379; each test uses its own key prefix).

mod common;

use std::time::Duration;

use common::cluster::*;
use common::*;
use protocol::{ClientEvent, ServerEvent};

fn user_of(welcome: &ServerEvent) -> String {
    match welcome {
        ServerEvent::Welcome { user, .. } => user.id.clone(),
        other => panic!("not a welcome: {other:?}"),
    }
}

async fn person(addr: &str, name: &str) -> (Client, String) {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .expect("connect");
    let mut c = Client::from_ws(ws);
    let welcome = c.hello(name).await;
    (c, user_of(&welcome))
}

async fn signed_in(addr: &str, credential: &str) -> (Client, ServerEvent) {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .expect("connect");
    let mut c = Client::from_ws(ws);
    let welcome = c.sign_in(credential).await;
    (c, welcome)
}

async fn send(c: &mut Client, room: &str, text: &str) {
    let id = c.next_id();
    let (ack, _) = c
        .request(ClientEvent::Send {
            id,
            room: room.into(),
            text: text.into(),
            action: false,
        })
        .await;
    assert_ok(&ack);
}

async fn wait_for_text(c: &mut Client, room: &str, text: &str) {
    c.expect(
        text,
        |e| matches!(e, ServerEvent::Message { room: r, text: t, .. } if r == room && t == text),
    )
    .await;
}

#[tokio::test]
async fn a_direct_message_crosses_instances_both_ways() {
    let Some((servers, _prefix)) = instances(2, "dm") else {
        return;
    };
    let (mut ann, ann_id) = person(&servers[0].addr, "ann").await;
    let (mut bob, bob_id) = person(&servers[1].addr, "bob").await;
    let bob_credential = bob.credential();
    let key = protocol::dm::key(&ann_id, &bob_id);
    send(&mut ann, &key, "hello bob").await;
    wait_for_text(&mut bob, &key, "hello bob").await;
    send(&mut bob, &key, "hi ann").await;
    wait_for_text(&mut ann, &key, "hi ann").await;
    // A third person on either instance is refused like for a missing key.
    let (mut eve, _) = person(&servers[1].addr, "eve").await;
    let id = eve.next_id();
    let (ack, _) = eve
        .request(ClientEvent::History {
            id,
            room: key.clone(),
            before: 100,
            limit: 50,
        })
        .await;
    assert_eq!(ack_code(&ack), protocol::ErrorCode::NotFound);
    // Bob signing in again on the other instance finds the conversation.
    bob.close().await;
    let (mut bob, welcome) = signed_in(&servers[0].addr, &bob_credential).await;
    let ServerEvent::Welcome { dms, epoch, .. } = welcome else {
        unreachable!()
    };
    assert_eq!(dms.len(), 1, "{dms:?}");
    assert_eq!((dms[0].room.as_str(), dms[0].last_seq), (key.as_str(), 2));
    let (events, _, _) = bob.join_with(&key, Some(0), Some(epoch)).await;
    let texts: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            ServerEvent::Message { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(texts, ["hello bob", "hi ann"]);
}

#[tokio::test]
async fn a_nick_change_is_seen_on_the_other_instance() {
    let Some((servers, _prefix)) = instances(2, "nick") else {
        return;
    };
    let (mut ann, ann_id) = person(&servers[0].addr, "ann").await;
    let (mut bob, _) = person(&servers[1].addr, "bob").await;
    ann.join("dev").await;
    bob.join("dev").await;
    let id = ann.next_id();
    let (ack, _) = ann
        .request(ClientEvent::Nick {
            id,
            name: "anna".into(),
        })
        .await;
    assert_ok(&ack);
    let renamed = bob
        .expect("renamed", |e| matches!(e, ServerEvent::Renamed { .. }))
        .await;
    assert!(
        matches!(&renamed, ServerEvent::Renamed { user, old, name, .. } if *user == ann_id && old == "ann" && name == "anna"),
        "{renamed:?}"
    );
    let id = bob.next_id();
    let (ack, others) = bob.request(ClientEvent::Ping { id }).await;
    assert_ok(&ack);
    assert!(
        !others
            .iter()
            .any(|e| matches!(e, ServerEvent::Renamed { .. })),
        "once"
    );
    // The name is taken cluster-wide now.
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", servers[1].addr))
        .await
        .expect("connect");
    let mut late = Client::from_ws(ws);
    late.send(&hello_named("Anna")).await;
    let refused = late.recv().await;
    assert!(
        matches!(
            refused,
            ServerEvent::Error {
                code: protocol::ErrorCode::NameClaimed,
                ..
            }
        ),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_topic_set_on_one_instance_is_seen_on_the_other() {
    let Some((servers, _prefix)) = instances(2, "topic") else {
        return;
    };
    let (mut ann, _) = person(&servers[0].addr, "ann").await;
    let (mut bob, _) = person(&servers[1].addr, "bob").await;
    ann.join("dev").await;
    bob.join("dev").await;
    let id = ann.next_id();
    let (ack, _) = ann
        .request(ClientEvent::Topic {
            id,
            room: "dev".into(),
            text: "ship it".into(),
        })
        .await;
    assert_ok(&ack);
    bob.expect(
        "topic",
        |e| matches!(e, ServerEvent::Topic { text, .. } if text == "ship it"),
    )
    .await;
    let (mut carl, _) = person(&servers[1].addr, "carl").await;
    let answer = carl.join_answers("dev").await;
    assert!(
        matches!(answer.first(), Some(ServerEvent::RoomState { topic: Some(t), .. }) if t == "ship it"),
        "{answer:?}"
    );
    // A server started after the topic was set knows it too.
    let (mut dave, _) = person(&servers[0].addr, "dave").await;
    tokio::time::sleep(Duration::from_millis(0)).await;
    let answer = dave.join_answers("dev").await;
    assert!(
        matches!(answer.first(), Some(ServerEvent::RoomState { topic: Some(t), .. }) if t == "ship it")
    );
}

#[tokio::test]
async fn list_counts_and_whois_online_span_instances() {
    let Some((servers, _prefix)) = instances(2, "directory") else {
        return;
    };
    let (mut ann, _) = person(&servers[0].addr, "ann").await;
    let (mut bob, bob_id) = person(&servers[1].addr, "bob").await;
    ann.join("dev").await;
    bob.join("dev").await;
    bob.join("ops").await;
    let key = protocol::dm::key(&user_of_client(&mut ann).await, &bob_id);
    send(&mut ann, &key, "psst").await;
    let (mut carl, _) = person(&servers[0].addr, "carl").await;
    let id = carl.next_id();
    let (ack, answer) = carl.request(ClientEvent::List { id }).await;
    assert_ok(&ack);
    let Some(ServerEvent::RoomList { rooms }) = answer
        .iter()
        .find(|e| matches!(e, ServerEvent::RoomList { .. }))
    else {
        panic!("{answer:?}");
    };
    let listed: Vec<(&str, u32)> = rooms.iter().map(|r| (r.room.as_str(), r.members)).collect();
    assert_eq!(listed, [("dev", 2), ("ops", 1)]);

    assert!(
        whois_online(&mut carl).await,
        "bob is online on the other instance"
    );
    bob.close().await;
    let mut offline = false;
    for _ in 0..100 {
        if !whois_online(&mut carl).await {
            offline = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(offline, "bob went offline");
}

async fn user_of_client(c: &mut Client) -> String {
    let id = c.next_id();
    let (ack, answer) = c
        .request(ClientEvent::Whois {
            id,
            name: "ann".into(),
        })
        .await;
    assert_ok(&ack);
    match answer
        .iter()
        .find(|e| matches!(e, ServerEvent::Whois { .. }))
    {
        Some(ServerEvent::Whois { user, .. }) => user.id.clone(),
        other => panic!("{other:?}"),
    }
}

async fn whois_online(c: &mut Client) -> bool {
    let id = c.next_id();
    let (ack, answer) = c
        .request(ClientEvent::Whois {
            id,
            name: "bob".into(),
        })
        .await;
    assert_ok(&ack);
    match answer
        .iter()
        .find(|e| matches!(e, ServerEvent::Whois { .. }))
    {
        Some(ServerEvent::Whois { online, .. }) => *online,
        other => panic!("{other:?}"),
    }
}

/// The answer to `whois name` from `c`.
async fn whois(c: &mut Client, name: &str) -> ServerEvent {
    let id = c.next_id();
    let (ack, answer) = c
        .request(ClientEvent::Whois {
            id,
            name: name.into(),
        })
        .await;
    assert_ok(&ack);
    answer
        .into_iter()
        .find(|e| matches!(e, ServerEvent::Whois { .. }))
        .expect("a whois answer")
}

/// The `room_state` of a join of `room` by `c`.
async fn roster(c: &mut Client, room: &str) -> Vec<protocol::Member> {
    match c.join_answers(room).await.into_iter().next() {
        Some(ServerEvent::RoomState { users, .. }) => users,
        other => panic!("not a room_state: {other:?}"),
    }
}

async fn request_ok(c: &mut Client, event: ClientEvent) {
    let (ack, _) = c.request(event).await;
    assert_ok(&ack);
}

#[tokio::test]
async fn a_roster_built_on_another_instance_shows_the_new_name() {
    let Some((servers, _prefix)) = instances(2, "roster-nick") else {
        return;
    };
    let (mut ann, ann_id) = person(&servers[0].addr, "ann").await;
    let (mut bob, _) = person(&servers[1].addr, "bob").await;
    ann.join("dev").await;
    bob.join("dev").await;
    let id = ann.next_id();
    request_ok(
        &mut ann,
        ClientEvent::Nick {
            id,
            name: "anna".into(),
        },
    )
    .await;
    bob.expect("renamed", |e| matches!(e, ServerEvent::Renamed { .. }))
        .await;
    // Ann's member entry was written under her old name, on the other
    // instance; a roster built here shows the name she has now.
    let (mut carl, _) = person(&servers[1].addr, "carl").await;
    let users = roster(&mut carl, "dev").await;
    let ann_now = users.iter().find(|u| u.id == ann_id).expect("ann listed");
    assert_eq!(ann_now.name, "anna", "{users:?}");
}

#[tokio::test]
async fn whois_lists_the_rooms_shared_on_any_instance() {
    let Some((servers, _prefix)) = instances(2, "whois-rooms") else {
        return;
    };
    let (mut ann, _) = person(&servers[0].addr, "ann").await;
    let (mut bob, _) = person(&servers[1].addr, "bob").await;
    ann.join("dev").await;
    ann.join("ops").await;
    bob.join("dev").await;
    bob.join("lobby").await;
    let ServerEvent::Whois { rooms, .. } = whois(&mut bob, "ann").await else {
        unreachable!()
    };
    assert_eq!(rooms, ["dev"]);
}

#[tokio::test]
async fn list_shows_the_topic_of_a_room_with_nobody_on_this_instance() {
    let Some((servers, _prefix)) = instances(2, "list-topic") else {
        return;
    };
    let (mut ann, _) = person(&servers[0].addr, "ann").await;
    ann.join("dev").await;
    let id = ann.next_id();
    request_ok(
        &mut ann,
        ClientEvent::Topic {
            id,
            room: "dev".into(),
            text: "ship it".into(),
        },
    )
    .await;
    let (mut carl, _) = person(&servers[1].addr, "carl").await;
    let id = carl.next_id();
    let (ack, answer) = carl.request(ClientEvent::List { id }).await;
    assert_ok(&ack);
    let listed: Vec<(String, Option<String>)> = answer
        .into_iter()
        .find_map(|e| match e {
            ServerEvent::RoomList { rooms } => {
                Some(rooms.into_iter().map(|r| (r.room, r.topic)).collect())
            }
            _ => None,
        })
        .expect("a room list");
    assert_eq!(listed, [("dev".to_string(), Some("ship it".to_string()))]);
}

#[tokio::test]
async fn the_topic_outlives_the_trimmed_shared_log() {
    if !redis_up(REDIS) {
        skip_without("redis on 127.0.0.1:6379", "nothing listens there");
        return;
    }
    let prefix = Prefix::new(REDIS, "topic-trim");
    // Redis trims a stream in whole nodes of 100 entries: with a bound of
    // one, a few hundred messages push the topic event out of it.
    let mut args = cluster_args(REDIS, &prefix.prefix);
    args.extend(["--redis-history".to_string(), "1".to_string()]);
    let first = Process::start(&args);
    let (mut ann, _) = person(&first.addr, "ann").await;
    ann.join("dev").await;
    let id = ann.next_id();
    request_ok(
        &mut ann,
        ClientEvent::Topic {
            id,
            room: "dev".into(),
            text: "old but current".into(),
        },
    )
    .await;
    for n in 0..300 {
        send(&mut ann, "dev", &format!("line {n}")).await;
    }
    let client = redis::Client::open(REDIS).expect("redis url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let oldest: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
        .arg(format!("{}log:dev", prefix.prefix))
        .arg("-")
        .arg("+")
        .arg("COUNT")
        .arg(1)
        .query_async(&mut conn)
        .await
        .expect("xrange");
    assert_ne!(
        oldest.first().map(|(id, _)| id.as_str()),
        Some("1-0"),
        "the topic event (seq 1) was trimmed from the shared log"
    );
    // An instance started now opens the room from Redis alone.
    let second = Process::start(&args);
    let (mut bob, _) = person(&second.addr, "bob").await;
    let answer = bob.join_answers("dev").await;
    assert!(
        matches!(answer.first(), Some(ServerEvent::RoomState { topic: Some(t), .. }) if t == "old but current"),
        "{:?}",
        answer.first()
    );
}

/// Waits until Redis counts `user` online on exactly `instances` instances
/// (the last step of closing a connection).
async fn online_on(prefix: &Prefix, user: &str, instances: usize) {
    let client = redis::Client::open(prefix.url.as_str()).expect("redis url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    for _ in 0..200 {
        let n: usize = redis::cmd("HLEN")
            .arg(format!("{}online:{user}", prefix.prefix))
            .query_async(&mut conn)
            .await
            .expect("hlen");
        if n == instances {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{user} never online on {instances} instances");
}

fn away_of(users: &[protocol::Member], id: &str) -> Option<String> {
    users
        .iter()
        .find(|u| u.id == id)
        .expect("listed")
        .away
        .clone()
}

#[tokio::test]
async fn away_is_one_state_across_instances() {
    let Some((servers, prefix)) = instances(2, "away") else {
        return;
    };
    let (a, b) = (&servers[0].addr, &servers[1].addr);
    let (mut ann, ann_id) = person(a, "ann").await;
    let credential = ann.credential();
    let (mut ann_on_b, _) = signed_in(b, &credential).await;
    ann.join("dev").await;
    let id = ann.next_id();
    request_ok(
        &mut ann,
        ClientEvent::Away {
            id,
            reason: Some("lunch".into()),
        },
    )
    .await;
    ann_on_b
        .expect("away", |e| matches!(e, ServerEvent::Away { .. }))
        .await;
    // Her last connection on B closes; she is still away (from A).
    ann_on_b.close().await;
    online_on(&prefix, &ann_id, 1).await;
    let (mut bob, bob_id) = person(b, "bob").await;
    let ServerEvent::Whois { away, .. } = whois(&mut bob, "ann").await else {
        unreachable!()
    };
    assert_eq!(away.as_deref(), Some("lunch"), "whois on B");
    let users = roster(&mut bob, "dev").await;
    assert_eq!(
        away_of(&users, &ann_id).as_deref(),
        Some("lunch"),
        "room_state on B"
    );
    let key = protocol::dm::key(&ann_id, &bob_id);
    let id = bob.next_id();
    let (ack, answer) = bob
        .request(ClientEvent::Send {
            id,
            room: key.clone(),
            text: "lunch?".into(),
            action: false,
        })
        .await;
    assert_ok(&ack);
    let mut notices: Vec<ServerEvent> = answer
        .into_iter()
        .filter(|e| matches!(e, ServerEvent::AwayNotice { .. }))
        .collect();
    if notices.is_empty() {
        notices.push(
            bob.expect("away notice", |e| {
                matches!(e, ServerEvent::AwayNotice { .. })
            })
            .await,
        );
    }
    assert!(
        matches!(&notices[0], ServerEvent::AwayNotice { name, reason, .. } if name == "ann" && reason == "lunch"),
        "{notices:?}"
    );
    // `back` on B, where she has no other connection, ends it on A too.
    let (mut ann_on_b, _) = signed_in(b, &credential).await;
    let id = ann_on_b.next_id();
    request_ok(&mut ann_on_b, ClientEvent::Back { id }).await;
    ann.expect("back", |e| matches!(e, ServerEvent::Back { .. }))
        .await;
    let (mut carl, _) = person(a, "carl").await;
    let ServerEvent::Whois { away, .. } = whois(&mut carl, "ann").await else {
        unreachable!()
    };
    assert_eq!(away, None, "whois on A");
    let users = roster(&mut carl, "dev").await;
    assert_eq!(away_of(&users, &ann_id), None, "room_state on A");
}
