//! WebSocket close codes the server uses: the standard ones of RFC 6455
//! and its own in the 4000-4999 range RFC 6455 reserves for applications.

/// Normal closure (the client asked to leave, or said goodbye).
pub const NORMAL: u16 = 1000;
/// The server is shutting down.
pub const GOING_AWAY: u16 = 1001;
/// The client broke the WebSocket protocol (an unmasked frame, a control
/// frame over 125 bytes, a bad close code, a continuation out of place...).
pub const PROTOCOL_ERROR: u16 = 1002;
/// A text frame (or close reason) was not valid UTF-8.
pub const INVALID_DATA: u16 = 1007;
/// The client broke the server's rules: too many malformed frames.
pub const POLICY_VIOLATION: u16 = 1008;
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
/// The device's credential was revoked (`logout`): the connection is
/// closed after an `error` `credential_revoked`. Reconnecting with the same
/// credential is refused; the client should forget it.
pub const CREDENTIAL_REVOKED: u16 = 4004;
