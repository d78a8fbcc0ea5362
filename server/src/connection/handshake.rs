//! The handshake: a new connection must say `hello` (in our protocol
//! version, with a valid name) within the handshake timeout; it is answered
//! with `welcome`. Anything else before that is answered with an error and
//! the connection waits for a proper `hello`.

use std::sync::Arc;

use axum::extract::ws::Message;
use futures::{SinkExt, StreamExt};
use protocol::{ClientEvent, ErrorBody, ErrorCode, PROTOCOL_VERSION, ServerEvent, close, validate};
use tokio::time::Instant;

use super::{Exit, Socket, binary_refused, decode_error, read_failed, shutting_down};
use crate::Shared;
use crate::frame::Frame;

/// Waits for a valid `hello` and answers it with `welcome`. Returns the
/// client's name as it will be shown.
pub(super) async fn handshake<S: Socket>(
    socket: &mut S,
    shared: &Shared,
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

/// Writes one answer straight to the socket (there is no outbound queue
/// before the client is identified).
async fn reply<S: Socket>(socket: &mut S, event: &ServerEvent) -> Result<(), Exit> {
    socket
        .send(Message::Text(Frame::encode(event).into_text()))
        .await
        .map_err(|_| Exit::Gone)
}
