//! Cluster mode: several `chat-server` instances share rooms through Redis.
//!
//! What lives in Redis (every key under a configurable prefix):
//!
//! - `seq:{room}`: the room's sequence counter (INCR), so numbers are
//!   strictly increasing across the cluster;
//! - `log:{room}`: a stream of the room's frames, entry id `{seq}-0`, trimmed
//!   to a bounded length: the shared history every instance reads for joins,
//!   resumes and older pages;
//! - `ids:{room}:{sender length}:{user:device}:{request id}`: the seq a
//!   request got (expires after a day), so a resend to any instance is
//!   recognised;
//! - `members:{room}`: hash of `user \t instance \t connection` ->
//!   `instance \t join ms \t user \t name`, for cluster-wide user lists and
//!   presence per identity;
//! - `instance:{id}`: a liveness key with a short expiry, refreshed by its
//!   instance; members owned by an expired instance are reaped and announced
//!   as left by whichever instance notices first;
//! - `topic:{room}`: the room's current topic, set by the script that
//!   appends the topic event (so it outlives the event in the trimmed log);
//! - `away:{user}`: an identity's away reason, one state across instances;
//! - `online:{user}`: hash of instance -> open connections of an identity;
//! - `epoch`: the cluster's store epoch.
//!
//! Room traffic is published on the channel `room:{room}`, one payload per
//! event: `M{seq}\n{frame}` for stored messages, `J{user id}\n{frame}` for
//! joins, `P\n{frame}` for other presence. A message is appended, numbered,
//! de-duplicated and published in one Lua script, so it is acknowledged only
//! once Redis has it, and every instance sees the same order. Pub/sub may
//! drop messages (for instance while a connection is re-established); rooms
//! notice the gap in sequence numbers and read it back from the stream.
//!
//! This module holds the connection, its health and this instance's
//! liveness; `messages.rs` the counter, stream and resend keys;
//! `presence.rs` the member hash; `feed.rs` the pub/sub connection;
//! `scripts.rs` the Lua that keeps each step atomic. What a room does with
//! all this is in `room/redis_log.rs`.

mod directory;
mod feed;
mod messages;
mod people;
mod presence;
mod scripts;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use tokio_util::sync::CancellationToken;

pub use feed::{Feed, FeedEvent};
pub use people::Person;
pub use presence::{MemberEntry, Released};

/// Settings for cluster mode.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// `redis://host:port[/db]`.
    pub url: String,
    /// Prefix of every key and channel, so several clusters (or tests) can
    /// share one Redis.
    pub prefix: String,
    /// An instance whose liveness key is older than this is considered dead
    /// and its users leave the rooms.
    pub instance_ttl: Duration,
    /// Messages kept per room in the shared stream (approximately).
    pub max_log: u64,
}

impl ClusterConfig {
    pub fn new(url: impl Into<String>) -> Self {
        ClusterConfig {
            url: url.into(),
            prefix: "chat:".into(),
            instance_ttl: Duration::from_secs(10),
            max_log: 10_000,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("redis returned something unexpected: {0}")]
    Unexpected(String),
    #[error("redis did not confirm the subscription to the room's channel")]
    NotSubscribed,
}

/// One instance's view of the cluster. Cheap to clone.
#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

struct Inner {
    config: ClusterConfig,
    client: redis::Client,
    conn: ConnectionManager,
    instance: String,
    epoch: String,
    healthy: AtomicBool,
    append: redis::Script,
    claim: redis::Script,
    release: redis::Script,
    raise: redis::Script,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("instance", &self.inner.instance)
            .field("prefix", &self.inner.config.prefix)
            .finish()
    }
}

impl Cluster {
    /// Connects to Redis, registers this instance and reads (or sets) the
    /// cluster's epoch.
    pub async fn connect(config: ClusterConfig) -> Result<Cluster, ClusterError> {
        let client = redis::Client::open(config.url.as_str())?;
        let mut conn = client.get_connection_manager().await?;
        let instance = crate::ids::new_id();
        let epoch_key = format!("{}epoch", config.prefix);
        let _: bool = conn.set_nx(&epoch_key, crate::ids::new_id()).await?;
        let epoch: String = conn.get(&epoch_key).await?;
        let cluster = Cluster {
            inner: Arc::new(Inner {
                config,
                client,
                conn,
                instance,
                epoch,
                healthy: AtomicBool::new(true),
                append: redis::Script::new(scripts::APPEND),
                claim: redis::Script::new(scripts::CLAIM),
                release: redis::Script::new(scripts::RELEASE),
                raise: redis::Script::new(scripts::RAISE),
            }),
        };
        cluster.heartbeat().await?;
        Ok(cluster)
    }

