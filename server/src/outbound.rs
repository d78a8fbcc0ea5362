//! A connection's outbound side as seen by rooms: a bounded queue of
//! already-serialized frames, plus a switch to disconnect it.
//!
//! Rooms never wait on a client. They `try_send` into the queue; if it is
//! full the client is not keeping up, and rather than buffering without
//! bound or slowing the whole room, the room flips the client's kill switch
//! and forgets it. The connection then closes with
//! [`protocol::close::SLOW_CONSUMER`].

use axum::extract::ws::Utf8Bytes;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

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

/// Why a frame could not be queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueError {
    /// The client is too slow; it has been told to disconnect.
    Slow,
    /// The connection is already gone.
    Closed,
}

/// The handle rooms (and the connection itself) use to queue frames for one
/// client.
#[derive(Debug, Clone)]
pub struct Outbound {
    pub connection_id: u64,
    queue: mpsc::Sender<Frame>,
    slow: CancellationToken,
}

impl Outbound {
    /// A new outbound queue of `capacity` frames, the receiving end for the
    /// connection's writer, and the token cancelled when the client is
    /// found too slow.
    pub fn new(
        connection_id: u64,
        capacity: usize,
    ) -> (Self, mpsc::Receiver<Frame>, CancellationToken) {
        let (queue, rx) = mpsc::channel(capacity.max(1));
        let slow = CancellationToken::new();
        let handle = Outbound {
            connection_id,
            queue,
            slow: slow.clone(),
        };
        (handle, rx, slow)
    }

    /// Queues a frame without waiting. A full queue marks the client slow.
    pub fn push(&self, frame: Frame) -> Result<(), QueueError> {
        match self.queue.try_send(frame) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.slow.cancel();
                Err(QueueError::Slow)
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(QueueError::Closed),
        }
    }

    /// Serializes and queues one event for this client only.
    pub fn send(&self, event: &protocol::ServerEvent) -> Result<(), QueueError> {
        self.push(Frame::encode(event))
    }
}
