//! Events the server sends to clients.

use serde::{Deserialize, Serialize};

use crate::moderation::{ModAction, Role, RoomModes};
use crate::{ErrorCode, Seq, TimestampMs};

/// One frame from the server, tagged by `type` like [`crate::ClientEvent`].
///
/// Room events that are kept (`message`, `location`) carry a per-room
/// sequence number `seq`, strictly increasing, and a server timestamp `ts`
/// (UTC milliseconds). Presence events (`user_joined`, `user_left`) carry a
/// timestamp but no sequence number: they are not part of the room's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerEvent {
    /// Answer to `hello`: the connection is signed in as `user` from
    /// `device` and may now join rooms. `name` repeats `user.name`.
    Welcome {
        protocol: u32,
        /// Server software and version, e.g. `"chat-server/0.2.0"`.
        server: String,
        name: String,
        user: UserRef,
        device: DeviceRef,
        /// The secret that signs this device in from now on, present only
        /// when it was just issued (a new name registered, or a link code
        /// used). The client keeps it and sends it in every later `hello`;
        /// the server stores only its hash and cannot show it again.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        credential: Option<String>,
        /// The server's heartbeat interval in milliseconds. A client that
        /// has received nothing for this long sends `ping`; after twice this
        /// long it treats the connection as dead and reconnects.
        heartbeat_ms: u64,
        limits: ServerLimits,
        /// Identifies the server's message store. Sequence numbers are only
        /// comparable within one epoch: if it changes between connections,
        /// the store was reset and a client must forget the numbers it kept.
        epoch: String,
        /// The identity's most recent direct-message conversations, newest
        /// first, at most [`crate::limits::MAX_WELCOME_DMS`], so a client can
        /// restore them and resume each with `join` + `since`. Absent from
        /// servers that predate conversations.
        #[serde(default)]
        dms: Vec<DmSummary>,
    },
    /// Sent to a connection that has just joined `room` (or opened a
    /// direct-message conversation, whose `room` is its key): the
    /// identities now in it (the joiner included), each once, in the order
    /// they joined; for a conversation, its two people. `topic` is the
    /// room's current topic, absent when it has none.
    RoomState {
        room: String,
        users: Vec<Member>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        topic: Option<String>,
        /// The room's modes (moderated, invite-only, topic lock, slow mode,
        /// content filter). Servers that predate moderation leave it out:
        /// then every mode is off.
        #[serde(default)]
        modes: RoomModes,
    },
    /// Someone else joined a room this connection is in: the identity's
    /// first connection entered it.
    UserJoined {
        room: String,
        name: String,
        /// The identity's id.
        user: String,
        /// The identity's role in the room, absent for none (as in
        /// `room_state`'s users), so a roster stays right without a new
        /// `room_state`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<Role>,
        ts: TimestampMs,
    },
    /// Someone left a room this connection is in: the identity's last
    /// connection in it left (by `leave`, by closing, or by being
    /// disconnected).
    UserLeft {
        room: String,
        name: String,
        user: String,
        ts: TimestampMs,
    },
    /// A chat message in a room.
    Message {
        room: String,
        seq: Seq,
        ts: TimestampMs,
        /// The sender's name when it was sent.
        from: String,
        /// The sender's identity id: clients recognise their own lines by
        /// it. Empty only in messages stored before identities existed.
        #[serde(default)]
        user: String,
        /// The sender's request id, so the sender can match its own message.
        id: String,
        text: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        action: bool,
    },
    /// A shared position in a room.
    Location {
        room: String,
        seq: Seq,
        ts: TimestampMs,
        from: String,
        #[serde(default)]
        user: String,
        id: String,
        latitude: f64,
        longitude: f64,
    },
    /// The room's topic was set (`text` empty: cleared). Kept in the room's
    /// record like a message: it has a `seq` and is replayed in `history`.
    Topic {
        room: String,
        seq: Seq,
        ts: TimestampMs,
        from: String,
        user: String,
        id: String,
        text: String,
    },
    /// An identity this connection shares a room or conversation with (or
    /// its own) changed its name from `old` to `name`. Sent once per
    /// connection, without a room: clients update every roster and buffer
    /// where `user` appears. Lines already sent keep the old name.
    Renamed {
        user: String,
        old: String,
        name: String,
        ts: TimestampMs,
    },
    /// An identity this connection shares a room or conversation with (or
    /// its own) is away; `reason` is empty when none was given. Also the
    /// name of the request.
    Away { user: String, reason: String },
    /// That identity is no longer away.
    Back { user: String },
    /// Sent only to the connection whose `send` (or `location`) in the
    /// direct-message conversation `room` went to someone away: who, and
    /// why. The message was delivered and acknowledged as usual.
    AwayNotice {
        room: String,
        user: String,
        name: String,
        reason: String,
    },
    /// Answer to `whois`. `online`: the identity has a live connection
    /// (on any instance); `devices`: how many devices it has; `away`: its
    /// reason when away (`""` without one), `null` when not; `rooms`: the
    /// rooms both the asker and it are in now; `since_ts`: when it was
    /// created.
    Whois {
        user: UserRef,
        online: bool,
        devices: u32,
        away: Option<String>,
        rooms: Vec<String>,
        since_ts: TimestampMs,
    },
    /// Answer to `list`: the rooms that have members now (across every
    /// instance), most members first, then by name, at most
    /// [`crate::limits::MAX_LISTED_ROOMS`]. Hidden rooms and
    /// direct-message conversations are never listed.
    RoomList { rooms: Vec<RoomListing> },
    /// Stored events (`message`, `location`, `topic` and `moderation`, oldest first) sent
    /// after `room_state` on join, and in answer to a `history` request.
    History {
        room: String,
        events: Vec<ServerEvent>,
        /// Older messages exist before the first one here; fetch them with a
        /// `history` request.
        more: bool,
        /// On a resume, messages after the client's `since` that are not
        /// included because there were too many; the client should show
        /// that they were skipped. Absent when nothing was skipped.
        #[serde(default, skip_serializing_if = "is_zero")]
        missed: u64,
        /// This answer continues in the next `history` frame of this room:
        /// an answer too large for one frame of at most
        /// [`ServerLimits::max_server_frame_bytes`] is split into parts,
        /// oldest first, each carrying the answer's `more` and `missed`.
        /// The last part has no `continues`.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        continues: bool,
    },
    /// A moderation action in a room (a role given or taken, a kick, ban,
    /// mute, invite, a change of modes, or the server's flood protection
    /// muting someone: `auto_mute` with `actor` null). Kept in the room's
    /// record like a message: it has a `seq` and is replayed in `history`.
    /// `modes` (action `mode`) are the room's modes after the change.
    /// Clients show it as [`crate::moderation::describe`] words it, and
    /// update roles and modes from it.
    Moderation {
        room: String,
        seq: Seq,
        ts: TimestampMs,
        action: ModAction,
        /// Who did it; `null` for the server itself.
        actor: Option<UserRef>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target: Option<UserRef>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        duration_s: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        modes: Option<RoomModes>,
    },
    /// Sent to every connection of an identity that was kicked or banned
    /// from `room`, right after the `moderation` event: the connection is
    /// no longer in the room (the others see `user_left`). `by` is `null`
    /// for the server itself.
    Removed {
        room: String,
        action: ModAction,
        by: Option<UserRef>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Answer to `modlog`: the room's latest `moderation` events, oldest
    /// first, at most [`crate::limits::MAX_MODLOG_ENTRIES`].
    ModLog {
        room: String,
        entries: Vec<ServerEvent>,
    },
    /// Answer to `link`: a one-time code that signs another device in to
    /// this identity (`hello` with `link_code`), until `expires_ts`.
    /// Shown as `XXXX-XXXX` (Crockford base32).
    LinkCode {
        code: String,
        expires_ts: TimestampMs,
    },
    /// Answer to `devices`: every device of this identity, oldest first.
    Devices { devices: Vec<DeviceInfo> },
    /// The answer to one request, referencing its `id`: `ok: true` (with the
    /// sequence number the server gave a `send` or `location`), or
    /// `ok: false` with an `error`.
    Ack {
        id: String,
        ok: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seq: Option<Seq>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<ErrorBody>,
    },
    /// A problem not tied to a request id: a malformed frame, a refused
    /// `hello`, or the reason the server is about to close the connection.
    Error { code: ErrorCode, message: String },
}

