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
pub mod blocking_sqlite;
pub mod cli;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod config_file;
pub mod connection;
pub mod conversations;
pub mod durability;
pub mod frame;
pub mod front;
pub mod http;
pub mod identity;
pub mod ids;
pub mod logging;
pub mod metrics;
pub mod moderation;
pub mod origin;
pub mod outbound;
pub mod rate_limit;
pub mod registry;
pub mod room;
pub mod ssh;
pub mod state;
pub mod store;
pub mod tls;

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use config::Config;
pub use state::Shared;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The history store or the cluster could not be opened.
    #[error(transparent)]
    Backend(#[from] room::BackendError),
    /// The identity store could not be opened.
    #[error(transparent)]
    Identities(#[from] identity::StoreError),
    /// The ssh host key could not be read or made.
    #[error(transparent)]
    SshHostKey(#[from] ssh::HostKeyError),
    /// An ssh listener was given without `Config::ssh`.
    #[error("an ssh listener needs the ssh settings (Config::ssh)")]
    SshNotConfigured,
    /// The moderation store could not be opened.
    #[error(transparent)]
    Moderation(#[from] moderation::StoreError),
}

/// Where identities live: with the cluster in Redis, else beside the
/// history in its SQLite file, else (a throwaway server) in memory.
async fn identity_store(
    config: &Config,
    backend: &room::Backend,
) -> Result<Arc<dyn identity::IdentityStore>, identity::StoreError> {
    use identity::store::{MemoryStore, RedisStore, SqliteStore};
    Ok(match (backend, &config.store.path) {
        (room::Backend::Cluster(cluster, _), _) => {
            Arc::new(RedisStore::with_client(cluster.client(), &cluster.config().prefix).await?)
        }
        (room::Backend::Local(_), Some(path)) => {
            Arc::new(SqliteStore::open(Some(path), config.store.durability)?)
        }
        (room::Backend::Local(_), None) => Arc::new(MemoryStore::new()),
    })
}

/// Moderation lives where identities do; the admins named in the
/// options are looked up by name now (an unknown name is left out, with a
/// warning, so nobody becomes admin by registering it later).
async fn moderation(
    config: &Config,
    backend: &room::Backend,
    identities: &identity::Identities,
) -> Result<moderation::Moderation, ServerError> {
    use moderation::store::{MemoryStore, ModerationStore, RedisStore, SqliteStore};
    let store: Arc<dyn ModerationStore> = match (backend, &config.store.path) {
        (room::Backend::Cluster(cluster, _), _) => {
            Arc::new(RedisStore::with_client(cluster.client(), &cluster.config().prefix).await?)
        }
        (room::Backend::Local(_), Some(path)) => {
            Arc::new(SqliteStore::open(path, config.store.durability)?)
        }
        (room::Backend::Local(_), None) => Arc::new(MemoryStore::new()),
    };
    let mut admins = std::collections::HashSet::new();
    for name in &config.moderation.admins {
        let key = protocol::names::normalize(name).map(|n| protocol::names::name_key(&n));
        match key {
            Ok(key) => match identities.store().find(&key).await? {
                Some(who) => {
                    admins.insert(who.id);
                }
                None => {
                    tracing::warn!(%name, "--admin names nobody; create it with chat-server user add")
                }
            },
            Err(e) => tracing::warn!(%name, error = %e, "--admin is not a name"),
        }
    }
    Ok(moderation::Moderation::new(
        store,
        config.moderation.filter.clone(),
        admins,
    ))
}

/// Serves HTTP and WebSocket clients on `listener` until `shutdown`
/// completes, then stops accepting, tells every connected client that the
/// server is going away, closes their sockets cleanly and returns.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    run_with_ssh(listener, None, config, shutdown).await
}

/// [`run`], and the ssh entrance on `ssh_listener` (with `config.ssh`).
pub async fn run_with_ssh(
    listener: TcpListener,
    ssh_listener: Option<TcpListener>,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let ssh = match (&ssh_listener, &config.ssh) {
        (Some(_), Some(ssh)) => Some(Arc::new(ssh::Ssh::new(ssh.clone())?)),
        (Some(_), None) => return Err(ServerError::SshNotConfigured),
        (None, _) => None,
    };
    let stopping = CancellationToken::new();
    let backend = room::Backend::start(&config, stopping.clone()).await?;
    let store = identity_store(&config, &backend).await?;
    let mut identities = identity::Identities::new(store, config.identity.clone());
    if let room::Backend::Cluster(cluster, _) = &backend {
        identities = identities.with_cluster(cluster.clone());
    }
    let identities = Arc::new(identities);
    let moderation = Arc::new(moderation(&config, &backend, &identities).await?);
    if let room::Backend::Cluster(_, feed) = &backend {
        tokio::spawn(identity::revocations::follow(
            identities.clone(),
            feed.clone(),
            stopping.clone(),
        ));
    }
    tokio::spawn(identity::service::keep_sweeping(
        identities.clone(),
        stopping.clone(),
    ));
    let shared = Arc::new(Shared::new(config, backend, identities, moderation));
    if let room::Backend::Cluster(cluster, feed) = shared.registry.backend() {
        tokio::spawn(conversations::cluster::follow(
            shared.registry.clone(),
            cluster.clone(),
            feed.clone(),
            stopping.clone(),
        ));
    }
    warn_if_exposed(&listener, &shared.config);
    let app = http::router(shared.clone());

    let token = shared.shutdown.clone();
    let signal = tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down: no new connections, closing the open ones");
        token.cancel();
    });
    let ssh_connections = match (ssh_listener, ssh) {
        (Some(listener), Some(ssh)) => {
            Some(tokio::spawn(ssh::serve(listener, shared.clone(), ssh)))
        }
        _ => None,
    };
    let http = front::serve(listener, shared.clone(), app).await;
    signal.abort();
    let ssh_connections = match ssh_connections {
        Some(accepting) => accepting.await.ok(),
        None => None,
    };

    // Wait (bounded) for the HTTP exchanges in progress and for every
    // WebSocket to send its close frame.
    shared.connections.close();
    let grace = shared.config.shutdown_grace;
    let all_closed = async {
        http.wait().await;
        if let Some(ssh) = &ssh_connections {
            ssh.wait().await;
        }
        shared.connections.wait().await;
    };
    if tokio::time::timeout(grace, all_closed).await.is_err() {
        tracing::warn!(
            remaining = shared.connections.len() + http.len(),
            "connections still open after {grace:?}; exiting anyway"
        );
    }
    stopping.cancel();
    shared.registry.backend().close().await;
    Ok(())
}

/// Listening beyond loopback without a name to serve: say what browsers
/// will and will not reach.
fn warn_if_exposed(listener: &TcpListener, config: &Config) {
    let Ok(local) = listener.local_addr() else {
        return;
    };
    if !local.ip().is_loopback() && config.allowed_hosts.is_empty() {
        tracing::warn!(
            %local,
            "listening beyond loopback without --public-url: requests are served only when \
             they name this server by IP address or localhost; set --public-url \
             (or --allowed-host) to the name people use to reach it"
        );
    }
}
