//! Setting a client up: its socket, the WebSocket handshake, `hello` with a
//! name of its own, and the join of its room.

use futures::{SinkExt, StreamExt};
use protocol::{ClientEvent, PROTOCOL_VERSION};
use tokio::net::TcpSocket;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::{SLOW_RECV_BUFFER, Ws};
use crate::args::Plan;
use crate::stamp::{self, Frame};

pub(super) async fn connect_and_join(
    plan: &Plan,
    index: usize,
    slow: bool,
) -> Result<(Ws, Instant), String> {
    let (url, addr) = &plan.targets[index % plan.targets.len()];
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(|e| format!("socket: {e}"))?;
    if slow {
        socket
            .set_recv_buffer_size(SLOW_RECV_BUFFER)
            .map_err(|e| format!("SO_RCVBUF: {e}"))?;
    }
    let stream = socket
        .connect(*addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    stream
        .set_nodelay(true)
        .map_err(|e| format!("nodelay: {e}"))?;
    let config = WebSocketConfig::default().read_buffer_size(8 * 1024);
    let (mut ws, _) =
        tokio_tungstenite::client_async_with_config(url.as_str(), stream, Some(config))
            .await
            .map_err(|e| format!("handshake: {e}"))?;

    // Every connection registers a name of its own; the run's tag keeps
    // them apart from an earlier run's on a server that remembers names.
    let hello = ClientEvent::Hello {
        protocol: PROTOCOL_VERSION,
        name: Some(format!("c{index}-{}", crate::run_tag::run_tag())),
        credential: None,
        link_code: None,
        device: Some("chat-bench".into()),
        client: Some(concat!("chat-bench/", env!("CARGO_PKG_VERSION")).into()),
    };
    send(&mut ws, &hello).await?;
    expect(&mut ws, Frame::Welcome, "welcome").await?;
    let connected = Instant::now();
    let join = ClientEvent::Join {
        id: "j".into(),
        room: room_name(plan.room_of(index)),
        since: None,
        epoch: None,
    };
    send(&mut ws, &join).await?;
    expect(&mut ws, Frame::RoomState, "room_state").await?;
    Ok((ws, connected))
}

/// The name of room `r`.
pub fn room_name(r: usize) -> String {
    format!("bench-{r}")
}

pub(super) async fn send(ws: &mut Ws, event: &ClientEvent) -> Result<(), String> {
    ws.send(Message::text(protocol::encode(event)))
        .await
        .map_err(|e| format!("send: {e}"))
}

/// Reads until a frame of kind `want`; an error or failed ack ends setup.
/// Bounded by the caller's timeout.
async fn expect(ws: &mut Ws, want: Frame<'static>, what: &str) -> Result<(), String> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => {
                let kind = stamp::classify(&t);
                if kind == want {
                    return Ok(());
                }
                if matches!(kind, Frame::Error | Frame::Ack { ok: false }) {
                    return Err(format!("waiting for {what}: {}", t.as_str()));
                }
            }
            Some(Ok(Message::Close(c))) => return Err(format!("closed waiting for {what}: {c:?}")),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(format!("waiting for {what}: {e}")),
            None => return Err(format!("closed waiting for {what}")),
        }
    }
}
