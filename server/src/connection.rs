//! The connection loop: one task per WebSocket client.
//!
//! It does three things, in one `select!` so that no lock or second task is
//! needed: reads and handles the client's frames, writes whatever rooms
//! queued for it (coalescing everything queued into one flush), and keeps
//! the heartbeat. It also notices shutdown and being marked a slow consumer,
//! and says why before it closes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures::SinkExt;
use protocol::{ClientEvent, ErrorCode, PROTOCOL_VERSION, ServerEvent, close, validate};
use tokio::time::{Instant, MissedTickBehavior};

use crate::Shared;
use crate::frame::Frame;
use crate::outbound::Outbound;
use crate::rate_limit::TokenBucket;
use crate::registry::RoomHandle;
use crate::room::{JoinError, Member, Post, RoomCommand};

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
        error: Option<(ErrorCode, String)>,
        code: u16,
        reason: &'static str,
    },
}

/// An identified client.
struct Client {
    name: Arc<str>,
    outbound: Outbound,
    rooms: HashMap<String, RoomHandle>,
    bucket: TokenBucket,
}

/// Serves one upgraded WebSocket until it closes.
pub async fn serve(mut socket: WebSocket, shared: Arc<Shared>) {
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

/// Waits for a valid `hello` and answers it with `welcome`.
async fn handshake(socket: &mut WebSocket, shared: &Shared) -> Result<Arc<str>, Exit> {
    let deadline = Instant::now() + shared.config.handshake_timeout;
    loop {
        let message = tokio::select! {
            m = socket.recv() => m,
            () = tokio::time::sleep_until(deadline) => return Err(Exit::Close {
                error: Some((ErrorCode::NotIdentified, "no hello received in time".into())),
                code: close::HANDSHAKE_FAILED,
                reason: "no hello",
            }),
            () = shared.shutdown.cancelled() => return Err(shutting_down()),
        };
        let text = match message {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Binary(_))) => {
                reply(socket, &binary_refused()).await?;
                continue;
            }
            Some(Ok(Message::Close(_))) | None => return Err(Exit::Gone),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(read_failed(e)),
        };
        let answer = match protocol::decode_client(&text) {
            Ok(ClientEvent::Hello { protocol, .. }) if protocol != PROTOCOL_VERSION => {
                return Err(Exit::Close {
                    error: Some((
                        ErrorCode::UnsupportedVersion,
                        format!(
                            "this server speaks protocol {PROTOCOL_VERSION}, your client speaks {protocol}; please upgrade your client"
                        ),
                    )),
                    code: close::UNSUPPORTED_VERSION,
                    reason: "unsupported protocol version",
                });
            }
            Ok(ClientEvent::Hello { name, .. }) => match validate::display_name(&name) {
                Ok(name) => {
                    let welcome = ServerEvent::Welcome {
                        protocol: PROTOCOL_VERSION,
                        server: concat!("chat-server/", env!("CARGO_PKG_VERSION")).into(),
                        name: name.to_owned(),
                        limits: shared.config.limits(),
                        epoch: shared.registry.backend().epoch().to_owned(),
                    };
                    reply(socket, &welcome).await?;
                    return Ok(Arc::from(name));
                }
                Err(e) => ServerEvent::error(e.code(), e.to_string()),
            },
            Ok(other) => match other.request_id() {
                Some(id) => ServerEvent::ack_err(id, ErrorCode::NotIdentified, "send hello first"),
                None => ServerEvent::error(ErrorCode::NotIdentified, "send hello first"),
            },
            Err(e) => decode_error(e),
        };
        reply(socket, &answer).await?;
    }
}

async fn reply(socket: &mut WebSocket, event: &ServerEvent) -> Result<(), Exit> {
    socket
        .send(Message::Text(Frame::encode(event).into_text()))
        .await
        .map_err(|_| Exit::Gone)
}

