//! `bare-server`: the floor `chat-server` is measured against. A minimal
//! broadcast server on the same stack (axum `ws` + tokio, default
//! settings): no validation, no acknowledgements, no history, no rate
//! limit, no heartbeat. It speaks just enough of the chat protocol for
//! `chat-bench`: `hello` gets a `welcome`, `join` subscribes the connection
//! to the room (answered by a `room_state` listing nobody, so the client
//! knows it is in), and `send` is relayed to the room as a `message` frame,
//! serialized once and shared. Slow readers fall behind on a bounded
//! broadcast channel and silently skip what they missed.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use axum::extract::{State, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use axum::serve::ListenerExt;
use clap::Parser;
use futures::SinkExt;
use protocol::{PROTOCOL_VERSION, ServerEvent};
use serde::Deserialize;
use tokio::sync::broadcast;

/// Frames a room buffers for its slowest reader.
const ROOM_CHANNEL: usize = 1024;
/// Frames written before one flush, at most.
const MAX_FRAMES_PER_FLUSH: usize = 256;

/// Minimal broadcast server for benchmarks (loopback by default).
#[derive(Debug, Parser)]
#[command(version, about)]
struct Options {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3001")]
    listen: SocketAddr,
    /// Set TCP_NODELAY on accepted connections (off by default, as in axum).
    #[arg(long)]
    nodelay: bool,
}

#[derive(Debug, Default)]
struct Rooms(Mutex<HashMap<String, broadcast::Sender<Utf8Bytes>>>);

impl Rooms {
    fn channel(&self, room: &str) -> broadcast::Sender<Utf8Bytes> {
        let mut rooms = self.0.lock().unwrap_or_else(|e| e.into_inner());
        rooms
            .entry(room.to_owned())
            .or_insert_with(|| broadcast::channel(ROOM_CHANNEL).0)
            .clone()
    }
}

/// The fields of any client frame we look at, borrowed where possible.
#[derive(Deserialize)]
struct Incoming<'a> {
    #[serde(rename = "type", borrow)]
    kind: &'a str,
    #[serde(default, borrow)]
    id: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    room: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    name: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    text: Option<std::borrow::Cow<'a, str>>,
}

fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(options.listen).await?;
        println!("listening on http://{}", listener.local_addr()?);
        let app = Router::new()
            .route("/ws", get(upgrade))
            .with_state(Arc::new(Rooms::default()));
        let nodelay = options.nodelay;
        let listener = listener.tap_io(move |tcp| {
            if nodelay {
                let _ = tcp.set_nodelay(true);
            }
        });
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        Ok(())
    })
}

async fn upgrade(State(rooms): State<Arc<Rooms>>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| serve(socket, rooms))
}

struct Joined {
    room: String,
    tx: broadcast::Sender<Utf8Bytes>,
    rx: broadcast::Receiver<Utf8Bytes>,
}

async fn serve(mut socket: WebSocket, rooms: Arc<Rooms>) {
    let mut name = String::new();
    let mut joined: Option<Joined> = None;
    loop {
        let frame = async {
            match joined.as_mut() {
                Some(j) => j.rx.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            message = socket.recv() => match message {
                Some(Ok(Message::Text(text))) => {
                    let reply = handle(&text, &mut name, &mut joined, &rooms);
                    if let Some(reply) = reply
                        && socket.send(Message::Text(reply)).await.is_err()
                    {
                        return;
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
            frame = frame => {
                let first = match frame {
                    Ok(f) => f,
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                if socket.feed(Message::Text(first)).await.is_err() {
                    return;
                }
                if let Some(j) = joined.as_mut() {
                    for _ in 1..MAX_FRAMES_PER_FLUSH {
                        match j.rx.try_recv() {
                            Ok(f) => if socket.feed(Message::Text(f)).await.is_err() { return },
                            Err(broadcast::error::TryRecvError::Lagged(_)) => {}
                            Err(_) => break,
                        }
                    }
                }
                if socket.flush().await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Handles one client frame; returns a reply for this client only.
fn handle(
    text: &str,
    name: &mut String,
    joined: &mut Option<Joined>,
    rooms: &Rooms,
) -> Option<Utf8Bytes> {
    let incoming: Incoming = serde_json::from_str(text).ok()?;
    match incoming.kind {
        "hello" => {
            *name = incoming.name.unwrap_or_default().into_owned();
            let welcome = ServerEvent::Welcome {
                protocol: PROTOCOL_VERSION,
                server: concat!("bare-server/", env!("CARGO_PKG_VERSION")).into(),
                name: name.clone(),
                user: protocol::UserRef {
                    id: "u_0000000000000000".into(),
                    name: name.clone(),
                },
                device: protocol::DeviceRef {
                    id: "d_0000000000000000".into(),
                    name: "bare".into(),
                },
                credential: None,
                heartbeat_ms: 30_000,
                epoch: "bare".into(),
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
            };
            Some(protocol::encode(&welcome).into())
        }
        "join" => {
            let room = incoming.room?.into_owned();
            let tx = rooms.channel(&room);
            let rx = tx.subscribe();
            let state = ServerEvent::RoomState {
                room: room.clone(),
                users: Vec::new(),
                topic: None,
                modes: Default::default(),
            };
            *joined = Some(Joined { room, tx, rx });
            Some(protocol::encode(&state).into())
        }
        "send" => {
            let j = joined.as_ref()?;
            let message = ServerEvent::Message {
                room: j.room.clone(),
                seq: 0,
                ts: now_ms(),
                from: name.clone(),
                user: String::new(),
                id: incoming.id.unwrap_or_default().into_owned(),
                text: incoming.text.unwrap_or_default().into_owned(),
                action: false,
            };
            let _ = j.tx.send(protocol::encode(&message).into());
            None
        }
        _ => None,
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
