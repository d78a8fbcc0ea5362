//! Graceful shutdown: stop accepting, tell clients, close cleanly, exit 0.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::*;
use protocol::{ErrorCode, ServerEvent, close};

#[tokio::test]
async fn clients_are_told_and_closed_with_going_away() {
    let server = TestServer::start().await;
    let url = server.url();
    let mut ann = Client::named(&server, "ann").await;
    ann.join("dev").await;
    let mut bob = Client::named(&server, "bob").await;
    bob.join("dev").await;

    let stopping = tokio::spawn(server.shutdown());
    for c in [&mut ann, &mut bob] {
        let mut told = false;
        let code = loop {
            match c.recv_frame().await {
                Frame::Event(ServerEvent::Error { code, .. }) => {
                    assert_eq!(code, ErrorCode::ShuttingDown);
                    told = true;
                }
                Frame::Event(_) => {}
                Frame::Closed(frame) => break frame.map(|f| u16::from(f.code)),
            }
        };
        assert!(told, "no shutting_down error before the close");
        assert_eq!(code, Some(close::GOING_AWAY));
    }
    stopping.await.expect("join").expect("run returns Ok");
    // Nobody is accepted any more.
    assert!(tokio_tungstenite::connect_async(url).await.is_err());
}

/// The real binary exits 0 on SIGTERM.
#[test]
fn the_binary_exits_cleanly_on_sigterm() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_chat-server"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start chat-server");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read stdout");
    assert!(line.starts_with("listening on http://127.0.0.1:"), "{line}");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "exit status {status}");
            assert!(
                data.path().join("chat.sqlite3").exists(),
                "the store file was created"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "chat-server did not exit after SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
