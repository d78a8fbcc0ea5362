//! Identities: a person has a name that is theirs on the whole server and
//! any number of devices, each signed in with its own credential.
//!
//! - `secrets.rs`: credentials (256 random bits, stored as SHA-256) and
//!   the random ids of identities and devices;
//! - `codes.rs`: link codes (Crockford base32, single use, short-lived);
//! - `store/`: where identities live, behind one interface: in memory,
//!   in the history's SQLite file, or in Redis for a cluster;
//! - `service.rs`: what a `hello` and the identity requests do, the
//!   registration policy, the name expiry, and the connections of each
//!   device (so a revoked device's connections can be closed);
//! - `revocations.rs`: in a cluster, a revoked device's connections on
//!   the other instances are closed too;
//! - `keys.rs`: ssh keys as credentials, and the pre-authenticated
//!   connections of the ssh entrance;
//! - `admin.rs`: `chat-server user ...`, working on the store directly.

pub mod admin;
pub mod codes;
pub mod keys;
pub mod revocations;
pub mod secrets;
pub mod service;
pub mod store;

pub use service::{Identities, IdentityConfig, Registration, SignInError, SignedIn};
pub use store::{IdentityStore, StoreError};
