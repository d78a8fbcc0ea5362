//! Size limits shared by the server and clients.
//!
//! Lengths are counted in Unicode scalar values (`char`s), which is what a
//! user perceives as "characters" closely enough for limits, and what every
//! client language can count cheaply.

/// Longest display name, in characters, after trimming.
pub const MAX_NAME_CHARS: usize = 32;
/// Longest device name, in characters: longer ones are shortened by the
/// server, not refused.
pub const MAX_DEVICE_CHARS: usize = 64;
/// Longest room name, in characters.
pub const MAX_ROOM_CHARS: usize = 32;
/// Longest message text, in characters.
pub const MAX_TEXT_CHARS: usize = 4_000;
/// Longest client-chosen request id, in characters.
pub const MAX_REQUEST_ID_CHARS: usize = 64;
/// Longest frame the server accepts, in bytes. A 4,000-character message of
/// 4-byte characters with JSON overhead fits; anything larger is refused by
/// the WebSocket layer before it is parsed.
pub const MAX_FRAME_BYTES: usize = 32 * 1024;
/// Messages in one page of history (on join, and the default for `history`).
pub const HISTORY_PAGE: u32 = 50;
/// Most messages one `history` request may ask for.
pub const MAX_HISTORY_PAGE: u32 = 500;
/// Longest frame the server sends, in bytes, announced in `welcome` as
/// `max_server_frame_bytes`. Answers that would be longer (a large
/// `history`) are split into several frames. The largest single event (a
/// 4,000-character message of characters JSON escapes as `\u0000`, with the
/// longest name and id) is about 25 KB, far below this.
pub const MAX_SERVER_FRAME_BYTES: usize = 1024 * 1024;
/// What a client assumes of a server that does not announce
/// `max_server_frame_bytes` (it predates the bound): the 16 MiB clients
/// accepted before. Any fresh join's history fits in it.
pub const LEGACY_SERVER_FRAME_BYTES: usize = 16 * 1024 * 1024;
/// Longest room topic, in characters (an empty topic clears it).
pub const MAX_TOPIC_CHARS: usize = 200;
/// Longest away reason, in characters.
pub const MAX_AWAY_CHARS: usize = 200;
/// Most direct-message conversations listed in `welcome.dms`.
pub const MAX_WELCOME_DMS: usize = 50;
/// Most rooms listed in a `room_list`.
pub const MAX_LISTED_ROOMS: usize = 500;
/// Most entries in a `mod_log` answer (the room's latest moderation
/// events).
pub const MAX_MODLOG_ENTRIES: usize = 50;
/// Longest ban or mute, in seconds (a year); longer ones are refused as
/// durations (leave the duration out for "until lifted").
pub const MAX_MOD_DURATION_S: u64 = 366 * 24 * 3600;
/// Longest slow-mode interval, in seconds (an hour).
pub const MAX_SLOW_S: u32 = 3600;
/// Flood protection: a message whose text (trimmed, case-folded) equals the
/// sender's previous `FLOOD_REPEATS - 1` messages in the same room or
/// conversation is refused with `flood` (the third in a row).
pub const FLOOD_REPEATS: usize = 3;
/// Flood protection: a message naming more than this many distinct
/// `@names` is refused with `flood`.
pub const MAX_MENTIONS: usize = 5;
/// Flood protection: this many `flood` refusals within
/// [`FLOOD_STRIKE_WINDOW_S`] mute the sender in that room for
/// [`AUTO_MUTE_S`] (a `moderation` event with action `auto_mute`).
pub const FLOOD_STRIKES: usize = 3;
/// The window in which [`FLOOD_STRIKES`] refusals count, in seconds.
pub const FLOOD_STRIKE_WINDOW_S: u64 = 60;
/// How long flood protection mutes a repeat offender, in seconds.
pub const AUTO_MUTE_S: u64 = 300;
