//! The handshake: a new connection must say `hello` (in our protocol
//! version, with a valid name) within the handshake timeout; it is answered
//! with `welcome`. Anything else before that is answered with an error (and
//! counts as a strike) and the connection waits for a proper `hello`. The
//! timeout covers the answers too: a client that does not read them cannot
//! stretch the handshake.

use std::sync::Arc;

use axum::extract::ws::Message;
use futures::{SinkExt, StreamExt};
use protocol::{
    ClientEvent, DeviceRef, ErrorBody, ErrorCode, PROTOCOL_VERSION, ServerEvent, UserRef, close,
    validate,
};
use tokio::time::Instant;

use super::exit::{Exit, read_failed, shutting_down};
use super::strikes::Strikes;
use super::{Socket, binary_refused, decode_error};
use crate::Shared;
use crate::frame::Frame;

/// Who a connection is signed in as.
#[derive(Debug, Clone)]
pub(super) struct SignedIn {
    pub name: Arc<str>,
    pub user: Arc<str>,
    pub device: Arc<str>,
}

/// Waits for a valid `hello` and answers it with `welcome`. Returns who the
/// client is signed in as.
pub(super) async fn handshake<S: Socket>(
    socket: &mut S,
    shared: &Shared,
    strikes: &mut Strikes,
) -> Result<SignedIn, Exit> {
    let deadline = Instant::now() + shared.config.handshake_timeout;
    loop {
        let message = tokio::select! {
            m = socket.next() => m,
            () = tokio::time::sleep_until(deadline) => return Err(Exit::Close {
                error: Some(ErrorBody {
                    code: ErrorCode::NotIdentified,
                    message: "no hello received in time".into(),
                }),
                code: close::HANDSHAKE_FAILED,
                reason: "no hello",
            }),
            () = shared.shutdown.cancelled() => return Err(shutting_down()),
        };
        let text = match message {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Binary(_))) => {
                strikes.strike()?;
                reply(socket, &binary_refused(), deadline, shared).await?;
                continue;
            }
            Some(Ok(Message::Close(_))) => return Err(Exit::ClosedByClient),
            None => return Err(Exit::Gone),
            Some(Ok(_)) => {
                strikes.strike()?;
                continue;
            }
            Some(Err(e)) => return Err(read_failed(e)),
        };
        let answer = match protocol::decode_client(&text) {
            Ok(ClientEvent::Hello { protocol, .. }) if protocol != PROTOCOL_VERSION => {
                return Err(Exit::Close {
                    error: Some(ErrorBody {
                        code: ErrorCode::UnsupportedVersion,
                        message: format!(
                            "this server speaks protocol {PROTOCOL_VERSION}; please upgrade your client (it speaks protocol {protocol})"
                        ),
                    }),
                    code: close::UNSUPPORTED_VERSION,
                    reason: "unsupported protocol version",
                });
            }
            Ok(ClientEvent::Hello { name, .. }) => {
                match validate::display_name(name.as_deref().unwrap_or_default()) {
                    Ok(name) => {
                        // Interim, until identities are stored: an id per name.
                        let key = validate::name_key(name);
                        let user = format!("u_{:016x}", fnv(&key));
                        let device = format!("d_{}", crate::ids::new_id());
                        let welcome = ServerEvent::Welcome {
                            protocol: PROTOCOL_VERSION,
                            server: concat!("chat-server/", env!("CARGO_PKG_VERSION")).into(),
                            name: name.to_owned(),
                            user: UserRef {
                                id: user.clone(),
                                name: name.to_owned(),
                            },
                            device: DeviceRef {
                                id: device.clone(),
                                name: "device".into(),
                            },
                            credential: None,
                            heartbeat_ms: shared.config.heartbeat_interval.as_millis() as u64,
                            limits: shared.config.limits(),
                            epoch: shared.registry.backend().epoch().to_owned(),
                        };
                        reply(socket, &welcome, deadline, shared).await?;
                        return Ok(SignedIn {
                            name: Arc::from(name),
                            user: Arc::from(user),
                            device: Arc::from(device),
                        });
                    }
                    Err(e) => {
                        strikes.strike()?;
                        ServerEvent::error(e.code(), e.to_string())
                    }
                }
            }
            Ok(other) => {
                strikes.strike()?;
                match other.request_id() {
                    Some(id) => {
                        ServerEvent::ack_err(id, ErrorCode::NotIdentified, "send hello first")
                    }
                    None => ServerEvent::error(ErrorCode::NotIdentified, "send hello first"),
                }
            }
            Err(e) => {
                strikes.strike()?;
                decode_error(e)
            }
        };
        reply(socket, &answer, deadline, shared).await?;
    }
}

/// Writes one answer straight to the socket (there is no outbound queue
/// before the client is identified), before the handshake's deadline.
async fn reply<S: Socket>(
    socket: &mut S,
    event: &ServerEvent,
    deadline: Instant,
    shared: &Shared,
) -> Result<(), Exit> {
    let message = Message::Text(Frame::encode(event).into_text());
    tokio::select! {
        sent = socket.send(message) => sent.map_err(|_| Exit::Gone),
        () = tokio::time::sleep_until(deadline) => Err(Exit::Stalled),
        () = shared.shutdown.cancelled() => Err(shutting_down()),
    }
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}
