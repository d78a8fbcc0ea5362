//! Moderation in SQLite, in the history's database file (a table of its
//! own). Each operation is one statement on a connection of its own, run
//! on the blocking pool, a few at a time like the identity store (so that
//! rooms opening at once do not each get a thread of the pool, parked on
//! the connection's lock).

use crate::blocking_sqlite::BlockingSqlite;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

use super::{Entry, ModerationStore, StoreError, StoreFuture};
use crate::durability::Durability;

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS moderation (
        room TEXT NOT NULL,
        kind TEXT NOT NULL,
        user_id TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (room, kind, user_id)
    );";

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    db: BlockingSqlite,
}

impl SqliteStore {
    /// Opens (creating the table if needed) the store in the file `path`.
    /// A ban is committed with the same promise as a message.
    pub fn open(path: &Path, durability: Durability) -> Result<SqliteStore, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Other(format!("cannot create {}: {e}", dir.display())))?;
        }
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", durability.sqlite_synchronous())?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        Ok(SqliteStore {
            db: BlockingSqlite::new(conn),
        })
    }

    /// Runs `f` on the blocking pool, once it has a place there.
    fn run<T, F>(&self, f: F) -> StoreFuture<'static, T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        Box::pin(self.db.run(move |conn| f(conn)))
    }
}

impl ModerationStore for SqliteStore {
    fn entries<'a>(&'a self, room: &'a str) -> StoreFuture<'a, Vec<Entry>> {
        let room = room.to_owned();
        self.run(move |conn| {
            let mut statement = conn.prepare_cached(
                "SELECT kind, user_id, value FROM moderation WHERE room = ?1 ORDER BY kind, user_id",
            )?;
            let rows = statement.query_map([room], |r| {
                Ok(Entry {
                    kind: r.get(0)?,
                    user: r.get(1)?,
                    value: r.get(2)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    fn put<'a>(
        &'a self,
        room: &'a str,
        kind: &'a str,
        user: &'a str,
        value: Option<&'a str>,
    ) -> StoreFuture<'a, ()> {
        let (room, kind, user) = (room.to_owned(), kind.to_owned(), user.to_owned());
        let value = value.map(str::to_owned);
        self.run(move |conn| {
            match value {
                Some(v) => conn.execute(
                    "INSERT INTO moderation (room, kind, user_id, value) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (room, kind, user_id) DO UPDATE SET value = excluded.value",
                    params![room, kind, user, v],
                )?,
                None => conn.execute(
                    "DELETE FROM moderation WHERE room = ?1 AND kind = ?2 AND user_id = ?3",
                    params![room, kind, user],
                )?,
            };
            Ok(())
        })
    }

    fn put_if_absent<'a>(
        &'a self,
        room: &'a str,
        kind: &'a str,
        user: &'a str,
        value: &'a str,
    ) -> StoreFuture<'a, String> {
        let (room, kind, user, value) = (
            room.to_owned(),
            kind.to_owned(),
            user.to_owned(),
            value.to_owned(),
        );
        self.run(move |conn| {
            conn.execute(
                "INSERT OR IGNORE INTO moderation (room, kind, user_id, value) VALUES (?1, ?2, ?3, ?4)",
                params![room, kind, user, value],
            )?;
            let now: Option<String> = conn
                .query_row(
                    "SELECT value FROM moderation WHERE room = ?1 AND kind = ?2 AND user_id = ?3",
                    params![room, kind, user],
                    |r| r.get(0),
                )
                .optional()?;
            now.ok_or_else(|| StoreError::Other("entry vanished".into()))
        })
    }
}
