//! The wire protocol spoken between `chat-server` and its clients.
//!
//! Every frame is one JSON object in a WebSocket **text** frame, tagged by a
//! `"type"` field. Frames a client sends are [`ClientEvent`]s; frames the
//! server sends are [`ServerEvent`]s. Nothing else in the workspace defines
//! wire types: the server, the terminal client, the load generator and the
//! golden tests all use these.
//!
//! The exchange always starts with [`ClientEvent::Hello`], answered by
//! [`ServerEvent::Welcome`] (or an `unsupported_version` error and a close
//! with code [`close::UNSUPPORTED_VERSION`]).
//!
//! Validation of everything a user can type (display names, room names,
//! message text, coordinates, request ids) lives in [`validate`] so that
//! clients can refuse bad input before sending it and the server refuses it
//! with the same [`ErrorCode`] and wording. When a message mentions someone
//! is decided in [`mention`], where map links point in [`maps`], which names
//! count as one name (look-alikes included) in [`names`].
//!
//! See `protocol/README.md` for a walk-through with one example per event.

pub mod client;
pub mod close;
pub mod codec;
pub mod commands;
pub mod dm;
pub mod error;
pub mod history;
pub mod limits;
pub mod maps;
pub mod mention;
pub mod moderation;
pub mod names;
pub mod server;
pub mod validate;

pub use client::ClientEvent;
pub use codec::{DecodeError, decode_client, decode_server, encode, encode_ack_ok};
pub use error::{ErrorCode, ValidationError};
pub use history::{history_frame, history_frames};
pub use server::{
    AckResult, DeviceInfo, DeviceRef, DmSummary, ErrorBody, Member, RoomListing,
    SSH_KEY_DEVICE_PREFIX, ServerEvent, ServerLimits, UserRef, is_ssh_key_device,
};

/// The protocol version this crate speaks. A client announces it in
/// [`ClientEvent::Hello`]; the server refuses any other version with
/// [`ErrorCode::UnsupportedVersion`].
pub const PROTOCOL_VERSION: u32 = 2;

/// Milliseconds since the Unix epoch, UTC. Used for every server timestamp.
pub type TimestampMs = i64;

/// Per-room sequence number of a stored room event (message, location or
/// topic).
/// Strictly increasing within a room, starting at 1.
pub type Seq = u64;
