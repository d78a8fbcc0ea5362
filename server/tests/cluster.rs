//! Cluster mode: real `chat-server` processes sharing rooms through a real
//! Redis (127.0.0.1:6379; each test uses its own key prefix). The Redis
//! outage test starts its own `redis-server` on a free port.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::cluster::*;
use common::*;
use protocol::{ClientEvent, ErrorCode, Seq, ServerEvent};

fn message_seq(e: &ServerEvent) -> Option<(Seq, String)> {
    match e {
        ServerEvent::Message { seq, text, .. } => Some((*seq, text.clone())),
        _ => None,
    }
}

/// Reads until `n` messages arrived; returns them in arrival order.
async fn read_messages(c: &mut Client, n: usize) -> Vec<(Seq, String)> {
    let mut got = Vec::new();
    while got.len() < n {
        if let Some(m) = message_seq(&c.recv().await) {
            got.push(m);
        }
    }
    got
}

#[tokio::test]
async fn users_on_different_instances_chat_in_one_order() {
    let Some((servers, _prefix)) = instances(2, "order") else {
        return;
    };
    let mut ann = raw_client(&servers[0].addr, "ann").await;
    ann.join("dev").await;
    let mut bob = raw_client(&servers[1].addr, "bob").await;
    assert_eq!(
        bob.join("dev").await,
        vec!["ann", "bob"],
        "bob sees ann on the other instance"
    );
    ann.expect(
        "bob joined",
        |e| matches!(e, ServerEvent::UserJoined { name, .. } if name == "bob"),
    )
    .await;

    // Both send concurrently; both see all 40 messages in the same order,
    // numbered 1..=40.
    for i in 0..20 {
        for (c, who) in [(&mut ann, "ann"), (&mut bob, "bob")] {
            let id = c.next_id();
            c.send(&ClientEvent::Send {
                id,
                room: "dev".into(),
                text: format!("{who}{i}"),
                action: false,
            })
            .await;
        }
    }
    let a = read_messages(&mut ann, 40).await;
    let b = read_messages(&mut bob, 40).await;
    assert_eq!(a, b, "one order for everyone");
    let seqs: Vec<Seq> = a.iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, (1..=40).collect::<Vec<_>>());
    let texts: HashSet<&String> = a.iter().map(|(_, t)| t).collect();
    assert_eq!(texts.len(), 40, "each message once");
}

/// A burst of posts from several connections on two instances, each sent
/// without waiting for its ack (so a room takes many at once and appends
/// them in one script call), with a resend in each: every message gets one
/// number, strictly increasing and without gaps, each sender one `ack` per
/// request with the number its message was delivered with, every member
/// the same order, and a resend its first number and no second copy.
#[tokio::test]
async fn a_burst_of_posts_is_numbered_in_order_with_one_ack_each() {
    const EACH: usize = 60;
    const RESENT: usize = 10;
    let Some((servers, _prefix)) = instances(2, "burst") else {
        return;
    };
    let mut clients = Vec::new();
    for (i, server) in [0, 0, 0, 1].into_iter().enumerate() {
        let mut c = raw_client(&servers[server].addr, &format!("sender{i}")).await;
        c.join("burst").await;
        clients.push(c);
    }
    // Everyone's joins are seen before the burst, so what follows is only
    // the burst's messages and acks.
    for (i, c) in clients.iter_mut().enumerate() {
        for other in (i + 1)..4 {
            let name = format!("sender{other}");
            c.expect(
                "later joiners",
                |e| matches!(e, ServerEvent::UserJoined { name: n, .. } if *n == name),
            )
            .await;
        }
    }
    let sent: Vec<Vec<String>> =
        futures::future::join_all(clients.iter_mut().enumerate().map(|(who, c)| async move {
            let mut ids = Vec::new();
            for n in 0..EACH {
                let id = c.next_id();
                ids.push(id.clone());
                c.send(&ClientEvent::Send {
                    id,
                    room: "burst".into(),
                    text: format!("{who}:{n}"),
                    action: false,
                })
                .await;
                if n == RESENT + 5 {
                    // A resend of an earlier request (as after a lost ack).
                    c.send(&ClientEvent::Send {
                        id: ids[RESENT].clone(),
                        room: "burst".into(),
                        text: format!("{who}:{RESENT}"),
                        action: false,
                    })
                    .await;
                }
            }
            ids
        }))
        .await;
    let total = EACH * clients.len();
    let mut orders = Vec::new();
    for (who, c) in clients.iter_mut().enumerate() {
        let mut acks: Vec<(String, Seq)> = Vec::new();
        let mut messages: Vec<(Seq, String, String)> = Vec::new();
        while acks.len() < EACH + 1 || messages.len() < total {
            match c.recv().await {
                ServerEvent::Message { seq, id, text, .. } => messages.push((seq, id, text)),
                e => {
                    if let Some((id, result)) = e.as_ack() {
                        let protocol::AckResult::Ok { seq: Some(seq) } = result else {
                            panic!("sender{who}: ack {id} is {result:?}");
                        };
                        acks.push((id.to_owned(), seq));
                    }
                }
            }
        }
        let seqs: Vec<Seq> = messages.iter().map(|(s, _, _)| *s).collect();
        assert_eq!(
            seqs,
            (1..=total as Seq).collect::<Vec<_>>(),
            "sender{who} gets every message once, in strictly increasing order"
        );
        let ids = &sent[who];
        let expected: Vec<&String> = ids[..=RESENT + 5]
            .iter()
            .chain([&ids[RESENT]])
            .chain(&ids[RESENT + 6..])
            .collect();
        assert_eq!(
            acks.iter().map(|(id, _)| id).collect::<Vec<_>>(),
            expected,
            "sender{who}: one ack per request, in the order sent"
        );
        for (id, seq) in &acks {
            let (_, delivered, text) = &messages[*seq as usize - 1];
            assert_eq!(
                delivered, id,
                "sender{who}: ack {id} names its message's number"
            );
            assert!(text.starts_with(&format!("{who}:")));
        }
        let resent: Vec<Seq> = acks
            .iter()
            .filter(|(id, _)| *id == ids[RESENT])
            .map(|(_, s)| *s)
            .collect();
        assert_eq!(resent.len(), 2);
        assert_eq!(resent[0], resent[1], "the resend is told the first number");
        orders.push(messages);
    }
    assert!(
        orders.windows(2).all(|w| w[0] == w[1]),
        "one order on both instances"
    );
}

