//! Request dispatch for an identified client: decodes a text frame,
//! checks it (request id, rate limit, validation), and hands it to the room
//! it is for. Every frame costs a rate-limit token, and malformed ones also
//! a strike. Whoever decides a request answers it with its one `ack`: a
//! refusal here is queued behind whatever rooms queued before it; a request
//! that reaches a room is answered by the room.

use std::sync::Arc;

use protocol::{ClientEvent, ErrorCode, ServerEvent, ValidationError, dm, validate};
use tokio_util::sync::CancellationToken;

use super::conversation;
use super::decode_error;
use super::exit::Exit;
use super::joined::Joined;
use super::moderate;
use super::strikes::Strikes;
use crate::Shared;
use crate::outbound::Outbound;
use crate::rate_limit::TokenBucket;
use crate::room::{JoinError, Member, Post, Resume, RoomCommand};

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
    pub rooms: Joined,
    pub bucket: TokenBucket,
    pub strikes: Strikes,
    /// Rooms this client may start (join while nobody is in them).
    pub room_creations: TokenBucket,
}

/// Why a request was refused here (the `ack` says it).
#[derive(Debug, thiserror::Error)]
pub(super) enum Refusal {
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
    #[error("no conversation or room called {0}")]
    NoConversation(String),
    #[error("nobody is called {0}")]
    NoSuchName(String),
    #[error("that is your own name; /query someone else")]
    QueryYourself,
    #[error("the name {0} (or one that looks the same) belongs to someone else; pick another")]
    NameTaken(String),
    #[error("conversations have no topic; topics are for rooms")]
    NoTopicHere,
    #[error("the chat cluster cannot reach its shared store right now; try again ({0})")]
    Cluster(String),
    #[error("{1}")]
    Moderation(ErrorCode, String),
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
            Refusal::NoConversation(_) | Refusal::NoSuchName(_) => ErrorCode::NotFound,
            Refusal::QueryYourself => ErrorCode::InvalidName,
            Refusal::NameTaken(_) => ErrorCode::NameClaimed,
            Refusal::NoTopicHere => ErrorCode::InvalidRoom,
            Refusal::Cluster(_) => ErrorCode::Unavailable,
            Refusal::Moderation(code, _) => *code,
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
    if let Some(room) = room_named(&event) {
        forget_if_removed(shared, client, room);
    }
    match event {
        // `handle_text` answers a second hello (it has no id) before here.
        ClientEvent::Hello { .. } => Err(Refusal::AlreadyIdentified),
        ClientEvent::Join {
            room, since, epoch, ..
        } => {
            if dm::is_dm(&room) {
                conversation::dm_access(shared, client, &room).await?;
                close_quietly(shared, client, &room).await;
            } else {
                validate::room_name(&room)?;
            }
            join_room(shared, client, room, id, since, epoch, false).await
        }
        ClientEvent::Query { name, .. } => {
            let room = conversation::query_key(shared, client, &name).await?;
            close_quietly(shared, client, &room).await;
            join_room(shared, client, room, id, None, None, false).await
        }
        ClientEvent::Leave { room, .. } => {
            if dm::is_dm(&room) {
                conversation::dm_access(shared, client, &room).await?;
            }
            let Some(handle) = client.rooms.remove(&room) else {
                return Err(Refusal::NotInRoom(room));
            };
            if !dm::is_dm(&room) {
                remember_room(shared, client, &room, false).await;
            }
            let directory = shared.registry.directory();
            directory.in_room(&client.user, client.outbound.connection_id, &room, false);
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
            open_dm(shared, client, &room, id).await?;
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
            open_dm(shared, client, &room, id).await?;
            let post = Post::Text { text, action };
            let is_dm = dm::is_dm(&room);
            to_room(client, room.clone(), posted(client, id, post)).await?;
            if is_dm {
                conversation::away_notice(shared, client, &room).await;
            }
            Ok(())
        }
        ClientEvent::Location {
            room,
            latitude,
            longitude,
            ..
        } => {
            validate::location(latitude, longitude)?;
            open_dm(shared, client, &room, id).await?;
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
        ClientEvent::Nick { name, .. } => conversation::nick(shared, client, id, &name).await,
        ClientEvent::Away { reason, .. } => {
            let reason = reason.unwrap_or_default();
            conversation::away(shared, client, id, Some(&reason)).await
        }
        ClientEvent::Back { .. } => conversation::away(shared, client, id, None).await,
        ClientEvent::Whois { name, .. } => conversation::whois(shared, client, id, &name).await,
        ClientEvent::List { .. } => conversation::list(shared, client, id).await,
        ClientEvent::Topic { room, text, .. } => {
            if dm::is_dm(&room) {
                conversation::dm_access(shared, client, &room).await?;
                return Err(Refusal::NoTopicHere);
            }
            validate::room_name(&room)?;
            let text = validate::topic(&text)?.to_owned();
            to_room(client, room, posted(client, id, Post::Topic { text })).await
        }
        event @ (ClientEvent::Moderate { .. }
        | ClientEvent::Mode { .. }
        | ClientEvent::Modlog { .. }) => moderate::request(shared, client, event, id).await,
    }
}

/// Adds the client to `room` (checked by the caller): `silent` for a
/// conversation used without being opened (no answer; the request that
/// needed it is answered by the room).
async fn join_room(
    shared: &Arc<Shared>,
    client: &mut Client,
    room: String,
    id: &str,
    since: Option<protocol::Seq>,
    epoch: Option<String>,
    silent: bool,
) -> Result<(), Refusal> {
    if client.rooms.contains_key(&room) {
        return Err(Refusal::AlreadyInRoom(room));
    }
    let max = shared.config.max_rooms_per_connection;
    if client.rooms.len() >= max {
        return Err(Refusal::TooManyRooms(max));
    }
    let directory = shared.registry.directory();
    let member = Member {
        name: directory
            .name_of(&client.user)
            .unwrap_or_else(|| client.name.clone()),
        user: client.user.clone(),
        device: client.device.clone(),
        outbound: client.outbound.clone(),
    };
    let joined = shared
        .registry
        .join(
            &room,
            member,
            id,
            Resume {
                since,
                epoch,
                silent,
            },
            &mut client.room_creations,
        )
        .await;
    match joined {
        Ok(handle) => {
            directory.in_room(&client.user, client.outbound.connection_id, &room, true);
            if !silent && !dm::is_dm(&room) {
                remember_room(shared, client, &room, true).await;
            }
            client.rooms.insert(room, handle);
            Ok(())
        }
        // The room already sent the refusal (name taken) or dropped
        // the client (slow); only an unreachable room is left to say.
        Err(JoinError::Refused(_)) => Ok(()),
        Err(e) => Err(Refusal::Join(e)),
    }
}

/// Records a room joined or left on purpose among the identity's last
/// rooms (what `ssh host` opens without room arguments). A store that
/// cannot take it does not stop the request.
async fn remember_room(shared: &Shared, client: &Client, room: &str, joined: bool) {
    let store = shared.identities.store();
    let done = match joined {
        true => store.room_joined(&client.user, room).await,
        false => store.room_left(&client.user, room).await,
    };
    if let Err(e) = done {
        tracing::debug!(error = %e, room, "last rooms not updated");
    }
}

/// For a request naming a conversation: checks who may use it, and adds
/// the client to it silently if it has not opened it.
async fn open_dm(
    shared: &Arc<Shared>,
    client: &mut Client,
    room: &str,
    id: &str,
) -> Result<(), Refusal> {
    if !dm::is_dm(room) {
        return Ok(());
    }
    conversation::dm_access(shared, client, room).await?;
    if client.rooms.contains_key(room) {
        return Ok(());
    }
    join_room(shared, client, room.to_owned(), id, None, None, true).await
}

/// Takes the client out of conversation `room` without an answer, so that
/// opening it again answers with its state and history.
async fn close_quietly(shared: &Arc<Shared>, client: &mut Client, room: &str) {
    if let Some(handle) = client.rooms.remove(room) {
        let connection_id = client.outbound.connection_id;
        shared
            .registry
            .directory()
            .in_room(&client.user, connection_id, room, false);
        handle
            .send(RoomCommand::Leave {
                connection_id,
                request_id: None,
            })
            .await;
    }
}

fn posted(client: &Client, id: &str, post: Post) -> RoomCommand {
    RoomCommand::Post {
        connection_id: client.outbound.connection_id,
        request_id: id.to_owned(),
        post,
    }
}

/// The room a request names.
fn room_named(event: &ClientEvent) -> Option<&str> {
    match event {
        ClientEvent::Join { room, .. }
        | ClientEvent::Leave { room, .. }
        | ClientEvent::History { room, .. }
        | ClientEvent::Send { room, .. }
        | ClientEvent::Location { room, .. }
        | ClientEvent::Topic { room, .. }
        | ClientEvent::Moderate { room, .. }
        | ClientEvent::Mode { room, .. }
        | ClientEvent::Modlog { room, .. } => Some(room),
        _ => None,
    }
}

/// Forgets `room` if the room took this connection out (a kick or ban).
fn forget_if_removed(shared: &Shared, client: &mut Client, room: &str) {
    let connection_id = client.outbound.connection_id;
    let directory = shared.registry.directory();
    if client.rooms.contains_key(room) && !directory.is_in_room(&client.user, connection_id, room) {
        client.rooms.remove(room);
    }
}

/// Sends a command to a room the client is in. A room that has stopped
/// (it retired after dropping this client as a slow consumer) is forgotten,
/// and so is one that took the client out.
pub(super) async fn to_room(
    client: &mut Client,
    room: String,
    command: RoomCommand,
) -> Result<(), Refusal> {
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
