//! The history store: every message and location, durably, in SQLite.
//!
//! One dedicated thread owns the database connection; rooms talk to it over
//! a bounded queue. It commits in groups: it takes one request, then
//! everything else already queued, writes all appends in one transaction,
//! commits, and only then tells the rooms, which acknowledge and broadcast.
//! What a commit survives is the operator's choice (`crate::durability`).
//! Under load a commit (and its fsync) is shared by many messages; when
//! idle a message waits for nobody.
//!
//! Stored rows keep the exact JSON frame that was broadcast, so replaying
//! history is concatenation, not re-serialization.
//!
//! A store in memory (`--memory`) survives nothing, so its commit promises
//! nothing worth waiting for: rooms queue their appends with
//! [`Store::queue`] and acknowledge at once. Reads still see every append
//! queued before them, because the thread takes requests in order and
//! writes a group's appends before it answers the group's reads.

mod worker;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use protocol::Seq;
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::{mpsc, oneshot};

use crate::durability::Durability;
use crate::frame::{Frame, Page};
use worker::Worker;

/// Requests waiting for the store thread before rooms have to wait.
const QUEUE: usize = 4096;
/// Most requests handled in one group.
const MAX_GROUP: usize = 4096;
/// How often old messages are deleted when an age limit is set.
const AGE_SWEEP: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("history store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the history store has stopped")]
    Stopped,
}

/// Where and how long to keep history.
#[derive(Debug, Clone, Default)]
pub struct StoreConfig {
    /// The SQLite file; `None` keeps everything in memory (lost on exit).
    pub path: Option<PathBuf>,
    /// Keep at most this many messages per room.
    pub retain_messages: Option<u64>,
    /// Delete messages older than this.
    pub retain_age: Option<Duration>,
    /// What an acknowledged message survives (also checked against Redis's
    /// persistence in cluster mode).
    pub durability: Durability,
}

/// One stored room event.
#[derive(Debug)]
pub struct Record {
    /// The conversation's log key (for a room, its name).
    pub room: Arc<str>,
    pub seq: Seq,
    pub ts: i64,
    /// The sender's name key and request id: together they make a resend
    /// recognisable.
    pub sender_key: String,
    pub client_id: String,
    /// The frame as broadcast (shared with the broadcast, not copied).
    pub frame: Frame,
    /// For a `topic` event, its text (empty: cleared): kept as the room's
    /// current topic, which outlives the event itself.
    pub topic: Option<String>,
}

/// What a room needs to start: where its numbering stands, the request
/// ids of its recent messages, and its current topic (`Some("")`: cleared;
/// `None`: none recorded, as in a store older than topics).
#[derive(Debug, Default)]
pub struct RoomStart {
    pub last_seq: Seq,
    pub recent: Vec<(String, String, Seq)>,
    pub topic: Option<String>,
}

/// The outcome of an append, reported per room after each commit: every
/// append up to `upto` is durable (or, if `ok` is false, failed).
#[derive(Debug, Clone, Copy)]
pub struct Committed {
    pub upto: Seq,
    pub ok: bool,
}

pub(super) enum Request {
    /// The direct-message conversations of an identity, newest first.
    Dms {
        user: String,
        limit: usize,
        reply: oneshot::Sender<Result<Vec<(String, Seq)>, StoreError>>,
    },
    Start {
        room: Arc<str>,
        recent: usize,
        reply: oneshot::Sender<Result<RoomStart, StoreError>>,
    },
    Append {
        record: Record,
        /// Where to report the commit; `None`: nobody waits for it.
        notify: Option<mpsc::UnboundedSender<Committed>>,
    },
    /// Newest `limit` events with `after < seq <= upto`, oldest first.
    Page {
        room: Arc<str>,
        after: Seq,
        upto: Seq,
        limit: u32,
        reply: oneshot::Sender<Result<Page, StoreError>>,
    },
    /// Keeps the thread busy until `until` (a test's commit that takes
    /// long); `held` says it started.
    #[cfg(test)]
    Hold {
        held: oneshot::Sender<()>,
        until: oneshot::Receiver<()>,
    },
}

