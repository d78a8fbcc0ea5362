//! The handshake: a new connection must say `hello` (in our protocol
//! version, with a valid name) within the handshake timeout; it is answered
//! with `welcome`. Anything else before that is answered with an error (and
//! counts as a strike) and the connection waits for a proper `hello`. The
//! timeout covers the answers too: a client that does not read them cannot
//! stretch the handshake.

use std::sync::Arc;

use axum::extract::ws::Message;
use futures::{SinkExt, StreamExt};
use protocol::{ClientEvent, ErrorBody, ErrorCode, PROTOCOL_VERSION, ServerEvent, close, validate};
use tokio::time::Instant;

use super::exit::{Exit, read_failed, shutting_down};
use super::strikes::Strikes;
use super::{Socket, binary_refused, decode_error};
use crate::Shared;
use crate::frame::Frame;

/// Waits for a valid `hello` and answers it with `welcome`. Returns the
/// client's name as it will be shown.
pub(super) async fn handshake<S: Socket>(
    socket: &mut S,
    shared: &Shared,
    strikes: &mut Strikes,
) -> Result<Arc<str>, Exit> {
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
                            "this server speaks protocol {PROTOCOL_VERSION}, your client speaks {protocol}; please upgrade your client"
                        ),
                    }),
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
                    reply(socket, &welcome, deadline, shared).await?;
                    return Ok(Arc::from(name));
                }
                Err(e) => {
                    strikes.strike()?;
                    ServerEvent::error(e.code(), e.to_string())
                }
            },
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