/// User lists span instances, and presence is per identity across them:
/// ann's second device on the other instance joins silently, and she
/// leaves only when her last connection does.
#[tokio::test]
async fn user_lists_and_presence_per_identity_span_instances() {
    let Some((servers, _prefix)) = instances(2, "names") else {
        return;
    };
    let mut ann = raw_client(&servers[0].addr, "ann").await;
    ann.join("dev").await;

    let mut bob = raw_client(&servers[1].addr, "bob").await;
    assert_eq!(bob.join("dev").await, vec!["ann", "bob"]);
    ann.expect(
        "bob joined",
        |e| matches!(e, ServerEvent::UserJoined { name, .. } if name == "bob"),
    )
    .await;

    // A name registered through A is claimed through B too.
    let mut impostor = Client::from_ws(
        tokio_tungstenite::connect_async(servers[1].url())
            .await
            .expect("connect")
            .0,
    );
    impostor.send(&hello_named("ANN")).await;
    let refused = impostor.recv().await;
    assert!(
        matches!(
            &refused,
            ServerEvent::Error {
                code: ErrorCode::NameClaimed,
                ..
            }
        ),
        "{refused:?}"
    );

    // cat, on A like ann's first connection, marks the order of A's room.
    let mut cat = raw_client(&servers[0].addr, "cat").await;
    cat.join("dev").await;
    bob.expect(
        "cat joined",
        |e| matches!(e, ServerEvent::UserJoined { name, .. } if name == "cat"),
    )
    .await;

    // ann's second device, on B, joins at once and is listed once.
    let mut ann2 = raw_signed_in(&servers[1].addr, &ann.credential()).await;
    assert_eq!(ann2.join("dev").await, vec!["ann", "bob", "cat"]);
    // Her first connection leaves: she is still there, so nothing is
    // announced. A's room would have announced it before it handles cat's
    // next message, which bob then sees first.
    let id = ann.next_id();
    let (ack, _) = ann
        .request(ClientEvent::Leave {
            id,
            room: "dev".into(),
        })
        .await;
    assert_ok(&ack);
    assert_ok(&cat.say("dev", "marker").await);
    for _ in 0..1000 {
        match bob.recv().await {
            ServerEvent::Message { text, .. } if text == "marker" => break,
            other => panic_if_left(&other),
        }
    }
    drop(ann2);
    bob.expect(
        "ann left with her last connection",
        |e| matches!(e, ServerEvent::UserLeft { name, .. } if name == "ann"),
    )
    .await;
}

