//! The handshake: a new connection must say `hello` (in our protocol
//! version, signing in by credential, link code or name) within the
//! handshake timeout; it is answered with `welcome`. Anything else before that is answered with an error (and
//! counts as a strike) and the connection waits for a proper `hello`. The
//! timeout covers the answers too: a client that does not read them cannot
//! stretch the handshake. A pre-authenticated peer (the ssh entrance) still
//! says `hello`, and is signed in as the device its transport proved.

use axum::extract::ws::Message;
use futures::{SinkExt, StreamExt};
use protocol::{
    ClientEvent, DeviceRef, ErrorBody, ErrorCode, PROTOCOL_VERSION, ServerEvent, UserRef, close,
};
use tokio::time::Instant;

use super::exit::{Exit, read_failed, shutting_down};
use super::strikes::Strikes;
use super::{Socket, binary_refused, decode_error};
use crate::Shared;
use crate::frame::Frame;
use crate::identity::keys::PreAuth;
use crate::identity::service::Hello;
use crate::identity::{SignInError, SignedIn};

/// Waits for a valid `hello` and answers it with `welcome`. Returns who the
/// client is signed in as.
pub(super) async fn handshake<S: Socket>(
    socket: &mut S,
    shared: &Shared,
    strikes: &mut Strikes,
    pre: Option<&PreAuth>,
) -> Result<SignedIn, Exit> {
    let deadline = Instant::now() + shared.config.handshake_timeout;
    loop {
        let message = tokio::select! {
            m = socket.next() => m,
            () = tokio::time::sleep_until(deadline) => return Err(no_hello_in_time()),
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
            Ok(ClientEvent::Hello {
                name,
                credential,
                link_code,
                device,
                client,
                ..
            }) => {
                let hello = Hello {
                    name: name.as_deref(),
                    credential: credential.as_deref(),
                    link_code: link_code.as_deref(),
                    device: device.as_deref(),
                    client: client.as_deref(),
                };
                // The store (Redis in a cluster) is bounded by the
                // handshake's deadline too. A pre-authenticated peer signs
                // in as its device, whatever its hello offers.
                let sign_in = async {
                    match pre {
                        Some(pre) => shared.identities.sign_in_pre_auth(pre).await,
                        None => shared.identities.sign_in(hello).await,
                    }
                };
                let signed = tokio::select! {
                    signed = sign_in => signed,
                    () = tokio::time::sleep_until(deadline) => return Err(no_hello_in_time()),
                    () = shared.shutdown.cancelled() => return Err(shutting_down()),
                };
                match signed {
                    Ok(who) => {
                        let dms = super::conversation::welcome_dms(shared, &who.user).await;
                        reply(socket, &welcome(shared, &who, dms), deadline, shared).await?;
                        return Ok(who);
                    }
                    Err(e) => {
                        if let SignInError::Unavailable(cause) = &e {
                            tracing::warn!(error = %cause, "identity store unavailable");
                        }
                        // A refused hello is a strike, like any frame that
                        // is not a good hello: guessing credentials or codes
                        // soon closes the connection.
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

fn no_hello_in_time() -> Exit {
    Exit::Close {
        error: Some(ErrorBody {
            code: ErrorCode::NotIdentified,
            message: "no hello received in time".into(),
        }),
        code: close::HANDSHAKE_FAILED,
        reason: "no hello",
    }
}

/// The `welcome` for a connection signed in as `who`.
fn welcome(shared: &Shared, who: &SignedIn, dms: Vec<protocol::DmSummary>) -> ServerEvent {
    ServerEvent::Welcome {
        protocol: PROTOCOL_VERSION,
        server: concat!("chat-server/", env!("CARGO_PKG_VERSION")).into(),
        name: who.name.to_string(),
        user: UserRef {
            id: who.user.to_string(),
            name: who.name.to_string(),
        },
        device: DeviceRef {
            id: who.device.to_string(),
            name: who.device_name.clone(),
        },
        credential: who.credential.clone(),
        heartbeat_ms: shared.config.heartbeat_interval.as_millis() as u64,
        limits: shared.config.limits(),
        epoch: shared.registry.backend().epoch().to_owned(),
        dms,
    }
}