impl ServerEvent {
    /// A successful acknowledgement.
    pub fn ack_ok(id: impl Into<String>, seq: Option<Seq>) -> Self {
        ServerEvent::Ack {
            id: id.into(),
            ok: true,
            seq,
            error: None,
        }
    }

    /// A failed acknowledgement.
    pub fn ack_err(id: impl Into<String>, code: ErrorCode, message: impl Into<String>) -> Self {
        ServerEvent::Ack {
            id: id.into(),
            ok: false,
            seq: None,
            error: Some(ErrorBody {
                code,
                message: message.into(),
            }),
        }
    }

    /// An error not tied to a request.
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        ServerEvent::Error {
            code,
            message: message.into(),
        }
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// An identity as other people see it: its stable id (`"u_"` and 16 hex
/// digits) and its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRef {
    pub id: String,
    pub name: String,
}

/// One person in a `room_state`: an identity, its away reason while it
/// is away (`""` when away without one; absent when not away), and its
/// role in the room (absent: none). Clients show `@` before an operator's
/// (owner's, admin's) name and `+` before a voiced one's
/// ([`Role::prefix`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub away: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

/// One direct-message conversation in `welcome.dms`: its key, the other
/// person, and the `seq` of its latest event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DmSummary {
    pub room: String,
    pub peer: UserRef,
    pub last_seq: Seq,
}