fn panic_if_left(e: &ServerEvent) {
    assert!(
        !matches!(
            e,
            ServerEvent::UserLeft { .. } | ServerEvent::UserJoined { .. }
        ),
        "no presence change while another connection of ann is in: {e:?}"
    );
}

#[tokio::test]
async fn a_client_moving_to_another_instance_resumes_without_gap_or_duplicate() {
    let Some((servers, _prefix)) = instances(2, "resume") else {
        return;
    };
    let (ws, _) = tokio_tungstenite::connect_async(servers[0].url())
        .await
        .expect("connect");
    let mut ann = Client::from_ws(ws);
    let ServerEvent::Welcome { epoch, .. } = ann.hello("ann").await else {
        panic!()
    };
    ann.join("dev").await;
    let mut bob = raw_client(&servers[1].addr, "bob").await;
    bob.join("dev").await;
    assert_ok(&bob.say("dev", "before").await);
    let seen = read_messages(&mut ann, 1).await[0].0;
    let credential = ann.credential();
    ann.close().await;
    // Once her old instance has noticed she left, her history resumes elsewhere.
    bob.expect(
        "ann left",
        |e| matches!(e, ServerEvent::UserLeft { name, .. } if name == "ann"),
    )
    .await;

    let mut sent = Vec::new();
    for i in 0..50 {
        if let ServerEvent::Ack { seq: Some(s), .. } = bob.say("dev", &format!("m{i}")).await {
            sent.push(s);
        }
    }
    // ann comes back on the other instance: the credential she was given
    // by the first signs her in there.
    let mut ann = raw_signed_in(&servers[1].addr, &credential).await;
    let (events, _, missed) = ann.join_with("dev", Some(seen), Some(epoch)).await;
    // The history, then live traffic: an acknowledged message may still be
    // on its way to this instance's room when ann joins, and then arrives live.
    let mut got: Vec<Seq> = events
        .iter()
        .filter_map(message_seq)
        .map(|(s, _)| s)
        .collect();
    while got.len() < sent.len() {
        got.push(read_messages(&mut ann, 1).await[0].0);
    }
    assert_eq!(got, sent, "exactly the missed messages, in order, once");
    assert_eq!(missed, 0);
    let live = bob.say("dev", "live").await;
    let ServerEvent::Ack {
        seq: Some(live), ..
    } = live
    else {
        panic!()
    };
    assert_eq!(
        read_messages(&mut ann, 1).await,
        vec![(live, "live".to_string())]
    );
}

#[tokio::test]
async fn users_of_a_killed_instance_leave_the_other_lists() {
    let Some((mut servers, _prefix)) = instances(2, "kill") else {
        return;
    };
    let mut ann = raw_client(&servers[0].addr, "ann").await;
    ann.join("dev").await;
    let mut bob = raw_client(&servers[1].addr, "bob").await;
    bob.join("dev").await;
    ann.expect(
        "bob joined",
        |e| matches!(e, ServerEvent::UserJoined { name, .. } if name == "bob"),
    )
    .await;

    let bob_credential = bob.credential();
    servers[1].kill();
    ann.expect(
        "bob left after his instance died",
        |e| matches!(e, ServerEvent::UserLeft { name, .. } if name == "bob"),
    )
    .await;
    let mut cat = raw_client(&servers[0].addr, "cat").await;
    assert_eq!(cat.join("dev").await, vec!["ann", "cat"]);
    // bob can come back elsewhere as himself.
    let mut bob = raw_signed_in(&servers[0].addr, &bob_credential).await;
    assert_eq!(bob.join("dev").await, vec!["ann", "cat", "bob"]);
}

