//! Conversations on a real server with real WebSocket clients: direct
//! messages (privacy, delivery to every device, storage, paging, resume,
//! resends, `welcome.dms`), `nick`, `away`/`back`, `whois`, `list` and
//! `topic`.

mod common;

use common::*;
use protocol::{ClientEvent, ErrorCode, PROTOCOL_VERSION, Seq, ServerEvent};

fn user_of(welcome: &ServerEvent) -> String {
    match welcome {
        ServerEvent::Welcome { user, .. } => user.id.clone(),
        other => panic!("not a welcome: {other:?}"),
    }
}

async fn server() -> TestServer {
    TestServer::with_config(server::Config {
        rate_per_sec: 0.0,
        ..Default::default()
    })
    .await
}

/// Registers `name`, returning the client and its identity id.
async fn person(server: &TestServer, name: &str) -> (Client, String) {
    let mut c = Client::connect(server).await;
    let welcome = c.hello(name).await;
    (c, user_of(&welcome))
}

/// Another device of `c`'s identity, signed in by a link code.
async fn second_device(server: &TestServer, c: &mut Client) -> Client {
    let id = c.next_id();
    let (ack, others) = c.request(ClientEvent::Link { id }).await;
    assert_ok(&ack);
    let code = others
        .iter()
        .find_map(|e| match e {
            ServerEvent::LinkCode { code, .. } => Some(code.clone()),
            _ => None,
        })
        .expect("a link code");
    let mut d = Client::connect(server).await;
    d.send(&ClientEvent::Hello {
        protocol: PROTOCOL_VERSION,
        name: None,
        credential: None,
        link_code: Some(code),
        device: Some("second".into()),
        client: Some("tests".into()),
    })
    .await;
    d.welcome().await;
    d
}

/// Every event that reaches `c` before the answer to a `ping` sent now.
async fn drain(c: &mut Client) -> Vec<ServerEvent> {
    let id = c.next_id();
    let (ack, others) = c.request(ClientEvent::Ping { id }).await;
    assert_ok(&ack);
    others
}

