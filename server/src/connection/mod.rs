//! One task per client connection, from the handshake to the goodbye.
//!
//! - `handshake.rs`: `hello` in, `welcome` out.
//! - `dispatch.rs`: an identified client's requests, checked and handed to
//!   their rooms.
//! - here, the socket loop: one `select!`, so that no lock or second task is
//!   needed, that reads the client's frames (and dispatches them), writes
//!   whatever rooms queued for it (coalescing everything queued into one
//!   flush) and keeps the heartbeat. It also notices shutdown and being
//!   marked a slow consumer, and says why before it closes.
//!
//! The loop works on any [`Socket`]: a stream and sink of WebSocket
//! messages. The HTTP side hands it axum's upgraded WebSocket; another
//! front end can hand it its own channel.

mod dispatch;
mod handshake;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message};
use futures::{Sink, SinkExt, Stream, StreamExt};
use protocol::{ErrorBody, ErrorCode, ServerEvent, close};
use tokio::time::{Instant, MissedTickBehavior};

use crate::Shared;
use crate::frame::Frame;
use crate::outbound::{Outbound, Receiver};
use crate::rate_limit::TokenBucket;
use crate::room::RoomCommand;
use dispatch::{Client, handle_text, queue_reply};
use handshake::handshake;

/// What the connection code needs from its transport: WebSocket messages
/// in and out. Implemented for every such stream and sink, among them
/// axum's `WebSocket`.
pub trait Socket:
    Stream<Item = Result<Message, axum::Error>> + Sink<Message, Error = axum::Error> + Unpin + Send
{
}

impl<T> Socket for T where
    T: Stream<Item = Result<Message, axum::Error>>
        + Sink<Message, Error = axum::Error>
        + Unpin
        + Send
{
}

/// Frames written before one flush, at most. Bounds the time between
/// checks of the other `select!` branches under heavy fan-out.
const MAX_FRAMES_PER_FLUSH: usize = 256;
/// How long a goodbye (error + close frame) may take before we hang up.
const GOODBYE_TIMEOUT: Duration = Duration::from_secs(1);

/// Why the loop ended; decides the goodbye.
enum Exit {
    /// The client closed or the socket failed: nothing more to say.
    Gone,
    Close {
        /// Sent as an `error` event before the close frame.
        error: Option<ErrorBody>,
        code: u16,
        reason: &'static str,
    },
}

/// Serves one client until its connection closes.
pub async fn serve<S: Socket>(mut socket: S, shared: Arc<Shared>) {
    let id = shared.next_connection_id();
    let (outbound, mut queue) = Outbound::new(id, shared.config.outbound_queue);

    let exit = match Box::pin(handshake(&mut socket, &shared)).await {
        Ok(name) => {
            tracing::debug!(connection = id, %name, "identified");
            let mut client = Client {
                name,
                outbound,
                rooms: HashMap::new(),
                bucket: TokenBucket::new(shared.config.rate_per_sec, shared.config.rate_burst),
            };
            let exit = run(&mut socket, &shared, &mut client, &mut queue).await;
            for (_, room) in client.rooms.drain() {
                room.send(RoomCommand::Leave {
                    connection_id: id,
                    request_id: None,
                })
                .await;
            }
            exit
        }
        Err(exit) => exit,
    };
    Box::pin(goodbye(socket, exit)).await;
}

