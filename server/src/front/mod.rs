//! The front door: everything that happens to a connection before it is a
//! chat client.
//!
//! - `accept.rs`: the accept loop. Every TCP connection is admitted (or
//!   refused with a 503) before a byte of it is read, then served as HTTP.
//! - `admission.rs`: the connection limits: in total, per client address,
//!   and new connections per second per address. Transport-agnostic, so an
//!   ssh listener can share it.
//! - `http_conn.rs`: one HTTP/1.1 connection on hyper, with a deadline for
//!   the request headers and one for the whole exchange up to the upgrade;
//!   requests for a `Host` that is not allowed are refused here.
//! - `hosts.rs`: which `Host` names are allowed (DNS rebinding).
//! - `proxy.rs`: the client address behind a trusted reverse proxy.
//! - `stream.rs`: an admitted socket, which holds its permit for as long as
//!   it is open and can be reset when its peer stopped reading.
//!
//! The layers are kept apart so that TLS can wrap the admitted socket in
//! `accept.rs` before it is handed to `http_conn.rs`, which serves any
//! stream.

mod accept;
pub mod admission;
pub mod hosts;
mod http_conn;
pub mod proxy;
mod stream;

use std::net::SocketAddr;

pub use accept::serve;
pub use admission::{Admission, AdmissionConfig, Permit, Refusal};
pub use hosts::AllowedHosts;
pub use stream::Hangup;

/// What the front door knows about the connection a request came on. Every
/// request carries it in its extensions.
#[derive(Debug, Clone)]
pub struct Peer {
    /// The TCP peer (a reverse proxy, if one is in front).
    pub addr: SocketAddr,
    /// Resets the connection when it closes (for a peer that stopped
    /// reading).
    pub hangup: Hangup,
}