fn error_of(ack: &ServerEvent) -> (ErrorCode, String) {
    match ack {
        ServerEvent::Ack {
            ok: false,
            error: Some(e),
            ..
        } => (e.code, e.message.clone()),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn send(c: &mut Client, room: &str, text: &str) -> (ServerEvent, Vec<ServerEvent>) {
    let id = c.next_id();
    c.request(ClientEvent::Send {
        id,
        room: room.into(),
        text: text.into(),
        action: false,
    })
    .await
}

fn message_texts(events: &[ServerEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            ServerEvent::Message { text, .. } => Some(text.clone()),
            ServerEvent::History { events, .. } => {
                let inner = message_texts(events);
                (!inner.is_empty()).then(|| inner.join("|"))
            }
            _ => None,
        })
        .collect()
}

/// Every request a third person could make on a conversation key, each
/// refused; returns (code, message with the key replaced by KEY).
async fn probe(c: &mut Client, key: &str) -> Vec<(ErrorCode, String)> {
    let mut requests = Vec::new();
    let mut id = || c.next_id();
    requests.push(ClientEvent::Join {
        id: id(),
        room: key.into(),
        since: None,
        epoch: None,
    });
    requests.push(ClientEvent::Join {
        id: id(),
        room: key.into(),
        since: Some(0),
        epoch: Some("any".into()),
    });
    requests.push(ClientEvent::History {
        id: id(),
        room: key.into(),
        before: 1000,
        limit: 50,
    });
    requests.push(ClientEvent::Send {
        id: id(),
        room: key.into(),
        text: "let me in".into(),
        action: false,
    });
    requests.push(ClientEvent::Location {
        id: id(),
        room: key.into(),
        latitude: 1.0,
        longitude: 2.0,
    });
    requests.push(ClientEvent::Topic {
        id: id(),
        room: key.into(),
        text: "mine now".into(),
    });
    requests.push(ClientEvent::Leave {
        id: id(),
        room: key.into(),
    });
    let mut answers = Vec::new();
    for request in requests {
        let (ack, others) = c.request(request).await;
        assert!(
            message_texts(&others).is_empty(),
            "a stranger saw a message: {others:?}"
        );
        let (code, message) = error_of(&ack);
        answers.push((code, message.replace(key, "KEY")));
    }
    answers
}

#[tokio::test]
async fn a_third_person_cannot_read_or_write_a_conversation() {
    let server = server().await;
    let (mut ann, ann_id) = person(&server, "ann").await;
    let (mut bob, bob_id) = person(&server, "bob").await;
    let (mut eve, eve_id) = person(&server, "eve").await;
    let key = protocol::dm::key(&ann_id, &bob_id);
    let (ack, _) = send(&mut ann, &key, "the secret").await;
    assert_ok(&ack);
    bob.expect(
        "the message",
        |e| matches!(e, ServerEvent::Message { text, .. } if text == "the secret"),
    )
    .await;

    let on_the_real_key = probe(&mut eve, &key).await;
    // A key nobody uses, and one with eve in it whose peer does not exist.
    let nobody = protocol::dm::key("u_0000000000000001", "u_0000000000000002");
    let on_no_key = probe(&mut eve, &nobody).await;
    let ghost = protocol::dm::key(&eve_id, "u_ffffffffffffffff");
    let on_a_ghost = probe(&mut eve, &ghost).await;
    assert!(
        on_the_real_key
            .iter()
            .all(|(code, _)| *code == ErrorCode::NotFound),
        "{on_the_real_key:?}"
    );
    assert_eq!(
        on_the_real_key, on_no_key,
        "a real conversation is refused like a missing one"
    );
    assert_eq!(on_the_real_key, on_a_ghost);
    let seen = drain(&mut eve).await;
    assert!(message_texts(&seen).is_empty(), "eve saw {seen:?}");
}

#[tokio::test]
async fn direct_messages_reach_every_device_and_are_stored_paged_and_resumed() {
    let server = server().await;
    let (mut ann, ann_id) = person(&server, "ann").await;
    let (mut bob, bob_id) = person(&server, "bob").await;
    let mut ann2 = second_device(&server, &mut ann).await;
    let mut bob2 = second_device(&server, &mut bob).await;
    let bob_credential = bob.credential();

    // Opened by name from one side; the other side joins nothing.
    let id = ann.next_id();
    let (ack, answer) = ann
        .request(ClientEvent::Query {
            id,
            name: "BOB".into(),
        })
        .await;
    assert_ok(&ack);
    let key = protocol::dm::key(&ann_id, &bob_id);
    let Some(ServerEvent::RoomState { room, users, .. }) = answer.first() else {
        panic!("query answers with room_state first: {answer:?}");
    };
    assert_eq!(room, &key);
    let names: Vec<&str> = users.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names.len(), 2);
    assert!(
        names.contains(&"ann") && names.contains(&"bob"),
        "{names:?}"
    );

    let mut seqs: Vec<Seq> = Vec::new();
    let mut seen_by_ann = Vec::new();
    for text in ["one", "two", "three"] {
        let (ack, others) = send(&mut ann, &key, text).await;
        seen_by_ann.extend(message_texts(&others));
        match ack {
            ServerEvent::Ack {
                ok: true,
                seq: Some(seq),
                ..
            } => seqs.push(seq),
            other => panic!("send refused: {other:?}"),
        }
    }
    for (who, device) in [
        ("ann", &mut ann),
        ("ann2", &mut ann2),
        ("bob", &mut bob),
        ("bob2", &mut bob2),
    ] {
        let mut got = if who == "ann" {
            std::mem::take(&mut seen_by_ann)
        } else {
            Vec::new()
        };
        while got.len() < 3 {
            if let ServerEvent::Message {
                room, text, from, ..
            } = device.recv().await
            {
                assert_eq!(room, key);
                assert_eq!(from, "ann");
                got.push(text);
            }
        }
        assert_eq!(got, ["one", "two", "three"], "{who}");
    }
    // Each device got each message once.
    for device in [&mut ann, &mut ann2, &mut bob, &mut bob2] {
        let extra = drain(device).await;
        assert!(message_texts(&extra).is_empty(), "duplicates: {extra:?}");
    }

    // A resend of the first message is acknowledged with its number and
    // not delivered again.
    let first_id = "resend-me".to_string();
    let (ack, _) = bob
        .request(ClientEvent::Send {
            id: first_id.clone(),
            room: key.clone(),
            text: "four".into(),
            action: false,
        })
        .await;
    let ServerEvent::Ack {
        seq: Some(four), ..
    } = ack
    else {
        panic!("{ack:?}");
    };
    let (again, _) = bob
        .request(ClientEvent::Send {
            id: first_id,
            room: key.clone(),
            text: "four".into(),
            action: false,
        })
        .await;
    assert!(matches!(again, ServerEvent::Ack { seq: Some(s), .. } if s == four));
    let seen = drain(&mut ann2).await;
    assert_eq!(
        message_texts(&seen),
        ["four"],
        "the resend is not delivered again"
    );

    // Paged from bob's second device, which never opened the conversation.
    let id = bob2.next_id();
    let (ack, answer) = bob2
        .request(ClientEvent::History {
            id,
            room: key.clone(),
            before: four,
            limit: 2,
        })
        .await;
    assert_ok(&ack);
    let pages = history_parts(answer);
    assert_eq!(message_texts(&pages[0].0), ["two", "three"]);
    assert!(pages[0].1, "older messages exist");

    // Bob comes back: welcome lists the conversation, join + since resumes.
    bob.close().await;
    let mut bob = Client::connect(&server).await;
    let welcome = bob.sign_in(&bob_credential).await;
    let ServerEvent::Welcome { dms, epoch, .. } = welcome else {
        unreachable!()
    };
    assert_eq!(dms.len(), 1, "{dms:?}");
    assert_eq!(dms[0].room, key);
    assert_eq!(dms[0].peer.name, "ann");
    assert_eq!(dms[0].last_seq, four);
    let (ack, _) = send(&mut ann2, &key, "five").await;
    assert_ok(&ack);
    let (events, _, missed) = bob.join_with(&key, Some(seqs[1]), Some(epoch)).await;
    assert_eq!(missed, 0);
    assert_eq!(message_texts(&events), ["three", "four", "five"]);
}