    pub fn epoch(&self) -> &str {
        &self.inner.epoch
    }

    pub fn instance(&self) -> &str {
        &self.inner.instance
    }

    pub fn config(&self) -> &ClusterConfig {
        &self.inner.config
    }

    pub fn client(&self) -> &redis::Client {
        &self.inner.client
    }

    /// False while Redis is unreachable.
    pub fn is_healthy(&self) -> bool {
        self.inner.healthy.load(Ordering::Relaxed)
    }

    pub(crate) fn set_healthy(&self, healthy: bool) {
        let was = self.inner.healthy.swap(healthy, Ordering::Relaxed);
        crate::metrics::redis_up(healthy);
        if was && !healthy {
            tracing::warn!(
                "redis unreachable: cluster mode degraded, sends are refused until it is back"
            );
        } else if !was && healthy {
            tracing::info!("redis reachable again");
        }
    }

    fn conn(&self) -> ConnectionManager {
        self.inner.conn.clone()
    }

    fn key(&self, kind: &str, room: &str) -> String {
        format!("{}{kind}:{room}", self.inner.config.prefix)
    }

    /// The pub/sub channel of a room.
    pub fn channel(&self, room: &str) -> String {
        self.key("room", room)
    }

    /// The room a channel belongs to.
    pub fn room_of_channel<'a>(&self, channel: &'a str) -> Option<&'a str> {
        channel.strip_prefix(&format!("{}room:", self.inner.config.prefix))
    }

    fn track<T>(&self, result: Result<T, redis::RedisError>) -> Result<T, ClusterError> {
        match result {
            Ok(v) => {
                self.set_healthy(true);
                Ok(v)
            }
            Err(e) => {
                if e.is_io_error()
                    || e.is_connection_dropped()
                    || e.is_connection_refusal()
                    || e.is_timeout()
                {
                    self.set_healthy(false);
                }
                Err(e.into())
            }
        }
    }

    /// Refreshes this instance's liveness key.
    pub async fn heartbeat(&self) -> Result<(), ClusterError> {
        let key = format!(
            "{}instance:{}",
            self.inner.config.prefix, self.inner.instance
        );
        let ttl = self.inner.config.instance_ttl.as_millis() as u64;
        let r: Result<(), _> = self.conn().pset_ex(key, 1, ttl.max(1)).await;
        self.track(r)
    }

    /// Removes this instance's liveness key (on clean shutdown), so its
    /// members are reaped at once rather than after the expiry.
    pub async fn deregister(&self) {
        let key = format!(
            "{}instance:{}",
            self.inner.config.prefix, self.inner.instance
        );
        let _: Result<(), _> = self.conn().del(key).await;
    }

    /// After a reconnect: if Redis lost its data (restarted without
    /// persistence), put our epoch back so the cluster keeps one.
    pub async fn restore_epoch(&self) -> Result<(), ClusterError> {
        let key = format!("{}epoch", self.inner.config.prefix);
        let r: Result<bool, _> = self.conn().set_nx(key, &self.inner.epoch).await;
        if self.track(r)? {
            tracing::error!(
                "redis had lost its data (no persistence?): history before now is gone, numbering continues"
            );
        }
        Ok(())
    }
}

/// Refreshes this instance's liveness key a few times per expiry period,
/// so other instances know its members are still here. Ends when
/// `stopping` is cancelled.
pub async fn keep_alive(cluster: Cluster, stopping: CancellationToken) {
    let period = (cluster.config().instance_ttl / 3).max(Duration::from_millis(50));
    loop {
        tokio::select! {
            () = tokio::time::sleep(period) => {}
            () = stopping.cancelled() => return,
        }
        let started = std::time::Instant::now();
        match cluster.heartbeat().await {
            Ok(()) => crate::metrics::redis_rtt(started.elapsed()),
            Err(e) => tracing::debug!(error = %e, "heartbeat to redis failed"),
        }
    }
}
