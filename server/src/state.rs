//! [`Shared`]: the state every connection and HTTP handler of one server
//! sees.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::front::Admission;
use crate::identity::Identities;
use crate::moderation::Moderation;
use crate::registry::Registry;
use crate::room::{Backend, HistoryLimits};

/// Everything a connection needs, shared by all of them.
#[derive(Debug)]
pub struct Shared {
    pub config: Config,
    pub registry: Arc<Registry>,
    /// Who is who: signing in, devices, link codes.
    pub identities: Arc<Identities>,
    /// Roles, bans, mutes, modes, the content filter.
    pub moderation: Arc<Moderation>,
    /// Cancelled when the server starts shutting down.
    pub shutdown: CancellationToken,
    /// Tracks live WebSocket connections so shutdown can wait for them to
    /// say goodbye.
    pub connections: TaskTracker,
    /// The connection limits, shared by every listener.
    pub admission: Arc<Admission>,
    next_connection_id: AtomicU64,
}

impl Shared {
    pub fn new(
        config: Config,
        backend: Backend,
        identities: Arc<Identities>,
        moderation: Arc<Moderation>,
    ) -> Self {
        let limits = HistoryLimits {
            on_join: config.history_on_join,
            resume: config.resume_limit,
        };
        let admission = Admission::new(config.admission.clone());
        let directory = Arc::new(crate::conversations::Directory::default());
        let registry = Arc::new(Registry::new(
            backend,
            limits,
            config.max_rooms_total,
            directory,
            moderation.clone(),
        ));
        Shared {
            admission,
            config,
            registry,
            identities,
            moderation,
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