/// Handle to the store thread. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    requests: mpsc::Sender<Request>,
    epoch: Arc<str>,
    in_memory: bool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("epoch", &self.epoch).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the store and starts its thread.
    pub fn open(config: &StoreConfig) -> Result<Store, StoreError> {
        let conn = match &config.path {
            Some(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir {
                        path: dir.to_path_buf(),
                        source,
                    })?;
                }
                Connection::open(path)?
            }
            None => Connection::open_in_memory()?,
        };
        let epoch = prepare(&conn, config.durability, config.retain_age.is_some())?;
        let (requests, rx) = mpsc::channel(QUEUE);
        let worker = Worker {
            conn,
            retain_messages: config.retain_messages,
            retain_age: config.retain_age,
            last_sweep: Instant::now(),
        };
        std::thread::Builder::new()
            .name("history-store".into())
            .spawn(move || worker.run(rx))
            .map_err(|source| StoreError::DataDir {
                path: config.path.clone().unwrap_or_default(),
                source,
            })?;
        Ok(Store {
            requests,
            epoch: Arc::from(epoch),
            in_memory: config.path.is_none(),
        })
    }

    /// Identifies this store; changes when the store file is new.
    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// The history lives in memory: a commit survives nothing the server
    /// process does not, so nobody needs to wait for one.
    pub fn in_memory(&self) -> bool {
        self.in_memory
    }

    pub async fn start_room(&self, room: Arc<str>, recent: usize) -> Result<RoomStart, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Request::Start {
            room,
            recent,
            reply,
        })
        .await?;
        answer.await.map_err(|_| StoreError::Stopped)?
    }

    /// Queues an append; the outcome arrives on `notify` after the commit.
    pub async fn append(
        &self,
        record: Record,
        notify: mpsc::UnboundedSender<Committed>,
    ) -> Result<(), StoreError> {
        let notify = Some(notify);
        self.send(Request::Append { record, notify }).await
    }

    /// Queues an append that nobody waits for (a store in memory): reads
    /// queued after it see it, but its commit is not reported.
    pub async fn queue(&self, record: Record) -> Result<(), StoreError> {
        let notify = None;
        self.send(Request::Append { record, notify }).await
    }

    pub async fn page(
        &self,
        room: Arc<str>,
        after: Seq,
        upto: Seq,
        limit: u32,
    ) -> Result<Page, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Request::Page {
            room,
            after,
            upto,
            limit,
            reply,
        })
        .await?;
        answer.await.map_err(|_| StoreError::Stopped)?
    }

    /// The keys of `user`'s direct-message conversations with the `seq` of
    /// each one's latest event, the most recently used first.
    pub async fn dms(&self, user: &str, limit: usize) -> Result<Vec<(String, Seq)>, StoreError> {
        let (reply, answer) = oneshot::channel();
        let user = user.to_owned();
        self.send(Request::Dms { user, limit, reply }).await?;
        answer.await.map_err(|_| StoreError::Stopped)?
    }

    /// Keeps the store thread busy until the returned sender is used or
    /// dropped: what a slow commit looks like to the rooms.
    #[cfg(test)]
    pub(crate) async fn hold(&self) -> oneshot::Sender<()> {
        let (held, holding) = oneshot::channel();
        let (release, until) = oneshot::channel();
        self.send(Request::Hold { held, until })
            .await
            .expect("store running");
        holding.await.expect("store thread holding");
        release
    }

    async fn send(&self, request: Request) -> Result<(), StoreError> {
        self.requests
            .send(request)
            .await
            .map_err(|_| StoreError::Stopped)
    }
}

