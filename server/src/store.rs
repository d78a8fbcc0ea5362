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

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use protocol::Seq;
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::{mpsc, oneshot};

use crate::durability::Durability;
use crate::frame::{Frame, Page};

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
}

/// What a room needs to start: where its numbering stands and the request
/// ids of its recent messages.
#[derive(Debug, Default)]
pub struct RoomStart {
    pub last_seq: Seq,
    pub recent: Vec<(String, String, Seq)>,
}

/// The outcome of an append, reported per room after each commit: every
/// append up to `upto` is durable (or, if `ok` is false, failed).
#[derive(Debug, Clone, Copy)]
pub struct Committed {
    pub upto: Seq,
    pub ok: bool,
}

enum Request {
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
        notify: mpsc::UnboundedSender<Committed>,
    },
    /// Newest `limit` events with `after < seq <= upto`, oldest first.
    Page {
        room: Arc<str>,
        after: Seq,
        upto: Seq,
        limit: u32,
        reply: oneshot::Sender<Result<Page, StoreError>>,
    },
}

/// Handle to the store thread. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    requests: mpsc::Sender<Request>,
    epoch: Arc<str>,
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
        let epoch = prepare(&conn, config.durability)?;
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
        })
    }

    /// Identifies this store; changes when the store file is new.
    pub fn epoch(&self) -> &str {
        &self.epoch
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

    async fn send(&self, request: Request) -> Result<(), StoreError> {
        self.requests
            .send(request)
            .await
            .map_err(|_| StoreError::Stopped)
    }
}

/// Sets the pragmas, creates the schema, and returns the store's epoch.
fn prepare(conn: &Connection, durability: Durability) -> Result<String, StoreError> {
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
         CREATE INDEX IF NOT EXISTS events_by_age ON events (ts);",
    )?;
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

struct Worker {
    conn: Connection,
    retain_messages: Option<u64>,
    retain_age: Option<Duration>,
    last_sweep: Instant,
}

impl Worker {
    fn run(mut self, mut rx: mpsc::Receiver<Request>) {
        // What aged out while the server was down goes before anyone reads.
        self.sweep_by_age();
        let mut group = Vec::with_capacity(64);
        while let Some(first) = rx.blocking_recv() {
            group.push(first);
            while group.len() < MAX_GROUP {
                match rx.try_recv() {
                    Ok(r) => group.push(r),
                    Err(_) => break,
                }
            }
            self.handle_group(&mut group);
        }
    }

    fn handle_group(&mut self, group: &mut Vec<Request>) {
        let mut appends = Vec::new();
        let mut reads = Vec::new();
        for request in group.drain(..) {
            match request {
                Request::Append { record, notify } => appends.push((record, notify)),
                other => reads.push(other),
            }
        }
        if !appends.is_empty() {
            let started = Instant::now();
            let result = self.write(&appends);
            crate::metrics::store_commit(started.elapsed());
            if let Err(e) = &result {
                tracing::error!(error = %e, "could not store messages");
            }
            // Tell each room once, with the highest seq of this group.
            let mut upto: HashMap<&str, (Seq, &mpsc::UnboundedSender<Committed>)> = HashMap::new();
            for (record, notify) in &appends {
                let entry = upto.entry(&record.room).or_insert((0, notify));
                entry.0 = entry.0.max(record.seq);
            }
            for (_, (seq, notify)) in upto {
                let _ = notify.send(Committed {
                    upto: seq,
                    ok: result.is_ok(),
                });
            }
        }
        for request in reads {
            match request {
                Request::Start {
                    room,
                    recent,
                    reply,
                } => {
                    let _ = reply.send(self.start(&room, recent));
                }
                Request::Page {
                    room,
                    after,
                    upto,
                    limit,
                    reply,
                } => {
                    let _ = reply.send(self.page(&room, after, upto, limit));
                }
                Request::Dms { user, limit, reply } => {
                    let _ = reply.send(self.dms(&user, limit));
                }
                Request::Append { .. } => {}
            }
        }
        self.sweep_by_age_if_due();
    }

