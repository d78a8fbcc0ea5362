//! The ssh accept loop: every TCP connection is admitted by the front
//! door's limits (in total, per address, new per second: shared with the
//! web's connections) before a byte is read, then runs russh's protocol
//! with a [`Connection`] handler. A connection that has not authenticated
//! within the login timeout is disconnected; so is every connection when
//! the server shuts down.

use std::sync::Arc;
use std::time::Duration;

use russh::Disconnect;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::task::TaskTracker;

use super::Ssh;
use super::session::Connection;
use crate::Shared;
use crate::front::Permit;

/// Accepts ssh connections on `listener` until the server shuts down.
/// Returns the tracker of the connections still open (closed, so shutdown
/// can wait for it).
pub async fn serve(listener: TcpListener, shared: Arc<Shared>, ssh: Arc<Ssh>) -> TaskTracker {
    let connections = TaskTracker::new();
    loop {
        let accepted = tokio::select! {
            biased;
            () = shared.shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (tcp, addr) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::debug!(error = %e, "ssh accept failed");
                // Out of file descriptors and the like: do not spin.
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        match shared.admission.admit(addr.ip()) {
            Ok(permit) => {
                let _ = tcp.set_nodelay(true);
                connections.spawn(connection(tcp, addr, permit, shared.clone(), ssh.clone()));
            }
            Err(refusal) => {
                // Before the protocol starts, a line of text is allowed
                // (RFC 4253, 4.2); then the connection closes, at once.
                tokio::spawn(async move {
                    let mut tcp = tcp;
                    let line = format!("chat-server: {refusal}; try again later\r\n");
                    let _ = tokio::time::timeout(
                        Duration::from_secs(1),
                        tcp.write_all(line.as_bytes()),
                    )
                    .await;
                });
            }
        }
    }
    connections.close();
    connections
}

/// One ssh connection, from the protocol's start to its end.
async fn connection(
    tcp: TcpStream,
    addr: std::net::SocketAddr,
    permit: Permit,
    shared: Arc<Shared>,
    ssh: Arc<Ssh>,
) {
    let _permit = permit;
    let handler = Connection::new(shared.clone(), ssh.clone(), addr);
    let authenticated = handler.authenticated.clone();
    let login = tokio::time::sleep(ssh.config.login_timeout);
    tokio::pin!(login);
    // The client's version line is read here: within the login timeout.
    let running = tokio::select! {
        running = russh::server::run_stream(ssh.russh.clone(), tcp, handler) => running,
        () = &mut login => return,
        () = shared.shutdown.cancelled() => return,
    };
    let Ok(running) = running else { return };
    let handle = running.handle();
    tokio::pin!(running);
    let mut waiting_for_login = true;
    loop {
        tokio::select! {
            ended = &mut running => {
                if let Err(e) = ended {
                    tracing::debug!(peer = %addr, error = %e, "ssh connection ended");
                }
                return;
            }
            () = authenticated.cancelled(), if waiting_for_login => waiting_for_login = false,
            () = &mut login, if waiting_for_login => {
                tracing::debug!(peer = %addr, "ssh login timed out");
                let _ = handle
                    .disconnect(Disconnect::ByApplication, "login timed out".into(), String::new())
                    .await;
                waiting_for_login = false;
            }
            () = shared.shutdown.cancelled() => {
                let _ = handle
                    .disconnect(Disconnect::ByApplication, "the server is shutting down".into(), String::new())
                    .await;
                // The session's own task ends the connection; bounded.
                let _ = tokio::time::timeout(Duration::from_secs(2), &mut running).await;
                return;
            }
        }
    }
}