/// Sets the pragmas, creates the schema, and returns the store's epoch.
/// `by_age`: messages are deleted by age, so they are indexed by time.
fn prepare(conn: &Connection, durability: Durability, by_age: bool) -> Result<String, StoreError> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // A commit reaches the write-ahead log (NORMAL), or the disk (FULL),
    // before any message in it is acknowledged: see `durability`.
    conn.pragma_update(None, "synchronous", durability.sqlite_synchronous())?;
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    // The identity store writes to this file through a connection of its
    // own: wait for its write lock instead of failing a commit at once.
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS rooms (name TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
         CREATE TABLE IF NOT EXISTS events (
             room TEXT NOT NULL,
             seq INTEGER NOT NULL,
             ts INTEGER NOT NULL,
             sender_key TEXT NOT NULL,
             client_id TEXT NOT NULL,
             frame TEXT NOT NULL,
             PRIMARY KEY (room, seq)
         ) WITHOUT ROWID;
         CREATE TABLE IF NOT EXISTS topics (
             room TEXT PRIMARY KEY,
             seq INTEGER NOT NULL,
             text TEXT NOT NULL
         );",
    )?;
    // Only the age sweep reads this index, and keeping it up to date is a
    // second B-tree insert for every message: made (once) when messages
    // are kept by age, dropped when they are not.
    conn.execute_batch(if by_age {
        "CREATE INDEX IF NOT EXISTS events_by_age ON events (ts);"
    } else {
        "DROP INDEX IF EXISTS events_by_age;"
    })?;
    let existing: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'epoch'", [], |r| {
            r.get(0)
        })
        .optional()?;
    if let Some(epoch) = existing {
        return Ok(epoch);
    }
    let epoch = crate::ids::new_id();
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('epoch', ?1)",
        params![epoch],
    )?;
    Ok(epoch)
}

/// The default location of the store file inside a data directory.
pub fn file_in(data_dir: &Path) -> PathBuf {
    data_dir.join("chat.sqlite3")
}

/// The platform's data directory for the server (e.g. `~/.local/share/chat`
/// on Linux), if the platform has one.
pub fn default_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "chat").map(|d| d.data_dir().to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(room: &Arc<str>, seq: Seq, topic: Option<&str>) -> Record {
        Record {
            room: room.clone(),
            seq,
            ts: crate::clock::now_ms(),
            sender_key: "u_a:d_a".into(),
            client_id: format!("c{seq}"),
            frame: Frame::from_text(format!("{{\"seq\":{seq}}}")),
            topic: topic.map(str::to_owned),
        }
    }

    fn indexed_by_age(path: &Path) -> bool {
        let conn = Connection::open(path).expect("open");
        conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'events_by_age'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .expect("query")
            == 1
    }

    #[tokio::test]
    async fn messages_are_indexed_by_time_only_while_kept_by_age() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("chat.sqlite3");
        let open = |retain_age| {
            Store::open(&StoreConfig {
                path: Some(path.clone()),
                retain_age,
                ..Default::default()
            })
            .expect("store")
        };
        drop(open(None));
        assert!(!indexed_by_age(&path));
        drop(open(Some(Duration::from_secs(3600))));
        assert!(indexed_by_age(&path));
        drop(open(None));
        assert!(!indexed_by_age(&path));
    }

    #[tokio::test]
    async fn the_topic_with_the_highest_number_is_kept_after_its_event_is_trimmed() {
        let store = Store::open(&StoreConfig {
            retain_messages: Some(1),
            ..Default::default()
        })
        .expect("store");
        let room: Arc<str> = Arc::from("dev");
        let (notify, mut commits) = mpsc::unbounded_channel();
        // Seq 3's topic arrives before seq 2's: the number decides.
        for r in [
            record(&room, 1, None),
            record(&room, 3, Some("newer")),
            record(&room, 2, Some("older")),
            record(&room, 4, None),
        ] {
            store.append(r, notify.clone()).await.expect("queued");
            assert!(commits.recv().await.expect("committed").ok);
        }
        let start = store.start_room(room.clone(), 10).await.expect("start");
        assert_eq!(start.last_seq, 4);
        assert_eq!(start.recent.len(), 1, "trimmed to one event");
        assert_eq!(start.topic.as_deref(), Some("newer"));
        let other = store.start_room(Arc::from("ops"), 10).await.expect("start");
        assert_eq!(other.topic, None, "no topic recorded");
    }
}
