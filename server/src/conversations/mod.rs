//! Conversations beyond rooms: direct messages between two identities,
//! names changed by their owner, away, whois, the room directory and room
//! topics.
//!
//! - `directory.rs`: the identities connected to this instance, their
//!   connections (a direct message reaches every device of both people
//!   without a join), names, away state and rooms; room topics and which
//!   rooms the directory lists.
//! - `requests.rs`: what `query`, `nick`, `away`, `back`, `whois`, `list`
//!   and `topic` do, and who may use a direct-message key.
//! - `dms.rs`: the identity's recent conversations for `welcome.dms`.
//!
//! A direct-message conversation is a room task like any other, keyed by
//! `@<uid1>+<uid2>` (see `protocol::dm`); its log, history, resend keys and
//! resume are the room machinery's.

mod directory;

pub use directory::Directory;
