//! Budgets for what every room holds, idle or not, checked by size.
//!
//! - A room's task keeps its future for as long as the room runs: its
//!   largest state across every `await` of the loop, the rare ones (a
//!   join, a moderation action) included unless they are boxed.
//! - A room's command channel allocates a block of 32 commands up front
//!   (tokio's mpsc), so every room pays 32 x `size_of::<RoomCommand>()`.
//!
//! Debug sizes (what `cargo test` builds); a release build's are no larger.

use std::mem::size_of;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::local_log::LocalLog;
use super::log::LogKey;
use super::{HistoryLimits, Retire, RoomCommand, task};
use crate::conversations::Directory;
use crate::moderation::Moderation;
use crate::store::Store;

struct Never;

impl Retire for Never {
    fn retire(&self, _: &mpsc::Receiver<RoomCommand>) -> bool {
        false
    }
}

type Started = (Arc<str>, mpsc::Receiver<RoomCommand>, Never, HistoryLimits);
type Shared = (Arc<Directory>, Arc<Moderation>);

/// Bytes of what `f` returns (here: a future, never polled nor made).
fn returned<A, B, Out, F: Fn(A, B) -> Out>(_: &F) -> usize {
    size_of::<Out>()
}

#[test]
fn a_room_task_stays_small() {
    // 5,408 bytes while opening the room, joins, moderation and the flood
    // mute were inline; 2,840 with them boxed (the rest is the message
    // path and the room itself).
    let local = returned(&|(name, commands, retire, limits): Started,
                           (store, (d, m)): (Store, Shared)| {
        let open = Box::pin(LocalLog::open(store, LogKey::room(&name)));
        task::run(name, commands, retire, limits, d, m, open)
    });
    assert!(local <= 3000, "a local room's task is {local} bytes");
}

#[test]
fn a_room_command_stays_small() {
    // 144 bytes while `Join` and `Moderate` were inline (each room's block
    // of 32: 4.6 KB); 64 with them boxed (2 KB).
    let command = size_of::<RoomCommand>();
    assert!(command <= 64, "RoomCommand is {command} bytes");
}
