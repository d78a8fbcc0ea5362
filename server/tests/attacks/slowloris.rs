//! Finding 1: requests that never finish. Sockets that send half a request
//! and stall, or dribble one byte at a time, used to stay open for ever;
//! under a file-descriptor limit of 128, 125 of them locked everybody out.

use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::net::*;
use crate::common::*;

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// 300 half requests against a server allowed 128 files: every one is
/// refused or cut off by the header timeout, and a real client gets in.
#[tokio::test]
async fn half_requests_are_cut_off_and_others_still_get_in() {
    let server = Process::start_limited(
        Some(128),
        &args(&[
            "--memory",
            "--header-timeout-secs",
            "1",
            "--max-connections-per-ip",
            "0",
            "--connection-rate-per-ip",
            "0",
        ]),
        None,
    );
    let mut sockets = Vec::new();
    for _ in 0..300 {
        // The kernel's accept queue may be full for a moment; those that
        // connect are what counts.
        if let Ok(Ok(mut s)) =
            tokio::time::timeout(PATIENCE, TcpStream::connect(&server.addr)).await
        {
            let _ = s.write_all(b"GET /ws HT").await;
            sockets.push(s);
        }
    }
    assert!(sockets.len() > 200, "only {} connected", sockets.len());
    for (i, s) in sockets.iter_mut().enumerate() {
        tokio::time::timeout(PATIENCE * 3, until_closed(s))
            .await
            .unwrap_or_else(|_| panic!("half request {i} was never cut off"));
    }
    let mut ann = raw_client(&server.addr, "ann").await;
    ann.join("dev").await;
}

/// A request sent one byte at a time would take minutes; the header
/// timeout ends it.
#[tokio::test]
async fn a_request_dribbled_byte_by_byte_is_cut_off() {
    let server = Process::start(&args(&["--memory", "--header-timeout-secs", "1"]));
    let mut s = TcpStream::connect(&server.addr).await.expect("connect");
    let request = format!(
        "GET /ws HTTP/1.1\r\nHost: {}\r\nX-Padding: {}\r\n\r\n",
        server.addr,
        "a".repeat(4000)
    );
    let dribble = async {
        for byte in request.bytes() {
            // Once the server has hung up, a write fails (after the first
            // one that only brings back the reset).
            if s.write_all(&[byte]).await.is_err() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    };
    let cut = tokio::time::timeout(PATIENCE * 3, dribble)
        .await
        .expect("the dribbled request was never cut off");
    assert!(cut, "the whole dribbled request was accepted");
}

/// 125 silent sockets from one address, under a limit of 128 files: the
/// address gets its share, and everyone else still gets in long before any
/// of the silent sockets times out.
#[tokio::test]
async fn silent_sockets_from_one_address_cannot_lock_others_out() {
    let server = Process::start_limited(
        Some(128),
        &args(&[
            "--memory",
            "--max-connections-per-ip",
            "16",
            "--header-timeout-secs",
            "600",
        ]),
        None,
    );
    let mut silent = Vec::new();
    for _ in 0..125 {
        if let Ok(s) = connect_from([127, 0, 0, 2], &server.addr).await {
            silent.push(s);
        }
    }
    let ws = ws_from([127, 0, 0, 3], &server.addr)
        .await
        .expect("another address gets in");
    let mut ann = identify(ws, "ann").await;
    ann.join("dev").await;
    let health = health(&server.addr).await;
    let refused = health["refused"].as_u64().expect("refused count");
    assert!(refused >= 100, "only {refused} refused: {health}");
    drop(silent);
}
