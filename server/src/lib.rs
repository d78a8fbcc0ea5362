//! `chat-server` as a library: [`run`] serves the web page and the chat
//! WebSocket on a listener until a shutdown future completes.
//!
//! How an event flows (see ARCHITECTURE.md for the picture):
//!
//! 1. [`connection`] reads a frame from one client's socket, decodes and
//!    validates it with the `protocol` crate, and forwards a
//!    [`room::RoomCommand`] to the room's actor, found via the
//!    [`registry::Registry`].
//! 2. The [`room`] task owns the room's members here and its message log
//!    (the local SQLite store, or Redis in cluster mode, behind one
//!    interface). The log numbers and stores the message, serialized
//!    **once** into a [`frame::Frame`], and acknowledges the sender; the
//!    room hands a cheap clone of the same bytes to every member's bounded
//!    [`outbound::Outbound`] queue.
//! 3. Each connection's writer drains its queue, coalescing whatever is
//!    queued into one flush. A member whose queue is full is disconnected as
//!    a slow consumer instead of slowing the room down.

pub mod assets;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod connection;
pub mod frame;
pub mod http;
pub mod ids;
pub mod origin;
pub mod outbound;
pub mod rate_limit;
pub mod registry;
pub mod room;
pub mod state;
pub mod store;

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use config::Config;
pub use state::Shared;

/// Why the server could not start or keep serving.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The history store or the cluster could not be opened.
    #[error(transparent)]
    Backend(#[from] room::BackendError),
    /// Accepting connections failed.
    #[error("serving connections: {0}")]
    Serve(std::io::Error),
}

/// Serves HTTP and WebSocket clients on `listener` until `shutdown`
/// completes, then stops accepting, tells every connected client that the
/// server is going away, closes their sockets cleanly and returns.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let stopping = CancellationToken::new();
    let backend = room::Backend::start(&config, stopping.clone()).await?;
    let shared = Arc::new(Shared::new(config, backend));
    let app = http::router(shared.clone());

    let token = shared.shutdown.clone();
    let graceful = async move {
        shutdown.await;
        tracing::info!("shutting down: no new connections, closing the open ones");
        token.cancel();
    };
    // Chat frames are small and latency matters: send each write at once
    // instead of waiting for the peer's delayed ACK (Nagle).
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(graceful)
        .await
        .map_err(ServerError::Serve)?;

    // Upgraded WebSocket connections are not tracked by the HTTP server; wait
    // (bounded) for them to send their close frames.
    shared.shutdown.cancel();
    shared.connections.close();
    let grace = shared.config.shutdown_grace;
    if tokio::time::timeout(grace, shared.connections.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            remaining = shared.connections.len(),
            "connections still open after {grace:?}; exiting anyway"
        );
    }
    stopping.cancel();
    shared.registry.backend().close().await;
    Ok(())
}
