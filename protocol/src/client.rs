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
    /// speaks and the display name it wants. Answered by `welcome`, or by an
    /// `error` (`unsupported_version`, `invalid_name`). After an
    /// `invalid_name` error the client may send `hello` again.
    Hello {
        protocol: u32,
        name: String,
        /// Free-form client description for logs, e.g. `"chat-tui/0.1.0"`.
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
            | ClientEvent::Location { id, .. } => Some(id),
        }
    }
}
