//! HTTPS and WSS on the server's one port, with a CA and certificates the
//! test makes (rcgen): the page and the chat over TLS, clients that do not
//! trust the CA refused by their own check, and certificate reloads that
//! reach new connections while open ones stay.

#![allow(clippy::unwrap_used)] // a failure is a failed test

mod binary;
mod pki;

use std::sync::Arc;
use std::time::Duration;

use pki::{Ca, Leaf, converse, hello, join};
use server::tls::Tls;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PATIENCE: Duration = Duration::from_secs(10);

struct Served {
    addr: std::net::SocketAddr,
    tls: Arc<Tls>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn serve(leaf: &Leaf) -> Served {
    let tls = Arc::new(Tls::load(&leaf.cert_path, &leaf.key_path).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let config = server::Config {
        tls: Some(tls.clone()),
        shutdown_grace: Duration::from_secs(1),
        ..server::Config::default()
    };
    tokio::spawn(server::run(listener, config, async {
        let _ = stopped.await;
    }));
    Served {
        addr,
        tls,
        _stop: stop,
    }
}

#[tokio::test]
async fn the_page_and_the_chat_are_served_over_tls_on_one_port() {
    let ca = Ca::new("chat test CA");
    let leaf = ca.leaf(&["localhost", "127.0.0.1"]);
    let served = serve(&leaf).await;

    // The page, over HTTPS.
    let mut tls = pki::tls_connect(served.addr, "localhost", &ca.client_config())
        .await
        .unwrap();
    tls.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut page = Vec::new();
    tokio::time::timeout(PATIENCE, tls.read_to_end(&mut page))
        .await
        .unwrap()
        .unwrap();
    let page = String::from_utf8_lossy(&page);
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(
        page.contains("<!doctype html>") || page.contains("<!DOCTYPE html>"),
        "{page}"
    );

    // The chat, over WSS, by IP address too.
    let (mut ws, cert) = pki::wss_connect(served.addr, "127.0.0.1", &ca.client_config())
        .await
        .unwrap();
    assert_eq!(cert, leaf.der);
    assert_eq!(hello(&mut ws, "ann").await, "ann");
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_ca_refuses_the_server() {
    let ca = Ca::new("chat test CA");
    let served = serve(&ca.leaf(&["localhost"])).await;
    let stranger = Ca::new("some other CA");
    let err = pki::wss_connect(served.addr, "localhost", &stranger.client_config())
        .await
        .unwrap_err();
    assert!(err.contains("UnknownIssuer"), "{err}");
    // Nor does a name the certificate does not carry pass.
    let err = pki::wss_connect(served.addr, "chat.invalid", &ca.client_config())
        .await
        .unwrap_err();
    assert!(err.contains("NotValidForName"), "{err}");
}

#[tokio::test]
async fn plain_http_on_the_tls_port_gets_no_page() {
    let ca = Ca::new("chat test CA");
    let served = serve(&ca.leaf(&["localhost"])).await;
    let mut tcp = tokio::net::TcpStream::connect(served.addr).await.unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(PATIENCE, tcp.read_to_end(&mut answer)).await;
    assert!(
        !String::from_utf8_lossy(&answer).contains("HTTP/1.1 200"),
        "the page went out in the clear"
    );
}

#[tokio::test]
async fn a_reload_reaches_new_connections_while_open_ones_keep_talking() {
    let ca = Ca::new("chat test CA");
    let first = ca.leaf(&["localhost"]);
    let served = serve(&first).await;
    let config = ca.client_config();
    let (mut ann, cert) = pki::wss_connect(served.addr, "localhost", &config)
        .await
        .unwrap();
    assert_eq!(cert, first.der);
    hello(&mut ann, "ann").await;
    join(&mut ann, "ops").await;

    // A renewed certificate (new key) in the same files.
    let second = ca.leaf_at(&["localhost"], &first.cert_path, &first.key_path);
    assert_ne!(second.der, first.der);
    served.tls.reload().unwrap();

    // A client of its own: one that resumed Ann's TLS session would be
    // shown no certificate at all.
    let (mut bob, cert) = pki::wss_connect(served.addr, "localhost", &ca.client_config())
        .await
        .unwrap();
    assert_eq!(
        cert, second.der,
        "a new connection gets the new certificate"
    );
    hello(&mut bob, "bob").await;
    join(&mut bob, "ops").await;
    // Ann's connection, made with the old certificate, still works both ways.
    converse(&mut ann, &mut bob, "ops", "from the old connection").await;
    converse(&mut bob, &mut ann, "ops", "to the old connection").await;
}

#[tokio::test]
async fn a_reload_that_fails_keeps_the_old_certificate() {
    let ca = Ca::new("chat test CA");
    let leaf = ca.leaf(&["localhost"]);
    let served = serve(&leaf).await;
    std::fs::write(&leaf.key_path, "half a key").unwrap();
    let err = served.tls.reload().unwrap_err().to_string();
    assert!(err.contains("private key"), "{err}");
    let (_ws, cert) = pki::wss_connect(served.addr, "localhost", &ca.client_config())
        .await
        .unwrap();
    assert_eq!(cert, leaf.der);
}

#[test]
fn a_key_that_does_not_fit_the_certificate_is_named() {
    let ca = Ca::new("chat test CA");
    let one = ca.leaf(&["localhost"]);
    let other = ca.leaf(&["localhost"]);
    let err = Tls::load(&one.cert_path, &other.key_path)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("the key "), "{err}");
    assert!(err.contains("does not fit the certificate"), "{err}");
    let err = Tls::load(&one.key_path, &one.key_path)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no PEM certificate"), "{err}");
}

/// The real binary: `systemctl reload` (SIGHUP) takes a renewed
/// certificate while a client stays connected and keeps talking.
#[tokio::test]
async fn sighup_reloads_the_certificate_without_dropping_anyone() {
    let ca = Ca::new("chat test CA");
    let first = ca.leaf(&["localhost"]);
    let mut cmd = binary::command();
    cmd.args(["--memory", "--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(&first.cert_path)
        .arg("--tls-key")
        .arg(&first.key_path);
    let server = binary::Running::start(cmd);
    assert_eq!(server.scheme, "https");
    let (mut ann, cert) = pki::wss_connect(server.addr, "localhost", &ca.client_config())
        .await
        .unwrap();
    assert_eq!(cert, first.der);
    hello(&mut ann, "ann").await;
    join(&mut ann, "ops").await;

    let second = ca.leaf_at(&["localhost"], &first.cert_path, &first.key_path);
    server.signal("HUP");
    // The reload happens soon after the signal; poll with fresh clients
    // (a resumed TLS session would show no certificate).
    let deadline = std::time::Instant::now() + PATIENCE;
    let mut bob = loop {
        let (ws, cert) = pki::wss_connect(server.addr, "localhost", &ca.client_config())
            .await
            .unwrap();
        if cert == second.der {
            break ws;
        }
        assert_eq!(cert, first.der, "a certificate that is neither");
        assert!(
            std::time::Instant::now() < deadline,
            "SIGHUP did not reload the certificate"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    hello(&mut bob, "bob").await;
    join(&mut bob, "ops").await;
    converse(&mut ann, &mut bob, "ops", "still here after the reload").await;
    converse(&mut bob, &mut ann, "ops", "and heard").await;

    let (status, log) = server.stop();
    assert!(status.success(), "{log}");
    assert!(log.contains("reloaded the TLS certificate"), "{log}");
}
