//! One task per client connection, from the handshake to the goodbye.
//!
//! - `handshake.rs`: `hello` in, `welcome` out.
//! - `dispatch.rs`: an identified client's requests, checked and handed to
//!   their rooms.
//! - `strikes.rs`: how many malformed frames a connection may send.
//! - `exit.rs`: the ways a connection ends, and the goodbye for each.
//! - `footprint.rs` (tests): size budgets for what an idle connection holds.
//! - here, the socket loop: one `select!`, so that no lock or second task is
//!   needed, that reads the client's frames (and dispatches them), writes
//!   whatever rooms queued for it (coalescing everything queued into one
//!   flush) and keeps the heartbeat. It also notices shutdown and being
//!   marked a slow consumer, and says why before it closes.
//!
//! Every write has a deadline: a client that stops reading blocks the
//! write, and is dropped when the deadline passes (or when the heartbeat
//! finds it silent, or the server shuts down), never held open for as long
//! as it likes.
//!
//! The loop works on any [`Socket`]: a stream and sink of WebSocket
//! messages. The HTTP side hands it axum's upgraded WebSocket; another
//! front end can hand it its own channel.

mod conversation;
mod deadline;
mod dispatch;
mod exit;
#[cfg(test)]
mod footprint;
mod handshake;
mod joined;
mod moderate;
mod strikes;

use std::future::Future;
use std::sync::Arc;
use std::task::Poll;

use axum::extract::ws::Message;
use futures::{Sink, SinkExt, Stream, StreamExt};
use protocol::{ErrorCode, ServerEvent};
use tokio::time::{Instant, MissedTickBehavior};

use crate::Shared;
use crate::conversations::Directory;
use crate::front::Hangup;
use crate::identity::SignedIn;
use crate::identity::keys::PreAuth;
use crate::outbound::{Outbound, Receiver};
use crate::rate_limit::TokenBucket;
use crate::room::RoomCommand;
use deadline::Deadline;
use dispatch::{Client, handle_text, queue_reply};
use exit::{
    Exit, credential_revoked, goodbye, heartbeat_timeout, read_failed, shutting_down, slow_consumer,
};
use handshake::handshake;
use joined::Joined;
use strikes::Strikes;

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

/// Serves one client until its connection closes. `hangup` resets the
/// connection when it closes, for a client that stopped reading.
///
/// Not an `async fn`, nor is [`serve_as`]: each idle connection keeps its
/// task's future for as long as it is open, and an `async fn` keeps its
/// arguments apart from the locals they are moved into, so every layer
/// would store the socket twice.
pub fn serve<S: Socket>(
    socket: S,
    shared: Arc<Shared>,
    hangup: Hangup,
) -> impl Future<Output = ()> + Send {
    serve_as(socket, shared, hangup, None)
}

/// Serves a client whose transport already authenticated its device (the
/// ssh entrance, in process): its `hello` signs in as that device, whatever
/// it says. Nothing from the network can ask for this.
pub fn serve_pre_authenticated<S: Socket>(
    socket: S,
    shared: Arc<Shared>,
    pre: PreAuth,
) -> impl Future<Output = ()> + Send {
    serve_as(socket, shared, Hangup::default(), Some(pre))
}

// An async block, not an `async fn`: its captures are its only copy.
#[allow(clippy::manual_async_fn)]
fn serve_as<S: Socket>(
    mut socket: S,
    shared: Arc<Shared>,
    hangup: Hangup,
    pre: Option<PreAuth>,
) -> impl Future<Output = ()> + Send {
    async move {
        let id = shared.next_connection_id();
        let _open = crate::metrics::OpenConnection::new();
        let (outbound, mut queue) = Outbound::new(id, shared.config.outbound_queue);
        let mut strikes = Strikes::new(&shared.config);

        let exit = match Box::pin(handshake(&mut socket, &shared, &mut strikes, pre.as_ref())).await
        {
            Ok(who) => {
                Box::pin(identified(
                    &mut socket,
                    &shared,
                    who,
                    outbound,
                    &mut queue,
                    strikes,
                ))
                .await
            }
            Err(exit) => {
                crate::metrics::refused(crate::metrics::Refused::Handshake);
                exit
            }
        };
        Box::pin(goodbye(socket, exit, &hangup)).await;
    }
}

/// An identified client, from its welcome to its leaving every room.
/// Boxed by the caller, so that its state exists only while it runs.
async fn identified<S: Socket>(
    socket: &mut S,
    shared: &Arc<Shared>,
    who: SignedIn,
    outbound: Outbound,
    queue: &mut Receiver,
    strikes: Strikes,
) -> Exit {
    let id = outbound.connection_id;
    tracing::debug!(connection = id, name = %who.name, user = %who.user, "identified");
    let revoked = shared.identities.attach(&who, id);
    let directory = shared.registry.directory().clone();
    directory.attach(&who.user, &who.name, &outbound);
    Box::pin(conversation::count_online(shared, &who.user, 1)).await;
    let mut client = Client {
        name: who.name.clone(),
        user: who.user.clone(),
        device: who.device.clone(),
        revoked,
        outbound,
        rooms: Joined::default(),
        bucket: TokenBucket::new(shared.config.rate_per_sec, shared.config.rate_burst),
        strikes,
        room_creations: TokenBucket::new(
            shared.config.room_create_rate,
            shared.config.room_create_burst,
        ),
    };
    let exit = run(socket, shared, &mut client, queue).await;
    Box::pin(leave_all(shared, client, &who, &directory)).await;
    exit
}

