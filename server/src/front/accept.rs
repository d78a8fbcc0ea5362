//! The accept loop: admits or refuses each TCP connection before reading
//! from it, then serves it as HTTP on a task of its own.
//!
//! A refused connection is answered with `503 Service Unavailable` (a few
//! at a time; beyond that it is simply closed, so a flood of refusals
//! cannot itself exhaust the server) and counted; the refusals are logged
//! at most once per interval by the admission.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;

use super::admission::Refusal;
use super::http_conn::{self, Front};
use super::stream::Admitted;
use super::{AllowedHosts, Peer};
use crate::Shared;

/// Refused connections answered at once; more are closed without a word.
const REFUSALS_ANSWERED_AT_ONCE: usize = 16;
/// How long answering one refusal may take.
const REFUSAL_TIME: Duration = Duration::from_secs(2);
/// Pause after an accept error such as running out of file descriptors,
/// so the loop does not spin while connections close.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// Accepts connections on `listener` and serves `app` on them until the
/// server shuts down. Returns the tracker of the HTTP connections still
/// being served (closed: shutdown can wait for it).
pub async fn serve(listener: TcpListener, shared: Arc<Shared>, app: Router) -> TaskTracker {
    let front = Arc::new(Front {
        app,
        hosts: AllowedHosts::new(&shared.config.allowed_hosts),
        shared: shared.clone(),
    });
    let connections = TaskTracker::new();
    let answering = Arc::new(Semaphore::new(REFUSALS_ANSWERED_AT_ONCE));
    let mut last_error_logged: Option<Instant> = None;
    loop {
        let accepted = tokio::select! {
            biased;
            () = shared.shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (tcp, addr) = match accepted {
            Ok(accepted) => accepted,
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                if last_error_logged.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) {
                    tracing::error!(error = %e, "cannot accept connections (logged at most every 10s)");
                    last_error_logged = Some(Instant::now());
                }
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                continue;
            }
        };
        match shared.admission.admit(addr.ip()) {
            Ok(permit) => {
                // Chat frames are small and latency matters: send each write
                // at once instead of waiting for the peer's delayed ACK.
                if let Err(e) = tcp.set_nodelay(true) {
                    tracing::debug!(error = %e, "cannot set TCP_NODELAY");
                }
                let (stream, hangup) = Admitted::new(tcp, permit);
                let peer = Peer { addr, hangup };
                let front = front.clone();
                match shared.config.tls.clone() {
                    // HTTPS and WSS: the same HTTP, inside TLS.
                    Some(tls) => connections.spawn(async move {
                        let shutdown = front.shared.shutdown.clone();
                        let handshake = tokio::select! {
                            tls = tls.handshake(stream) => tls,
                            () = shutdown.cancelled() => None,
                        };
                        if let Some(stream) = handshake {
                            http_conn::serve(stream, peer, front).await;
                        }
                    }),
                    None => connections.spawn(http_conn::serve(stream, peer, front)),
                };
            }
            Err(refusal) => refuse(tcp, refusal, &answering),
        }
    }
    connections.close();
    connections
}

/// Errors about one connection that went away before we accepted it.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Answers a refused connection with a 503, if not too many are being
/// answered already.
fn refuse(tcp: TcpStream, refusal: Refusal, answering: &Arc<Semaphore>) {
    let Ok(slot) = answering.clone().try_acquire_owned() else {
        return;
    };
    tokio::spawn(async move {
        let _slot = slot;
        let mut tcp = tcp;
        let body = format!("{refusal}; try again later\n");
        let response = format!(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n\
             content-length: {}\r\nretry-after: 10\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let answer = async {
            tcp.write_all(response.as_bytes()).await?;
            tcp.shutdown().await?;
            // Read what the client sent before closing: closing with unread
            // input resets the connection, and the client might lose the
            // answer.
            let mut sink = [0u8; 512];
            while tcp.read(&mut sink).await? > 0 {}
            Ok::<(), io::Error>(())
        };
        let _ = tokio::time::timeout(REFUSAL_TIME, answer).await;
    });
}
