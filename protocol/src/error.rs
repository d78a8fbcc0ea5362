//! Error codes carried on the wire, and the validation errors behind them.

use serde::{Deserialize, Serialize};

/// Machine-readable reason a request failed. Sent as a `snake_case` string,
/// always together with a human-readable message.
///
/// Clients must treat an unknown code like [`ErrorCode::Internal`]: newer
/// servers may add codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The `hello` named a protocol version this server does not speak.
    UnsupportedVersion,
    /// A request came before `hello`.
    NotIdentified,
    /// A second `hello` on the same connection.
    AlreadyIdentified,
    /// The frame was not a JSON object with a string `type`.
    Malformed,
    /// The `type` is not one this server knows.
    UnknownType,
    /// The frame was binary; the protocol is text frames only.
    BinaryNotSupported,
    /// The display name is empty, too long or has forbidden characters.
    InvalidName,
    /// The room name is empty, too long or has characters other than
    /// lower-case letters, digits, `-` and `_`.
    InvalidRoom,
    /// The message text is empty (or only white space).
    EmptyText,
    /// The message text is longer than [`crate::limits::MAX_TEXT_CHARS`].
    TextTooLong,
    /// Latitude or longitude is out of range or not a finite number.
    InvalidLocation,
    /// A room topic is longer than [`crate::limits::MAX_TOPIC_CHARS`] or
    /// has control or invisible characters.
    InvalidTopic,
    /// An away reason is longer than [`crate::limits::MAX_AWAY_CHARS`] or
    /// has control or invisible characters.
    InvalidReason,
    /// The request id is empty, too long or has control characters.
    InvalidId,
    /// The name (or one that looks the same: see `protocol::names`) belongs
    /// to an identity, and this `hello` did not present its credential.
    NameClaimed,
    /// The `hello`'s credential is unknown or was revoked: the client
    /// should forget it.
    BadCredential,
    /// The `hello`'s link code is unknown, already used or expired.
    BadLinkCode,
    /// The server does not register new names; an operator adds people
    /// with `chat-server user add`.
    RegistrationClosed,
    /// This device was signed out (`logout`); the connection is closed with
    /// [`crate::close::CREDENTIAL_REVOKED`].
    CredentialRevoked,
    /// The request names something that does not exist for this identity
    /// (e.g. a device to `logout`, an unknown name to `query` or `whois`, or
    /// a direct-message key the identity is not part of: those are refused
    /// exactly like a key that does not exist).
    NotFound,
    /// The request names a room this connection has not joined.
    NotInRoom,
    /// The connection is already in that room.
    AlreadyInRoom,
    /// The connection is in as many rooms as the server allows.
    TooManyRooms,
    /// Too many requests; wait and try again.
    RateLimited,
    /// The server is shutting down.
    ShuttingDown,
    /// The client did not read fast enough and is being disconnected.
    SlowConsumer,
    /// The server cannot reach the store it shares with other instances;
    /// the request had no effect. Retry later.
    Unavailable,
    /// Something went wrong inside the server; the request had no effect.
    Internal,
    /// Not allowed: the requester ranks too low for this moderation
    /// request, or the target ranks as high or higher (see
    /// [`crate::moderation::Role`]).
    Forbidden,
    /// The join was refused: this identity is banned from the room. The
    /// message says until when, and why.
    Banned,
    /// The send, location or topic was refused: this identity is muted in
    /// the room. The message says until when.
    Muted,
    /// The send was refused: the room is moderated and only voiced people,
    /// operators and above speak.
    Moderated,
    /// The join was refused: the room is invite-only and this identity was
    /// not invited.
    InviteOnly,
    /// The topic change was refused: the room's topic is locked to
    /// operators.
    TopicLocked,
    /// The send was refused: slow mode allows one message per person every
    /// so many seconds; the message says how long to wait.
    SlowMode,
    /// The text was refused by the content filter; nothing was stored or
    /// delivered.
    ContentBlocked,
    /// The text was refused by flood protection: the same message repeated,
    /// or too many mentions in one message.
    Flood,
}

