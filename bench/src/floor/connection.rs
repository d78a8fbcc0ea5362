//! One client, from the TCP accept to the close, in one task.
//!
//! The task waits on two things at once: the client's next frame, and its
//! outbox becoming non-empty. A frame is handled on the spot (a `send` is
//! fanned out to the room right there, by the sender's task). Queued frames
//! are all fed into tungstenite's write buffer and then flushed once, so a
//! burst of broadcasts reaches the kernel in as few writes as the buffer
//! size allows. Replies to `hello` and `join` are written directly.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use protocol::{PROTOCOL_VERSION, ServerEvent};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};

use super::Shared;
use super::outbox::Outbox;
use super::request::Request as ClientFrame;
use super::rooms::Room;

/// How long the HTTP upgrade may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a slow consumer's close frame may take before we hang up.
const GOODBYE_TIMEOUT: Duration = Duration::from_secs(1);

type Ws = WebSocketStream<TcpStream>;

/// Why the connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exit {
    /// The client closed, or the socket failed.
    Gone,
    /// The client's outbox filled up.
    Slow,
}

struct Client {
    ws: Ws,
    outbox: Arc<Outbox>,
    name: String,
    room: Option<Arc<Room>>,
}

/// Serves one accepted TCP connection until it closes.
pub async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    // Replies and lone messages go out at once instead of waiting on Nagle.
    let _ = stream.set_nodelay(true);
    // Boxed: the handshake's state is large and needed only once, so it
    // should not stay part of every idle connection's task.
    let handshake = Box::pin(tokio_tungstenite::accept_hdr_async_with_config(
        stream,
        only_the_websocket_path,
        Some(shared.websocket),
    ));
    let ws = match timeout(HANDSHAKE_TIMEOUT, handshake).await {
        Ok(Ok(ws)) => ws,
        Ok(Err(_)) | Err(_) => return,
    };
    let mut client = Client {
        ws,
        outbox: Arc::new(Outbox::new(shared.queue_frames)),
        name: String::new(),
        room: None,
    };
    let exit = client.run(&shared).await;
    if let Some(room) = client.room.take() {
        shared.rooms.leave(&room, &client.outbox);
    }
    client.outbox.close();
    if exit == Exit::Slow {
        eprintln!("slow consumer disconnected");
        let close = CloseFrame {
            code: CloseCode::from(protocol::close::SLOW_CONSUMER),
            reason: "too slow".into(),
        };
        let _ = timeout(GOODBYE_TIMEOUT, Box::pin(client.ws.close(Some(close)))).await;
    }
}

/// Upgrades `/ws` only, like chat-server.
#[expect(
    clippy::result_large_err,
    reason = "the signature of tungstenite's handshake callback"
)]
fn only_the_websocket_path(
    request: &Request,
    response: Response,
) -> Result<Response, ErrorResponse> {
    if request.uri().path() == "/ws" {
        return Ok(response);
    }
    let mut refusal = ErrorResponse::new(Some("not found\n".into()));
    *refusal.status_mut() = StatusCode::NOT_FOUND;
    Err(refusal)
}

impl Client {
    async fn run(&mut self, shared: &Shared) -> Exit {
        let mut batch = VecDeque::new();
        loop {
            tokio::select! {
                incoming = self.ws.next() => match incoming {
                    Some(Ok(Message::Text(text))) => {
                        if self.handle(&text, shared).await.is_err() {
                            return Exit::Gone;
                        }
                    }
                    Some(Ok(Message::Close(_)) | Err(_)) | None => return Exit::Gone,
                    Some(Ok(_)) => {}
                },
                taken = self.outbox.take_all(&mut batch) => {
                    if taken.is_err() {
                        return Exit::Slow;
                    }
                    // A client that stopped reading blocks this write; its
                    // queue then fills, and that ends the wait.
                    tokio::select! {
                        biased;
                        written = write_all(&mut self.ws, &mut batch) => {
                            if written.is_err() {
                                return Exit::Gone;
                            }
                        }
                        () = self.outbox.slowed() => return Exit::Slow,
                    }
                }
            }
        }
    }

    /// Handles one client frame. Fails only if a reply cannot be written.
    async fn handle(&mut self, text: &str, shared: &Shared) -> Result<(), WsError> {
        let Some(request) = ClientFrame::parse(text) else {
            return Ok(());
        };
        match &*request.kind {
            "hello" => {
                self.name = request.name.into_owned();
                let welcome = welcome(&self.name);
                self.ws
                    .send(Message::text(protocol::encode(&welcome)))
                    .await
            }
            "join" => {
                let name = request.room;
                if name.is_empty() {
                    return Ok(());
                }
                // One room per connection, as in bare-server: a new join
                // replaces the old one.
                if let Some(old) = self.room.take() {
                    shared.rooms.leave(&old, &self.outbox);
                }
                self.room = Some(shared.rooms.join(&name, &self.outbox));
                let state = ServerEvent::RoomState {
                    room: name.into_owned(),
                    users: Vec::new(),
                    topic: None,
                    modes: Default::default(),
                };
                self.ws.send(Message::text(protocol::encode(&state))).await
            }
            "send" => {
                let Some(room) = &self.room else {
                    return Ok(());
                };
                if request.room != room.name() {
                    return Ok(());
                }
                let message = ServerEvent::Message {
                    room: room.name().to_owned(),
                    seq: 0,
                    ts: now_ms(),
                    from: self.name.clone(),
                    user: String::new(),
                    id: request.id.into_owned(),
                    text: request.text.into_owned(),
                    action: false,
                };
                // Serialized once; every member's queue shares these bytes.
                room.broadcast(&Utf8Bytes::from(protocol::encode(&message)));
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// Feeds every frame of `batch` into the write buffer, then flushes once.
async fn write_all(ws: &mut Ws, batch: &mut VecDeque<Utf8Bytes>) -> Result<(), WsError> {
    while let Some(frame) = batch.pop_front() {
        ws.feed(Message::Text(frame)).await?;
    }
    ws.flush().await
}

fn welcome(name: &str) -> ServerEvent {
    ServerEvent::Welcome {
        protocol: PROTOCOL_VERSION,
        server: concat!("floor-server/", env!("CARGO_PKG_VERSION")).into(),
        name: name.to_owned(),
        user: protocol::UserRef {
            id: "u_0000000000000000".into(),
            name: name.to_owned(),
        },
        device: protocol::DeviceRef {
            id: "d_0000000000000000".into(),
            name: "floor".into(),
        },
        credential: None,
        heartbeat_ms: 30_000,
        epoch: "floor".into(),
        dms: Vec::new(),
        limits: protocol::ServerLimits {
            max_name_chars: protocol::limits::MAX_NAME_CHARS,
            max_room_chars: protocol::limits::MAX_ROOM_CHARS,
            max_text_chars: protocol::limits::MAX_TEXT_CHARS,
            max_frame_bytes: protocol::limits::MAX_FRAME_BYTES,
            max_server_frame_bytes: protocol::limits::MAX_SERVER_FRAME_BYTES,
            max_rooms: 1,
            rate_per_sec: 0.0,
            rate_burst: 0,
        },
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
