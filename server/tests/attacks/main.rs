//! The standing attack suite: one module per way the server was found
//! open from outside, each attack scripted against a real server (in
//! process, or the real binary where a lowered file-descriptor limit or the
//! log matters) with raw sockets and real WebSocket clients.
//!
//! - `slowloris`: requests that never finish (header timeout, fd limits).
//! - `admission`: connection limits per address, in total, behind a proxy.
//! - `stalls`: clients that stop reading (write deadline, heartbeat).
//! - `history_bound`: history and resume frames bounded in bytes.
//! - `close`: the close handshake and protocol errors.
//! - `garbage`: malformed frames cost tokens and, in the end, the connection.
//! - `rebinding`: the `Host` check against DNS rebinding.
//! - `rooms`: the room limits, and rooms that retire.
//! - `autobahn`: Autobahn's protocol sections, run by `kosoku`.

#[path = "../common/mod.rs"]
mod common;

mod admission;
mod autobahn;
mod close;
mod garbage;
mod history_bound;
mod net;
mod rebinding;
mod rooms;
mod slowloris;
mod stalls;
