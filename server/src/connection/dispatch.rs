//! Request dispatch for an identified client: decodes a text frame,
//! checks it (request id, rate limit, validation), and hands it to the room
//! it is for. Every frame costs a rate-limit token, and malformed ones also
//! a strike. Whoever decides a request answers it with its one `ack`: a
//! refusal here is queued behind whatever rooms queued before it; a request
//! that reaches a room is answered by the room.

use std::collections::HashMap;
use std::sync::Arc;

use protocol::{ClientEvent, ErrorCode, ServerEvent, ValidationError, validate};
use tokio_util::sync::CancellationToken;

use super::decode_error;
use super::exit::Exit;
use super::strikes::Strikes;
use crate::Shared;
use crate::outbound::Outbound;
use crate::rate_limit::TokenBucket;
use crate::registry::RoomHandle;
use crate::room::{JoinError, Member, Post, RoomCommand};

/// An identified client.
#[derive(Debug)]
pub(super) struct Client {
    pub name: Arc<str>,
    pub user: Arc<str>,
    pub device: Arc<str>,
    /// Cancelled when this device is signed out.
    pub revoked: CancellationToken,
    pub outbound: Outbound,
    /// The rooms it is in, by name.
    pub rooms: HashMap<String, RoomHandle>,
    pub bucket: TokenBucket,
    pub strikes: Strikes,
    /// Rooms this client may start (join while nobody is in them).
    pub room_creations: TokenBucket,
}

