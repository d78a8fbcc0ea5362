//! Connecting and signing in: the WebSocket, `hello`, and the server's
//! `welcome` or refusal, each refusal turned into one line that says what
//! to do.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use protocol::{ClientEvent, ErrorCode, ServerEvent, ServerLimits};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};

use crate::dial::{Endpoint, Socket};

/// How long connecting plus the hello/welcome exchange may take.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// The heartbeat assumed when the server does not announce one.
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(30);

/// How this client signs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    /// A name: registered if free.
    Name(String),
}

/// The server's welcome, as far as the client cares.
#[derive(Debug, Clone, PartialEq)]
pub struct Welcome {
    pub server: String,
    pub name: String,
    pub limits: ServerLimits,
    pub epoch: String,
    /// The server's heartbeat interval, for the client's own liveness check.
    pub heartbeat: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot connect to {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("no welcome from {url} within {} s", HANDSHAKE_TIMEOUT.as_secs())]
    Timeout { url: String },
    #[error("the server refused the name {name:?}: {message}")]
    NameRefused { name: String, message: String },
    #[error("the server does not speak this client's protocol version: {message}")]
    Version { message: String },
    #[error("the server closed the connection during the handshake{0}")]
    Closed(String),
    #[error("unexpected answer from the server: {0}")]
    Unexpected(String),
}

impl ConnectError {
    /// Errors that trying again will not fix.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            ConnectError::NameRefused { .. } | ConnectError::Version { .. }
        )
    }
}

/// Connects, says hello and waits for the welcome.
pub async fn connect(
    endpoint: &Endpoint,
    sign_in: &SignIn,
) -> Result<(Socket, Welcome), ConnectError> {
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake(endpoint, sign_in)).await {
        Ok(result) => result,
        Err(_) => Err(ConnectError::Timeout {
            url: endpoint.url().into(),
        }),
    }
}

fn hello(sign_in: &SignIn) -> ClientEvent {
    let SignIn::Name(name) = sign_in;
    ClientEvent::Hello {
        protocol: protocol::PROTOCOL_VERSION,
        name: name.clone(),
        client: Some(format!("chat-tui/{}", env!("CARGO_PKG_VERSION"))),
    }
}

async fn handshake(
    endpoint: &Endpoint,
    sign_in: &SignIn,
) -> Result<(Socket, Welcome), ConnectError> {
    let most = protocol::limits::LEGACY_SERVER_FRAME_BYTES;
    let config = WebSocketConfig::default()
        .max_message_size(Some(most))
        .max_frame_size(Some(most));
    let mut ws = crate::dial::open(endpoint, config)
        .await
        .map_err(|reason| ConnectError::Unreachable {
            url: endpoint.url().into(),
            reason,
        })?;
    ws.send(Message::text(protocol::encode(&hello(sign_in))))
        .await
        .map_err(|e| ConnectError::Closed(format!(": {e}")))?;
    // A handful of frames at most before the welcome (pings); bounded anyway.
    for _ in 0..64 {
        let frame = match ws.next().await {
            Some(Ok(frame)) => frame,
            Some(Err(e)) => return Err(ConnectError::Closed(format!(": {e}"))),
            None => return Err(ConnectError::Closed(String::new())),
        };
        let text = match frame {
            Message::Text(t) => t,
            Message::Close(frame) => {
                return Err(ConnectError::Closed(close_reason(frame.as_ref())));
            }
            _ => continue,
        };
        match protocol::decode_server(text.as_str()) {
            Ok(ServerEvent::Welcome {
                server,
                name,
                limits,
                epoch,
                ..
            }) => {
                let welcome = Welcome {
                    server,
                    name,
                    limits,
                    epoch,
                    heartbeat: DEFAULT_HEARTBEAT,
                };
                return Ok((ws, welcome));
            }
            Ok(ServerEvent::Error { code, message }) => {
                return Err(refused(sign_in, code, message));
            }
            Ok(_) | Err(_) => continue,
        }
    }
    Err(ConnectError::Unexpected("no welcome".into()))
}

/// A refused hello, as the error to show.
fn refused(sign_in: &SignIn, code: ErrorCode, message: String) -> ConnectError {
    let SignIn::Name(name) = sign_in;
    match code {
        ErrorCode::InvalidName | ErrorCode::NameTaken => ConnectError::NameRefused {
            name: name.clone(),
            message,
        },
        ErrorCode::UnsupportedVersion => ConnectError::Version { message },
        _ => ConnectError::Unexpected(format!("{code}: {message}")),
    }
}

/// A close frame's code and reason, for the line that reports it.
pub(crate) fn close_reason(frame: Option<&CloseFrame>) -> String {
    match frame {
        Some(f) if !f.reason.is_empty() => format!(
            " (code {}: {})",
            u16::from(f.code),
            crate::sanitize::one_line(f.reason.as_str())
        ),
        Some(f) => format!(" (code {})", u16::from(f.code)),
        None => String::new(),
    }
}