/// The main loop of an identified client.
async fn run<S: Socket>(
    socket: &mut S,
    shared: &Arc<Shared>,
    client: &mut Client,
    queue: &mut Receiver,
) -> Exit {
    let period = shared.config.heartbeat_interval;
    let mut heartbeat = tokio::time::interval_at(Instant::now() + period, period);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_heard = Instant::now();
    // Grows to the largest burst this client has seen, not before.
    let mut batch = Vec::new();

    loop {
        tokio::select! {
            biased;
            () = shared.shutdown.cancelled() => return shutting_down(),
            r = queue.recv_many(&mut batch, MAX_FRAMES_PER_FLUSH) => {
                if r.is_err() {
                    return slow_consumer();
                }
                // Boxed: this state is large and only exists while writing.
                if let Some(exit) = Box::pin(write_or_stop(socket, &mut batch, queue, shared)).await {
                    return exit;
                }
            }
            message = socket.next() => {
                last_heard = Instant::now();
                match message {
                    Some(Ok(Message::Text(text))) => Box::pin(handle_text(shared, client, &text)).await,
                    Some(Ok(Message::Binary(_))) => queue_reply(client, &binary_refused()),
                    Some(Ok(Message::Close(_))) | None => return Exit::Gone,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    Some(Err(e)) => return read_failed(e),
                }
            }
            _ = heartbeat.tick() => {
                if last_heard.elapsed() >= period * 2 {
                    return Exit::Close {
                        error: None,
                        code: close::HEARTBEAT_TIMEOUT,
                        reason: "heartbeat timeout",
                    };
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    return Exit::Gone;
                }
            }
        }
    }
}

/// Writes a batch, unless the client turns out too slow (a client that
/// stops reading blocks the write; the room notices its full queue and marks
/// it, which ends the wait) or the server shuts down first.
async fn write_or_stop<S: Socket>(
    socket: &mut S,
    batch: &mut Vec<Frame>,
    queue: &Receiver,
    shared: &Shared,
) -> Option<Exit> {
    tokio::select! {
        r = write_batch(socket, batch) => r.err().map(|_| Exit::Gone),
        () = queue.slowed() => Some(slow_consumer()),
        () = shared.shutdown.cancelled() => Some(shutting_down()),
    }
}

async fn write_batch<S: Socket>(socket: &mut S, batch: &mut Vec<Frame>) -> Result<(), axum::Error> {
    for frame in batch.drain(..) {
        socket.feed(Message::Text(frame.into_text())).await?;
    }
    socket.flush().await
}

fn decode_error(e: protocol::DecodeError) -> ServerEvent {
    match e.id {
        Some(id) => ServerEvent::ack_err(id, e.code, e.message),
        None => ServerEvent::error(e.code, e.message),
    }
}

fn binary_refused() -> ServerEvent {
    ServerEvent::error(
        ErrorCode::BinaryNotSupported,
        "binary frames are not supported; send JSON text frames",
    )
}

fn shutting_down() -> Exit {
    Exit::Close {
        error: Some(ErrorBody {
            code: ErrorCode::ShuttingDown,
            message: "the server is shutting down; reconnect later".into(),
        }),
        code: close::GOING_AWAY,
        reason: "server shutting down",
    }
}

fn slow_consumer() -> Exit {
    Exit::Close {
        error: Some(ErrorBody {
            code: ErrorCode::SlowConsumer,
            message: "you did not read messages fast enough and were disconnected; reconnect"
                .into(),
        }),
        code: close::SLOW_CONSUMER,
        reason: "slow consumer",
    }
}

fn read_failed(e: axum::Error) -> Exit {
    let inner = e.into_inner();
    match inner.downcast_ref::<tungstenite::Error>() {
        Some(tungstenite::Error::Capacity(_)) => Exit::Close {
            error: None,
            code: close::TOO_LARGE,
            reason: "frame too large",
        },
        _ => {
            tracing::debug!(error = %inner, "read failed");
            Exit::Gone
        }
    }
}

/// Says why we close (bounded in time: the client may not be reading).
async fn goodbye<S: Socket>(mut socket: S, exit: Exit) {
    let Exit::Close {
        error,
        code,
        reason,
    } = exit
    else {
        return;
    };
    let farewell = async {
        if let Some(ErrorBody { code, message }) = error {
            let frame = Frame::encode(&ServerEvent::error(code, message));
            socket.send(Message::Text(frame.into_text())).await?;
        }
        socket
            .send(Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })))
            .await?;
        // Wait for the client's close reply so the TCP connection ends cleanly.
        while let Some(Ok(m)) = socket.next().await {
            if matches!(m, Message::Close(_)) {
                break;
            }
        }
        Ok::<(), axum::Error>(())
    };
    let _ = tokio::time::timeout(GOODBYE_TIMEOUT, farewell).await;
}
