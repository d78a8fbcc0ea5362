//! The addresses people paste, tried against a real server on a loopback
//! port: every accepted form reaches the chat, and a wrong path says the
//! server answered HTTP instead of opening a WebSocket.

#![allow(clippy::unwrap_used)] // a failure is a failed test

use std::time::Duration;

use tui_client::address::ServerAddress;
use tui_client::dial::Endpoint;
use tui_client::net;

async fn start_server() -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let config = server::Config {
        shutdown_grace: Duration::from_secs(1),
        ..server::Config::default()
    };
    tokio::spawn(server::run(listener, config, async {
        let _ = rx.await;
    }));
    (addr, tx)
}

#[tokio::test]
async fn every_pasted_form_of_a_loopback_address_reaches_the_chat() {
    let (addr, _stop) = start_server().await;
    let port = addr.port();
    let forms = [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("http://127.0.0.1:{port}"),
        format!("http://127.0.0.1:{port}/"),
        format!("http://localhost:{port}/?username=ann&room=dev"),
        format!("http://127.0.0.1:{port}/index.html"),
        format!("ws://127.0.0.1:{port}"),
        format!("ws://127.0.0.1:{port}/"),
        format!("ws://127.0.0.1:{port}/ws"),
    ];
    for (i, given) in forms.iter().enumerate() {
        let address = ServerAddress::parse(given).unwrap();
        assert_eq!(
            address.as_str(),
            format!("ws://{}:{port}/ws", address.host())
        );
        let name = format!("user{i}");
        let mut account = net::Account::new(net::SignIn::Name(name.clone()), address.clone(), None);
        let (_socket, welcome) = net::connect(&Endpoint::plain(address), &mut account)
            .await
            .unwrap_or_else(|e| panic!("{given}: {e}"));
        assert_eq!(welcome.name, name, "{given}");
    }
}

#[tokio::test]
async fn a_path_that_is_not_the_websocket_says_what_was_tried_and_what_came_back() {
    let (addr, _stop) = start_server().await;
    let url = format!("ws://{addr}/chat");
    let address = ServerAddress::parse(&url).unwrap();
    let mut account = net::Account::new(net::SignIn::Name("ann".into()), address.clone(), None);
    let err = net::connect(&Endpoint::plain(address), &mut account)
        .await
        .err()
        .expect("the connection fails")
        .to_string();
    assert!(
        err.starts_with(&format!("cannot connect to {url}: ")),
        "{err}"
    );
    assert!(err.contains("answered HTTP"), "{err}");
    assert!(err.contains("/ws"), "{err}");
    assert!(!err.contains('\n'), "{err}");
}

#[tokio::test]
async fn a_tls_address_without_tls_is_refused_rather_than_spoken_in_the_clear() {
    // wss:// without a TLS configuration never falls back to plain text.
    let (addr, _stop) = start_server().await;
    let address = ServerAddress::parse(&format!("wss://{addr}/ws")).unwrap();
    let mut account = net::Account::new(net::SignIn::Name("ann".into()), address.clone(), None);
    let err = net::connect(&Endpoint::plain(address), &mut account)
        .await
        .err()
        .expect("the connection fails")
        .to_string();
    assert!(err.contains("no TLS configuration"), "{err}");
}
