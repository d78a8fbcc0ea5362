//! Identities in SQLite, in the history's database file (tables of their
//! own). Each operation is one transaction on a connection of its own,
//! run on the blocking pool; SQLite's WAL lets it share the file with the
//! history's writer thread.
//! The connection is a [`BlockingSqlite`]: a burst of operations waits for
//! a place on the pool rather than a thread each.

use crate::blocking_sqlite::BlockingSqlite;
use crate::durability::Durability;
use std::path::Path;
use std::time::Duration;

use protocol::TimestampMs;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use super::{
    Device, Identity, IdentityStore, LAST_ROOMS, Listed, NewDevice, StoreError, StoreFuture,
};

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS identities (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        key TEXT NOT NULL UNIQUE,
        created_ts INTEGER NOT NULL,
        last_seen_ts INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS devices (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        name TEXT NOT NULL,
        credential_hash TEXT NOT NULL UNIQUE,
        created_ts INTEGER NOT NULL,
        last_seen_ts INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS devices_by_user ON devices (user_id);
    CREATE TABLE IF NOT EXISTS link_codes (
        hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        expires_ts INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS last_rooms (
        user_id TEXT NOT NULL,
        room TEXT NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (user_id, room)
    );";

const IDENTITY: &str = "SELECT id, name, key, created_ts, last_seen_ts FROM identities";
const DEVICE: &str = "SELECT id, user_id, name, created_ts, last_seen_ts FROM devices";

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    db: BlockingSqlite,
}

impl SqliteStore {
    /// Opens (creating the tables if needed) the store in the file `path`,
    /// or in memory. A registration or a new device is committed with the
    /// same promise as a message (`crate::durability`).
    pub fn open(path: Option<&Path>, durability: Durability) -> Result<SqliteStore, StoreError> {
        let conn = match path {
            Some(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        StoreError::Other(format!("cannot create {}: {e}", dir.display()))
                    })?;
                }
                Connection::open(path)?
            }
            None => Connection::open_in_memory()?,
        };
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", durability.sqlite_synchronous())?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        Ok(SqliteStore {
            db: BlockingSqlite::new(conn),
        })
    }

    /// Runs `f` in a transaction on the blocking pool, once it has a place
    /// there.
    fn run<T, F>(&self, f: F) -> StoreFuture<'static, T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        Box::pin(self.db.run(move |conn| {
            // IMMEDIATE: take the write lock up front (waiting for it
            // under the busy timeout). A deferred transaction that reads
            // and then writes fails at once with SQLITE_BUSY when the
            // history store committed in between, without waiting.
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        }))
    }
}

fn identity(row: &Row<'_>) -> rusqlite::Result<Identity> {
    Ok(Identity {
        id: row.get(0)?,
        name: row.get(1)?,
        key: row.get(2)?,
        created_ts: row.get(3)?,
        last_seen_ts: row.get(4)?,
    })
}

fn device(row: &Row<'_>) -> rusqlite::Result<Device> {
    Ok(Device {
        id: row.get(0)?,
        user: row.get(1)?,
        name: row.get(2)?,
        created_ts: row.get(3)?,
        last_seen_ts: row.get(4)?,
    })
}

fn insert_device(tx: &Connection, user: &str, d: &NewDevice) -> Result<Device, StoreError> {
    tx.execute(
        "INSERT INTO devices (id, user_id, name, credential_hash, created_ts, last_seen_ts)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        params![d.id, user, d.name, d.credential_hash, d.now],
    )?;
    tx.execute(
        "UPDATE identities SET last_seen_ts = max(last_seen_ts, ?2) WHERE id = ?1",
        params![user, d.now],
    )?;
    Ok(d.device(user))
}

fn find_user(tx: &Connection, id: &str) -> Result<Option<Identity>, StoreError> {
    Ok(tx
        .query_row(&format!("{IDENTITY} WHERE id = ?1"), [id], identity)
        .optional()?)
}

fn remove_user(tx: &Connection, id: &str) -> Result<bool, StoreError> {
    tx.execute("DELETE FROM devices WHERE user_id = ?1", [id])?;
    tx.execute("DELETE FROM link_codes WHERE user_id = ?1", [id])?;
    tx.execute("DELETE FROM last_rooms WHERE user_id = ?1", [id])?;
    Ok(tx.execute("DELETE FROM identities WHERE id = ?1", [id])? > 0)
}

