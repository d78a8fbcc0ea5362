//! Which message log this server keeps its rooms in: the local SQLite
//! store, or Redis shared with other instances. Chosen once at start; the
//! backend starts each room's task on its kind of log and answers for its
//! epoch and health, so nothing else needs to know which one it is.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::local_log::LocalLog;
use super::log::{LogError, LogKey};
use super::redis_log::RedisLog;
use super::{HistoryLimits, Retire, RoomCommand, task};
use crate::cluster::{self, Cluster, ClusterError, Feed};
use crate::config::Config;
use crate::conversations::Directory;
use crate::moderation::Moderation;
use crate::store::{Store, StoreError};

/// Where rooms keep their messages and presence.
#[derive(Debug, Clone)]
pub enum Backend {
    /// This instance alone, with history in the embedded store.
    Local(Store),
    /// Shared with the other instances through Redis.
    Cluster(Cluster, Feed),
}

/// Why the backend could not start.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot join the cluster at {url}: {source}")]
    Cluster { url: String, source: ClusterError },
    #[error(transparent)]
    Durability(#[from] crate::durability::DurabilityError),
}

/// How the backend is doing, for the health endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// The local store: there as long as the server runs.
    Local,
    /// Redis, reachable or not.
    Cluster { reachable: bool },
}

impl Health {
    /// The instance cannot do everything it should (sends are refused).
    pub fn is_degraded(self) -> bool {
        self == Health::Cluster { reachable: false }
    }

    /// The backend's own fields of the health answer (JSON members, each
    /// with its leading comma).
    pub fn json_fields(self) -> &'static str {
        match self {
            Health::Local => "",
            Health::Cluster { reachable: true } => ",\"redis\":\"ok\"",
            Health::Cluster { reachable: false } => ",\"redis\":\"unreachable\"",
        }
    }
}

impl Backend {
    /// Opens the store, or joins the cluster (then also starts the pub/sub
    /// feed and the liveness key's refresher, until `stopping`).
    pub async fn start(config: &Config, stopping: CancellationToken) -> Result<Self, BackendError> {
        let Some(cluster_config) = &config.cluster else {
            let store = Store::open(&config.store)?;
            tracing::info!(
                store = %config.store.path.as_deref().map(|p| p.display().to_string()).unwrap_or_else(|| "memory".into()),
                epoch = store.epoch(),
                "history store open"
            );
            return Ok(Backend::Local(store));
        };
        let cluster = Cluster::connect(cluster_config.clone())
            .await
            .map_err(|source| BackendError::Cluster {
                url: cluster_config.url.clone(),
                source,
            })?;
        crate::durability::check_redis(cluster.client(), config.store.durability).await?;
        tracing::info!(
            instance = cluster.instance(),
            epoch = cluster.epoch(),
            "cluster mode"
        );
        let feed = Feed::start(cluster.clone(), stopping.clone());
        tokio::spawn(cluster::keep_alive(cluster.clone(), stopping));
        Ok(Backend::Cluster(cluster, feed))
    }

    /// The epoch clients compare to know whether their numbers still hold.
    pub fn epoch(&self) -> &str {
        match self {
            Backend::Local(store) => store.epoch(),
            Backend::Cluster(cluster, _) => cluster.epoch(),
        }
    }

    /// The keys of `user`'s direct-message conversations, most recently
    /// used first, with the `seq` of each one's latest event.
    pub async fn dms(
        &self,
        user: &str,
        limit: usize,
    ) -> Result<Vec<(String, protocol::Seq)>, LogError> {
        Ok(match self {
            Backend::Local(store) => store.dms(user, limit).await?,
            Backend::Cluster(cluster, _) => cluster.dms(user, limit).await?,
        })
    }

    pub fn health(&self) -> Health {
        match self {
            Backend::Local(_) => Health::Local,
            Backend::Cluster(cluster, _) => Health::Cluster {
                reachable: cluster.is_healthy(),
            },
        }
    }

    /// After the last connection closed: in cluster mode, remove this
    /// instance's liveness key so the other instances reap our members now
    /// rather than after its expiry.
    pub async fn close(&self) {
        if let Backend::Cluster(cluster, _) = self {
            cluster.deregister().await;
        }
    }

    /// Starts the task of room `name` on this backend's kind of log.
    pub(crate) fn spawn_room(
        &self,
        name: Arc<str>,
        commands: mpsc::Receiver<RoomCommand>,
        retire: impl Retire,
        limits: HistoryLimits,
        (directory, moderation): (Arc<Directory>, Arc<Moderation>),
    ) {
        let key = LogKey::room(&name);
        match self {
            Backend::Local(store) => {
                let open = Box::pin(LocalLog::open(store.clone(), key));
                tokio::spawn(task::run(
                    name, commands, retire, limits, directory, moderation, open,
                ));
            }
            Backend::Cluster(cluster, feed) => {
                let open = Box::pin(RedisLog::open(cluster.clone(), feed.clone(), key));
                tokio::spawn(task::run(
                    name, commands, retire, limits, directory, moderation, open,
                ));
            }
        }
    }
}
