//! The network actor: one task that owns the WebSocket.
//!
//! The UI talks to it through a [`NetHandle`]: commands go in on one bounded
//! channel, [`NetEvent`]s come out on another. The UI never awaits the
//! socket; it only `try_send`s. When the connection drops the actor reports
//! it, waits with exponential backoff and jitter (the outbox rulebook's
//! schedule: attempt n waits `backoff(n)`), connects again and says hello;
//! the app then rejoins its rooms.
//!
//! Frames are bounded: the socket takes at most
//! [`protocol::limits::LEGACY_SERVER_FRAME_BYTES`], and once the server has
//! announced its own bound (`max_server_frame_bytes`), a frame over that
//! ends the connection with [`NetEvent::FrameTooLarge`], so the app can
//! rejoin without asking for the same answer again.

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use protocol::{ClientEvent, ErrorCode, ServerEvent};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::{Message, error::CapacityError};

use crate::dial::Endpoint;
use handshake::close_reason;
use liveness::{Due, Liveness};
use transport::{BoxSocket, Dialer, EndpointDialer};

mod account;
mod handshake;
mod liveness;
pub mod transport;

pub use account::{Account, Refusal, SignIn};
pub use handshake::{
    ConnectError, DEFAULT_HEARTBEAT, HANDSHAKE_TIMEOUT, Welcome, connect, connect_with,
};

/// Keeps error text to one line.
pub(crate) fn one_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).to_string()
}

/// Frames from the UI waiting to be written.
const COMMAND_QUEUE: usize = 256;
/// Events waiting for the UI. Generous, so a busy room does not make the
/// socket wait for a redraw.
const EVENT_QUEUE: usize = 4096;

/// What the actor tells the UI.
///
/// The big payloads are boxed: a tokio channel holds its messages in
/// blocks of 32 slots of the message's size, one block even when empty,
/// and an ssh session keeps this channel for as long as it is connected.
#[derive(Debug, Clone, PartialEq)]
pub enum NetEvent {
    /// Trying to connect (again); `attempt` counts from 1 after a loss.
    Connecting { attempt: u32 },
    /// Connected and identified: the welcome (its `epoch` is the server's
    /// message-store epoch; sequence numbers from another epoch mean
    /// nothing).
    Connected(Box<Welcome>),
    /// A frame from the server.
    Server(Box<ServerEvent>),
    /// The server sent a frame of `size` bytes, more than the `limit` this
    /// client takes from it; the connection is dropped (a `Disconnected`
    /// follows).
    FrameTooLarge { size: usize, limit: usize },
    /// The connection is gone; the next attempt is in `retry_in`.
    Disconnected { reason: String, retry_in: Duration },
    /// The server will never accept us (bad name, other protocol version).
    Fatal(String),
}

/// What the UI asks of the actor (boxed, like [`NetEvent`]'s payloads).
#[derive(Debug, Clone, PartialEq)]
pub enum NetCommand {
    Send(Box<ClientEvent>),
    /// Close the connection politely and stop.
    Shutdown,
}

impl From<Welcome> for NetEvent {
    fn from(welcome: Welcome) -> Self {
        NetEvent::Connected(Box::new(welcome))
    }
}

impl From<ServerEvent> for NetEvent {
    fn from(event: ServerEvent) -> Self {
        NetEvent::Server(Box::new(event))
    }
}

impl From<ClientEvent> for NetCommand {
    fn from(event: ClientEvent) -> Self {
        NetCommand::Send(Box::new(event))
    }
}

/// The UI's end of the actor.
#[derive(Debug)]
pub struct NetHandle {
    pub commands: mpsc::Sender<NetCommand>,
    pub events: mpsc::Receiver<NetEvent>,
    pub task: JoinHandle<()>,
}

/// Starts the actor. `first` is an already established connection (the one
/// made at startup, so startup errors can be reported before the screen
/// is taken over); without it the actor connects by itself.
pub fn spawn(
    endpoint: Endpoint,
    account: Account,
    first: Option<(BoxSocket, Welcome)>,
) -> NetHandle {
    spawn_with(Arc::new(EndpointDialer(endpoint)), account, first)
}

