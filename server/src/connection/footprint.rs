//! Budgets for what every idle connection and every room holds, checked
//! by size so that growth shows up in a test rather than, much later, in
//! the idle-memory benchmark (RSS per idle connection went from 5.9 KB to
//! 14 KB over a few features before anyone looked).
//!
//! - An open connection keeps its task's future for as long as it lives.
//!   `serve` is what the WebSocket upgrade spawns; `identified` is the
//!   boxed part that an identified client adds.
//! - What every room holds is in `room/footprint.rs`.
//!
//! The budgets are for a debug build (what `cargo test` builds); a release
//! build's futures are no larger. Raise one only knowing what it costs per
//! connection: box what is large and rarely alive instead.

use std::mem::size_of;

use axum::extract::ws::WebSocket;

/// Bytes of the future of a function of three arguments.
fn future_of_3<A, B, C, Fut, F: FnOnce(A, B, C) -> Fut>(_: &F) -> usize {
    size_of::<Fut>()
}

/// Bytes of the future of a function of six arguments.
fn future_of_6<A, B, C, D, E, G, Fut, F: FnOnce(A, B, C, D, E, G) -> Fut>(_: &F) -> usize {
    size_of::<Fut>()
}

#[test]
fn a_connection_task_stays_small() {
    // 2,600 bytes before the socket stopped being stored twice by each
    // async layer; 632 after.
    let serve = future_of_3(&super::serve::<WebSocket>);
    assert!(serve <= 800, "connection::serve's future is {serve} bytes");
    // 1,168 bytes: the loop (536), the client (240) and who it is.
    let identified = future_of_6(&super::identified::<WebSocket>);
    assert!(
        identified <= 1400,
        "identified's future is {identified} bytes"
    );
}
