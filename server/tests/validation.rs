//! Every bad input gets a coded error for that client, and nothing else breaks.

mod common;

use common::*;
use futures::SinkExt;
use protocol::{ClientEvent, ErrorCode, ServerEvent, close};
use tokio_tungstenite::tungstenite::Message;

async fn joined(server: &TestServer) -> Client {
    let mut c = Client::named(server, "ann").await;
    c.join("dev").await;
    c
}

#[tokio::test]
async fn every_validation_error_has_its_code() {
    let server = TestServer::start().await;
    let mut c = joined(&server).await;
    let cases: Vec<(ClientEvent, ErrorCode)> = vec![
        (
            ClientEvent::Join {
                id: "1".into(),
                room: "Dev".into(),
                since: None,
                epoch: None,
            },
            ErrorCode::InvalidRoom,
        ),
        (
            ClientEvent::Join {
                id: "2".into(),
                room: "".into(),
                since: None,
                epoch: None,
            },
            ErrorCode::InvalidRoom,
        ),
        (
            ClientEvent::Join {
                id: "3".into(),
                room: "x".repeat(33),
                since: None,
                epoch: None,
            },
            ErrorCode::InvalidRoom,
        ),
        (
            ClientEvent::Join {
                id: "4".into(),
                room: "a b".into(),
                since: None,
                epoch: None,
            },
            ErrorCode::InvalidRoom,
        ),
        (
            ClientEvent::Send {
                id: "5".into(),
                room: "dev".into(),
                text: "  ".into(),
                action: false,
            },
            ErrorCode::EmptyText,
        ),
        (
            ClientEvent::Send {
                id: "6".into(),
                room: "dev".into(),
                text: "x".repeat(4001),
                action: false,
            },
            ErrorCode::TextTooLong,
        ),
        (
            ClientEvent::Send {
                id: "7".into(),
                room: "ops".into(),
                text: "hi".into(),
                action: false,
            },
            ErrorCode::NotInRoom,
        ),
        (
            ClientEvent::Location {
                id: "8".into(),
                room: "dev".into(),
                latitude: 91.0,
                longitude: 0.0,
            },
            ErrorCode::InvalidLocation,
        ),
        (
            ClientEvent::Location {
                id: "9".into(),
                room: "dev".into(),
                latitude: 0.0,
                longitude: -181.0,
            },
            ErrorCode::InvalidLocation,
        ),
        (
            ClientEvent::Leave {
                id: "10".into(),
                room: "ops".into(),
            },
            ErrorCode::NotInRoom,
        ),
    ];
    for (event, code) in cases {
        let id = event.request_id().unwrap_or_default().to_owned();
        let (ack, others) = c.request(event).await;
        assert_eq!(ack_code(&ack), code, "request {id}");
        assert!(others.is_empty(), "request {id} caused {others:?}");
        let ServerEvent::Ack {
            error: Some(body), ..
        } = &ack
        else {
            unreachable!()
        };
        assert!(!body.message.is_empty());
    }
    // Names are checked on hello.
    let mut d = Client::connect(&server).await;
    for bad in ["", "   ", &"n".repeat(33), "a\u{0007}b", "a\u{200B}b"] {
        d.send(&hello_named(bad)).await;
        let e = d.recv().await;
        assert!(
            matches!(
                e,
                ServerEvent::Error {
                    code: ErrorCode::InvalidName,
                    ..
                }
            ),
            "{bad:?}: {e:?}"
        );
    }
    // The connection still works after all of that.
    assert_ok(&c.say("dev", "still here").await);
}

#[tokio::test]
async fn bad_request_ids_are_refused() {
    let server = TestServer::start().await;
    let mut c = joined(&server).await;
    c.send_raw(&format!(
        r#"{{"type":"send","id":"{}","room":"dev","text":"hi"}}"#,
        "i".repeat(65)
    ))
    .await;
    let e = c.recv().await;
    assert!(
        matches!(
            e,
            ServerEvent::Error {
                code: ErrorCode::InvalidId,
                ..
            }
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn malformed_json_and_unknown_types() {
    let server = TestServer::start().await;
    let mut c = joined(&server).await;

    c.send_raw("{not json").await;
    let e = c.recv().await;
    assert!(
        matches!(
            e,
            ServerEvent::Error {
                code: ErrorCode::Malformed,
                ..
            }
        ),
        "{e:?}"
    );

    c.send_raw(r#"{"type":"teleport","id":"t1"}"#).await;
    let e = c.recv().await;
    assert_eq!(ack_code(&e), ErrorCode::UnknownType);

    c.send_raw(r#"{"type":"send","id":"s1","room":"dev"}"#)
        .await;
    let e = c.recv().await;
    assert_eq!(ack_code(&e), ErrorCode::Malformed);

    c.send_raw(r#"{"type":"send","id":"s2","room":"dev","text":42}"#)
        .await;
    let e = c.recv().await;
    assert_eq!(ack_code(&e), ErrorCode::Malformed);

    c.ws.send(Message::binary(vec![1u8, 2, 3]))
        .await
        .expect("send binary");
    let e = c.recv().await;
    assert!(
        matches!(
            e,
            ServerEvent::Error {
                code: ErrorCode::BinaryNotSupported,
                ..
            }
        ),
        "{e:?}"
    );

    assert_ok(&c.say("dev", "still fine").await);
}

#[tokio::test]
async fn oversized_frames_close_the_connection_and_only_it() {
    let server = TestServer::start().await;
    let mut bob = joined(&server).await;
    let mut eve = Client::named(&server, "eve").await;
    eve.join("dev").await;
    let huge = format!(
        r#"{{"type":"send","id":"x","room":"dev","text":"{}"}}"#,
        "a".repeat(protocol::limits::MAX_FRAME_BYTES + 1)
    );
    eve.send_raw(&huge).await;
    let mut code = None;
    for _ in 0..10 {
        match eve.recv_frame().await {
            Frame::Closed(c) => {
                code = c.map(|c| u16::from(c.code));
                break;
            }
            Frame::Event(_) => continue,
        }
    }
    assert_eq!(code, Some(close::TOO_LARGE));
    bob.expect(
        "eve left",
        |e| matches!(e, ServerEvent::UserLeft { name, .. } if name == "eve"),
    )
    .await;
    assert_ok(&bob.say("dev", "unaffected").await);
}
