//! [`Shared`]: the state every connection and HTTP handler of one server
//! sees.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::registry::Registry;
use crate::room::{Backend, HistoryLimits};

/// Everything a connection needs, shared by all of them.
#[derive(Debug)]
pub struct Shared {
    pub config: Config,
    pub registry: Arc<Registry>,
    /// Cancelled when the server starts shutting down.
    pub shutdown: CancellationToken,
    /// Tracks live WebSocket connections so shutdown can wait for them to
    /// say goodbye.
    pub connections: TaskTracker,
    next_connection_id: AtomicU64,
}

impl Shared {
    pub fn new(config: Config, backend: Backend) -> Self {
        let limits = HistoryLimits {
            on_join: config.history_on_join,
            resume: config.resume_limit,
        };
        Shared {
            config,
            registry: Arc::new(Registry::new(backend, limits)),
            shutdown: CancellationToken::new(),
            connections: TaskTracker::new(),
            next_connection_id: AtomicU64::new(1),
        }
    }

    /// A process-unique id for a new connection.
    pub fn next_connection_id(&self) -> u64 {
        self.next_connection_id.fetch_add(1, Ordering::Relaxed)
    }
}
