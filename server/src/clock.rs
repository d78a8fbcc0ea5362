//! The server's notion of "now" for timestamps on the wire.

use protocol::TimestampMs;

/// Milliseconds since the Unix epoch, UTC.
pub fn now_ms() -> TimestampMs {
    chrono::Utc::now().timestamp_millis()
}
