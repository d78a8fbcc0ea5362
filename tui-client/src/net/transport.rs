//! What the network actor talks over: any stream and sink of WebSocket
//! messages, opened by a [`Dialer`]. chat-tui dials TCP (and TLS) with
//! [`EndpointDialer`]; the ssh entrance hands in a dialer of its own that
//! opens an in-process channel into the server's connection loop. Either
//! way the actor, the handshake and the reconnects are the same code.

use futures::future::BoxFuture;
use futures::{Sink, Stream};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::dial::Endpoint;

/// A connection to the server: WebSocket messages in and out.
pub trait FrameSocket:
    Stream<Item = Result<Message, WsError>> + Sink<Message, Error = WsError> + Send + Unpin
{
}

impl<T> FrameSocket for T where
    T: Stream<Item = Result<Message, WsError>> + Sink<Message, Error = WsError> + Send + Unpin
{
}

/// Any [`FrameSocket`], boxed.
pub type BoxSocket = Box<dyn FrameSocket>;

/// Opens a fresh connection to the server; called again for every
/// reconnect. The error is one line without the address (the caller
/// names it).
pub trait Dialer: Send + Sync + 'static {
    fn dial(&self) -> BoxFuture<'static, Result<BoxSocket, String>>;
    /// What to call the server in messages and the status line.
    fn describe(&self) -> String;
}

/// Dials a WebSocket URL over TCP (and TLS for `wss://`), with the frame
/// bounds every chat-tui connection has.
#[derive(Debug, Clone)]
pub struct EndpointDialer(pub Endpoint);

impl Dialer for EndpointDialer {
    fn dial(&self) -> BoxFuture<'static, Result<BoxSocket, String>> {
        let endpoint = self.0.clone();
        Box::pin(async move {
            let most = protocol::limits::LEGACY_SERVER_FRAME_BYTES;
            let config = WebSocketConfig::default()
                .max_message_size(Some(most))
                .max_frame_size(Some(most));
            let socket = crate::dial::open(&endpoint, config).await?;
            Ok(Box::new(socket) as BoxSocket)
        })
    }

    fn describe(&self) -> String {
        self.0.url().to_string()
    }
}
