//! [`Frame`]: one server event, serialized once; [`Page`]: frames as a
//! message log reads them back.
//!
//! Rooms broadcast frames, the store keeps them verbatim, the cluster log
//! carries them, and connections write them: all of them pass the same
//! shared bytes around instead of serializing again.

use axum::extract::ws::Utf8Bytes;

/// One serialized server event. Cloning shares the bytes, so a broadcast
/// serializes once and costs a reference-count increment per recipient.
#[derive(Debug, Clone)]
pub struct Frame(Utf8Bytes);

impl Frame {
    /// Serializes an event.
    pub fn encode(event: &protocol::ServerEvent) -> Self {
        Frame(Utf8Bytes::from(protocol::encode(event)))
    }

    /// Wraps JSON text that is already one encoded server event.
    pub fn from_text(text: String) -> Self {
        Frame(Utf8Bytes::from(text))
    }

    pub fn into_text(self) -> Utf8Bytes {
        self.0
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// Stored frames as a message log hands them out, oldest first. They are
/// kept as the text that was broadcast, so a `history` frame is built by
/// concatenating them.
#[derive(Debug, Default)]
pub struct Page {
    pub frames: Vec<String>,
    /// Older events exist before the first frame.
    pub more: bool,
}
