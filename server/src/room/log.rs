//! The message log behind a room: one interface, [`MessageLog`], with two
//! implementations. `local_log.rs` keeps the log in this instance's SQLite
//! store; `redis_log.rs` shares it with every instance through Redis.
//!
//! A log is opened for one conversation, named by a [`LogKey`], and owned
//! by that conversation's task, so it needs no locks. Its futures are
//! `Send` (the task runs on the multi-threaded runtime) and the room task
//! is generic over it: the per-message path is a direct call.

use std::future::Future;
use std::sync::Arc;

use protocol::{ErrorCode, Seq, ServerEvent, TimestampMs};

use super::Post;
use super::members::{Member, Members};
use crate::cluster::ClusterError;
use crate::frame::{Frame, Page};
use crate::outbound::Outbound;
use crate::store::StoreError;

/// What a log is kept under. A room's key is its name as is (room names
/// are lower-case letters, digits, `-` and `_`), so stored rooms keep their
/// history; another kind of conversation takes a key with a prefix no room
/// name can have (such as `dm:`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LogKey(Arc<str>);

impl LogKey {
    /// The key of the room called `name`.
    pub fn room(name: &Arc<str>) -> LogKey {
        LogKey(name.clone())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key as a shared string, for the store's records.
    pub fn shared(&self) -> Arc<str> {
        self.0.clone()
    }
}

impl std::fmt::Display for LogKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a client hears when the local store could not keep its message.
pub const NOT_STORED: &str = "the message could not be stored; try again";
/// What a client hears when Redis is out of reach.
pub const CLUSTER_UNREACHABLE: &str =
    "the chat cluster cannot reach its shared store right now; nothing was sent, try again";

/// Why the log could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
}

impl LogError {
    /// The code a client is answered with: a local store failure is ours
    /// (`internal`), an unreachable Redis is temporary (`unavailable`).
    pub fn code(&self) -> ErrorCode {
        match self {
            LogError::Store(_) => ErrorCode::Internal,
            LogError::Cluster(_) => ErrorCode::Unavailable,
        }
    }

    /// What to tell a client whose message or join this stopped.
    pub fn client_message(&self) -> &'static str {
        match self {
            LogError::Store(_) => NOT_STORED,
            LogError::Cluster(_) => CLUSTER_UNREACHABLE,
        }
    }
}

/// Why a joiner could not be registered in the room.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    #[error(transparent)]
    Log(#[from] LogError),
}

/// A joiner registered in the room: everyone in it (with their current
/// names and away states), and whether the joiner is its identity's first
/// connection in the room (then it is announced).
#[derive(Debug)]
pub struct Claimed {
    pub users: Vec<protocol::Member>,
    pub first: bool,
}

/// A message on its way into the log: built and owned by the room, not
/// numbered yet.
#[derive(Debug)]
pub struct Draft {
    /// The sender's identity and device, and the request id: together they
    /// recognise a resend. Nobody else can send under this key, so nobody
    /// can occupy (and so swallow) another person's request ids.
    pub sender_key: String,
    pub request_id: String,
    pub ts: TimestampMs,
    /// The `message` or `location` event, with `seq: 0` until numbered.
    pub event: ServerEvent,
}

impl Draft {
    /// A message from `sender` in `room`, stamped now.
    pub fn new(room: &str, sender: &Member, request_id: String, post: Post) -> Draft {
        let ts = crate::clock::now_ms();
        let sender_key = resend_key(&sender.user, &sender.device);
        let (room, from, id) = (room.to_owned(), sender.name.to_string(), request_id.clone());
        let user = sender.user.to_string();
        let event = match post {
            Post::Text { text, action } => ServerEvent::Message {
                room,
                seq: 0,
                ts,
                from,
                user,
                id,
                text,
                action,
            },
            Post::Location {
                latitude,
                longitude,
            } => ServerEvent::Location {
                room,
                seq: 0,
                ts,
                from,
                user,
                id,
                latitude,
                longitude,
            },
            Post::Topic { text } => ServerEvent::Topic {
                room,
                seq: 0,
                ts,
                from,
                user,
                id,
                text,
            },
        };
        Draft {
            sender_key,
            request_id,
            ts,
            event,
        }
    }
}

/// The sender part of a resend key: identity and device ids (`u_...` and
/// `d_...`, so no colon inside either).
pub fn resend_key(user: &str, device: &str) -> String {
    // Built once per message: pushed, not formatted.
    let mut key = String::with_capacity(user.len() + 1 + device.len());
    key.push_str(user);
    key.push(':');
    key.push_str(device);
    key
}

