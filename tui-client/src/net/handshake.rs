//! Connecting and signing in: the WebSocket, `hello`, and the server's
//! `welcome` or refusal, each refusal turned into one line that says what
//! to do.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use protocol::{DeviceRef, ServerEvent, ServerLimits, UserRef};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

use super::account::{Account, Refusal};
use super::transport::{BoxSocket, Dialer, EndpointDialer};
use crate::dial::Endpoint;

/// How long connecting plus the hello/welcome exchange may take.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// The server's default heartbeat interval (each welcome says the one in
/// force).
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(30);

/// The server's welcome, as far as the client cares.
#[derive(Debug, Clone, PartialEq)]
pub struct Welcome {
    pub server: String,
    pub name: String,
    pub limits: ServerLimits,
    pub epoch: String,
    /// Who this device is signed in as, and the device.
    pub user: UserRef,
    pub device: DeviceRef,
    /// The server's heartbeat interval, for the client's own liveness check.
    pub heartbeat: Duration,
    /// What to tell the person about signing in (a name registered, a
    /// device linked), if anything.
    pub note: Option<String>,
    /// Your latest direct-message conversations, newest first.
    pub dms: Vec<protocol::DmSummary>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot connect to {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("no welcome from {url} within {} s", HANDSHAKE_TIMEOUT.as_secs())]
    Timeout { url: String },
    #[error("{}", .0.message)]
    Refused(Refusal),
    #[error("the server closed the connection during the handshake{0}")]
    Closed(String),
    #[error("unexpected answer from the server: {0}")]
    Unexpected(String),
}

impl ConnectError {
    /// Errors that trying again will not fix.
    pub fn is_fatal(&self) -> bool {
        matches!(self, ConnectError::Refused(r) if r.fatal)
    }
}

/// Connects, says hello and waits for the welcome. A credential the
/// welcome brings is kept in `account`, a refused one forgotten.
pub async fn connect(
    endpoint: &Endpoint,
    account: &mut Account,
) -> Result<(BoxSocket, Welcome), ConnectError> {
    connect_with(&EndpointDialer(endpoint.clone()), account).await
}

/// [`connect`] over any [`Dialer`].
pub async fn connect_with(
    dialer: &dyn Dialer,
    account: &mut Account,
) -> Result<(BoxSocket, Welcome), ConnectError> {
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake(dialer, account)).await {
        Ok(result) => result,
        Err(_) => Err(ConnectError::Timeout {
            url: dialer.describe(),
        }),
    }
}

async fn handshake(
    dialer: &dyn Dialer,
    account: &mut Account,
) -> Result<(BoxSocket, Welcome), ConnectError> {
    let mut ws = dialer
        .dial()
        .await
        .map_err(|reason| ConnectError::Unreachable {
            url: dialer.describe(),
            reason,
        })?;
    let hello = account.hello(account.device.clone());
    ws.send(Message::text(protocol::encode(&hello)))
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
                user,
                device,
                credential,
                heartbeat_ms,
                limits,
                epoch,
                dms,
                ..
            }) => {
                let note = account.welcomed(&user, credential);
                let welcome = Welcome {
                    server,
                    name,
                    limits,
                    epoch,
                    user,
                    device,
                    heartbeat: Duration::from_millis(heartbeat_ms),
                    note,
                    dms,
                };
                return Ok((ws, welcome));
            }
            Ok(ServerEvent::Error { code, message }) => {
                return Err(ConnectError::Refused(account.refused(code, &message)));
            }
            Ok(_) | Err(_) => continue,
        }
    }
    Err(ConnectError::Unexpected("no welcome".into()))
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
