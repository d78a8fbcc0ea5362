//! Where identities live, behind one interface, [`IdentityStore`], with
//! three implementations: `memory.rs` (a throwaway server, `--memory`),
//! `sqlite.rs` (beside the history, in the same database file) and
//! `redis.rs` (cluster mode: every instance sees the same identities).
//!
//! The store keeps names with their look-alike keys (unique), devices with
//! the SHA-256 of their credentials, and the hashes of link codes with
//! their expiry. It never sees a credential or a code itself.

mod memory;
mod redis;
mod sqlite;

use std::future::Future;
use std::pin::Pin;

use protocol::TimestampMs;

pub use memory::MemoryStore;
pub use redis::{RedisStore, user_key as redis_user_key};
pub use sqlite::SqliteStore;

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another identity holds a name with this key.
    #[error("the name belongs to another identity")]
    NameHeld,
    #[error("identity store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("identity store: redis: {0}")]
    Redis(#[from] ::redis::RedisError),
    #[error("identity store: {0}")]
    Other(String),
}

impl From<crate::blocking_sqlite::BlockingError> for StoreError {
    fn from(e: crate::blocking_sqlite::BlockingError) -> Self {
        StoreError::Other(e.to_string())
    }
}

/// An identity: a person, under one name, with any number of devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub id: String,
    pub name: String,
    /// The name's look-alike key (`protocol::names::name_key`), unique.
    pub key: String,
    pub created_ts: TimestampMs,
    /// When a connection of the identity was last open.
    pub last_seen_ts: TimestampMs,
}

/// One device of an identity: one credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: String,
    pub user: String,
    pub name: String,
    pub created_ts: TimestampMs,
    pub last_seen_ts: TimestampMs,
}

/// A device to add: its id, name and credential hash, made now.
#[derive(Debug, Clone)]
pub struct NewDevice {
    pub id: String,
    pub name: String,
    pub credential_hash: String,
    pub now: TimestampMs,
}

impl NewDevice {
    /// The device as stored for `user`.
    pub fn device(&self, user: &str) -> Device {
        Device {
            id: self.id.clone(),
            user: user.to_owned(),
            name: self.name.clone(),
            created_ts: self.now,
            last_seen_ts: self.now,
        }
    }
}

/// An identity in a listing, with how many devices it has.
#[derive(Debug, Clone)]
pub struct Listed {
    pub identity: Identity,
    pub devices: usize,
}

/// What the store's futures are: boxed, so the interface is one trait
/// object whatever the store.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// The interface every identity store implements. Each operation is
/// atomic on its own.
pub trait IdentityStore: Send + Sync + std::fmt::Debug {
    /// Creates `identity` (its key must be free: else `NameHeld`) and, if
    /// given, its first device.
    fn register<'a>(
        &'a self,
        identity: &'a Identity,
        device: Option<&'a NewDevice>,
    ) -> StoreFuture<'a, ()>;

    /// The identity and device of a credential hash, marked seen `now`.
    fn sign_in<'a>(
        &'a self,
        credential_hash: &'a str,
        now: TimestampMs,
    ) -> StoreFuture<'a, Option<(Identity, Device)>>;

    /// Keeps a link code's hash for `user` until `expires`.
    fn add_code<'a>(
        &'a self,
        code_hash: &'a str,
        user: &'a str,
        expires: TimestampMs,
    ) -> StoreFuture<'a, ()>;

    /// Uses up a link code (unknown or expired: `None`) and adds `device` to
    /// its identity.
    fn redeem<'a>(
        &'a self,
        code_hash: &'a str,
        device: &'a NewDevice,
    ) -> StoreFuture<'a, Option<(Identity, Device)>>;

    /// The devices of an identity, oldest first.
    fn devices<'a>(&'a self, user: &'a str) -> StoreFuture<'a, Vec<Device>>;

    /// Deletes a device of `user` and its credential. False if `user` has
    /// no such device.
    fn revoke<'a>(&'a self, user: &'a str, device: &'a str) -> StoreFuture<'a, bool>;

    /// Marks devices (and their identities) seen `now`.
    fn touch<'a>(
        &'a self,
        devices: &'a [(String, String)],
        now: TimestampMs,
    ) -> StoreFuture<'a, ()>;

    /// Removes every identity not seen since `before`, with its devices;
    /// returns their names.
    fn expire(&self, before: TimestampMs) -> StoreFuture<'_, Vec<String>>;

    /// The identity holding a name key.
    fn find<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Identity>>;

    /// The identity with this id.
    fn get<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Identity>>;

    /// Every identity, by name.
    fn list(&self) -> StoreFuture<'_, Vec<Listed>>;

    /// Removes an identity with its devices and codes. False if unknown.
    fn remove<'a>(&'a self, user: &'a str) -> StoreFuture<'a, bool>;

    /// Gives an identity another name (its key must be free, or its own).
    fn rename<'a>(&'a self, user: &'a str, name: &'a str, key: &'a str) -> StoreFuture<'a, ()>;

    /// Remembers that a device of `user` joined `room` (kept in the order
    /// first joined; at most [`LAST_ROOMS`], the oldest forgotten).
    fn room_joined<'a>(&'a self, user: &'a str, room: &'a str) -> StoreFuture<'a, ()>;

    /// Forgets `room` for `user` (a device left it on purpose).
    fn room_left<'a>(&'a self, user: &'a str, room: &'a str) -> StoreFuture<'a, ()>;

    /// The rooms `user` is in, as last remembered, first joined first.
    fn last_rooms<'a>(&'a self, user: &'a str) -> StoreFuture<'a, Vec<String>>;
}

/// Rooms remembered per identity, at most (the per-connection room limit's
/// default).
pub const LAST_ROOMS: usize = 32;

#[cfg(test)]
mod tests;