    fn write(
        &mut self,
        appends: &[(Record, mpsc::UnboundedSender<Committed>)],
    ) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut last: HashMap<&str, Seq> = HashMap::new();
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO events (room, seq, ts, sender_key, client_id, frame)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for (r, _) in appends {
                insert.execute(params![
                    &*r.room,
                    r.seq as i64,
                    r.ts,
                    r.sender_key,
                    r.client_id,
                    r.frame.as_str()
                ])?;
                let e = last.entry(&r.room).or_insert(0);
                *e = (*e).max(r.seq);
            }
            let mut bump = tx.prepare_cached(
                "INSERT INTO rooms (name, last_seq) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET last_seq = max(last_seq, excluded.last_seq)",
            )?;
            let mut trim = tx.prepare_cached("DELETE FROM events WHERE room = ?1 AND seq <= ?2")?;
            for (room, seq) in &last {
                bump.execute(params![room, *seq as i64])?;
                if let Some(keep) = self.retain_messages
                    && *seq > keep
                {
                    trim.execute(params![room, (*seq - keep) as i64])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn start(&self, room: &str, recent: usize) -> Result<RoomStart, StoreError> {
        let last_seq: i64 = self
            .conn
            .query_row(
                "SELECT last_seq FROM rooms WHERE name = ?1",
                params![room],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0);
        let mut stmt = self.conn.prepare_cached(
            "SELECT sender_key, client_id, seq FROM events WHERE room = ?1 ORDER BY seq DESC LIMIT ?2",
        )?;
        let recent = stmt
            .query_map(params![room, recent as i64], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)? as Seq,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RoomStart {
            last_seq: last_seq.max(0) as Seq,
            recent,
        })
    }

    fn dms(&self, user: &str, limit: usize) -> Result<Vec<(String, Seq)>, StoreError> {
        // Keys are `@a+b` with ids that contain no LIKE wildcard but `_`,
        // escaped here.
        let id = user.replace('_', "\\_");
        let mut stmt = self.conn.prepare_cached(
            "SELECT r.name, r.last_seq FROM rooms r
             WHERE r.name LIKE '@' || ?1 || '+%' ESCAPE '\\' OR r.name LIKE '@%+' || ?1 ESCAPE '\\'
             ORDER BY (SELECT max(ts) FROM events e WHERE e.room = r.name) DESC LIMIT ?2",
        )?;
        let rows = stmt
            .query_map(params![id, limit as i64], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.max(0) as Seq))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    fn page(&self, room: &str, after: Seq, upto: Seq, limit: u32) -> Result<Page, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, frame FROM events WHERE room = ?1 AND seq > ?2 AND seq <= ?3
             ORDER BY seq DESC LIMIT ?4",
        )?;
        let mut rows = stmt
            .query_map(
                params![room, after as i64, upto as i64, i64::from(limit)],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
            )?
            .collect::<Result<Vec<_>, _>>()?;
        rows.reverse();
        let first = rows.first().map(|(s, _)| *s).unwrap_or(upto as i64 + 1);
        let more: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM events WHERE room = ?1 AND seq < ?2)",
            params![room, first],
            |r| r.get(0),
        )?;
        Ok(Page {
            frames: rows.into_iter().map(|(_, f)| f).collect(),
            more,
        })
    }

    /// Deletes messages past the retention age, at most once per
    /// [`AGE_SWEEP`] (and once when the store opens).
    fn sweep_by_age_if_due(&mut self) {
        if self.last_sweep.elapsed() >= AGE_SWEEP {
            self.sweep_by_age();
        }
    }

    fn sweep_by_age(&mut self) {
        let Some(age) = self.retain_age else { return };
        self.last_sweep = Instant::now();
        let cutoff = crate::clock::now_ms() - age.as_millis() as i64;
        match self
            .conn
            .execute("DELETE FROM events WHERE ts < ?1", params![cutoff])
        {
            Ok(n) if n > 0 => {
                tracing::info!(deleted = n, "deleted messages past the retention age")
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "retention sweep failed"),
        }
    }
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
