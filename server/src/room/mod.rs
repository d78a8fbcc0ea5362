//! Rooms. One task per room owns the room's members here, so presence and
//! ordering need no locks; it keeps the room's messages in a message log.
//!
//! - `task.rs`: the room loop. Takes commands from the room's bounded queue
//!   and events from its log, answers joiners, posts and history requests.
//! - `history.rs`: the `history` frames a joiner or a history request gets.
//! - `members.rs`: the members on this instance, what they were delivered,
//!   presence frames and the broadcast (which never waits on a client).
//! - `log.rs`: the one interface a room keeps its messages and names
//!   behind: append-and-number, page, claim and release a name, resync.
//! - `local_log.rs`: that interface on this instance's SQLite store; a
//!   message is acknowledged and broadcast once its commit is on disk (in
//!   memory, once the store has it queued).
//! - `redis_log.rs`: that interface shared by every instance through Redis;
//!   a message is acknowledged once Redis has it and broadcast as the room's
//!   channel delivers it, in sequence order.
//! - `moderate.rs`: moderation in the room: who may join and post, the
//!   `moderate`, `mode` and `modlog` requests, flood protection's
//!   automatic mute.
//! - `backend.rs`: which log this server uses, its health and epoch, and
//!   starting a room's task on it.
//!
//! The room task is generic over its log, so the per-message path calls
//! the log directly: no boxing and no matching on the mode.

mod backend;
#[cfg(test)]
mod footprint;
mod history;
mod local_log;
mod log;
mod members;
mod moderate;
mod redis_log;
mod task;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use protocol::moderation::{FilterMode, ModAction};
use protocol::{ErrorCode, Seq, UserRef};
use tokio::sync::{mpsc, oneshot};

pub use backend::{Backend, BackendError, Health};
pub use log::{LogError, LogKey};
pub use members::Member;

/// Capacity of a room's command queue. Senders wait when it is full, which
/// slows down only the connections talking to a busy room.
pub const COMMAND_QUEUE: usize = 256;

/// What a member asked for in a room.
#[derive(Debug)]
pub enum Post {
    Text {
        text: String,
        action: bool,
    },
    Location {
        latitude: f64,
        longitude: f64,
    },
    /// A new topic for the room (empty clears it).
    Topic {
        text: String,
    },
}

/// Where a joiner's history should start.
#[derive(Debug, Default, Clone)]
pub struct Resume {
    pub since: Option<Seq>,
    pub epoch: Option<String>,
    /// Join without an answer (no `room_state`, `history` or `ack`): a
    /// connection using a direct-message conversation it has not opened.
    pub silent: bool,
}

/// A joiner, as a room is asked to add it (boxed in [`RoomCommand::Join`]).
#[derive(Debug)]
pub struct Joining {
    pub member: Member,
    pub request_id: String,
    pub resume: Resume,
    pub reply: oneshot::Sender<Result<(), JoinError>>,
}

/// What a `moderate` request asks: the action, on whom, for how long
/// (seconds; `None`: until lifted) and why.
pub type Asked = (ModAction, UserRef, Option<u64>, Option<String>);

/// Requests to a room's task.
///
/// Every room's channel allocates room for 32 of these up front, idle or
/// not: the rare, large requests (a join, a moderation action) are boxed so
/// that the common ones set the size (see `footprint.rs`).
#[derive(Debug)]
pub enum RoomCommand {
    /// Add a member. The room answers the joiner itself (`room_state`,
    /// `history`, then the `ack`; or a failed `ack`) and reports the outcome
    /// on `reply`.
    Join(Box<Joining>),
    /// Remove a member; `request_id` is set when the member asked to leave
    /// (and gets an `ack`), unset when its connection went away.
    Leave {
        connection_id: u64,
        request_id: Option<String>,
    },
    /// A message or location from a member.
    Post {
        connection_id: u64,
        request_id: String,
        post: Post,
    },
    /// Identity `user` is now called `name`.
    Rename { user: String, name: Arc<str> },
    /// Older messages for a member.
    History {
        connection_id: u64,
        request_id: String,
        before: Seq,
        limit: u32,
    },
    /// A moderation action by a member on `target` (checked by the
    /// connection: a request action, a valid reason and duration).
    Moderate {
        connection_id: u64,
        request_id: String,
        asked: Box<Asked>,
    },
    /// A change of the room's modes by a member.
    Mode {
        connection_id: u64,
        request_id: String,
        change: ModeChange,
    },
    /// The room's recent moderation events, for a member.
    Modlog {
        connection_id: u64,
        request_id: String,
    },
}

/// The modes a `mode` request changes (`None`: unchanged).
#[derive(Debug, Clone, Copy, Default)]
pub struct ModeChange {
    pub moderated: Option<bool>,
    pub invite_only: Option<bool>,
    pub topic_lock: Option<bool>,
    pub slow_s: Option<u32>,
    pub filter: Option<FilterMode>,
}

/// Why a join did not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JoinError {
    /// The room refused and has already told the joiner why with a failed
    /// `ack` (or dropped it as a slow consumer).
    #[error("the room refused the join ({})", .0.as_str())]
    Refused(ErrorCode),
    /// No room task took the request (it kept retiring under us).
    #[error("could not join room")]
    Unreachable,
    /// The room is not running and the server already runs as many rooms
    /// as it allows.
    #[error("the server has as many rooms as it allows ({0}); join a room that has people in it")]
    ServerFull(usize),
    /// The room is not running and this connection has started rooms too
    /// fast.
    #[error("you are creating rooms too fast; wait a little")]
    CreatingTooFast,
}

/// How much history a room hands out.
#[derive(Debug, Clone, Copy)]
pub struct HistoryLimits {
    /// Messages sent to a joiner that is not resuming.
    pub on_join: u32,
    /// Most messages replayed to a resuming joiner; beyond this it gets the
    /// latest page and a count of what it missed.
    pub resume: u64,
}

/// A room's way out of the table of running rooms. The registry hands one
/// to every room task it starts, so the room can retire itself without
/// knowing the registry.
pub trait Retire: Send + Sync + 'static {
    /// Takes the room out of the table unless a command is already waiting
    /// in `commands` (someone found the room just before). True if the room
    /// may stop; its numbering is in the log, so it continues if the room
    /// comes back.
    fn retire(&self, commands: &mpsc::Receiver<RoomCommand>) -> bool;
}