/// One room in a `room_list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomListing {
    pub room: String,
    /// Identities in it now, across every instance.
    pub members: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
}

/// The device a connection signed in from: its id (`"d_"` and 16 hex
/// digits) and the name it was given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRef {
    pub id: String,
    pub name: String,
}

/// How the name of a device that signs in with an ssh key begins (the
/// server names it `ssh key ED25519 SHA256:...`; no other device may take
/// such a name). `/keys` lists the devices whose name begins so.
pub const SSH_KEY_DEVICE_PREFIX: &str = "ssh key ";

/// Whether a device (by its name) is an ssh key.
pub fn is_ssh_key_device(name: &str) -> bool {
    name.starts_with(SSH_KEY_DEVICE_PREFIX)
}

/// One device in a `devices` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    pub id: String,
    pub name: String,
    pub created_ts: TimestampMs,
    /// When a connection of this device was last open.
    pub last_seen_ts: TimestampMs,
    /// The device of the connection that asked.
    pub current: bool,
}

/// Code and human-readable message of a failed request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
}

/// The outcome carried by an `ack`, as a Rust type for clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AckResult {
    Ok { seq: Option<Seq> },
    Err(ErrorBody),
}

impl ServerEvent {
    /// For an `ack`, its id and outcome.
    pub fn as_ack(&self) -> Option<(&str, AckResult)> {
        match self {
            ServerEvent::Ack { id, ok, seq, error } => {
                let result = match (ok, error) {
                    (true, _) => AckResult::Ok { seq: *seq },
                    (false, Some(e)) => AckResult::Err(e.clone()),
                    (false, None) => AckResult::Err(ErrorBody {
                        code: ErrorCode::Internal,
                        message: "request failed".into(),
                    }),
                };
                Some((id, result))
            }
            _ => None,
        }
    }
}

/// Limits the server enforces, announced in `welcome` so clients can check
/// input before sending it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerLimits {
    pub max_name_chars: usize,
    pub max_room_chars: usize,
    pub max_text_chars: usize,
    pub max_frame_bytes: usize,
    /// Rooms one connection may be in at once.
    pub max_rooms: usize,
    /// Sustained requests per second per connection; 0 means unlimited.
    pub rate_per_sec: f64,
    /// Requests that may be sent in a burst above the sustained rate.
    pub rate_burst: u32,
    /// The largest frame the server sends, in bytes. A client must accept
    /// frames up to this size. Servers that predate this field sent frames
    /// of any size; a client then assumes
    /// [`crate::limits::LEGACY_SERVER_FRAME_BYTES`].
    #[serde(default = "default_max_server_frame_bytes")]
    pub max_server_frame_bytes: usize,
}

fn default_max_server_frame_bytes() -> usize {
    crate::limits::LEGACY_SERVER_FRAME_BYTES
}