#[tokio::test]
async fn queries_refuse_unknown_names_and_yourself() {
    let server = server().await;
    let (mut ann, _) = person(&server, "ann").await;
    let id = ann.next_id();
    let (ack, _) = ann
        .request(ClientEvent::Query {
            id,
            name: "nobody".into(),
        })
        .await;
    assert_eq!(error_of(&ack).0, ErrorCode::NotFound);
    let id = ann.next_id();
    let (ack, _) = ann
        .request(ClientEvent::Query {
            id,
            name: "Ann".into(),
        })
        .await;
    assert_eq!(error_of(&ack).0, ErrorCode::InvalidName);
}

fn renamed_count(events: &[ServerEvent], to: &str) -> usize {
    events
        .iter()
        .filter(
            |e| matches!(e, ServerEvent::Renamed { name, old, .. } if name == to && old == "ann"),
        )
        .count()
}

#[tokio::test]
async fn nick_renames_once_for_everyone_who_shares_a_room_or_conversation() {
    let server = server().await;
    let (mut ann, ann_id) = person(&server, "ann").await;
    let mut ann2 = second_device(&server, &mut ann).await;
    let (mut bob, _) = person(&server, "bob").await;
    let (mut carl, carl_id) = person(&server, "carl").await;
    let (mut dave, _) = person(&server, "dave").await;
    let ann_credential = ann.credential();
    for room in ["dev", "ops"] {
        ann.join(room).await;
        bob.join(room).await;
    }
    dave.join("elsewhere").await;
    let (ack, _) = say_ok(&mut ann, "dev", "before").await;
    assert_ok(&ack);
    let dm = protocol::dm::key(&ann_id, &carl_id);
    let (ack, _) = send(&mut carl, &dm, "hi ann").await;
    assert_ok(&ack);

    for (bad, code) in [
        ("", ErrorCode::InvalidName),
        ("a\u{202e}b", ErrorCode::InvalidName),
        ("B0B", ErrorCode::NameClaimed),
        ("BOB", ErrorCode::NameClaimed),
    ] {
        let id = ann.next_id();
        let (ack, _) = ann
            .request(ClientEvent::Nick {
                id,
                name: bad.into(),
            })
            .await;
        assert_eq!(error_of(&ack).0, code, "{bad:?}");
    }
    let id = ann.next_id();
    let (ack, _) = ann
        .request(ClientEvent::Nick {
            id,
            name: "anna".into(),
        })
        .await;
    assert_ok(&ack);
    let own = drain(&mut ann).await;
    assert_eq!(renamed_count(&own, "anna"), 1, "{own:?}");
    for (who, c) in [("ann2", &mut ann2), ("bob", &mut bob), ("carl", &mut carl)] {
        c.expect("renamed", |e| matches!(e, ServerEvent::Renamed { .. }))
            .await;
        let rest = drain(c).await;
        assert_eq!(
            renamed_count(&rest, "anna"),
            0,
            "{who} heard it twice: {rest:?}"
        );
    }
    assert_eq!(
        renamed_count(&drain(&mut dave).await, "anna"),
        0,
        "dave shares nothing"
    );

    // New lines go under the new name; stored ones keep the old.
    let (ack, _) = say_ok(&mut ann, "dev", "after").await;
    assert_ok(&ack);
    let from = bob
        .expect(
            "after",
            |e| matches!(e, ServerEvent::Message { text, .. } if text == "after"),
        )
        .await;
    assert!(matches!(from, ServerEvent::Message { from, .. } if from == "anna"));
    let mut late = Client::named(&server, "late").await;
    let (events, _, _) = late.join_with("dev", None, None).await;
    let froms: Vec<(String, String)> = events
        .iter()
        .filter_map(|e| match e {
            ServerEvent::Message { from, text, .. } => Some((from.clone(), text.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        froms,
        [
            ("ann".into(), "before".into()),
            ("anna".into(), "after".into())
        ]
    );

    // The credential still signs in, now as anna; the old name is free.
    ann.close().await;
    let mut again = Client::connect(&server).await;
    let welcome = again.sign_in(&ann_credential).await;
    assert!(matches!(welcome, ServerEvent::Welcome { name, .. } if name == "anna"));
    let mut newcomer = Client::connect(&server).await;
    newcomer.hello("ann").await;
}

async fn say_ok(c: &mut Client, room: &str, text: &str) -> (ServerEvent, Vec<ServerEvent>) {
    send(c, room, text).await
}

#[tokio::test]
async fn away_marks_rosters_answers_direct_messages_and_back_clears_it() {
    let server = server().await;
    let (mut ann, ann_id) = person(&server, "ann").await;
    let (mut bob, bob_id) = person(&server, "bob").await;
    ann.join("dev").await;
    bob.join("dev").await;
    let id = ann.next_id();
    let (ack, _) = ann
        .request(ClientEvent::Away {
            id,
            reason: Some("a\nb".into()),
        })
        .await;
    assert_eq!(error_of(&ack).0, ErrorCode::InvalidReason);
    let id = ann.next_id();
    let (ack, _) = ann
        .request(ClientEvent::Away {
            id,
            reason: Some("lunch".into()),
        })
        .await;
    assert_ok(&ack);
    let away = bob
        .expect("away", |e| matches!(e, ServerEvent::Away { .. }))
        .await;
    assert_eq!(
        away,
        ServerEvent::Away {
            user: ann_id.clone(),
            reason: "lunch".into()
        }
    );

    let mut carl = Client::named(&server, "carl").await;
    let answer = carl.join_answers("dev").await;
    let Some(ServerEvent::RoomState { users, .. }) = answer.first() else {
        panic!("{answer:?}");
    };
    let ann_entry = users
        .iter()
        .find(|u| u.id == ann_id)
        .expect("ann in the roster");
    assert_eq!(ann_entry.away.as_deref(), Some("lunch"));
    assert!(
        users
            .iter()
            .find(|u| u.id == bob_id)
            .is_some_and(|u| u.away.is_none())
    );

    let dm = protocol::dm::key(&ann_id, &bob_id);
    let (ack, others) = send(&mut bob, &dm, "are you there?").await;
    assert_ok(&ack);
    let mut events = others;
    events.extend(drain(&mut bob).await);
    let notice = events
        .iter()
        .find(|e| matches!(e, ServerEvent::AwayNotice { .. }))
        .expect("an away notice");
    assert_eq!(
        notice,
        &ServerEvent::AwayNotice {
            room: dm.clone(),
            user: ann_id.clone(),
            name: "ann".into(),
            reason: "lunch".into()
        }
    );
    let seen_by_ann = drain(&mut ann).await;
    assert!(
        !seen_by_ann
            .iter()
            .any(|e| matches!(e, ServerEvent::AwayNotice { .. }))
    );

    let id = ann.next_id();
    let (ack, _) = ann.request(ClientEvent::Back { id }).await;
    assert_ok(&ack);
    bob.expect(
        "back",
        |e| matches!(e, ServerEvent::Back { user } if *user == ann_id),
    )
    .await;
    let (ack, others) = send(&mut bob, &dm, "now?").await;
    assert_ok(&ack);
    let mut events = others;
    events.extend(drain(&mut bob).await);
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, ServerEvent::AwayNotice { .. }))
    );
}