impl ErrorCode {
    /// The wire spelling, e.g. `"name_claimed"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::UnsupportedVersion => "unsupported_version",
            ErrorCode::NotIdentified => "not_identified",
            ErrorCode::AlreadyIdentified => "already_identified",
            ErrorCode::Malformed => "malformed",
            ErrorCode::UnknownType => "unknown_type",
            ErrorCode::BinaryNotSupported => "binary_not_supported",
            ErrorCode::InvalidName => "invalid_name",
            ErrorCode::InvalidRoom => "invalid_room",
            ErrorCode::EmptyText => "empty_text",
            ErrorCode::TextTooLong => "text_too_long",
            ErrorCode::InvalidLocation => "invalid_location",
            ErrorCode::InvalidTopic => "invalid_topic",
            ErrorCode::InvalidReason => "invalid_reason",
            ErrorCode::InvalidId => "invalid_id",
            ErrorCode::NameClaimed => "name_claimed",
            ErrorCode::BadCredential => "bad_credential",
            ErrorCode::BadLinkCode => "bad_link_code",
            ErrorCode::RegistrationClosed => "registration_closed",
            ErrorCode::CredentialRevoked => "credential_revoked",
            ErrorCode::NotFound => "not_found",
            ErrorCode::NotInRoom => "not_in_room",
            ErrorCode::AlreadyInRoom => "already_in_room",
            ErrorCode::TooManyRooms => "too_many_rooms",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::ShuttingDown => "shutting_down",
            ErrorCode::SlowConsumer => "slow_consumer",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::Banned => "banned",
            ErrorCode::Muted => "muted",
            ErrorCode::Moderated => "moderated",
            ErrorCode::InviteOnly => "invite_only",
            ErrorCode::TopicLocked => "topic_locked",
            ErrorCode::SlowMode => "slow_mode",
            ErrorCode::ContentBlocked => "content_blocked",
            ErrorCode::Flood => "flood",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a piece of user input was refused. Its `Display` text is the message
/// sent to the client; [`ValidationError::code`] is the wire code.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValidationError {
    #[error("name must not be empty")]
    NameEmpty,
    #[error("name must be at most {max} characters (got {got})")]
    NameTooLong { max: usize, got: usize },
    #[error("name must not contain control or invisible characters (found U+{0:04X})")]
    NameForbiddenChar(u32),
    #[error("name must not be made only of combining marks")]
    NameOnlyMarks,
    #[error("room name must not be empty")]
    RoomEmpty,
    #[error("room name must be at most {max} characters (got {got})")]
    RoomTooLong { max: usize, got: usize },
    #[error("room name may only contain lower-case letters a-z, digits, '-' and '_' (found {0:?})")]
    RoomForbiddenChar(char),
    #[error("message text must not be empty")]
    TextEmpty,
    #[error("message text must be at most {max} characters (got {got})")]
    TextTooLong { max: usize, got: usize },
    #[error("latitude must be a number from -90 to 90 (got {0})")]
    LatitudeOutOfRange(f64),
    #[error("longitude must be a number from -180 to 180 (got {0})")]
    LongitudeOutOfRange(f64),
    #[error("request id must be 1 to {max} printable characters")]
    BadRequestId { max: usize },
    #[error("topic must be at most {max} characters (got {got})")]
    TopicTooLong { max: usize, got: usize },
    #[error("topic must not contain control or invisible characters (found U+{0:04X})")]
    TopicForbiddenChar(u32),
    #[error("reason must be at most {max} characters (got {got})")]
    ReasonTooLong { max: usize, got: usize },
    #[error("reason must not contain control or invisible characters (found U+{0:04X})")]
    ReasonForbiddenChar(u32),
}

impl ValidationError {
    /// The wire code for this error.
    pub fn code(&self) -> ErrorCode {
        use ValidationError::*;
        match self {
            NameEmpty | NameTooLong { .. } | NameForbiddenChar(_) | NameOnlyMarks => {
                ErrorCode::InvalidName
            }
            RoomEmpty | RoomTooLong { .. } | RoomForbiddenChar(_) => ErrorCode::InvalidRoom,
            TextEmpty => ErrorCode::EmptyText,
            TextTooLong { .. } => ErrorCode::TextTooLong,
            LatitudeOutOfRange(_) | LongitudeOutOfRange(_) => ErrorCode::InvalidLocation,
            BadRequestId { .. } => ErrorCode::InvalidId,
            TopicTooLong { .. } | TopicForbiddenChar(_) => ErrorCode::InvalidTopic,
            ReasonTooLong { .. } | ReasonForbiddenChar(_) => ErrorCode::InvalidReason,
        }
    }
}
