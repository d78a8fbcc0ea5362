//! Finding 2: no connection caps. 3,000 WebSocket connections from one
//! address were all accepted in 1.5 s. Now an address gets a share, the
//! server a total, refusals are answered with 503 and counted, and behind
//! a trusted proxy the forwarded client is what counts.

use std::time::Instant;

use server::front::AdmissionConfig;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use super::net::*;
use crate::common::*;

fn with_admission(admission: AdmissionConfig) -> server::Config {
    server::Config {
        admission,
        ..Default::default()
    }
}

#[tokio::test]
async fn a_flood_from_one_address_is_capped_by_default() {
    let server = TestServer::start().await;
    let addr = server.addr.to_string();
    let (mut accepted, mut refused) = (Vec::new(), 0);
    for _ in 0..200 {
        match ws_from([127, 0, 0, 11], &addr).await {
            Ok(ws) => accepted.push(ws),
            Err(503) => refused += 1,
            Err(other) => panic!("unexpected answer {other}"),
        }
    }
    assert!(accepted.len() <= 64, "{} accepted", accepted.len());
    assert_eq!(accepted.len() + refused, 200);
    // Another address is not affected.
    let ws = ws_from([127, 0, 0, 12], &addr)
        .await
        .expect("other address");
    identify(ws, "ann").await;
    let health = health(&addr).await;
    assert!(health["refused"].as_u64() >= Some(136), "{health}");
}

#[tokio::test]
async fn the_share_of_an_address_comes_back_when_it_closes() {
    let server = TestServer::with_config(with_admission(AdmissionConfig {
        max_per_address: 3,
        rate_per_address: 0.0,
        ..Default::default()
    }))
    .await;
    let addr = server.addr.to_string();
    let mut open = Vec::new();
    for i in 0..3 {
        let ws = ws_from([127, 0, 0, 21], &addr)
            .await
            .expect("within the share");
        open.push(identify(ws, &format!("u{i}")).await);
    }
    assert_eq!(ws_from([127, 0, 0, 21], &addr).await.err(), Some(503));
    open.pop().expect("one").close().await;
    eventually("a place is free again", || async {
        ws_from([127, 0, 0, 21], &addr).await.is_ok()
    })
    .await;
}

#[tokio::test]
async fn new_connections_from_one_address_are_rate_limited() {
    let server = TestServer::with_config(with_admission(AdmissionConfig {
        max_per_address: 0,
        rate_per_address: 0.001,
        burst_per_address: 5,
        ..Default::default()
    }))
    .await;
    let addr = server.addr.to_string();
    for _ in 0..5 {
        // Opened and closed at once: the count stays low, the rate does not.
        drop(
            ws_from([127, 0, 0, 31], &addr)
                .await
                .expect("within the burst"),
        );
    }
    assert_eq!(ws_from([127, 0, 0, 31], &addr).await.err(), Some(503));
    assert!(ws_from([127, 0, 0, 32], &addr).await.is_ok());
}

#[tokio::test]
async fn the_total_is_capped() {
    let server = TestServer::with_config(with_admission(AdmissionConfig {
        max_connections: 5,
        max_per_address: 0,
        rate_per_address: 0.0,
        ..Default::default()
    }))
    .await;
    let addr = server.addr.to_string();
    let mut open = Vec::new();
    for i in 0..5u8 {
        open.push(
            ws_from([127, 0, 1, i], &addr)
                .await
                .expect("within the total"),
        );
    }
    assert_eq!(ws_from([127, 0, 1, 9], &addr).await.err(), Some(503));
    let page = http_get(&addr, "/").await;
    assert!(page.starts_with("HTTP/1.1 503"), "{page}");
}

async fn upgrade_forwarded_for(server: &TestServer, forwarded: &str) -> Result<Ws, u16> {
    let mut request = server.url().into_client_request().expect("request");
    request.headers_mut().insert(
        "X-Forwarded-For",
        HeaderValue::from_str(forwarded).expect("header"),
    );
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(ws, _)| ws)
        .map_err(status_of)
}

/// Behind a trusted proxy (here: 127.0.0.1) each forwarded client has its
/// own share, whoever else the proxy carries.
#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_counts() {
    let server = TestServer::with_config(with_admission(AdmissionConfig {
        max_per_address: 2,
        rate_per_address: 0.0,
        trusted_proxies: vec!["127.0.0.1/32".parse().expect("net")],
        ..Default::default()
    }))
    .await;
    let mut open = Vec::new();
    for _ in 0..2 {
        // What the client wrote itself (left) is not believed.
        open.push(
            upgrade_forwarded_for(&server, "203.0.113.1, 198.51.100.7")
                .await
                .expect("within the client's share"),
        );
    }
    assert_eq!(
        upgrade_forwarded_for(&server, "203.0.113.2, 198.51.100.7")
            .await
            .err(),
        Some(503)
    );
    for _ in 0..2 {
        open.push(
            upgrade_forwarded_for(&server, "198.51.100.8")
                .await
                .expect("another client behind the same proxy"),
        );
    }
}

/// Forwarding headers from anyone else are ignored: they cannot buy a
/// client more connections.
#[tokio::test]
async fn forwarding_headers_from_untrusted_peers_are_ignored() {
    let server = TestServer::with_config(with_admission(AdmissionConfig {
        max_per_address: 2,
        rate_per_address: 0.0,
        ..Default::default()
    }))
    .await;
    let _a = upgrade_forwarded_for(&server, "198.51.100.1")
        .await
        .expect("1");
    let _b = upgrade_forwarded_for(&server, "198.51.100.2")
        .await
        .expect("2");
    assert_eq!(
        upgrade_forwarded_for(&server, "198.51.100.3").await.err(),
        Some(503)
    );
}

/// Refusals are logged, but at most once per interval (10 s): a flood of
/// them is one line, not one per connection.
#[tokio::test]
async fn refusals_are_logged_at_most_once_per_interval() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("server.log");
    let started = Instant::now();
    let mut server = Process::start_limited(
        None,
        &[
            "--memory",
            "--max-connections-per-ip",
            "2",
            "--connection-rate-per-ip",
            "0",
        ]
        .map(String::from),
        Some(&log),
    );
    let _open = [
        ws_from([127, 0, 0, 41], &server.addr).await.expect("1"),
        ws_from([127, 0, 0, 41], &server.addr).await.expect("2"),
    ];
    for _ in 0..50 {
        assert_eq!(
            ws_from([127, 0, 0, 41], &server.addr).await.err(),
            Some(503)
        );
    }
    let health = health(&server.addr).await;
    assert_eq!(health["refused"].as_u64(), Some(50), "{health}");
    server.kill();
    let text = std::fs::read_to_string(&log).expect("log");
    let lines = text.matches("connection refused").count();
    let intervals = started.elapsed().as_secs() / 10 + 1;
    assert!(
        (1..=intervals as usize).contains(&lines),
        "{lines} refusal lines in {intervals} intervals:\n{text}"
    );
    assert!(text.contains("127.0.0.41"), "{text}");
}