/// Serializes a drafted event, numbered `seq` (once: this frame is what is
/// stored and broadcast).
pub fn encode_numbered(event: &mut ServerEvent, seq: Seq) -> Frame {
    if let ServerEvent::Message { seq: s, .. }
    | ServerEvent::Location { seq: s, .. }
    | ServerEvent::Topic { seq: s, .. }
    | ServerEvent::Moderation { seq: s, .. } = event
    {
        *s = seq;
    }
    Frame::encode(event)
}

/// The text of a `topic` event (empty: cleared), kept beside the log as
/// the room's current topic; `None` for any other event.
pub fn topic_of(event: &ServerEvent) -> Option<String> {
    match event {
        ServerEvent::Topic { text, .. } => Some(text.clone()),
        _ => None,
    }
}

/// Where a room keeps its messages and who holds which name.
///
/// Messages reach members only through [`Members::deliver`], in sequence
/// order, and only once the log will not lose them; the sender's `ack` is
/// the log's to send, because only the log knows when that is.
pub trait MessageLog: Send + Sized + 'static {
    /// Something the log has to report to the room between commands: a
    /// commit, a message or presence from another instance, a reconnect.
    type Event: Send;

    /// The epoch clients compare to know whether their numbers still hold.
    fn epoch(&self) -> &str;

    /// Waits for the next event. Cancel-safe: the room waits for commands
    /// at the same time.
    fn next_event(&mut self) -> impl Future<Output = Self::Event> + Send;

    /// Acts on an event: acknowledges, delivers in order to `here`,
    /// announces, resynchronises.
    fn on_event(
        &mut self,
        event: Self::Event,
        here: &mut Members,
    ) -> impl Future<Output = ()> + Send;

    /// Numbers and stores a message, and acknowledges `sender` with its
    /// number: at once if the message is as durable as this log makes it
    /// when this returns, else when it is. A resend of a stored message is
    /// acknowledged with the number it got the first time, and not stored
    /// again. A failure is acknowledged as such. A log may hold the message
    /// until [`MessageLog::flush`], to store several in one go; messages
    /// are numbered in the order they were appended.
    fn append(&mut self, draft: Draft, sender: &Outbound) -> impl Future<Output = ()> + Send;

    /// Stores whatever `append` held back. The room calls it after each
    /// turn's commands, and before any command that is not a post, so
    /// nothing waits longer than one turn and the order of commands holds.
    fn flush(&mut self) -> impl Future<Output = ()> + Send {
        async {}
    }

    /// The room's current topic as kept beside the log, whatever number of
    /// events came after it (`Some("")`: cleared; `None`: none recorded,
    /// as for a topic set before topics were kept).
    fn topic(&self) -> impl Future<Output = Result<Option<String>, LogError>> + Send;

    /// Stored frames with `after < seq <= upto`: the newest `limit` of them,
    /// oldest first, and whether older ones exist.
    fn page(
        &self,
        after: Seq,
        upto: Seq,
        limit: u32,
    ) -> impl Future<Output = Result<Page, LogError>> + Send;

    /// Registers `joiner` (not yet in `here`) in the room, and returns
    /// everyone in it, each identity once in join order, and whether the
    /// joiner's identity is new in the room.
    fn claim(
        &mut self,
        joiner: &Member,
        here: &Members,
    ) -> impl Future<Output = Result<Claimed, ClaimError>> + Send;

    /// Unregisters a connection. `last_here`: no other connection of its
    /// identity is in the room on this instance. True if its identity has
    /// now left the room, so its departure is to be announced.
    fn release(&mut self, connection_id: u64, last_here: bool)
    -> impl Future<Output = bool> + Send;

    /// Tells the room that `joiner` (of identity `user`) joined: everyone
    /// but the joiner hears `frame`.
    fn announce_join(
        &mut self,
        joiner: u64,
        user: &str,
        frame: &Frame,
        here: &mut Members,
    ) -> impl Future<Output = ()> + Send;

    /// Tells the room that someone left.
    fn announce_left(
        &mut self,
        frame: &Frame,
        here: &mut Members,
    ) -> impl Future<Output = ()> + Send;

    /// Delivers to `here`, in order, what the log holds up to `upto` and
    /// `here` was not handed yet (a client moving from another instance may
    /// have seen more than this one delivered).
    fn resync(&mut self, upto: Seq, here: &mut Members) -> impl Future<Output = ()> + Send;

    /// Nothing is waiting in the log to be acknowledged or delivered.
    fn is_idle(&self) -> bool;

    /// The room retires: stop whatever the log does for it.
    fn close(self);
}
