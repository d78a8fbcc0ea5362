//! WebSocket close codes the server uses, besides the standard ones
//! (1000 normal, 1001 going away on shutdown, 1009 frame too large).
//!
//! Codes 4000-4999 are reserved by RFC 6455 for applications.

/// Normal closure (the client asked to leave, or said goodbye).
pub const NORMAL: u16 = 1000;
/// The server is shutting down.
pub const GOING_AWAY: u16 = 1001;
/// The frame was larger than [`crate::limits::MAX_FRAME_BYTES`].
pub const TOO_LARGE: u16 = 1009;
/// The client's `hello` named a protocol version this server does not speak.
pub const UNSUPPORTED_VERSION: u16 = 4000;
/// The client did not read its frames fast enough; its outbound queue filled
/// up and it was disconnected so that it could not slow down its rooms.
pub const SLOW_CONSUMER: u16 = 4001;
/// The client did not send `hello` in time, or sent something else first.
pub const HANDSHAKE_FAILED: u16 = 4002;
/// The peer stopped answering heartbeats.
pub const HEARTBEAT_TIMEOUT: u16 = 4003;
