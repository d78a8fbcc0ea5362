//! What "acknowledged" promises about a message, chosen by the operator
//! with `--durability`.
//!
//! A client that gets `ack ok` for a message forgets its copy, so the ack
//! is a promise that the message outlives some kind of failure. Two
//! promises are on offer, and the difference is one fsync per commit:
//!
//! - [`Durability::Process`] (the default): an acknowledged message
//!   survives the server *process* being killed (a crash, an OOM kill,
//!   SIGKILL), because every commit has been written to the SQLite write-
//!   ahead log, that is to the operating system, before the ack. It may be
//!   lost if the *machine* loses power or the kernel crashes within a few
//!   seconds of the ack, before the OS writes its cache out.
//!   SQLite: `journal_mode=WAL`, `synchronous=NORMAL`.
//! - [`Durability::Power`]: an acknowledged message also survives power
//!   loss and a kernel crash: the write-ahead log is fsynced before any
//!   message of the commit is acknowledged. SQLite: `synchronous=FULL`.
//!   The cost is an fsync per commit (commits are shared by every message
//!   that arrives while one is under way, so it is paid per group, not per
//!   message), and the disk's fsync latency in every ack's latency.
//!
//! In cluster mode the messages live in Redis, and the promise is Redis's:
//! `appendonly yes` with `appendfsync everysec` writes every command to
//! the append-only file before replying (the process promise), and
//! `appendfsync always` fsyncs it first (the power promise). Without the
//! append-only file a Redis restart loses what it held. At start the server
//! asks Redis how it persists ([`check_redis`]): when Redis cannot keep the
//! `power` promise the server refuses to start, since the operator asked
//! for it by name; when it cannot keep the default `process` promise (a
//! Redis without an append-only file is common on laptops and in tests) it
//! says in its log exactly what an acknowledgement then survives.

use std::fmt;

/// The failure an acknowledged message survives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Durability {
    /// The server process being killed.
    #[default]
    Process,
    /// The machine losing power, or its kernel crashing.
    Power,
}

impl Durability {
    /// SQLite's `synchronous` setting for this promise (in WAL mode).
    pub fn sqlite_synchronous(self) -> &'static str {
        match self {
            Durability::Process => "NORMAL",
            Durability::Power => "FULL",
        }
    }

    /// The weakest Redis `appendfsync` setting that keeps this promise.
    pub fn redis_appendfsync(self) -> &'static str {
        match self {
            Durability::Process => "everysec",
            Durability::Power => "always",
        }
    }
}

impl fmt::Display for Durability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Durability::Process => "process",
            Durability::Power => "power",
        })
    }
}

/// How a Redis server persists, from `CONFIG GET`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisPersistence {
    pub appendonly: bool,
    /// `always`, `everysec` or `no`.
    pub appendfsync: String,
}

/// Why Redis cannot keep the chosen promise.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DurabilityError {
    #[error(
        "--durability {wanted} needs Redis to persist with appendonly yes (it has appendonly no): \
         a Redis restart would lose acknowledged messages. Set appendonly yes and appendfsync {fsync} \
         in redis.conf (or CONFIG SET), or run Redis as OPERATIONS.md shows"
    )]
    NoAppendOnly {
        wanted: Durability,
        fsync: &'static str,
    },
    #[error(
        "--durability {wanted} needs Redis's appendfsync {fsync} or stricter (it has appendfsync {has}): \
         set it in redis.conf (or CONFIG SET appendfsync {fsync})"
    )]
    WeakFsync {
        wanted: Durability,
        fsync: &'static str,
        has: String,
    },
}

/// Whether Redis persisting as `redis` keeps the promise `wanted`.
pub fn redis_keeps(wanted: Durability, redis: &RedisPersistence) -> Result<(), DurabilityError> {
    let fsync = wanted.redis_appendfsync();
    if !redis.appendonly {
        return Err(DurabilityError::NoAppendOnly { wanted, fsync });
    }
    let strength = |s: &str| match s {
        "always" => 2,
        "everysec" => 1,
        _ => 0,
    };
    if strength(&redis.appendfsync) < strength(fsync) {
        return Err(DurabilityError::WeakFsync {
            wanted,
            fsync,
            has: redis.appendfsync.clone(),
        });
    }
    Ok(())
}

/// Asks Redis how it persists. `None` when it will not say (managed
/// services often disable `CONFIG`).
pub async fn redis_persistence(client: &redis::Client) -> Option<RedisPersistence> {
    let mut conn = client.get_multiplexed_async_connection().await.ok()?;
    let get = |key: &'static str| {
        let mut cmd = redis::cmd("CONFIG");
        cmd.arg("GET").arg(key);
        cmd
    };
    let appendonly: Vec<String> = get("appendonly").query_async(&mut conn).await.ok()?;
    let appendfsync: Vec<String> = get("appendfsync").query_async(&mut conn).await.ok()?;
    Some(RedisPersistence {
        appendonly: appendonly.get(1)? == "yes",
        appendfsync: appendfsync.get(1)?.clone(),
    })
}

/// At start in cluster mode: refuses a Redis that cannot keep the `power`
/// promise, warns about one that cannot keep the `process` promise or will
/// not say how it persists.
pub async fn check_redis(
    client: &redis::Client,
    wanted: Durability,
) -> Result<(), DurabilityError> {
    match redis_persistence(client).await {
        Some(redis) => match redis_keeps(wanted, &redis) {
            Ok(()) => {
                tracing::info!(
                    durability = %wanted,
                    appendfsync = %redis.appendfsync,
                    "redis persists every acknowledged message"
                );
                Ok(())
            }
            Err(e) if wanted == Durability::Power => Err(e),
            Err(e) => {
                tracing::warn!(
                    "an acknowledged message survives a chat-server crash but not a Redis restart: {e}"
                );
                Ok(())
            }
        },
        None => {
            tracing::warn!(
                durability = %wanted,
                "redis does not answer CONFIG GET: cannot check that it persists with appendonly yes and appendfsync {}",
                wanted.redis_appendfsync()
            );
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redis(appendonly: bool, appendfsync: &str) -> RedisPersistence {
        RedisPersistence {
            appendonly,
            appendfsync: appendfsync.into(),
        }
    }

    #[test]
    fn each_promise_names_its_sqlite_setting() {
        assert_eq!(Durability::default(), Durability::Process);
        assert_eq!(Durability::Process.sqlite_synchronous(), "NORMAL");
        assert_eq!(Durability::Power.sqlite_synchronous(), "FULL");
    }

    #[test]
    fn redis_must_persist_at_least_as_strictly_as_promised() {
        use Durability::*;
        assert!(redis_keeps(Process, &redis(true, "everysec")).is_ok());
        assert!(redis_keeps(Process, &redis(true, "always")).is_ok());
        assert!(redis_keeps(Power, &redis(true, "always")).is_ok());
        assert!(matches!(
            redis_keeps(Power, &redis(true, "everysec")),
            Err(DurabilityError::WeakFsync { .. })
        ));
        assert!(matches!(
            redis_keeps(Process, &redis(true, "no")),
            Err(DurabilityError::WeakFsync { .. })
        ));
        assert!(matches!(
            redis_keeps(Process, &redis(false, "always")),
            Err(DurabilityError::NoAppendOnly { .. })
        ));
        let message = redis_keeps(Power, &redis(true, "everysec"))
            .unwrap_err()
            .to_string();
        assert!(message.contains("appendfsync always"), "{message}");
    }
}
