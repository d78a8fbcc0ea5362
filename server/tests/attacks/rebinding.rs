//! Finding 7: DNS rebinding passed the Origin check, which compared
//! `Origin` with the client-supplied `Host`, and any `Host` was served.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use super::net::status_of;
use crate::common::*;

/// Upgrades with the given `Host` and `Origin`; the HTTP status.
async fn upgrade_as(server: &TestServer, host: &str, origin: &str) -> u16 {
    let mut request = server.url().into_client_request().expect("request");
    let headers = request.headers_mut();
    headers.insert("Host", HeaderValue::from_str(host).expect("host"));
    headers.insert("Origin", HeaderValue::from_str(origin).expect("origin"));
    match tokio_tungstenite::connect_async(request).await {
        Ok(_) => 101,
        Err(e) => status_of(e),
    }
}

async fn get_as(server: &TestServer, host: &str, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut response))
        .await
        .expect("answer in time")
        .expect("read");
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test]
async fn a_rebound_host_name_is_refused() {
    let server = TestServer::start().await;
    let port = server.addr.port();
    let evil = format!("rebind.evil.example:{port}");
    assert_eq!(
        upgrade_as(&server, &evil, &format!("http://{evil}")).await,
        421
    );
    assert!(
        get_as(&server, &evil, "/")
            .await
            .starts_with("HTTP/1.1 421")
    );
    // By address or as localhost it is served.
    let local = format!("localhost:{port}");
    assert_eq!(
        upgrade_as(&server, &local, &format!("http://{local}")).await,
        101
    );
    assert!(
        get_as(&server, &server.addr.to_string(), "/")
            .await
            .starts_with("HTTP/1.1 200")
    );
}

#[tokio::test]
async fn a_listed_host_name_is_served() {
    let server = TestServer::with_config(server::Config {
        allowed_hosts: vec!["https://chat.example.com".into()],
        ..Default::default()
    })
    .await;
    assert_eq!(
        upgrade_as(&server, "chat.example.com", "http://chat.example.com").await,
        101
    );
    assert_eq!(
        upgrade_as(&server, "evil.example.com", "http://evil.example.com").await,
        421
    );
}
