//! How a connection ends, and the goodbye that goes with it.
//!
//! Every way out is an [`Exit`]; [`goodbye`] then does what that way
//! requires: answer the client's close, tell the client why we close (an
//! `error` event, then a close frame with a code), or hang up at once on a
//! client that stopped reading.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message};
use futures::{SinkExt, StreamExt};
use protocol::{ErrorBody, ErrorCode, ServerEvent, close};

use super::Socket;
use crate::frame::Frame;
use crate::front::Hangup;

/// How long a goodbye (error + close frame, or the answer to the client's
/// close) may take before we hang up.
const GOODBYE_TIMEOUT: Duration = Duration::from_secs(1);

/// Why the loop ended; decides the goodbye.
#[derive(Debug)]
pub(super) enum Exit {
    /// The socket failed or the peer vanished: nothing more to say.
    Gone,
    /// The client sent a close frame: the WebSocket layer has queued the
    /// answer (the same code); it only needs sending.
    ClosedByClient,
    /// A write to the client did not complete in time: it is not reading.
    /// Hang up at once, discarding whatever it did not read.
    Stalled,
    Close {
        /// Sent as an `error` event before the close frame.
        error: Option<ErrorBody>,
        code: u16,
        reason: &'static str,
    },
}

pub(super) fn shutting_down() -> Exit {
    Exit::Close {
        error: Some(ErrorBody {
            code: ErrorCode::ShuttingDown,
            message: "the server is shutting down; reconnect later".into(),
        }),
        code: close::GOING_AWAY,
        reason: "server shutting down",
    }
}

pub(super) fn slow_consumer() -> Exit {
    crate::metrics::slow_consumer();
    Exit::Close {
        error: Some(ErrorBody {
            code: ErrorCode::SlowConsumer,
            message: "you did not read messages fast enough and were disconnected; reconnect"
                .into(),
        }),
        code: close::SLOW_CONSUMER,
        reason: "slow consumer",
    }
}

pub(super) fn credential_revoked() -> Exit {
    Exit::Close {
        error: Some(ErrorBody {
            code: ErrorCode::CredentialRevoked,
            message: "this device was signed out; its credential no longer works".into(),
        }),
        code: close::CREDENTIAL_REVOKED,
        reason: "credential revoked",
    }
}

pub(super) fn heartbeat_timeout() -> Exit {
    Exit::Close {
        error: None,
        code: close::HEARTBEAT_TIMEOUT,
        reason: "heartbeat timeout",
    }
}

pub(super) fn too_many_malformed() -> Exit {
    Exit::Close {
        error: Some(ErrorBody {
            code: ErrorCode::Malformed,
            message: "too many malformed frames; closing the connection".into(),
        }),
        code: close::POLICY_VIOLATION,
        reason: "too many malformed frames",
    }
}

/// A failed read: too large, a broken WebSocket frame, or text that is not
/// UTF-8 are answered with their close codes; anything else means the
/// connection is gone.
pub(super) fn read_failed(e: axum::Error) -> Exit {
    let inner = e.into_inner();
    let (code, reason) = match inner.downcast_ref::<tungstenite::Error>() {
        Some(tungstenite::Error::Capacity(_)) => (close::TOO_LARGE, "frame too large"),
        Some(tungstenite::Error::Protocol(_)) => (close::PROTOCOL_ERROR, "protocol error"),
        Some(tungstenite::Error::Utf8(_)) => (close::INVALID_DATA, "text is not UTF-8"),
        _ => {
            tracing::debug!(error = %inner, "read failed");
            return Exit::Gone;
        }
    };
    tracing::debug!(error = %inner, code, "closing after a bad frame");
    Exit::Close {
        error: None,
        code,
        reason,
    }
}

/// Ends the connection the way `exit` says, bounded in time (the client may
/// not be reading).
pub(super) async fn goodbye<S: Socket>(mut socket: S, exit: Exit, hangup: &Hangup) {
    let said = match exit {
        Exit::Gone => return,
        Exit::Stalled => {
            hangup.abort();
            return;
        }
        Exit::ClosedByClient => tokio::time::timeout(GOODBYE_TIMEOUT, socket.close())
            .await
            .is_ok(),
        Exit::Close {
            error,
            code,
            reason,
        } => {
            let mut sent = false;
            let farewell = async {
                if let Some(ErrorBody { code, message }) = error {
                    let frame = Frame::encode(&ServerEvent::error(code, message));
                    socket.send(Message::Text(frame.into_text())).await?;
                }
                socket
                    .send(Message::Close(Some(CloseFrame {
                        code,
                        reason: reason.into(),
                    })))
                    .await?;
                sent = true;
                // Wait for the client's close reply so the TCP connection
                // ends cleanly.
                while let Some(Ok(m)) = socket.next().await {
                    if matches!(m, Message::Close(_)) {
                        break;
                    }
                }
                Ok::<(), axum::Error>(())
            };
            let _ = tokio::time::timeout(GOODBYE_TIMEOUT, farewell).await;
            sent
        }
    };
    // What we had to say did not get out: the client is not reading.
    if !said {
        hangup.abort();
    }
}
