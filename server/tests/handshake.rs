//! The version handshake and identification.

mod common;

use common::*;
use protocol::{ClientEvent, ErrorCode, ServerEvent, close};

#[tokio::test]
async fn hello_is_answered_with_welcome_and_limits() {
    let server = TestServer::start().await;
    let mut c = Client::connect(&server).await;
    let welcome = c.hello("  ann  ").await;
    let ServerEvent::Welcome {
        protocol,
        name,
        limits,
        server,
        epoch,
        user,
        heartbeat_ms,
        ..
    } = welcome
    else {
        unreachable!()
    };
    assert_eq!(protocol, protocol::PROTOCOL_VERSION);
    assert_eq!(name, "ann", "the name comes back trimmed");
    assert_eq!(user.name, "ann");
    assert!(user.id.starts_with("u_"), "{}", user.id);
    assert_eq!(heartbeat_ms, 30_000);
    assert!(server.starts_with("chat-server/"));
    assert_eq!(limits.max_text_chars, 4000);
    assert!(!epoch.is_empty(), "welcome names the store epoch");
    assert_eq!(
        limits.max_rooms,
        server::Config::default().max_rooms_per_connection
    );
}

/// A client of protocol 1 (whose `hello` has only a name) is told to
/// upgrade, in words, and closed with 4000.
#[tokio::test]
async fn other_versions_are_told_to_upgrade_and_closed() {
    let server = TestServer::start().await;
    let mut c = Client::connect(&server).await;
    c.send_raw(r#"{"type":"hello","protocol":1,"name":"ann","client":"chat-tui/0.1.0"}"#)
        .await;
    let e = c.recv().await;
    let ServerEvent::Error { code, message } = e else {
        panic!("{e:?}")
    };
    assert_eq!(code, ErrorCode::UnsupportedVersion);
    assert!(
        message.contains("this server speaks protocol 2") && message.contains("please upgrade"),
        "{message}"
    );
    assert_eq!(
        close_code(&c.recv_frame().await),
        Some(close::UNSUPPORTED_VERSION)
    );
}

#[tokio::test]
async fn a_bad_name_can_be_corrected() {
    let server = TestServer::start().await;
    let mut c = Client::connect(&server).await;
    c.send(&hello_named("a\u{202E}b")).await;
    let e = c.recv().await;
    assert!(
        matches!(
            e,
            ServerEvent::Error {
                code: ErrorCode::InvalidName,
                ..
            }
        ),
        "{e:?}"
    );
    c.hello("ann").await;
}

#[tokio::test]
async fn requests_before_hello_are_refused() {
    let server = TestServer::start().await;
    let mut c = Client::connect(&server).await;
    c.send(&ClientEvent::Join {
        id: "j1".into(),
        room: "dev".into(),
        since: None,
        epoch: None,
    })
    .await;
    let e = c.recv().await;
    assert_eq!(ack_code(&e), ErrorCode::NotIdentified);
    c.hello("ann").await;
    assert_eq!(c.join("dev").await, vec!["ann"]);
}

#[tokio::test]
async fn a_second_hello_is_refused() {
    let server = TestServer::start().await;
    let mut c = Client::named(&server, "ann").await;
    c.send(&hello_named("bob")).await;
    let e = c.recv().await;
    assert!(
        matches!(
            e,
            ServerEvent::Error {
                code: ErrorCode::AlreadyIdentified,
                ..
            }
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn silence_after_connecting_is_closed() {
    let server = TestServer::with_config(server::Config {
        handshake_timeout: std::time::Duration::from_millis(300),
        ..Default::default()
    })
    .await;
    let mut c = Client::connect(&server).await;
    let e = c.recv().await;
    assert!(
        matches!(
            e,
            ServerEvent::Error {
                code: ErrorCode::NotIdentified,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        close_code(&c.recv_frame().await),
        Some(close::HANDSHAKE_FAILED)
    );
}