/// Why a request was refused here (the `ack` says it).
#[derive(Debug, thiserror::Error)]
enum Refusal {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("already identified")]
    AlreadyIdentified,
    #[error("already in room {0}")]
    AlreadyInRoom(String),
    #[error("a connection may be in at most {0} rooms; leave one first")]
    TooManyRooms(usize),
    #[error("not in room {0}; join it first")]
    NotInRoom(String),
    #[error(transparent)]
    Join(JoinError),
    #[error("no device {0} of yours")]
    NoSuchDevice(String),
    #[error("the identity store cannot be reached right now; nothing was done")]
    Store(#[from] crate::identity::StoreError),
    #[error("this server does not handle {0} requests yet")]
    NotHandled(&'static str),
}

impl Refusal {
    fn code(&self) -> ErrorCode {
        match self {
            Refusal::Invalid(e) => e.code(),
            Refusal::AlreadyIdentified => ErrorCode::AlreadyIdentified,
            Refusal::AlreadyInRoom(_) => ErrorCode::AlreadyInRoom,
            Refusal::TooManyRooms(_) => ErrorCode::TooManyRooms,
            Refusal::NotInRoom(_) => ErrorCode::NotInRoom,
            Refusal::Join(JoinError::ServerFull(_)) => ErrorCode::TooManyRooms,
            Refusal::Join(JoinError::CreatingTooFast) => ErrorCode::RateLimited,
            Refusal::Join(_) => ErrorCode::Internal,
            Refusal::NoSuchDevice(_) => ErrorCode::NotFound,
            Refusal::Store(_) => ErrorCode::Unavailable,
            Refusal::NotHandled(_) => ErrorCode::UnknownType,
        }
    }
}

/// Queues an answer to this client behind whatever rooms queued before it.
pub(super) fn queue_reply(client: &Client, event: &ServerEvent) {
    // A full queue marks the client slow; the loop then closes it.
    let _ = client.outbound.send(event);
}

/// Handles one text frame from an identified client. `Err` once the
/// client sent too many malformed frames.
pub(super) async fn handle_text(
    shared: &Arc<Shared>,
    client: &mut Client,
    text: &str,
) -> Result<(), Exit> {
    // Every frame costs a token, whatever it holds, so garbage cannot be
    // cheaper than requests.
    let has_token = client.bucket.try_take();
    let event = match protocol::decode_client(text) {
        Ok(event) => event,
        Err(e) => {
            client.strikes.strike()?;
            let answer = match e.id.clone() {
                Some(id) if !has_token => rate_limited(id),
                _ => decode_error(e),
            };
            queue_reply(client, &answer);
            return Ok(());
        }
    };
    let Some(id) = event.request_id().map(str::to_owned) else {
        client.strikes.strike()?;
        queue_reply(
            client,
            &ServerEvent::error(
                ErrorCode::AlreadyIdentified,
                "already identified; hello is sent once",
            ),
        );
        return Ok(());
    };
    if let Err(e) = validate::request_id(&id) {
        client.strikes.strike()?;
        queue_reply(client, &ServerEvent::error(e.code(), e.to_string()));
        return Ok(());
    }
    if !has_token {
        queue_reply(client, &rate_limited(id));
        return Ok(());
    }
    if let Err(refusal) = dispatch(shared, client, event, &id).await {
        queue_reply(
            client,
            &ServerEvent::ack_err(id, refusal.code(), refusal.to_string()),
        );
    }
    Ok(())
}

fn rate_limited(id: String) -> ServerEvent {
    crate::metrics::rate_limited();
    ServerEvent::ack_err(
        id,
        ErrorCode::RateLimited,
        "too many requests; slow down and retry",
    )
}

/// Sends a checked request on to its room.
async fn dispatch(
    shared: &Arc<Shared>,
    client: &mut Client,
    event: ClientEvent,
    id: &str,
) -> Result<(), Refusal> {
    match event {
        // `handle_text` answers a second hello (it has no id) before here.
        ClientEvent::Hello { .. } => Err(Refusal::AlreadyIdentified),
        ClientEvent::Join {
            room, since, epoch, ..
        } => {
            validate::room_name(&room)?;
            if client.rooms.contains_key(&room) {
                return Err(Refusal::AlreadyInRoom(room));
            }
            let max = shared.config.max_rooms_per_connection;
            if client.rooms.len() >= max {
                return Err(Refusal::TooManyRooms(max));
            }
            let member = Member {
                name: client.name.clone(),
                user: client.user.clone(),
                device: client.device.clone(),
                outbound: client.outbound.clone(),
            };
            match shared
                .registry
                .join(
                    &room,
                    member,
                    id,
                    since,
                    epoch.as_deref(),
                    &mut client.room_creations,
                )
                .await
            {
                Ok(handle) => {
                    client.rooms.insert(room, handle);
                    Ok(())
                }
                // The room already sent the refusal (name taken) or dropped
                // the client (slow); only an unreachable room is left to say.
                Err(JoinError::Refused(_)) => Ok(()),
                Err(e) => Err(Refusal::Join(e)),
            }
        }
        ClientEvent::Leave { room, .. } => {
            let Some(handle) = client.rooms.remove(&room) else {
                return Err(Refusal::NotInRoom(room));
            };
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
            let command = RoomCommand::History {
                connection_id: client.outbound.connection_id,
                request_id: id.to_owned(),
                before,
                limit,
            };
            to_room(client, room, command).await
        }
        ClientEvent::Send {
            room, text, action, ..
        } => {
            validate::message_text(&text)?;
            let post = Post::Text { text, action };
            to_room(client, room, posted(client, id, post)).await
        }
        ClientEvent::Location {
            room,
            latitude,
            longitude,
            ..
        } => {
            validate::location(latitude, longitude)?;
            let post = Post::Location {
                latitude,
                longitude,
            };
            to_room(client, room, posted(client, id, post)).await
        }
        ClientEvent::Ping { .. } => {
            queue_reply(client, &ServerEvent::ack_ok(id, None));
            Ok(())
        }
        ClientEvent::Link { .. } => {
            let identities = &shared.identities;
            let ttl = identities.config().link_ttl;
            let (code, expires_ts) = identities.link_code(&client.user, ttl).await?;
            queue_reply(client, &ServerEvent::LinkCode { code, expires_ts });
            queue_reply(client, &ServerEvent::ack_ok(id, None));
            Ok(())
        }
        ClientEvent::Devices { .. } => {
            let devices = shared
                .identities
                .devices(&client.user, &client.device)
                .await?;
            queue_reply(client, &ServerEvent::Devices { devices });
            queue_reply(client, &ServerEvent::ack_ok(id, None));
            Ok(())
        }
        ClientEvent::Logout { device, .. } => {
            let device = device.unwrap_or_else(|| client.device.to_string());
            if !shared.identities.logout(&client.user, &device).await? {
                return Err(Refusal::NoSuchDevice(device));
            }
            // Queued before the connection loop sees its own revocation
            // (if it signed itself out): the answer is written first.
            queue_reply(client, &ServerEvent::ack_ok(id, None));
            Ok(())
        }
        ClientEvent::Query { .. } => Err(Refusal::NotHandled("query")),
        ClientEvent::Nick { .. } => Err(Refusal::NotHandled("nick")),
        ClientEvent::Away { .. } => Err(Refusal::NotHandled("away")),
        ClientEvent::Back { .. } => Err(Refusal::NotHandled("back")),
        ClientEvent::Whois { .. } => Err(Refusal::NotHandled("whois")),
        ClientEvent::List { .. } => Err(Refusal::NotHandled("list")),
        ClientEvent::Topic { .. } => Err(Refusal::NotHandled("topic")),
    }
}

fn posted(client: &Client, id: &str, post: Post) -> RoomCommand {
    RoomCommand::Post {
        connection_id: client.outbound.connection_id,
        request_id: id.to_owned(),
        post,
    }
}

/// Sends a command to a room the client is in. A room that has stopped
/// (it retired after dropping this client as a slow consumer) is forgotten.
async fn to_room(client: &mut Client, room: String, command: RoomCommand) -> Result<(), Refusal> {
    let Some(handle) = client.rooms.get(&room) else {
        return Err(Refusal::NotInRoom(room));
    };
    if handle.send(command).await {
        Ok(())
    } else {
        client.rooms.remove(&room);
        Err(Refusal::NotInRoom(room))
    }
}
