//! Where moderation is kept, behind one interface, [`ModerationStore`],
//! with three implementations: `memory.rs` (`--memory`), `sqlite.rs` (a
//! table of its own in the history's database file) and `redis.rs`
//! (cluster mode: every instance checks the same bans).
//!
//! The interface is deliberately small: a room's records are entries
//! `(kind, user) -> value` (an owner, roles, bans, mutes, invites, the
//! modes), read all at once when a room starts or someone joins, and
//! written one at a time. What the entries mean is `records.rs`'s
//! business, so the three stores cannot disagree about it. Server-wide
//! entries (admins, invite-only rooms) live under the room [`GLOBAL`],
//! which no room name can be.

mod memory;
mod redis;
mod sqlite;

use std::future::Future;
use std::pin::Pin;

pub use memory::MemoryStore;
pub use redis::RedisStore;
pub use sqlite::SqliteStore;

/// The "room" of server-wide entries (room names are never empty).
pub const GLOBAL: &str = "";

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("moderation store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("moderation store: redis: {0}")]
    Redis(#[from] ::redis::RedisError),
    #[error("moderation store: {0}")]
    Other(String),
}

impl From<crate::blocking_sqlite::BlockingError> for StoreError {
    fn from(e: crate::blocking_sqlite::BlockingError) -> Self {
        StoreError::Other(e.to_string())
    }
}

/// One entry of a room: e.g. kind `ban`, user `u_...`, value the ban as
/// JSON. `user` is empty for entries about the room itself (`owner`,
/// `modes`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    pub kind: String,
    pub user: String,
    pub value: String,
}

/// What the store's futures are: boxed, so the interface is one trait
/// object whatever the store.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// The interface every moderation store implements. Each operation is
/// atomic on its own. Kinds and users never contain a tab or a colon.
pub trait ModerationStore: Send + Sync + std::fmt::Debug {
    /// Every entry of `room`, sorted by kind, then user.
    fn entries<'a>(&'a self, room: &'a str) -> StoreFuture<'a, Vec<Entry>>;

    /// Sets (`Some`) or removes (`None`) one entry.
    fn put<'a>(
        &'a self,
        room: &'a str,
        kind: &'a str,
        user: &'a str,
        value: Option<&'a str>,
    ) -> StoreFuture<'a, ()>;

    /// Sets an entry unless it exists; returns the value it has now.
    fn put_if_absent<'a>(
        &'a self,
        room: &'a str,
        kind: &'a str,
        user: &'a str,
        value: &'a str,
    ) -> StoreFuture<'a, String>;
}

#[cfg(test)]
mod tests;
