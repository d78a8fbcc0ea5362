//! Opening the connection, step by step: TCP, then TLS for `wss://`, then
//! the WebSocket upgrade. Each step fails with its own words, so a person
//! reads whether the host was unreachable, its certificate untrusted, or
//! the address not the chat's WebSocket.

use std::sync::Arc;

use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::either::Either;

use crate::address::ServerAddress;

/// A plain or TLS connection to the server.
pub type Stream = Either<TcpStream, TlsStream<TcpStream>>;

/// The WebSocket over it.
pub type Socket = WebSocketStream<Stream>;

/// Where to connect and how: the address and, for `wss://`, the TLS
/// configuration (built once, with `--ca-file` in it).
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub address: ServerAddress,
    pub tls: Option<Arc<ClientConfig>>,
}

impl Endpoint {
    /// A plain `ws://` endpoint; `wss://` addresses get no TLS
    /// configuration and fail to connect.
    pub fn plain(address: ServerAddress) -> Endpoint {
        Endpoint { address, tls: None }
    }

    /// The WebSocket URL, as shown to people.
    pub fn url(&self) -> &str {
        self.address.as_str()
    }
}

/// Opens the WebSocket with `config` (its frame bounds); the error is one
/// line without the URL (the caller names it).
pub async fn open(endpoint: &Endpoint, config: WebSocketConfig) -> Result<Socket, String> {
    let address = &endpoint.address;
    let host = address.host();
    let tcp = TcpStream::connect((host.as_str(), address.port()))
        .await
        .map_err(|e| crate::net::one_line(&e.to_string()))?;
    // Chat frames are small: send each at once.
    let _ = tcp.set_nodelay(true);
    let stream = if address.is_tls() {
        let Some(config) = &endpoint.tls else {
            return Err("no TLS configuration for a wss:// address".into());
        };
        let name = ServerName::try_from(host.clone())
            .map_err(|_| format!("{host:?} is not a name a certificate can carry"))?;
        let tls = TlsConnector::from(config.clone())
            .connect(name, tcp)
            .await
            .map_err(|e| crate::tls::describe_failure(&host, &e))?;
        Either::Right(tls)
    } else {
        Either::Left(tcp)
    };
    let (socket, _response) =
        tokio_tungstenite::client_async_with_config(address.as_str(), stream, Some(config))
            .await
            .map_err(|e| upgrade_failure(&e))?;
    Ok(socket)
}

/// Why the WebSocket upgrade failed, in words.
fn upgrade_failure(error: &tungstenite::Error) -> String {
    match error {
        tungstenite::Error::Http(response) => format!(
            "the server answered HTTP {} instead of opening a WebSocket; \
             is this the chat server's address (usually ending in /ws)?",
            response.status()
        ),
        other => crate::net::one_line(&other.to_string()),
    }
}