#[tokio::test]
async fn whois_tells_online_devices_away_shared_rooms_and_since() {
    let server = server().await;
    let (mut ann, ann_id) = person(&server, "ann").await;
    let _ann2 = second_device(&server, &mut ann).await;
    let (mut bob, _) = person(&server, "bob").await;
    ann.join("dev").await;
    ann.join("secret-club").await;
    bob.join("dev").await;
    bob.join("other").await;
    let id = bob.next_id();
    let (ack, answer) = bob
        .request(ClientEvent::Whois {
            id,
            name: "Ann".into(),
        })
        .await;
    assert_ok(&ack);
    let Some(ServerEvent::Whois {
        user,
        online,
        devices,
        away,
        rooms,
        since_ts,
    }) = answer.first()
    else {
        panic!("{answer:?}");
    };
    assert_eq!(user.id, ann_id);
    assert_eq!(user.name, "ann");
    assert!(*online);
    assert_eq!(*devices, 2);
    assert_eq!(*away, None);
    assert_eq!(rooms, &["dev".to_string()], "only the rooms both are in");
    assert!(*since_ts > 1_700_000_000_000);
    let id = bob.next_id();
    let (ack, _) = bob
        .request(ClientEvent::Whois {
            id,
            name: "nobody".into(),
        })
        .await;
    assert_eq!(error_of(&ack).0, ErrorCode::NotFound);
}

