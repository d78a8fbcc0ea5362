//! Events a client sends to the server.

use serde::{Deserialize, Serialize};

use crate::Seq;

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
            | ClientEvent::Logout { id, .. } => Some(id),
        }
    }
}
