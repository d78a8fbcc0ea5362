//! The page, its security headers, the health endpoint and the Origin check.

mod common;

use common::*;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

async fn get(server: &TestServer, path: &str) -> String {
    http_get(&server.addr.to_string(), path).await
}

#[tokio::test]
async fn the_page_is_served_with_a_strict_csp() {
    let server = TestServer::start().await;
    let page = get(&server, "/").await;
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    let lower = page.to_ascii_lowercase();
    assert!(lower.contains("content-type: text/html"));
    let csp = lower
        .lines()
        .find(|l| l.starts_with("content-security-policy:"))
        .expect("a CSP header");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(page.contains("<script src=\"/app.js\""));

    for asset in ["/app.js", "/style.css"] {
        let r = get(&server, asset).await;
        assert!(r.starts_with("HTTP/1.1 200"), "{asset}: {r}");
    }
    assert!(get(&server, "/nope").await.starts_with("HTTP/1.1 404"));
    let health = get(&server, "/healthz").await;
    assert!(
        health.starts_with("HTTP/1.1 200") && health.contains("\"status\":\"ok\""),
        "{health}"
    );
}

async fn connect_with_origin(server: &TestServer, origin: &str) -> Result<(), String> {
    let mut request = server.url().into_client_request().expect("request");
    request
        .headers_mut()
        .insert("Origin", HeaderValue::from_str(origin).expect("header"));
    tokio_tungstenite::connect_async(request)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn browsers_from_other_origins_are_refused() {
    let server = TestServer::start().await;
    let same = format!("http://{}", server.addr);
    assert_eq!(connect_with_origin(&server, &same).await, Ok(()));
    let err = connect_with_origin(&server, "http://evil.example")
        .await
        .unwrap_err();
    assert!(err.contains("403"), "{err}");
}

#[tokio::test]
async fn the_allow_list_admits_named_origins() {
    let server = TestServer::with_config(server::Config {
        allowed_origins: vec!["https://chat.example.com".into()],
        ..Default::default()
    })
    .await;
    assert_eq!(
        connect_with_origin(&server, "https://chat.example.com").await,
        Ok(())
    );
    assert!(
        connect_with_origin(&server, "https://other.example.com")
            .await
            .is_err()
    );
}