#[tokio::test]
async fn list_orders_rooms_by_members_and_never_lists_conversations() {
    let server = server().await;
    let (mut ann, ann_id) = person(&server, "ann").await;
    let (mut bob, bob_id) = person(&server, "bob").await;
    let (mut carl, _) = person(&server, "carl").await;
    for room in ["big", "zeta"] {
        ann.join(room).await;
    }
    bob.join("big").await;
    carl.join("big").await;
    carl.join("alpha").await;
    let dm = protocol::dm::key(&ann_id, &bob_id);
    let (ack, _) = send(&mut ann, &dm, "psst").await;
    assert_ok(&ack);
    let id = bob.next_id();
    let (ack, answer) = bob.request(ClientEvent::List { id }).await;
    assert_ok(&ack);
    let Some(ServerEvent::RoomList { rooms }) = answer
        .iter()
        .find(|e| matches!(e, ServerEvent::RoomList { .. }))
    else {
        panic!("{answer:?}");
    };
    let listed: Vec<(&str, u32)> = rooms.iter().map(|r| (r.room.as_str(), r.members)).collect();
    assert_eq!(listed, [("big", 3), ("alpha", 1), ("zeta", 1)]);
}

#[tokio::test]
async fn topics_are_stored_events_replayed_and_in_room_state() {
    let server = server().await;
    let (mut ann, ann_id) = person(&server, "ann").await;
    let (mut bob, bob_id) = person(&server, "bob").await;
    ann.join("dev").await;
    bob.join("dev").await;
    let (ack, _) = say_ok(&mut ann, "dev", "hello").await;
    assert_ok(&ack);
    let id = ann.next_id();
    let (ack, _) = ann
        .request(ClientEvent::Topic {
            id: id.clone(),
            room: "dev".into(),
            text: " ship it ".into(),
        })
        .await;
    let ServerEvent::Ack {
        ok: true,
        seq: Some(seq),
        ..
    } = ack
    else {
        panic!("{ack:?}");
    };
    assert_eq!(seq, 2, "a topic takes the next seq");
    let topic = bob
        .expect("topic", |e| matches!(e, ServerEvent::Topic { .. }))
        .await;
    assert_eq!(
        topic,
        ServerEvent::Topic {
            room: "dev".into(),
            seq,
            ts: match &topic {
                ServerEvent::Topic { ts, .. } => *ts,
                _ => 0,
            },
            from: "ann".into(),
            user: ann_id.clone(),
            id,
            text: "ship it".into(),
        }
    );
    for (room, text, code) in [
        ("dev", "x".repeat(201), ErrorCode::InvalidTopic),
        ("dev", "a\nb".to_string(), ErrorCode::InvalidTopic),
        ("elsewhere", "hi".to_string(), ErrorCode::NotInRoom),
        (
            protocol::dm::key(&ann_id, &bob_id).as_str(),
            "hi".to_string(),
            ErrorCode::InvalidRoom,
        ),
    ] {
        let id = ann.next_id();
        let (ack, _) = ann
            .request(ClientEvent::Topic {
                id,
                room: room.into(),
                text,
            })
            .await;
        assert_eq!(error_of(&ack).0, code, "{room}");
    }
    let mut carl = Client::named(&server, "carl").await;
    let answer = carl.join_answers("dev").await;
    assert!(
        matches!(answer.first(), Some(ServerEvent::RoomState { topic: Some(t), .. }) if t == "ship it")
    );
    let history = history_parts(answer);
    assert!(
        history[0]
            .0
            .iter()
            .any(|e| matches!(e, ServerEvent::Topic { text, .. } if text == "ship it"))
    );
    let id = bob.next_id();
    let (ack, answer) = bob.request(ClientEvent::List { id }).await;
    assert_ok(&ack);
    assert!(answer.iter().any(|e| matches!(e, ServerEvent::RoomList { rooms } if rooms[0].topic.as_deref() == Some("ship it"))));
}

