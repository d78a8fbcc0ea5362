//! Rate limiting, slow consumers and heartbeats.

mod common;

use std::time::Duration;

use common::*;
use protocol::{ClientEvent, ErrorCode, ServerEvent, close};

#[tokio::test]
async fn requests_over_the_rate_get_rate_limited_not_dropped() {
    let server = TestServer::with_config(server::Config {
        rate_per_sec: 1.0,
        rate_burst: 5,
        ..Default::default()
    })
    .await;
    let mut c = Client::named(&server, "ann").await;
    c.join("dev").await; // one token
    for i in 0..10 {
        c.send(&ClientEvent::Send {
            id: format!("m{i}"),
            room: "dev".into(),
            text: format!("{i}"),
            action: false,
        })
        .await;
    }
    // Every request is answered: 4 accepted (5 - the join), the rest refused.
    let (mut ok, mut limited) = (0, 0);
    while ok + limited < 10 {
        match c.recv().await {
            ServerEvent::Ack { ok: true, .. } => ok += 1,
            ServerEvent::Ack { error: Some(e), .. } => {
                assert_eq!(e.code, ErrorCode::RateLimited);
                limited += 1;
            }
            _ => {}
        }
    }
    assert_eq!((ok, limited), (4, 6));
}

#[tokio::test]
async fn rate_limit_zero_means_off() {
    let server = TestServer::with_config(server::Config {
        rate_per_sec: 0.0,
        ..Default::default()
    })
    .await;
    let mut c = Client::named(&server, "ann").await;
    c.join("dev").await;
    for i in 0..200 {
        c.send(&ClientEvent::Send {
            id: format!("m{i}"),
            room: "dev".into(),
            // Not the same text each time: that would be flooding.
            text: format!("x{i}"),
            action: false,
        })
        .await;
    }
    let mut acks = 0;
    while acks < 200 {
        if let ServerEvent::Ack { ok, .. } = c.recv().await {
            assert!(ok);
            acks += 1;
        }
    }
}

/// A reader that stops reading is disconnected; the others in its room keep
/// receiving every message, in order.
#[tokio::test]
async fn a_slow_reader_is_disconnected_and_the_room_carries_on() {
    let server = TestServer::with_config(server::Config {
        rate_per_sec: 0.0,
        outbound_queue: 32,
        ..Default::default()
    })
    .await;
    let mut sender = Client::named(&server, "sender").await;
    sender.join("busy").await;
    let mut reader = Client::named(&server, "reader").await;
    reader.join("busy").await;
    let mut slow = Client::connect_small_buffer(&server).await;
    slow.hello("slow").await;
    slow.join("busy").await;
    // From here on `slow` never reads.

    let text = "x".repeat(3000);
    let mut sent = 0u64;
    let mut slow_left = false;
    let mut expected_seq = None;
    // Bounded: the slow reader's buffers hold far fewer than this.
    for i in 0..3000 {
        let id = format!("m{i}");
        sender
            .send(&ClientEvent::Send {
                id: id.clone(),
                room: "busy".into(),
                // Not the same text each time: that would be flooding.
                text: format!("{i:04}{}", &text[4..]),
                action: false,
            })
            .await;
        sent += 1;
        // Keep the sender's own and the reader's queues drained.
        loop {
            match sender.recv().await {
                ServerEvent::Ack {
                    id: a, ok: true, ..
                } if a == id => break,
                ServerEvent::UserLeft { name, .. } if name == "slow" => slow_left = true,
                _ => {}
            }
        }
        loop {
            match reader.recv().await {
                ServerEvent::Message { seq, id: got, .. } => {
                    if let Some(prev) = expected_seq {
                        assert_eq!(seq, prev + 1, "reader missed or reordered a message");
                    }
                    expected_seq = Some(seq);
                    assert_eq!(got, id);
                    break;
                }
                ServerEvent::UserLeft { name, .. } => assert_eq!(name, "slow"),
                ServerEvent::UserJoined { .. } => {}
                other => panic!("reader got {other:?}"),
            }
        }
        if slow_left && i > 0 {
            break;
        }
    }
    assert!(
        slow_left,
        "the slow reader was never disconnected after {sent} messages"
    );

    // The slow client's connection ends (with the slow-consumer close when it
    // gets through) once it reads again.
    let mut closed = None;
    for _ in 0..10_000 {
        match slow.recv_frame().await {
            Frame::Closed(c) => {
                closed = Some(c.map(|c| u16::from(c.code)));
                break;
            }
            Frame::Event(ServerEvent::Error { code, .. }) => {
                assert_eq!(code, ErrorCode::SlowConsumer)
            }
            Frame::Event(_) => {}
        }
    }
    let closed = closed.expect("slow connection ends");
    assert!(
        matches!(closed, None | Some(close::SLOW_CONSUMER)),
        "{closed:?}"
    );
}

#[tokio::test]
async fn silent_peers_are_closed_by_the_heartbeat() {
    let server = TestServer::with_config(server::Config {
        heartbeat_interval: Duration::from_millis(200),
        ..Default::default()
    })
    .await;
    let mut watcher = Client::named(&server, "watcher").await;
    watcher.join("dev").await;
    // A client that stops reading also stops answering pings.
    let mut dead = Client::named(&server, "dead").await;
    dead.join("dev").await;
    watcher
        .expect("dead joined", |e| {
            matches!(e, ServerEvent::UserJoined { .. })
        })
        .await;
    // The watcher keeps reading (and so answering pings) while waiting.
    watcher
        .expect(
            "dead left",
            |e| matches!(e, ServerEvent::UserLeft { name, .. } if name == "dead"),
        )
        .await;
    drop(dead);
}
