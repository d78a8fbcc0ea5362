//! chat-tui over TLS: the real binary against a real server serving
//! HTTPS/WSS with a certificate from a CA the test makes. With the CA in
//! `--ca-file` it chats (given the page's https:// address, as people paste
//! it); without, it refuses in one line that names the host and the reason.

#![allow(clippy::unwrap_used)] // a failure is a failed test

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

const WAIT: Duration = Duration::from_secs(15);

/// A CA, a certificate for localhost signed by it, and the files.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "chat-tui test CA");
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate().unwrap();
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca, ca_key);
        let mut leaf = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        leaf.distinguished_name
            .push(DnType::CommonName, "localhost");
        let key = KeyPair::generate().unwrap();
        let cert = leaf.signed_by(&key, &issuer).unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca_cert.pem()).unwrap();
        std::fs::write(dir.path().join("cert.pem"), cert.pem()).unwrap();
        std::fs::write(dir.path().join("key.pem"), key.serialize_pem()).unwrap();
        Pki { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// The server with TLS, on a loopback port, until dropped.
struct Server {
    runtime: tokio::runtime::Runtime,
    addr: SocketAddr,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Server {
    fn start(cert: &Path, key: &Path) -> Server {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let tls = Arc::new(server::tls::Tls::load(cert, key).unwrap());
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let config = server::Config {
            tls: Some(tls),
            ..server::Config::default()
        };
        runtime.spawn(server::run(listener, config, async {
            let _ = stopped.await;
        }));
        Server {
            runtime,
            addr,
            _stop: stop,
        }
    }
}

fn chat_tui() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_chat-tui"));
    cmd.env("CHAT_CONFIG", "/dev/null")
        .env_remove("CHAT_CA_FILE");
    cmd
}

#[test]
fn with_the_ca_file_chat_tui_chats_over_wss() {
    let pki = Pki::new();
    let server = Server::start(&pki.path("cert.pem"), &pki.path("key.pem"));
    let page = format!("https://localhost:{}/", server.addr.port());

    let pair = native_pty_system()
        .openpty(PtySize {
            rows: 24,
            cols: 100,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_chat-tui"));
    let ca = pki.path("ca.pem");
    cmd.args(["--server", &page, "--name", "ann", "--room", "dev"]);
    cmd.arg("--ca-file");
    cmd.arg(&ca);
    cmd.env("CHAT_CONFIG", "/dev/null");
    cmd.env("TERM", "xterm-256color");
    let mut child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let parser = Arc::new(Mutex::new(vt100::Parser::new(24, 100, 0)));
    let mut reader = pair.master.try_clone_reader().unwrap();
    let sink = parser.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().process(&buf[..n]);
        }
    });
    let mut writer = pair.master.take_writer().unwrap();
    let screen = || parser.lock().unwrap().screen().contents();
    let wait_until = |what: &str, done: &dyn Fn(&str) -> bool| {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if done(&screen()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("timed out waiting for {what}; screen:\n{}", screen());
    };
    let wait_for = |text: &str| wait_until(text, &|s| s.contains(text));
    wait_for("you joined #dev");
    // The status line names the WebSocket URL the page's address became.
    wait_for(&format!("wss://localhost:{}/ws", server.addr.port()));
    writer.write_all(b"sealed in TLS\r").unwrap();
    writer.flush().unwrap();
    wait_for("sealed in TLS");
    // Confirmed by the server over the same connection.
    wait_until("the line to be sent", &|s| !s.contains("sending"));
    writer.write_all(b"/quit\r").unwrap();
    writer.flush().unwrap();
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success());
            break;
        }
        assert!(Instant::now() < deadline, "chat-tui did not quit");
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(server.runtime);
}

#[test]
fn without_the_ca_file_the_certificate_is_refused_in_one_line() {
    let pki = Pki::new();
    let server = Server::start(&pki.path("cert.pem"), &pki.path("key.pem"));
    let url = format!("wss://localhost:{}/ws", server.addr.port());
    let out = chat_tui()
        .args(["--server", &url, "--name", "ann"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "chat-tui: cannot connect to {url}: the certificate of localhost is not trusted: \
             it is signed by an unknown authority"
        )),
        "{err}"
    );
    assert!(err.contains("--ca-file"), "{err}");
}

#[test]
fn a_ca_file_that_is_not_one_is_named() {
    let pki = Pki::new();
    let out = chat_tui()
        .args([
            "--server",
            "wss://localhost:1/ws",
            "--name",
            "ann",
            "--ca-file",
        ])
        .arg(pki.path("key.pem"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("chat-tui: the CA file "), "{err}");
    assert!(err.contains("no PEM certificate"), "{err}");
}

#[test]
fn plain_ws_to_a_tls_port_says_so() {
    let pki = Pki::new();
    let server = Server::start(&pki.path("cert.pem"), &pki.path("key.pem"));
    let url = format!("ws://localhost:{}/ws", server.addr.port());
    let out = chat_tui()
        .args(["--server", &url, "--name", "ann"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!("chat-tui: cannot connect to {url}: ")),
        "{err}"
    );
}