/// [`spawn`] with any [`Dialer`]: every (re)connect dials with it.
pub fn spawn_with(
    dialer: Arc<dyn Dialer>,
    account: Account,
    first: Option<(BoxSocket, Welcome)>,
) -> NetHandle {
    let (cmd_tx, cmd_rx) = mpsc::channel(COMMAND_QUEUE);
    let (ev_tx, ev_rx) = mpsc::channel(EVENT_QUEUE);
    let task = tokio::spawn(actor(dialer, account, first, cmd_rx, ev_tx));
    NetHandle {
        commands: cmd_tx,
        events: ev_rx,
        task,
    }
}

/// How a connection ended.
enum End {
    Shutdown,
    Lost(String),
    Fatal(String),
}

async fn actor(
    dialer: Arc<dyn Dialer>,
    mut account: Account,
    mut first: Option<(BoxSocket, Welcome)>,
    mut commands: mpsc::Receiver<NetCommand>,
    events: mpsc::Sender<NetEvent>,
) {
    let mut attempt: u32 = 0;
    loop {
        let (ws, welcome) = match first.take() {
            Some(conn) => conn,
            None => {
                attempt = attempt.saturating_add(1);
                if events.send(NetEvent::Connecting { attempt }).await.is_err() {
                    return;
                }
                let result = tokio::select! {
                    r = connect_with(dialer.as_ref(), &mut account) => r,
                    () = wait_for_shutdown(&mut commands) => return,
                };
                match result {
                    Ok(conn) => conn,
                    Err(e) if e.is_fatal() => {
                        let _ = events.send(NetEvent::Fatal(e.to_string())).await;
                        return;
                    }
                    Err(e) => {
                        let next = attempt.saturating_add(1);
                        if !backoff(next, e.to_string(), &events, &mut commands).await {
                            return;
                        }
                        continue;
                    }
                }
            }
        };
        // What the server promised, within what the socket takes at all.
        let limit = welcome
            .limits
            .max_server_frame_bytes
            .min(protocol::limits::LEGACY_SERVER_FRAME_BYTES);
        let liveness = Liveness::new(welcome.heartbeat, Instant::now());
        if events
            .send(NetEvent::Connected(Box::new(welcome)))
            .await
            .is_err()
        {
            return;
        }
        let link = Link {
            limit,
            liveness,
            pings: 0,
        };
        match converse(ws, link, &mut account, &mut commands, &events).await {
            End::Shutdown => return,
            End::Fatal(message) => {
                let _ = events.send(NetEvent::Fatal(message)).await;
                return;
            }
            End::Lost(reason) => {
                // The first retry after a loss comes quickly.
                if !backoff(1, reason, &events, &mut commands).await {
                    return;
                }
                attempt = 0;
            }
        }
    }
}

/// Reports the loss and waits before attempt number `attempt`; false on
/// shutdown.
async fn backoff(
    attempt: u32,
    reason: String,
    events: &mpsc::Sender<NetEvent>,
    commands: &mut mpsc::Receiver<NetCommand>,
) -> bool {
    let retry_in = crate::app::outbox::backoff(attempt, jitter());
    if events
        .send(NetEvent::Disconnected { reason, retry_in })
        .await
        .is_err()
    {
        return false;
    }
    tokio::select! {
        () = tokio::time::sleep(retry_in) => true,
        () = wait_for_shutdown(commands) => false,
    }
}

/// Resolves when the UI asks to stop (or is gone). Frames sent while
/// offline are dropped: the app does not send while disconnected.
async fn wait_for_shutdown(commands: &mut mpsc::Receiver<NetCommand>) {
    // Bounded: each iteration consumes one queued command.
    while let Some(cmd) = commands.recv().await {
        if cmd == NetCommand::Shutdown {
            return;
        }
    }
}

