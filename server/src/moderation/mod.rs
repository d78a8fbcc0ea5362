//! **Moderation**: room owners, operators and voice, server admins; kicks,
//! bans, mutes, invites and room modes; the content filter and flood
//! protection. The wire rules (ranks, durations, the sentence for each
//! event) are `protocol::moderation`'s; this is how the server keeps and
//! enforces them.
//!
//! - `store/`: the moderation-store interface and its memory, SQLite and
//!   Redis implementations (one conformance test for the three).
//! - `records.rs`: what a room's entries mean ([`RoomRecord`]), kept
//!   current by the `moderation` events, and [`records::persist`].
//! - `rules.rs`: a room's rules as its task checks joins and posts.
//! - `filter.rs`: `--content-filter off|profanity|FILE` and per-room modes.
//! - `flood.rs`: repeats, mentions, repeat offenders, slow mode.
//! - `options.rs`: the server's options and `chat-server user admin`.
//!
//! Every action is a kept `moderation` event in the room's log: the room
//! writes what it changes to the store first (so a join anywhere sees a
//! ban), then appends the event; every instance's room task applies it
//! when it delivers it (roles, modes, and removing a kicked or banned
//! identity's connections with a `removed`).

pub mod filter;
pub mod flood;
pub mod options;
pub mod records;
pub mod rules;
pub mod store;

use std::collections::HashSet;
use std::sync::Arc;

pub use filter::{FilterSetting, ServerFilter};
pub use records::RoomRecord;
pub use store::{ModerationStore, StoreError};

/// The server's moderation settings.
#[derive(Debug, Clone, Default)]
pub struct ModerationConfig {
    /// The server-wide content filter.
    pub filter: ServerFilter,
    /// Admins named in the options (by name, resolved to identities when
    /// the server starts).
    pub admins: Vec<String>,
}

/// What rooms and connections share: the store, the filter, the admins
/// named in the options.
#[derive(Debug)]
pub struct Moderation {
    store: Arc<dyn ModerationStore>,
    filter: ServerFilter,
    /// Identity ids of the admins named in the options.
    configured_admins: HashSet<String>,
}

impl Moderation {
    pub fn new(
        store: Arc<dyn ModerationStore>,
        filter: ServerFilter,
        configured_admins: HashSet<String>,
    ) -> Self {
        Moderation {
            store,
            filter,
            configured_admins,
        }
    }

    /// In memory, no filter, no admins (tests).
    pub fn memory() -> Self {
        Self::new(
            Arc::new(store::MemoryStore::new()),
            ServerFilter::Off,
            HashSet::new(),
        )
    }

    pub fn store(&self) -> &dyn ModerationStore {
        &*self.store
    }

    pub fn filter(&self) -> &ServerFilter {
        &self.filter
    }

    /// Every admin: named in the options or with `chat-server user admin`.
    pub async fn admins(&self) -> Result<HashSet<String>, StoreError> {
        let mut admins = records::server_record(&*self.store).await?.admins;
        admins.extend(self.configured_admins.iter().cloned());
        Ok(admins)
    }

    /// The invite-only rooms, left out of `list`.
    pub async fn private_rooms(&self) -> Result<HashSet<String>, StoreError> {
        Ok(records::server_record(&*self.store).await?.private_rooms)
    }

    /// A room's record as stored.
    pub async fn room(&self, room: &str) -> Result<RoomRecord, StoreError> {
        Ok(RoomRecord::from_entries(&self.store.entries(room).await?))
    }
}