#[tokio::test]
async fn the_topic_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = || server::Config {
        rate_per_sec: 0.0,
        store: server::store::StoreConfig {
            path: Some(dir.path().join("chat.sqlite3")),
            ..Default::default()
        },
        ..Default::default()
    };
    let first = TestServer::with_config(config()).await;
    let mut ann = Client::named(&first, "ann").await;
    ann.join("dev").await;
    let id = ann.next_id();
    let (ack, _) = ann
        .request(ClientEvent::Topic {
            id,
            room: "dev".into(),
            text: "persisted".into(),
        })
        .await;
    assert_ok(&ack);
    for n in 0..3 {
        let (ack, _) = say_ok(&mut ann, "dev", &format!("after {n}")).await;
        assert_ok(&ack);
    }
    ann.close().await;
    first.shutdown().await.expect("clean shutdown");

    let second = TestServer::with_config(config()).await;
    let mut bob = Client::named(&second, "bob").await;
    let answer = bob.join_answers("dev").await;
    assert!(
        matches!(answer.first(), Some(ServerEvent::RoomState { topic: Some(t), .. }) if t == "persisted"),
        "{answer:?}"
    );
}

#[tokio::test]
async fn the_topic_outlives_its_event_in_the_trimmed_history() {
    let dir = tempfile::tempdir().unwrap();
    // The room keeps two messages: the topic event goes long before the
    // topic does.
    let config = || server::Config {
        rate_per_sec: 0.0,
        store: server::store::StoreConfig {
            path: Some(dir.path().join("chat.sqlite3")),
            retain_messages: Some(2),
            ..Default::default()
        },
        ..Default::default()
    };
    let first = TestServer::with_config(config()).await;
    let mut ann = Client::named(&first, "ann").await;
    ann.join("dev").await;
    let id = ann.next_id();
    let (ack, _) = ann
        .request(ClientEvent::Topic {
            id,
            room: "dev".into(),
            text: "kept".into(),
        })
        .await;
    assert_ok(&ack);
    for n in 0..5 {
        let (ack, _) = say_ok(&mut ann, "dev", &format!("after {n}")).await;
        assert_ok(&ack);
    }
    ann.close().await;
    first.shutdown().await.expect("clean shutdown");

    let second = TestServer::with_config(config()).await;
    let mut bob = Client::named(&second, "bob").await;
    let answer = bob.join_answers("dev").await;
    let history = history_parts(answer[1..].to_vec());
    assert!(
        !history[0]
            .0
            .iter()
            .any(|e| matches!(e, ServerEvent::Topic { .. })),
        "the topic event is gone from the history: {history:?}"
    );
    assert!(
        matches!(answer.first(), Some(ServerEvent::RoomState { topic: Some(t), .. }) if t == "kept"),
        "{answer:?}"
    );
}
