//! Socket helpers for attacks: connecting from a chosen loopback address,
//! raw WebSocket frames, and waiting for the server to hang up.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::common::*;

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Connects to `addr` from the loopback address `source` (all of 127/8 is
/// loopback), so that one test can play several client addresses.
pub async fn connect_from(source: [u8; 4], addr: &str) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((source, 0)))?;
    let addr: SocketAddr = addr.parse().expect("server address");
    socket.connect(addr).await
}

/// Opens a WebSocket from `source`; `Err` holds the HTTP status of a
/// refusal (0 if the connection failed otherwise).
pub async fn ws_from(source: [u8; 4], addr: &str) -> Result<Ws, u16> {
    let tcp = connect_from(source, addr).await.map_err(|_| 0u16)?;
    tokio_tungstenite::client_async(format!("ws://{addr}/ws"), MaybeTlsStream::Plain(tcp))
        .await
        .map(|(ws, _)| ws)
        .map_err(status_of)
}

/// The HTTP status of a refused WebSocket handshake (0 if it was not an
/// HTTP refusal).
pub fn status_of(e: tokio_tungstenite::tungstenite::Error) -> u16 {
    match e {
        tokio_tungstenite::tungstenite::Error::Http(response) => response.status().as_u16(),
        _ => 0,
    }
}

/// Says hello on `ws` and waits for the welcome.
pub async fn identify(ws: Ws, name: &str) -> Client {
    let mut client = Client::from_ws(ws);
    client.hello(name).await;
    client
}

/// Reads until the server ends the connection (end of stream or reset);
/// returns what arrived.
pub async fn until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// A WebSocket spoken by hand, for frames no well-behaved library sends.
pub struct RawWs {
    stream: TcpStream,
}

/// Opcodes.
pub const TEXT: u8 = 0x1;
pub const CLOSE: u8 = 0x8;
pub const PING: u8 = 0x9;

impl RawWs {
    /// Upgrades a fresh connection to `addr`.
    pub async fn connect(addr: &str) -> RawWs {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let request = format!(
            "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            let n = tokio::time::timeout(PATIENCE, stream.read(&mut byte))
                .await
                .expect("upgrade answer in time")
                .expect("read");
            assert_eq!(n, 1, "connection closed during the upgrade");
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head);
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        RawWs { stream }
    }

    /// Writes one final frame; client frames are masked (with a zero key,
    /// which leaves the payload as it is) unless `masked` is false.
    pub async fn send(&mut self, opcode: u8, payload: &[u8], masked: bool) {
        let mut frame = vec![0x80 | opcode];
        let mask_bit = if masked { 0x80 } else { 0 };
        match payload.len() {
            n if n < 126 => frame.push(mask_bit | n as u8),
            n if n <= 0xffff => {
                frame.push(mask_bit | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                frame.push(mask_bit | 127);
                frame.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        if masked {
            frame.extend_from_slice(&[0, 0, 0, 0]);
        }
        frame.extend_from_slice(payload);
        // The server may already have hung up: that shows in what is read.
        let _ = self.stream.write_all(&frame).await;
    }

    /// Reads server frames up to a close frame and returns its code; `None`
    /// if the connection ended without one.
    pub async fn close_code(&mut self) -> Option<u16> {
        let read = async {
            loop {
                let mut head = [0u8; 2];
                self.stream.read_exact(&mut head).await.ok()?;
                let len = match head[1] & 0x7f {
                    126 => {
                        let mut b = [0u8; 2];
                        self.stream.read_exact(&mut b).await.ok()?;
                        u64::from(u16::from_be_bytes(b))
                    }
                    127 => {
                        let mut b = [0u8; 8];
                        self.stream.read_exact(&mut b).await.ok()?;
                        u64::from_be_bytes(b)
                    }
                    n => u64::from(n),
                };
                let mut payload = vec![0u8; usize::try_from(len).ok()?];
                self.stream.read_exact(&mut payload).await.ok()?;
                if head[0] & 0x0f == CLOSE {
                    return payload
                        .get(..2)
                        .map(|code| u16::from_be_bytes([code[0], code[1]]));
                }
            }
        };
        tokio::time::timeout(PATIENCE, read)
            .await
            .expect("the server neither closed nor answered in time")
    }

    /// Whether the server ends the TCP connection after its close frame.
    pub async fn ends(&mut self) -> bool {
        let mut buf = [0u8; 64];
        matches!(
            tokio::time::timeout(PATIENCE, self.stream.read(&mut buf)).await,
            Ok(Ok(0) | Err(_))
        )
    }
}
