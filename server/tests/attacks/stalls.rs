//! Finding 3: writes had no deadline. A client that never reads, with a
//! small receive window, kept its connection (and megabytes of kernel send
//! queue) for as long as it liked; heartbeats did not run while a write
//! was blocked, and shutdown waited its whole grace period.

use std::time::Duration;

use protocol::ClientEvent;

use crate::common::*;

/// A message whose JSON is six times its length: 4,000 control characters
/// (the last one varies with `n`, so flood protection never sees the same
/// text twice in a row; every one is escaped to six bytes).
fn heavy_text(n: usize) -> String {
    let mut text = "\u{0}".repeat(protocol::limits::MAX_TEXT_CHARS - 1);
    text.push(char::from(u8::try_from(n % 3).unwrap_or(0)));
    text
}

/// Fills room `dev` with `n` heavy messages, sent by a client that then
/// stays connected (returned).
async fn heavy_room(server: &TestServer, n: usize) -> Client {
    let mut ann = Client::named(server, "ann").await;
    ann.join("dev").await;
    for i in 0..n {
        assert_ok(&ann.say("dev", &heavy_text(i)).await);
    }
    ann
}

/// A client with a tiny receive window that asks for the whole history of
/// the heavy room again and again and reads nothing.
async fn lurker(server: &TestServer) -> Client {
    let mut lurker = Client::connect_small_buffer(server).await;
    lurker.hello("lurker").await;
    for _ in 0..20 {
        for event in [
            ClientEvent::Join {
                id: lurker.next_id(),
                room: "dev".into(),
                since: Some(0),
                epoch: None,
            },
            ClientEvent::Leave {
                id: lurker.next_id(),
                room: "dev".into(),
            },
        ] {
            if !lurker.ws_send(&event).await {
                return lurker;
            }
        }
    }
    lurker
}

async fn websockets(server: &TestServer) -> u64 {
    health(&server.addr.to_string()).await["websockets"]
        .as_u64()
        .expect("websockets count")
}

fn stalling_config() -> server::Config {
    server::Config {
        rate_per_sec: 0.0,
        // Neither the queue nor the heartbeat may be what ends it here.
        outbound_queue: 1_000_000,
        heartbeat_interval: Duration::from_secs(600),
        write_timeout: Duration::from_millis(500),
        history_on_join: 500,
        ..Default::default()
    }
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_when_a_write_times_out() {
    let server = TestServer::with_config(stalling_config()).await;
    let _ann = heavy_room(&server, 150).await;
    let _lurker = lurker(&server).await;
    eventually("the non-reading client is dropped", || async {
        websockets(&server).await == 1
    })
    .await;
}

#[tokio::test]
async fn the_heartbeat_runs_while_a_write_is_blocked() {
    let server = TestServer::with_config(server::Config {
        write_timeout: Duration::from_secs(600),
        heartbeat_interval: Duration::from_millis(300),
        ..stalling_config()
    })
    .await;
    let mut ann = heavy_room(&server, 150).await;
    let _lurker = lurker(&server).await;
    // ann keeps talking, so only the lurker falls silent.
    let deadline = tokio::time::Instant::now() + PATIENCE * 3;
    loop {
        let id = ann.next_id();
        let _ = ann
            .ws_send(&ClientEvent::Leave {
                id,
                room: "none".into(),
            })
            .await;
        if websockets(&server).await == 1 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the silent, blocked client was never dropped"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn shutdown_does_not_wait_for_a_client_that_does_not_read() {
    let server = TestServer::with_config(server::Config {
        write_timeout: Duration::from_secs(600),
        shutdown_grace: Duration::from_secs(600),
        ..stalling_config()
    })
    .await;
    let _ann = heavy_room(&server, 150).await;
    let _lurker = lurker(&server).await;
    // `shutdown` fails the test if `run` does not return within PATIENCE.
    server.shutdown().await.expect("run returns Ok");
}

/// During the handshake: hundreds of bad hellos, and nothing read.
#[tokio::test]
async fn a_client_that_floods_bad_hellos_without_reading_is_closed() {
    let server = TestServer::with_config(server::Config {
        handshake_timeout: Duration::from_secs(600),
        ..Default::default()
    })
    .await;
    let mut flooder = Client::connect_small_buffer(&server).await;
    let bad = hello_named(&"n".repeat(20_000));
    for _ in 0..300 {
        if !flooder.ws_send(&bad).await {
            break;
        }
    }
    eventually("the flooder is closed", || async {
        websockets(&server).await == 0
    })
    .await;
}
