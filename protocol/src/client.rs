//! Events a client sends to the server.

use serde::{Deserialize, Serialize};

use crate::Seq;
use crate::moderation::{FilterMode, ModAction};

fn default_page() -> u32 {
    crate::limits::HISTORY_PAGE
}

/// One frame from a client. Serialized as a JSON object whose `type` field
/// names the variant in `snake_case`, e.g. `{"type":"join","id":"1","room":"dev"}`.
///
/// Every request except `hello` carries a client-chosen `id` (1 to 64
/// printable characters); the server answers each with exactly one
/// [`crate::ServerEvent::Ack`] carrying the same id. Unknown fields are
/// ignored, so a newer client may add optional fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientEvent {
    /// First frame on every connection: the protocol version the client
    /// speaks and how it signs in. Exactly one way in is used, checked in
    /// this order: `credential` (a secret from an earlier `welcome`; `name`
    /// is then ignored), `link_code` (a code from `link` on a signed-in
    /// device, making this a new device of that identity), `name` (register
    /// a new identity under a free name).
    ///
    /// Answered by `welcome`, or by an `error` (`unsupported_version`,
    /// `invalid_name`, `name_claimed`, `registration_closed`,
    /// `bad_credential`, `bad_link_code`). After a refused `hello` other
    /// than `unsupported_version` the client may send `hello` again.
    Hello {
        protocol: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        credential: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        link_code: Option<String>,
        /// What the person calls this device, e.g. `"chat-tui on laptop"`
        /// (at most [`crate::limits::MAX_DEVICE_CHARS`] characters; the
        /// server cleans and shortens it, and derives one from `client` when
        /// it is absent).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        device: Option<String>,
        /// Free-form client description for logs, e.g. `"chat-tui/0.2.0"`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client: Option<String>,
    },
    /// Join a room (created on first join). Answered by `room_state`, then a
    /// `history` of the room's recent messages, then an `ack`; everyone
    /// already in the room gets `user_joined`.
    ///
    /// To resume after a reconnect, a client sends the last `seq` it saw in
    /// `since` and the `epoch` it had from `welcome`: the `history` then holds
    /// exactly the messages after `since` (or, if more were missed than the
    /// server replays, the latest page and how many were skipped). If the
    /// epoch differs, the server's store was reset and `since` is ignored.
    Join {
        id: String,
        room: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<Seq>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        epoch: Option<String>,
    },
    /// Fetch older messages of a joined room: up to `limit` messages with
    /// `seq` below `before`, answered by a `history` and then an `ack`.
    History {
        id: String,
        room: String,
        before: Seq,
        #[serde(default = "default_page")]
        limit: u32,
    },
    /// Leave a room. Answered by an `ack`; the others get `user_left`.
    Leave { id: String, room: String },
    /// Say something in a room the connection has joined. `action: true`
    /// marks an emote (`/me waves`). Answered by an `ack` with the message's
    /// sequence number; every member of the room, the sender included, gets
    /// the `message`.
    Send {
        id: String,
        room: String,
        text: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        action: bool,
    },
    /// Share a position in a room. Answered like `send`; members get a
    /// `location` event and build map links from the coordinates.
    Location {
        id: String,
        room: String,
        latitude: f64,
        longitude: f64,
    },
    /// Liveness check: answered by `ack` ok and nothing else. Counts
    /// against the rate limit like any request.
    Ping { id: String },
    /// Ask for a one-time code that signs another device in to this
    /// identity: answered by `link_code`, then `ack` ok.
    Link { id: String },
    /// List this identity's devices: answered by `devices`, then `ack` ok.
    Devices { id: String },
    /// Revoke a device of this identity (`device` absent: this one). Its
    /// credential is deleted and each of its connections gets `error`
    /// `credential_revoked` and close 4004; then `ack` ok (or `not_found`).
    Logout {
        id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        device: Option<String>,
    },
    /// Open the direct-message conversation with the identity called `name`
    /// (found by its look-alike key, [`crate::names::name_key`]). Answered
    /// like `join`, with the conversation's key (`@<uid1>+<uid2>`, see
    /// [`crate::dm`]) as the room: `room_state`, `history`, `ack`. Unknown
    /// name: `not_found`; your own: `invalid_name`.
    Query { id: String, name: String },
    /// Rename this identity: the same rules as registration
    /// (`invalid_name`, `name_claimed`). Answered by `ack`; everyone sharing
    /// a room or conversation with it, and its own connections, get
    /// `renamed` once per connection.
    Nick { id: String, name: String },
    /// Mark this identity away, with an optional reason (at most
    /// [`crate::limits::MAX_AWAY_CHARS`] characters, no control
    /// characters: `invalid_reason`). Answered by `ack`; others sharing a
    /// room or conversation, and own connections, get the `away` event.
    Away {
        id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// No longer away. Answered by `ack`; others get the `back` event.
    Back { id: String },
    /// Ask about the identity called `name`: answered by `whois`, then
    /// `ack` (or `not_found`).
    Whois { id: String, name: String },
    /// The room directory: answered by `room_list`, then `ack`.
    List { id: String },
    /// Set the topic of a room this connection is in (at most
    /// [`crate::limits::MAX_TOPIC_CHARS`] characters, no control
    /// characters: `invalid_topic`; empty clears it). Kept as a room event
    /// with a `seq`: the ack carries it, and every member gets the `topic`
    /// event. Not in direct-message conversations (`invalid_room`).
    Topic {
        id: String,
        room: String,
        text: String,
    },
    /// A moderation action in a room the connection is in (see
    /// [`crate::moderation`]): `action` is one of `op`, `deop`, `voice`,
    /// `devoice`, `kick`, `ban`, `unban`, `mute`, `unmute`, `invite`;
    /// `target` names the person (found by its look-alike key, like
    /// `whois`); `duration_s` bounds a `ban` or `mute` (absent: until
    /// lifted); `reason` is optional ([`crate::validate::mod_reason`]).
    /// Answered by `ack` with the `seq` of the kept `moderation` event, or
    /// `forbidden`, `not_found`, `not_in_room`, `invalid_reason`.
    Moderate {
        id: String,
        room: String,
        action: ModAction,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        duration_s: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Change a room's modes (operators and above): only the fields present
    /// change. Answered by `ack` with the `seq` of the kept `moderation`
    /// event (action `mode`, carrying the room's modes after the change).
    Mode {
        id: String,
        room: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        moderated: Option<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        invite_only: Option<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        topic_lock: Option<bool>,
        /// Slow mode: one message per person every `slow_s` seconds (0:
        /// off; at most [`crate::limits::MAX_SLOW_S`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        slow_s: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        filter: Option<FilterMode>,
    },
    /// The room's recent moderation events (operators and above):
    /// answered by `mod_log`, then `ack`.
    Modlog { id: String, room: String },
}

impl ClientEvent {
    /// The request id, for every event that has one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            ClientEvent::Hello { .. } => None,
            ClientEvent::Join { id, .. }
            | ClientEvent::Leave { id, .. }
            | ClientEvent::History { id, .. }
            | ClientEvent::Send { id, .. }
            | ClientEvent::Location { id, .. }
            | ClientEvent::Ping { id }
            | ClientEvent::Link { id }
            | ClientEvent::Devices { id }
            | ClientEvent::Logout { id, .. }
            | ClientEvent::Query { id, .. }
            | ClientEvent::Nick { id, .. }
            | ClientEvent::Away { id, .. }
            | ClientEvent::Back { id }
            | ClientEvent::Whois { id, .. }
            | ClientEvent::List { id }
            | ClientEvent::Topic { id, .. }
            | ClientEvent::Moderate { id, .. }
            | ClientEvent::Mode { id, .. }
            | ClientEvent::Modlog { id, .. } => Some(id),
        }
    }
}
