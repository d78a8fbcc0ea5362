//! Conversations beyond rooms: direct messages between two identities,
//! names changed by their owner, away, whois, the room directory and room
//! topics.
//!
//! - `directory.rs`: the identities connected to this instance, their
//!   connections (a direct message reaches every device of both people
//!   without a join), names, away state and rooms; room topics and which
//!   rooms the directory lists.
//! - `cluster.rs`: names, away and direct messages announced to the other
//!   instances of a cluster.
//!
//! The requests themselves (`query`, `nick`, `away`, `back`, `whois`,
//! `list`, `topic`, and who may use a direct-message key) are answered in
//! `connection/conversation.rs`.
//!
//! A direct-message conversation is a room task like any other, keyed by
//! `@<uid1>+<uid2>` (see `protocol::dm`); its log, history, resend keys and
//! resume are the room machinery's.

pub mod cluster;
mod directory;

pub use directory::Directory;