/// The main loop of an identified client.
async fn run(
    socket: &mut WebSocket,
    shared: &Arc<Shared>,
    client: &mut Client,
    queue: &mut crate::outbound::Receiver,
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
            message = socket.recv() => {
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
async fn write_or_stop(
    socket: &mut WebSocket,
    batch: &mut Vec<Frame>,
    queue: &crate::outbound::Receiver,
    shared: &Shared,
) -> Option<Exit> {
    tokio::select! {
        r = write_batch(socket, batch) => r.err().map(|_| Exit::Gone),
        () = queue.slowed() => Some(slow_consumer()),
        () = shared.shutdown.cancelled() => Some(shutting_down()),
    }
}

async fn write_batch(socket: &mut WebSocket, batch: &mut Vec<Frame>) -> Result<(), axum::Error> {
    for frame in batch.drain(..) {
        socket.feed(Message::Text(frame.into_text())).await?;
    }
    socket.flush().await
}

/// Queues an answer to this client behind whatever rooms queued before it.
fn queue_reply(client: &Client, event: &ServerEvent) {
    // A full queue marks the client slow; the loop then closes it.
    let _ = client.outbound.send(event);
}

async fn handle_text(shared: &Arc<Shared>, client: &mut Client, text: &str) {
    let event = match protocol::decode_client(text) {
        Ok(event) => event,
        Err(e) => {
            // Malformed frames cost a token too, so garbage cannot be cheaper
            // than requests.
            client.bucket.try_take();
            return queue_reply(client, &decode_error(e));
        }
    };
    let Some(id) = event.request_id().map(str::to_owned) else {
        return queue_reply(
            client,
            &ServerEvent::error(
                ErrorCode::AlreadyIdentified,
                "already identified; hello is sent once",
            ),
        );
    };
    if let Err(e) = validate::request_id(&id) {
        return queue_reply(client, &ServerEvent::error(e.code(), e.to_string()));
    }
    if !client.bucket.try_take() {
        return queue_reply(
            client,
            &ServerEvent::ack_err(
                id,
                ErrorCode::RateLimited,
                "too many requests; slow down and retry",
            ),
        );
    }
    if let Err((code, message)) = handle_request(shared, client, event, &id).await {
        queue_reply(client, &ServerEvent::ack_err(id, code, message));
    }
}

type Refusal = (ErrorCode, String);

fn invalid(e: protocol::ValidationError) -> Refusal {
    (e.code(), e.to_string())
}

async fn handle_request(
    shared: &Arc<Shared>,
    client: &mut Client,
    event: ClientEvent,
    id: &str,
) -> Result<(), Refusal> {
    match event {
        // `handle_text` answers a second hello (it has no id) before here.
        ClientEvent::Hello { .. } => {
            Err((ErrorCode::AlreadyIdentified, "already identified".into()))
        }
        ClientEvent::Join {
            room, since, epoch, ..
        } => {
            validate::room_name(&room).map_err(invalid)?;
            if client.rooms.contains_key(&room) {
                return Err((ErrorCode::AlreadyInRoom, format!("already in room {room}")));
            }
            let max = shared.config.max_rooms_per_connection;
            if client.rooms.len() >= max {
                return Err((
                    ErrorCode::TooManyRooms,
                    format!("a connection may be in at most {max} rooms; leave one first"),
                ));
            }
            let member = Member {
                name: client.name.clone(),
                outbound: client.outbound.clone(),
            };
            match shared
                .registry
                .join(&room, member, id, since, epoch.as_deref())
                .await
            {
                Ok(handle) => {
                    client.rooms.insert(room, handle);
                    Ok(())
                }
                // The room already sent the refusal (name taken) or dropped
                // the client (slow); only an unreachable room is left to say.
                Err(e @ JoinError::Unreachable) => Err((ErrorCode::Internal, e.to_string())),
                Err(JoinError::Refused(_)) => Ok(()),
            }
        }
        ClientEvent::Leave { room, .. } => {
            let handle = client
                .rooms
                .remove(&room)
                .ok_or_else(|| not_in_room(&room))?;
            handle
                .send(RoomCommand::Leave {
                    connection_id: client.outbound.connection_id,
                    request_id: Some(id.to_owned()),
                })
                .await;
            Ok(())
        }
        ClientEvent::History {
            room,
            before,
            limit,
            ..
        } => {
            let handle = client.rooms.get(&room).ok_or_else(|| not_in_room(&room))?;
            let sent = handle
                .send(RoomCommand::History {
                    connection_id: client.outbound.connection_id,
                    request_id: id.to_owned(),
                    before,
                    limit,
                })
                .await;
            if sent {
                Ok(())
            } else {
                client.rooms.remove(&room);
                Err(not_in_room(&room))
            }
        }
        ClientEvent::Send {
            room, text, action, ..
        } => {
            validate::message_text(&text).map_err(invalid)?;
            post(client, &room, id, Post::Text { text, action }).await
        }
        ClientEvent::Location {
            room,
            latitude,
            longitude,
            ..
        } => {
            validate::location(latitude, longitude).map_err(invalid)?;
            post(
                client,
                &room,
                id,
                Post::Location {
                    latitude,
                    longitude,
                },
            )
            .await
        }
    }
}

async fn post(client: &mut Client, room: &str, id: &str, post: Post) -> Result<(), Refusal> {
    let handle = client.rooms.get(room).ok_or_else(|| not_in_room(room))?;
    let sent = handle
        .send(RoomCommand::Post {
            connection_id: client.outbound.connection_id,
            request_id: id.to_owned(),
            post,
        })
        .await;
    if sent {
        Ok(())
    } else {
        client.rooms.remove(room);
        Err(not_in_room(room))
    }
}

fn not_in_room(room: &str) -> Refusal {
    (
        ErrorCode::NotInRoom,
        format!("not in room {room}; join it first"),
    )
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
        error: Some((
            ErrorCode::ShuttingDown,
            "the server is shutting down; reconnect later".into(),
        )),
        code: close::GOING_AWAY,
        reason: "server shutting down",
    }
}

fn slow_consumer() -> Exit {
    Exit::Close {
        error: Some((
            ErrorCode::SlowConsumer,
            "you did not read messages fast enough and were disconnected; reconnect".into(),
        )),
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
async fn goodbye(mut socket: WebSocket, exit: Exit) {
    let Exit::Close {
        error,
        code,
        reason,
    } = exit
    else {
        return;
    };
    let farewell = async {
        if let Some((code, message)) = error {
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
        while let Some(Ok(m)) = socket.recv().await {
            if matches!(m, Message::Close(_)) {
                break;
            }
        }
        Ok::<(), axum::Error>(())
    };
    let _ = tokio::time::timeout(GOODBYE_TIMEOUT, farewell).await;
}