/// A closed connection leaves its rooms and is forgotten.
async fn leave_all(shared: &Shared, mut client: Client, who: &SignedIn, directory: &Directory) {
    let id = client.outbound.connection_id;
    for room in client.rooms.drain() {
        room.send(RoomCommand::Leave {
            connection_id: id,
            request_id: None,
        })
        .await;
    }
    directory.detach(&who.user, id);
    conversation::count_online(shared, &who.user, -1).await;
    shared.identities.detach(who, id).await;
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
    // Made once rather than every turn: each registers with its token (a
    // lock, the shutdown token's shared by every connection) when first
    // polled and again when dropped.
    let shutdown = shared.shutdown.cancelled();
    let revoked_token = client.revoked.clone();
    let revoked = revoked_token.cancelled();
    tokio::pin!(shutdown, revoked);

    loop {
        let silent_after = last_heard + period * 2;
        tokio::select! {
            biased;
            () = &mut shutdown => return shutting_down(),
            r = queue.recv_many(&mut batch, MAX_FRAMES_PER_FLUSH) => {
                if r.is_err() {
                    return slow_consumer();
                }
                let bytes = batch.iter().map(|f| f.as_str().len()).sum();
                let frames = batch.drain(..).map(|f| Message::Text(f.into_text()));
                let guard = WriteGuard { queue, shared, silent_after };
                // Boxed: this state is large and only exists while writing.
                if let Some(exit) = Box::pin(guard.write(socket, frames)).await {
                    return exit;
                }
                crate::metrics::bytes_out(bytes);
            }
            // After the queue: the `ack` of a logout from this very device
            // is written before the close.
            () = &mut revoked => return credential_revoked(),
            message = socket.next() => {
                last_heard = Instant::now();
                let handled = match message {
                    Some(Ok(Message::Text(text))) => Box::pin(handle_text(shared, client, &text)).await,
                    Some(Ok(Message::Binary(_))) => client.strikes.strike().map(|()| {
                        client.bucket.try_take();
                        queue_reply(client, &binary_refused());
                    }),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {
                        // Control frames cost a token too; a flood of them
                        // (each ping is answered) counts as malformed.
                        if client.bucket.try_take() { Ok(()) } else { client.strikes.strike() }
                    }
                    Some(Ok(Message::Close(_))) => return Exit::ClosedByClient,
                    None => return Exit::Gone,
                    Some(Err(e)) => return read_failed(e),
                };
                if let Err(exit) = handled {
                    return exit;
                }
            }
            _ = heartbeat.tick() => {
                if last_heard.elapsed() >= period * 2 {
                    return heartbeat_timeout();
                }
                // What a burst grew is kept while the client is busy and
                // given back once it is quiet.
                queue.trim();
                if batch.capacity() > MAX_FRAMES_PER_FLUSH / 4 {
                    batch = Vec::new();
                }
                let ping = std::iter::once(Message::Ping(Default::default()));
                let guard = WriteGuard { queue, shared, silent_after };
                if let Some(exit) = Box::pin(guard.write(socket, ping)).await {
                    return exit;
                }
            }
        }
    }
}

/// What may interrupt a write: its deadline, the client being found too
/// slow (a client that stops reading blocks the write; the room notices its
/// full queue and marks it), the server shutting down, or the heartbeat
/// finding the client silent for too long. The heartbeat thus keeps
/// running while a write is blocked.
struct WriteGuard<'a> {
    queue: &'a Receiver,
    shared: &'a Shared,
    /// When the client counts as gone unless heard from.
    silent_after: Instant,
}

impl WriteGuard<'_> {
    /// Writes `messages` and flushes them. Each step (a message, the flush)
    /// must get into the socket within the write timeout.
    async fn write<S: Socket>(
        self,
        socket: &mut S,
        messages: impl Iterator<Item = Message>,
    ) -> Option<Exit> {
        let stalled = || {
            tracing::debug!("write timed out: the client is not reading");
            crate::metrics::slow_consumer();
            Exit::Stalled
        };
        let write = async {
            // One timer for the whole write, armed only by a step that waits.
            let mut deadline = Deadline::new(self.shared.config.write_timeout);
            for message in messages {
                deadline
                    .within(socket.feed(message))
                    .await
                    .ok_or_else(stalled)?
                    .map_err(|_| Exit::Gone)?;
            }
            deadline
                .within(socket.flush())
                .await
                .ok_or_else(stalled)?
                .map_err(|_| Exit::Gone)
        };
        let mut write = std::pin::pin!(write);
        // Most writes fit into the socket at once and need none of the
        // guards below, each of which registers with a token, the queue or
        // the timer (and unregisters) every time it is polled first.
        if let Poll::Ready(r) = futures::poll!(write.as_mut()) {
            return r.err();
        }
        tokio::select! {
            r = write => r.err(),
            () = self.queue.slowed() => Some(slow_consumer()),
            () = self.shared.shutdown.cancelled() => Some(shutting_down()),
            () = tokio::time::sleep_until(self.silent_after) => Some(heartbeat_timeout()),
        }
    }
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
