//! Rooms and presence: joining, leaving, notices, isolation, ordering.

mod common;

use common::*;
use protocol::{ClientEvent, ErrorCode, ServerEvent};

#[tokio::test]
async fn join_gets_room_state_and_others_are_told() {
    let server = TestServer::start().await;
    let mut ann = Client::named(&server, "ann").await;
    assert_eq!(ann.join("dev").await, vec!["ann"]);

    let mut bob = Client::named(&server, "bob").await;
    assert_eq!(bob.join("dev").await, vec!["ann", "bob"]);

    let joined = ann.recv().await;
    assert!(
        matches!(&joined, ServerEvent::UserJoined { room, name, .. } if room == "dev" && name == "bob"),
        "{joined:?}"
    );
}

#[tokio::test]
async fn leave_and_disconnect_are_announced() {
    let server = TestServer::start().await;
    let mut ann = Client::named(&server, "ann").await;
    ann.join("dev").await;
    let mut bob = Client::named(&server, "bob").await;
    bob.join("dev").await;
    let mut cat = Client::named(&server, "cat").await;
    cat.join("dev").await;
    ann.expect(
        "bob joined",
        |e| matches!(e, ServerEvent::UserJoined { name, .. } if name == "bob"),
    )
    .await;
    ann.expect(
        "cat joined",
        |e| matches!(e, ServerEvent::UserJoined { name, .. } if name == "cat"),
    )
    .await;

    let id = bob.next_id();
    let (ack, _) = bob
        .request(ClientEvent::Leave {
            id,
            room: "dev".into(),
        })
        .await;
    assert_ok(&ack);
    ann.expect(
        "bob left",
        |e| matches!(e, ServerEvent::UserLeft { name, room, .. } if name == "bob" && room == "dev"),
    )
    .await;

    // An abrupt disconnect (no close handshake) is announced too.
    drop(cat);
    ann.expect(
        "cat left",
        |e| matches!(e, ServerEvent::UserLeft { name, .. } if name == "cat"),
    )
    .await;

    // Whoever joins now sees only ann.
    let mut dan = Client::named(&server, "dan").await;
    assert_eq!(dan.join("dev").await, vec!["ann", "dan"]);
}

