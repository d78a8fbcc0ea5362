//! The engine of `floor-server`: the fastest plain broadcast server the
//! stack allows (tokio + tokio-tungstenite, no HTTP framework), the lower
//! bound chat-server's costs are measured against.
//!
//! It speaks only what `chat-bench` needs, as `bare-server` does: `hello`
//! gets a `welcome`, `join` puts the connection in one room and is answered
//! by a `room_state`, and `send` becomes a `message` for every member of the
//! room, the sender included. No validation, acknowledgements, history,
//! rate limit or heartbeat.
//!
//! What makes it fast, and what keeps it fair:
//! - TCP_NODELAY, and small read buffers so an idle connection is cheap;
//! - a message is serialized once and its bytes shared by every member's
//!   queue ([`rooms`]);
//! - each connection writes everything queued for it with one flush
//!   ([`connection`]);
//! - queues are bounded, and a client whose queue fills is disconnected
//!   (close 4001, as chat-server does) rather than skipped over: nobody
//!   else ever loses a message, and the slow client is not counted as
//!   having received what it did not ([`outbox`]).

mod connection;
mod outbox;
mod request;
mod rooms;

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use self::rooms::Rooms;

/// How long to pause accepting after an accept error (such as running out
/// of file descriptors), instead of spinning.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// The floor's few settings.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// Bytes tungstenite reads from a socket at once (allocated, and
    /// touched, per connection).
    pub read_buffer_bytes: usize,
    /// Bytes of frames buffered before tungstenite writes them out without
    /// waiting for the flush.
    pub write_buffer_bytes: usize,
    /// Frames a connection may have queued before it counts as too slow.
    pub queue_frames: usize,
}

impl Default for Config {
    /// The same sizes chat-server uses by default, so that the two differ
    /// in what they do, not in how they are tuned.
    fn default() -> Self {
        Config {
            read_buffer_bytes: 512,
            write_buffer_bytes: 64 * 1024,
            queue_frames: 1024,
        }
    }
}

/// What every connection shares.
#[derive(Debug)]
struct Shared {
    rooms: Rooms,
    websocket: WebSocketConfig,
    queue_frames: usize,
}

/// Accepts connections on `listener` and serves each in its own task,
/// until the returned future is dropped.
pub async fn serve(listener: TcpListener, config: Config) {
    let max = protocol::limits::MAX_FRAME_BYTES;
    let websocket = WebSocketConfig::default()
        .read_buffer_size(config.read_buffer_bytes.max(64))
        .write_buffer_size(config.write_buffer_bytes)
        .max_message_size(Some(max))
        .max_frame_size(Some(max));
    let shared = Arc::new(Shared {
        rooms: Rooms::default(),
        websocket,
        queue_frames: config.queue_frames,
    });
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(connection::serve(stream, shared.clone()));
            }
            Err(e) => {
                eprintln!("accept: {e}");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
}
