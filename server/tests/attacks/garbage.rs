//! Finding 6: garbage was never throttled. Malformed frames were answered
//! every time and never led to a disconnect; frames with an invalid id and
//! second hellos cost no rate-limit token.

use futures::SinkExt;
use protocol::{ClientEvent, ErrorCode, ServerEvent, close};

use crate::common::*;

#[tokio::test]
async fn a_flood_of_malformed_frames_ends_in_a_1008_close() {
    let server = TestServer::with_config(server::Config {
        rate_per_sec: 0.0,
        malformed_limit: 10,
        ..Default::default()
    })
    .await;
    let mut mallory = Client::named(&server, "mallory").await;
    for _ in 0..200 {
        // The server may close while we are still sending.
        if mallory
            .ws
            .send(tokio_tungstenite::tungstenite::Message::text("not json"))
            .await
            .is_err()
        {
            break;
        }
    }
    let mut answered = 0;
    let code = loop {
        match mallory.recv_frame().await {
            Frame::Event(ServerEvent::Error {
                code: ErrorCode::Malformed,
                ..
            }) => answered += 1,
            Frame::Event(other) => panic!("unexpected {other:?}"),
            Frame::Closed(frame) => break frame.map(|f| u16::from(f.code)),
        }
    };
    assert_eq!(code, Some(close::POLICY_VIOLATION));
    // The ten allowed, and the notice that says why it closes.
    assert_eq!(answered, 11);
}

#[tokio::test]
async fn garbage_before_hello_also_ends_in_a_1008_close() {
    let server = TestServer::start().await;
    let mut c = Client::connect(&server).await;
    for _ in 0..50 {
        if !c
            .ws_send(&ClientEvent::Leave {
                id: "1".into(),
                room: "dev".into(),
            })
            .await
        {
            break;
        }
    }
    let code = loop {
        if let Frame::Closed(frame) = c.recv_frame().await {
            break frame.map(|f| u16::from(f.code));
        }
    };
    assert_eq!(code, Some(close::POLICY_VIOLATION));
}

/// Every frame costs a token: frames with an invalid id and second hellos
/// included. With a burst of 4, the fifth frame is refused.
#[tokio::test]
async fn invalid_ids_and_second_hellos_cost_a_token() {
    let server = TestServer::with_config(server::Config {
        rate_per_sec: 0.001,
        rate_burst: 4,
        ..Default::default()
    })
    .await;
    let mut c = Client::named(&server, "ann").await;
    c.send_raw(r#"{"type":"join","id":"","room":"dev"}"#).await;
    c.send_raw(r#"{"type":"join","id":"\u0007","room":"dev"}"#)
        .await;
    c.send(&hello_named("ann")).await;
    c.send(&hello_named("bob")).await;
    let id = c.next_id();
    let (ack, refusals) = c
        .request(ClientEvent::Join {
            id,
            room: "dev".into(),
            since: None,
            epoch: None,
        })
        .await;
    assert_eq!(refusals.len(), 4, "{refusals:?}");
    assert_eq!(ack_code(&ack), ErrorCode::RateLimited);
}