/// A Redis of the test's own, persisting to a temporary directory.
struct OwnRedis {
    child: std::process::Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl OwnRedis {
    /// With `appendfsync always`: nothing acknowledged is lost even if its
    /// machine loses power.
    fn start() -> Option<OwnRedis> {
        Self::start_fsync("always")
    }

    fn start_fsync(appendfsync: &str) -> Option<OwnRedis> {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        Self::start_at(dir, port, appendfsync)
    }

    fn start_at(dir: tempfile::TempDir, port: u16, appendfsync: &str) -> Option<OwnRedis> {
        let child = std::process::Command::new("redis-server")
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "yes",
            ])
            .args(["--appendfsync", appendfsync, "--dir"])
            .arg(dir.path())
            .stdout(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let url = format!("redis://127.0.0.1:{port}");
        for _ in 0..100 {
            if redis_up(&url) {
                return Some(OwnRedis { child, port, dir });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Stops it (SIGKILL: everything acknowledged must already be on disk)
    /// and hands back its directory and port.
    fn stop(mut self) -> (tempfile::TempDir, u16) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("tempdir"));
        (dir, self.port)
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn nothing_acknowledged_is_lost_when_redis_restarts() {
    let Some(redis) = OwnRedis::start() else {
        skip_without("redis-server", "cannot start one");
        return;
    };
    let servers: Vec<Process> = (0..2)
        .map(|_| Process::start(&cluster_args(&redis.url(), "chat-test:outage:")))
        .collect();
    let mut ann = raw_client(&servers[0].addr, "ann").await;
    ann.join("dev").await;
    let mut bob = raw_client(&servers[1].addr, "bob").await;
    bob.join("dev").await;

    let mut acked: Vec<(Seq, String)> = Vec::new();
    for i in 0..10 {
        if let ServerEvent::Ack { seq: Some(s), .. } = ann.say("dev", &format!("before{i}")).await {
            acked.push((s, format!("before{i}")));
        }
    }
    let (dir, port) = redis.stop();

    // While Redis is away, a send is refused with a clear, retryable code.
    let refused = ann.say("dev", "during").await;
    assert_eq!(ack_code(&refused), ErrorCode::Unavailable);
    let health = http_get(&servers[0].addr, "/healthz").await;
    assert!(health.contains("\"status\":\"degraded\""), "{health}");

    let _redis = OwnRedis::start_at(dir, port, "always").expect("restart redis");
    // Sends work again once the instances reconnect (bounded wait).
    let mut after = None;
    for _ in 0..100 {
        match ann.say("dev", "after").await {
            ServerEvent::Ack {
                ok: true,
                seq: Some(s),
                ..
            } => {
                after = Some(s);
                break;
            }
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let after = after.expect("sending works again after redis is back");
    acked.push((after, "after".into()));

    // A newcomer on the other instance finds every acknowledged message.
    let mut cat = raw_client(&servers[1].addr, "cat").await;
    let (events, _, _) = cat.join_with("dev", None, None).await;
    // What cat sees is the history, then live traffic (an instance that is
    // still catching up after the outage delivers the rest live).
    let mut seen: Vec<(Seq, String)> = events.iter().filter_map(message_seq).collect();
    for _ in 0..acked.len() {
        if acked.iter().all(|a| seen.contains(a)) {
            break;
        }
        let next = cat
            .expect("more messages", |e| {
                matches!(e, ServerEvent::Message { .. })
            })
            .await;
        seen.extend(message_seq(&next));
    }
    for a in &acked {
        assert!(
            seen.contains(a),
            "acknowledged {a:?} lost; cat saw {seen:?}"
        );
    }
    assert!(
        seen.windows(2).all(|w| w[0].0 < w[1].0),
        "in order, no duplicate: {seen:?}"
    );
    // bob, on the other instance, got the message sent after the outage.
    bob.expect(
        "the message after the outage",
        |e| matches!(e, ServerEvent::Message { text, .. } if text == "after"),
    )
    .await;
}

/// The process promise in cluster mode (`--durability process`, Redis with
/// `appendfsync everysec`): Redis killed with SIGKILL right after the acks
/// loses none of them, since it wrote each to its append-only file before
/// replying.
#[tokio::test]
async fn redis_killed_with_appendfsync_everysec_keeps_every_acknowledged_message() {
    let Some(redis) = OwnRedis::start_fsync("everysec") else {
        skip_without("redis-server", "cannot start one");
        return;
    };
    let mut acked: Vec<(Seq, String)> = Vec::new();
    {
        let server = Process::start(&cluster_args(&redis.url(), "chat-test:everysec:"));
        let mut ann = raw_client(&server.addr, "ann").await;
        ann.join("dev").await;
        for i in 0..30 {
            let text = format!("kept{i}");
            if let ServerEvent::Ack { seq: Some(s), .. } = ann.say("dev", &text).await {
                acked.push((s, text));
            }
        }
    }
    assert_eq!(acked.len(), 30, "every message acknowledged");
    let (dir, port) = redis.stop();
    let redis = OwnRedis::start_at(dir, port, "everysec").expect("restart redis");
    let server = Process::start(&cluster_args(&redis.url(), "chat-test:everysec:"));
    let mut cat = raw_client(&server.addr, "cat").await;
    let (events, _, _) = cat.join_with("dev", None, None).await;
    let seen: Vec<(Seq, String)> = events.iter().filter_map(message_seq).collect();
    assert_eq!(seen, acked, "every acknowledged message, in order, once");
}

/// `--durability power` is a promise Redis must be able to keep: on a
/// Redis that fsyncs only every second, chat-server refuses to start and
/// says what to change.
#[tokio::test]
async fn durability_power_refuses_a_redis_that_does_not_fsync_always() {
    let Some(redis) = OwnRedis::start_fsync("everysec") else {
        skip_without("redis-server", "cannot start one");
        return;
    };
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_chat-server"))
        .args(["--listen", "127.0.0.1:0", "--durability", "power"])
        .args(cluster_args(&redis.url(), "chat-test:power:"))
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start chat-server");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("chat-server started on a Redis that cannot keep --durability power");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut log = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut log)
        .expect("read its log");
    assert!(!status.success(), "it must refuse to start; log:\n{log}");
    assert!(
        log.contains("appendfsync always"),
        "says what to change: {log}"
    );

    // The same Redis keeps the process promise: the default starts.
    let started = Process::start(&cluster_args(&redis.url(), "chat-test:power:"));
    raw_client(&started.addr, "ann").await;
}

/// A device linked through instance B and signed out through A loses its
/// connection on B at once, and its credential everywhere.
#[tokio::test]
async fn a_device_revoked_through_one_instance_is_closed_on_another() {
    let Some((servers, _prefix)) = instances(2, "revoke") else {
        return;
    };
    let mut phone = raw_client(&servers[0].addr, "ann").await;
    let id = phone.next_id();
    let (ack, others) = phone.request(ClientEvent::Link { id }).await;
    assert_ok(&ack);
    let Some(ServerEvent::LinkCode { code, .. }) = others.into_iter().next() else {
        panic!("a link code")
    };
    let (ws, _) = tokio_tungstenite::connect_async(servers[1].url())
        .await
        .expect("connect");
    let mut laptop = Client::from_ws(ws);
    laptop
        .send(&ClientEvent::Hello {
            protocol: protocol::PROTOCOL_VERSION,
            name: None,
            credential: None,
            link_code: Some(code),
            device: Some("laptop".into()),
            client: None,
        })
        .await;
    let ServerEvent::Welcome { device, .. } = laptop.welcome().await else {
        unreachable!()
    };
    let laptop_credential = laptop.credential();
    laptop.join("dev").await;

    let id = phone.next_id();
    let (ack, _) = phone
        .request(ClientEvent::Logout {
            id,
            device: Some(device.id),
        })
        .await;
    assert_ok(&ack);
    let told = laptop
        .expect("credential_revoked", |e| {
            matches!(e, ServerEvent::Error { .. })
        })
        .await;
    assert!(
        matches!(
            told,
            ServerEvent::Error {
                code: ErrorCode::CredentialRevoked,
                ..
            }
        ),
        "{told:?}"
    );
    assert_eq!(
        close_code(&laptop.recv_frame().await),
        Some(protocol::close::CREDENTIAL_REVOKED)
    );
    let (ws, _) = tokio_tungstenite::connect_async(servers[0].url())
        .await
        .expect("connect");
    let mut again = Client::from_ws(ws);
    again.send(&hello_with(&laptop_credential)).await;
    assert!(matches!(
        again.recv().await,
        ServerEvent::Error {
            code: ErrorCode::BadCredential,
            ..
        }
    ));
}

/// `chat-server user add --redis` works on the cluster's identities: its
/// code signs the identity in through any instance.
#[tokio::test]
async fn operators_add_identities_to_the_cluster() {
    let Some((servers, prefix)) = instances(1, "useradd") else {
        return;
    };
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_chat-server"))
        .args(["user", "add", "carol", "--redis", &prefix.url])
        .args(["--redis-prefix", &prefix.prefix])
        .output()
        .expect("run chat-server user add");
    assert!(out.status.success(), "{out:?}");
    let printed = String::from_utf8_lossy(&out.stdout);
    let code = printed
        .split_whitespace()
        .find(|w| w.len() == 9 && w.as_bytes()[4] == b'-')
        .unwrap_or_else(|| panic!("a code in {printed:?}"))
        .to_owned();
    let (ws, _) = tokio_tungstenite::connect_async(servers[0].url())
        .await
        .expect("connect");
    let mut carol = Client::from_ws(ws);
    carol
        .send(&ClientEvent::Hello {
            protocol: protocol::PROTOCOL_VERSION,
            name: None,
            credential: None,
            link_code: Some(code),
            device: None,
            client: None,
        })
        .await;
    let welcome = carol.welcome().await;
    assert!(
        matches!(&welcome, ServerEvent::Welcome { name, .. } if name == "carol"),
        "{welcome:?}"
    );
}
