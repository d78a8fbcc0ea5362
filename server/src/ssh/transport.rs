//! The in-process transport: a pair of bounded channels of WebSocket
//! messages between the chat-tui app of an ssh session and the server's
//! own connection loop, so an ssh person goes through exactly the code a
//! WebSocket client does (handshake, limits, rooms, history, resume). The
//! server's end is a [`crate::connection::Socket`]; the app's end is a
//! socket of `tungstenite` messages, as the app's network actor expects.
//!
//! A real WebSocket client answers the server's pings by itself; this end
//! does the same (a ping written to the app is answered with a pong at
//! once), so the heartbeat sees the app alive however quiet the person is.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::ws::Message as ServerMessage;
use futures::channel::mpsc;
use futures::{Sink, SinkExt, Stream, StreamExt};
use tungstenite::Message as ClientMessage;

use crate::Shared;
use crate::identity::keys::PreAuth;

/// Frames buffered in each direction. The connection loop has its own
/// bounded outbound queue; this only smooths the hand-over.
const FRAMES_IN_FLIGHT: usize = 16;

/// Opens in-process connections into the connection loop, signed in as
/// one pre-authenticated device.
#[derive(Debug, Clone)]
pub struct InProcess {
    shared: Arc<Shared>,
    pre: PreAuth,
}

impl InProcess {
    pub fn new(shared: Arc<Shared>, pre: PreAuth) -> Self {
        InProcess { shared, pre }
    }

    /// A fresh connection: the connection loop starts on a task of its own
    /// (tracked, so shutdown waits for its goodbye); the app's end is
    /// returned.
    pub fn open(&self) -> AppEnd {
        let (to_server, from_app) = mpsc::channel(FRAMES_IN_FLIGHT);
        let (to_app, from_server) = mpsc::channel(FRAMES_IN_FLIGHT);
        let server_end = ServerEnd {
            to_app,
            from_app,
            pong: None,
        };
        let shared = self.shared.clone();
        let pre = self.pre.clone();
        self.shared.connections.spawn(async move {
            crate::connection::serve_pre_authenticated(server_end, shared, pre).await;
        });
        AppEnd {
            to_server,
            from_server,
        }
    }
}

fn gone() -> axum::Error {
    axum::Error::new(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
}

/// The connection loop's end.
#[derive(Debug)]
struct ServerEnd {
    to_app: mpsc::Sender<ServerMessage>,
    from_app: mpsc::Receiver<ServerMessage>,
    /// The answer to the last ping, read before anything else.
    pong: Option<axum::body::Bytes>,
}

impl Stream for ServerEnd {
    type Item = Result<ServerMessage, axum::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(payload) = self.pong.take() {
            return Poll::Ready(Some(Ok(ServerMessage::Pong(payload))));
        }
        self.from_app.poll_next_unpin(cx).map(|m| m.map(Ok))
    }
}

impl Sink<ServerMessage> for ServerEnd {
    type Error = axum::Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.to_app.poll_ready(cx).map_err(|_| gone())
    }

    fn start_send(mut self: Pin<&mut Self>, item: ServerMessage) -> Result<(), Self::Error> {
        if let ServerMessage::Ping(payload) = item {
            // Answered as a WebSocket client would: the connection loop
            // reads the pong next.
            self.pong = Some(payload);
            return Ok(());
        }
        self.to_app.start_send(item).map_err(|_| gone())
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.to_app.poll_flush_unpin(cx).map_err(|_| gone())
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.to_app.poll_close_unpin(cx).map_err(|_| gone())
    }
}

/// The app's end: `tungstenite` messages, like a WebSocket client's.
#[derive(Debug)]
pub struct AppEnd {
    to_server: mpsc::Sender<ServerMessage>,
    from_server: mpsc::Receiver<ServerMessage>,
}

fn closed() -> tungstenite::Error {
    tungstenite::Error::ConnectionClosed
}

/// A server message as the app's WebSocket library would have read it.
fn to_app(message: ServerMessage) -> ClientMessage {
    match message {
        ServerMessage::Text(text) => ClientMessage::Text(text.as_str().into()),
        ServerMessage::Binary(bytes) => ClientMessage::Binary(bytes),
        ServerMessage::Ping(bytes) => ClientMessage::Ping(bytes),
        ServerMessage::Pong(bytes) => ClientMessage::Pong(bytes),
        ServerMessage::Close(frame) => {
            ClientMessage::Close(frame.map(|f| tungstenite::protocol::CloseFrame {
                code: f.code.into(),
                reason: f.reason.as_str().into(),
            }))
        }
    }
}

/// An app message as the server's WebSocket library would have read it.
fn to_server(message: ClientMessage) -> Option<ServerMessage> {
    Some(match message {
        ClientMessage::Text(text) => ServerMessage::Text(text.as_str().into()),
        ClientMessage::Binary(bytes) => ServerMessage::Binary(bytes),
        ClientMessage::Ping(bytes) => ServerMessage::Ping(bytes),
        ClientMessage::Pong(bytes) => ServerMessage::Pong(bytes),
        ClientMessage::Close(frame) => {
            ServerMessage::Close(frame.map(|f| axum::extract::ws::CloseFrame {
                code: f.code.into(),
                reason: f.reason.as_str().into(),
            }))
        }
        ClientMessage::Frame(_) => return None,
    })
}

impl Stream for AppEnd {
    type Item = Result<ClientMessage, tungstenite::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.from_server
            .poll_next_unpin(cx)
            .map(|m| m.map(|m| Ok(to_app(m))))
    }
}

impl Sink<ClientMessage> for AppEnd {
    type Error = tungstenite::Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.to_server.poll_ready(cx).map_err(|_| closed())
    }

    fn start_send(mut self: Pin<&mut Self>, item: ClientMessage) -> Result<(), Self::Error> {
        match to_server(item) {
            Some(message) => self.to_server.start_send(message).map_err(|_| closed()),
            None => Ok(()),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.to_server.poll_flush_unpin(cx).map_err(|_| closed())
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.to_server.poll_close_unpin(cx).map_err(|_| closed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pings_are_answered_and_the_app_going_away_ends_the_stream() {
        let (to_server, from_app) = mpsc::channel(FRAMES_IN_FLIGHT);
        let (to_app, from_server) = mpsc::channel(FRAMES_IN_FLIGHT);
        let mut server = ServerEnd {
            to_app,
            from_app,
            pong: None,
        };
        let mut app = AppEnd {
            to_server,
            from_server,
        };
        server.send(ServerMessage::Ping("hb".into())).await.unwrap();
        assert_eq!(
            server.next().await.unwrap().unwrap(),
            ServerMessage::Pong("hb".into())
        );
        server
            .send(ServerMessage::Text("{\"type\":\"welcome\"}".into()))
            .await
            .unwrap();
        let got = app.next().await.unwrap().unwrap();
        assert_eq!(got, ClientMessage::Text("{\"type\":\"welcome\"}".into()));
        app.send(ClientMessage::Text("{}".into())).await.unwrap();
        assert_eq!(
            server.next().await.unwrap().unwrap(),
            ServerMessage::Text("{}".into())
        );
        drop(app);
        let end = tokio::time::timeout(std::time::Duration::from_secs(5), server.next()).await;
        assert!(matches!(end, Ok(None)), "the app is gone: {end:?}");
    }
}