/// A number in 0..1 that differs between calls and processes.
pub fn jitter() -> f64 {
    (random_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// 64 bits that differ between calls and processes (not for secrets).
fn random_u64() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.write_u32(std::process::id());
    h.finish()
}

/// A prefix for request ids. The server recognises a resent request by
/// the sender's identity, device and request id, so a device's ids must
/// not repeat across runs and reconnects: a random prefix plus a counter.
pub fn request_id_prefix() -> String {
    format!("{:016x}", random_u64())
}

/// Reports a frame over the limit; the connection then ends.
async fn too_large(size: usize, limit: usize, events: &mpsc::Sender<NetEvent>) -> End {
    if events
        .send(NetEvent::FrameTooLarge { size, limit })
        .await
        .is_err()
    {
        return End::Shutdown;
    }
    End::Lost(format!(
        "the server sent a frame of {size} bytes, more than the {limit} it announced"
    ))
}

/// One live connection's bookkeeping.
struct Link {
    /// The largest frame taken from the server.
    limit: usize,
    liveness: Liveness,
    /// Pings sent on this connection, for their ids.
    pings: u64,
}

/// The request ids of this client's pings; their acks stay here.
const PING_ID_PREFIX: &str = "ping-";

impl Link {
    fn ping(&mut self) -> Message {
        self.pings += 1;
        let id = format!("{PING_ID_PREFIX}{}", self.pings);
        Message::text(protocol::encode(&ClientEvent::Ping { id }))
    }

    /// The link was given up after this silence.
    fn dead(&self) -> End {
        let silent = self.liveness.silent_for(Instant::now());
        End::Lost(format!(
            "nothing heard from the server for {:.0} s (its heartbeat is {:.0} s): reconnecting",
            silent.as_secs_f64(),
            self.liveness.period().as_secs_f64()
        ))
    }
}

/// Whether a frame is the answer to one of the link's own pings.
fn is_ping_answer(event: &ServerEvent) -> bool {
    event
        .as_ack()
        .is_some_and(|(id, _)| id.starts_with(PING_ID_PREFIX))
}

async fn converse(
    mut ws: BoxSocket,
    mut link: Link,
    account: &mut Account,
    commands: &mut mpsc::Receiver<NetCommand>,
    events: &mpsc::Sender<NetEvent>,
) -> End {
    let limit = link.limit;
    loop {
        let deadline = link.liveness.deadline();
        tokio::select! {
            frame = ws.next() => {
                link.liveness.heard(Instant::now());
                let text = match frame {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Close(frame))) => {
                        let code = frame.as_ref().map(|f| u16::from(f.code));
                        let reason = format!("the server closed the connection{}", close_reason(frame.as_ref()));
                        return if code == Some(protocol::close::CREDENTIAL_REVOKED) {
                            End::Fatal(account.revoked())
                        } else if code == Some(protocol::close::UNSUPPORTED_VERSION) {
                            End::Fatal(reason)
                        } else {
                            End::Lost(reason)
                        };
                    }
                    Some(Ok(_)) => continue, // pings are answered by the library
                    Some(Err(tokio_tungstenite::tungstenite::Error::Capacity(
                        CapacityError::MessageTooLong { size, .. },
                    ))) => return too_large(size, limit, events).await,
                    Some(Err(e)) => return End::Lost(one_line(&e.to_string())),
                    None => return End::Lost("the connection was closed".into()),
                };
                if text.len() > limit {
                    return too_large(text.len(), limit, events).await;
                }
                // Frames this client does not understand (a newer server) are skipped.
                let Ok(event) = protocol::decode_server(text.as_str()) else {
                    continue;
                };
                if matches!(&event, ServerEvent::Error { code: ErrorCode::CredentialRevoked, .. }) {
                    return End::Fatal(account.revoked());
                }
                if !is_ping_answer(&event)
                    && events.send(NetEvent::Server(Box::new(event))).await.is_err()
                {
                    return End::Shutdown;
                }
            }
            () = tokio::time::sleep_until(deadline) => match link.liveness.due(Instant::now()) {
                Due::Nothing => {}
                Due::Dead => return link.dead(),
                Due::Ping => {
                    let ping = link.ping();
                    if let Err(end) = write(&mut ws, ping, &link).await {
                        return end;
                    }
                }
            },
            cmd = commands.recv() => match cmd {
                Some(NetCommand::Send(event)) => {
                    let frame = Message::text(protocol::encode(&event));
                    if let Err(end) = write(&mut ws, frame, &link).await {
                        return end;
                    }
                }
                Some(NetCommand::Shutdown) | None => {
                    let _ = tokio::time::timeout(Duration::from_secs(1), SinkExt::close(&mut ws)).await;
                    return End::Shutdown;
                }
            },
        }
    }
}

/// Writes one frame. A write that cannot get out within a heartbeat
/// interval (the other side stopped reading) counts as a dead link.
async fn write(ws: &mut BoxSocket, frame: Message, link: &Link) -> Result<(), End> {
    match tokio::time::timeout(link.liveness.period(), ws.send(frame)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(End::Lost(one_line(&e.to_string()))),
        Err(_) => Err(link.dead()),
    }
}

#[cfg(test)]
mod tests;