#[tokio::test]
async fn messages_reach_exactly_their_room() {
    let server = TestServer::start().await;
    let rooms = ["red", "green", "blue"];
    let mut clients = Vec::new();
    for room in rooms {
        for n in 0..2 {
            let mut c = Client::named(&server, &format!("{room}{n}")).await;
            c.join(room).await;
            clients.push((room, c));
        }
    }
    for (room, c) in clients.iter_mut() {
        let id = c.next_id();
        c.send(&ClientEvent::Send {
            id,
            room: room.to_string(),
            text: format!("hello from {room}"),
            action: false,
        })
        .await;
    }
    for (room, c) in clients.iter_mut() {
        // Each client sees exactly the two messages of its own room and its ack.
        let (mut messages, mut acks) = (0, 0);
        while messages < 2 || acks < 1 {
            match c.recv().await {
                ServerEvent::Message { room: r, text, .. } => {
                    assert_eq!(&r, room);
                    assert_eq!(text, format!("hello from {room}"));
                    messages += 1;
                }
                ServerEvent::UserJoined { room: r, .. } => assert_eq!(&r, room),
                ServerEvent::Ack { ok: true, .. } => acks += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    // Nothing from another room arrives later either: whatever comes before
    // the ack of one more request is from the client's own room.
    for (room, c) in clients.iter_mut() {
        let id = c.next_id();
        let (ack, others) = c
            .request(ClientEvent::Leave {
                id,
                room: room.to_string(),
            })
            .await;
        assert_ok(&ack);
        for e in others {
            assert!(
                matches!(&e, ServerEvent::Message { room: r, .. } | ServerEvent::UserLeft { room: r, .. } if r == room),
                "{room} got {e:?}"
            );
        }
    }
}

#[tokio::test]
async fn one_connection_in_several_rooms() {
    let server = TestServer::start().await;
    let mut ann = Client::named(&server, "ann").await;
    ann.join("dev").await;
    ann.join("ops").await;
    let mut bob = Client::named(&server, "bob").await;
    bob.join("ops").await;
    ann.expect(
        "bob joined ops",
        |e| matches!(e, ServerEvent::UserJoined { room, .. } if room == "ops"),
    )
    .await;

    assert_ok(&bob.say("ops", "deploy?").await);
    let got = ann
        .expect("ops message", |e| matches!(e, ServerEvent::Message { .. }))
        .await;
    assert!(
        matches!(&got, ServerEvent::Message { room, from, text, .. } if room == "ops" && from == "bob" && text == "deploy?")
    );

    // Sending to a room bob is not in is refused.
    let ack = bob.say("dev", "sneaky").await;
    assert_eq!(ack_code(&ack), ErrorCode::NotInRoom);

    // Joining twice is refused; too many rooms is refused.
    let id = ann.next_id();
    let (ack, _) = ann
        .request(ClientEvent::Join {
            id,
            room: "dev".into(),
            since: None,
            epoch: None,
        })
        .await;
    assert_eq!(ack_code(&ack), ErrorCode::AlreadyInRoom);
}

#[tokio::test]
async fn too_many_rooms_is_refused() {
    let server = TestServer::with_config(server::Config {
        max_rooms_per_connection: 2,
        ..Default::default()
    })
    .await;
    let mut ann = Client::named(&server, "ann").await;
    ann.join("a").await;
    ann.join("b").await;
    let id = ann.next_id();
    let (ack, _) = ann
        .request(ClientEvent::Join {
            id,
            room: "c".into(),
            since: None,
            epoch: None,
        })
        .await;
    assert_eq!(ack_code(&ack), ErrorCode::TooManyRooms);
}

#[tokio::test]
async fn messages_carry_increasing_seq_and_timestamps_and_are_acked() {
    let server = TestServer::start().await;
    let mut ann = Client::named(&server, "ann").await;
    ann.join("dev").await;
    let before = chrono::Utc::now().timestamp_millis();
    let mut last = 0;
    for i in 0..5 {
        let ack = ann.say("dev", &format!("m{i}")).await;
        let ServerEvent::Ack {
            seq: Some(seq),
            ok: true,
            ..
        } = ack
        else {
            panic!("ack without seq: {ack:?}")
        };
        assert!(seq > last, "seq {seq} after {last}");
        let echo = ann
            .expect("echo", |e| matches!(e, ServerEvent::Message { .. }))
            .await;
        let ServerEvent::Message {
            seq: s, ts, from, ..
        } = echo
        else {
            unreachable!()
        };
        assert_eq!(s, seq);
        assert_eq!(from, "ann");
        assert!(ts >= before - 1000 && ts <= chrono::Utc::now().timestamp_millis() + 1000);
        last = seq;
    }
}

#[tokio::test]
async fn sequence_numbers_continue_after_a_room_empties() {
    let server = TestServer::start().await;
    let mut ann = Client::named(&server, "ann").await;
    ann.join("dev").await;
    let first = ann.say("dev", "one").await;
    ann.close().await;

    let mut bob = Client::named(&server, "bob").await;
    bob.join("dev").await;
    let second = bob.say("dev", "two").await;
    let (ServerEvent::Ack { seq: Some(a), .. }, ServerEvent::Ack { seq: Some(b), .. }) =
        (first, second)
    else {
        panic!("acks without seq")
    };
    assert!(b > a, "numbering went from {a} to {b}");
}

#[tokio::test]
async fn locations_and_actions_are_delivered() {
    let server = TestServer::start().await;
    let mut ann = Client::named(&server, "ann").await;
    ann.join("dev").await;
    let mut bob = Client::named(&server, "bob").await;
    bob.join("dev").await;

    let id = ann.next_id();
    let (ack, _) = ann
        .request(ClientEvent::Location {
            id,
            room: "dev".into(),
            latitude: 48.8584,
            longitude: 2.2945,
        })
        .await;
    assert_ok(&ack);
    let loc = bob
        .expect("location", |e| matches!(e, ServerEvent::Location { .. }))
        .await;
    assert!(
        matches!(loc, ServerEvent::Location { from, latitude, longitude, .. } if from == "ann" && latitude == 48.8584 && longitude == 2.2945)
    );

    let id = ann.next_id();
    let (ack, _) = ann
        .request(ClientEvent::Send {
            id,
            room: "dev".into(),
            text: "waves".into(),
            action: true,
        })
        .await;
    assert_ok(&ack);
    let me = bob
        .expect("action", |e| matches!(e, ServerEvent::Message { .. }))
        .await;
    assert!(matches!(me, ServerEvent::Message { action: true, text, .. } if text == "waves"));
}