fn key_held(tx: &Connection, key: &str, by_other_than: &str) -> Result<bool, StoreError> {
    let holder: Option<String> = tx
        .query_row("SELECT id FROM identities WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(holder.is_some_and(|h| h != by_other_than))
}

impl IdentityStore for SqliteStore {
    fn register<'a>(
        &'a self,
        identity: &'a Identity,
        device: Option<&'a NewDevice>,
    ) -> StoreFuture<'a, ()> {
        let (u, d) = (identity.clone(), device.cloned());
        self.run(move |tx| {
            if key_held(tx, &u.key, "")? {
                return Err(StoreError::NameHeld);
            }
            tx.execute(
                "INSERT INTO identities (id, name, key, created_ts, last_seen_ts)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![u.id, u.name, u.key, u.created_ts, u.last_seen_ts],
            )?;
            if let Some(d) = d {
                insert_device(tx, &u.id, &d)?;
            }
            Ok(())
        })
    }

    fn sign_in<'a>(
        &'a self,
        credential_hash: &'a str,
        now: TimestampMs,
    ) -> StoreFuture<'a, Option<(Identity, Device)>> {
        let hash = credential_hash.to_owned();
        self.run(move |tx| {
            let Some(mut d) = tx
                .query_row(
                    &format!("{DEVICE} WHERE credential_hash = ?1"),
                    [&hash],
                    device,
                )
                .optional()?
            else {
                return Ok(None);
            };
            tx.execute(
                "UPDATE devices SET last_seen_ts = max(last_seen_ts, ?2) WHERE id = ?1",
                params![d.id, now],
            )?;
            tx.execute(
                "UPDATE identities SET last_seen_ts = max(last_seen_ts, ?2) WHERE id = ?1",
                params![d.user, now],
            )?;
            d.last_seen_ts = d.last_seen_ts.max(now);
            Ok(find_user(tx, &d.user)?.map(|u| (u, d)))
        })
    }

    fn add_code<'a>(
        &'a self,
        code_hash: &'a str,
        user: &'a str,
        expires: TimestampMs,
    ) -> StoreFuture<'a, ()> {
        let (hash, user) = (code_hash.to_owned(), user.to_owned());
        self.run(move |tx| {
            tx.execute(
                "INSERT OR REPLACE INTO link_codes (hash, user_id, expires_ts) VALUES (?1, ?2, ?3)",
                params![hash, user, expires],
            )?;
            Ok(())
        })
    }

    fn redeem<'a>(
        &'a self,
        code_hash: &'a str,
        device: &'a NewDevice,
    ) -> StoreFuture<'a, Option<(Identity, Device)>> {
        let (hash, d) = (code_hash.to_owned(), device.clone());
        self.run(move |tx| {
            let found: Option<(String, TimestampMs)> = tx
                .query_row(
                    "DELETE FROM link_codes WHERE hash = ?1 RETURNING user_id, expires_ts",
                    [&hash],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            tx.execute("DELETE FROM link_codes WHERE expires_ts <= ?1", [d.now])?;
            let Some((user, _)) = found.filter(|(_, expires)| *expires > d.now) else {
                return Ok(None);
            };
            let Some(identity) = find_user(tx, &user)? else {
                return Ok(None);
            };
            let added = insert_device(tx, &user, &d)?;
            Ok(Some((identity, added)))
        })
    }

    fn devices<'a>(&'a self, user: &'a str) -> StoreFuture<'a, Vec<Device>> {
        let user = user.to_owned();
        self.run(move |tx| {
            let mut stmt = tx.prepare(&format!(
                "{DEVICE} WHERE user_id = ?1 ORDER BY created_ts, id"
            ))?;
            let rows = stmt.query_map([&user], device)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    fn revoke<'a>(&'a self, user: &'a str, device: &'a str) -> StoreFuture<'a, bool> {
        let (user, device) = (user.to_owned(), device.to_owned());
        self.run(move |tx| {
            Ok(tx.execute(
                "DELETE FROM devices WHERE id = ?1 AND user_id = ?2",
                params![device, user],
            )? > 0)
        })
    }

    fn touch<'a>(
        &'a self,
        devices: &'a [(String, String)],
        now: TimestampMs,
    ) -> StoreFuture<'a, ()> {
        let devices = devices.to_vec();
        self.run(move |tx| {
            for (user, device) in &devices {
                tx.execute(
                    "UPDATE devices SET last_seen_ts = max(last_seen_ts, ?2) WHERE id = ?1",
                    params![device, now],
                )?;
                tx.execute(
                    "UPDATE identities SET last_seen_ts = max(last_seen_ts, ?2) WHERE id = ?1",
                    params![user, now],
                )?;
            }
            Ok(())
        })
    }

    fn expire(&self, before: TimestampMs) -> StoreFuture<'_, Vec<String>> {
        self.run(move |tx| {
            let old: Vec<(String, String)> = {
                let mut stmt =
                    tx.prepare("SELECT id, name FROM identities WHERE last_seen_ts < ?1")?;
                let rows = stmt.query_map([before], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect::<Result<_, _>>()?
            };
            for (id, _) in &old {
                remove_user(tx, id)?;
            }
            Ok(old.into_iter().map(|(_, name)| name).collect())
        })
    }

    fn find<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Identity>> {
        let key = key.to_owned();
        self.run(move |tx| {
            Ok(tx
                .query_row(&format!("{IDENTITY} WHERE key = ?1"), [&key], identity)
                .optional()?)
        })
    }

    fn get<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Identity>> {
        let id = id.to_owned();
        self.run(move |tx| {
            Ok(tx
                .query_row(&format!("{IDENTITY} WHERE id = ?1"), [&id], identity)
                .optional()?)
        })
    }

    fn list(&self) -> StoreFuture<'_, Vec<Listed>> {
        self.run(|tx| {
            let mut stmt = tx.prepare(
                "SELECT i.id, i.name, i.key, i.created_ts, i.last_seen_ts,
                        (SELECT count(*) FROM devices d WHERE d.user_id = i.id)
                 FROM identities i ORDER BY i.name",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(Listed {
                    identity: identity(r)?,
                    devices: r.get::<_, i64>(5)? as usize,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    fn remove<'a>(&'a self, user: &'a str) -> StoreFuture<'a, bool> {
        let user = user.to_owned();
        self.run(move |tx| remove_user(tx, &user))
    }

    fn rename<'a>(&'a self, user: &'a str, name: &'a str, key: &'a str) -> StoreFuture<'a, ()> {
        let (user, name, key) = (user.to_owned(), name.to_owned(), key.to_owned());
        self.run(move |tx| {
            if key_held(tx, &key, &user)? {
                return Err(StoreError::NameHeld);
            }
            let changed = tx.execute(
                "UPDATE identities SET name = ?2, key = ?3 WHERE id = ?1",
                params![user, name, key],
            )?;
            if changed == 0 {
                return Err(StoreError::Other(format!("no identity {user}")));
            }
            Ok(())
        })
    }

    fn room_joined<'a>(&'a self, user: &'a str, room: &'a str) -> StoreFuture<'a, ()> {
        let (user, room) = (user.to_owned(), room.to_owned());
        self.run(move |tx| {
            tx.execute(
                "INSERT OR IGNORE INTO last_rooms (user_id, room, seq)
                 VALUES (?1, ?2, (SELECT coalesce(max(seq), 0) + 1 FROM last_rooms WHERE user_id = ?1))",
                params![user, room],
            )?;
            tx.execute(
                "DELETE FROM last_rooms WHERE user_id = ?1 AND seq NOT IN
                 (SELECT seq FROM last_rooms WHERE user_id = ?1 ORDER BY seq DESC LIMIT ?2)",
                params![user, LAST_ROOMS as i64],
            )?;
            Ok(())
        })
    }

    fn room_left<'a>(&'a self, user: &'a str, room: &'a str) -> StoreFuture<'a, ()> {
        let (user, room) = (user.to_owned(), room.to_owned());
        self.run(move |tx| {
            tx.execute(
                "DELETE FROM last_rooms WHERE user_id = ?1 AND room = ?2",
                params![user, room],
            )?;
            Ok(())
        })
    }

    fn last_rooms<'a>(&'a self, user: &'a str) -> StoreFuture<'a, Vec<String>> {
        let user = user.to_owned();
        self.run(move |tx| {
            let mut stmt =
                tx.prepare("SELECT room FROM last_rooms WHERE user_id = ?1 ORDER BY seq")?;
            let rows = stmt.query_map([&user], |r| r.get(0))?;
            Ok(rows.collect::<Result<Vec<String>, _>>()?)
        })
    }
}
