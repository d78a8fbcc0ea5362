//! `hello-latency`: what signing in costs. Opens connections one after
//! another to a running chat-server and times each `hello` from the moment
//! it is sent to its `welcome` (the WebSocket upgrade is not counted):
//! either every connection registers a new name (`--mode register`, which
//! also fills the identity store, e.g. to measure memory per identity), or
//! every connection signs in with one credential (`--mode credential`).
//! The server must let one address connect this often:
//! `--connection-rate-per-ip 0 --max-connections-per-ip 0`.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use futures::{SinkExt, StreamExt};
use protocol::{ClientEvent, PROTOCOL_VERSION, ServerEvent};
use tokio_tungstenite::tungstenite::Message;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Mode {
    /// Each hello registers a new name.
    Register,
    /// Each hello signs in with the same credential.
    Credential,
}

/// Times sequential hellos against a chat-server.
#[derive(Debug, Parser)]
#[command(name = "hello-latency")]
struct Options {
    /// The server's WebSocket URL
    #[arg(long, default_value = "ws://127.0.0.1:3000/ws")]
    url: String,
    /// How hellos sign in
    #[arg(long, value_enum, default_value_t = Mode::Register)]
    mode: Mode,
    /// Hellos to time
    #[arg(long, default_value_t = 2000)]
    count: usize,
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn hello(name: Option<String>, credential: Option<String>) -> ClientEvent {
    ClientEvent::Hello {
        protocol: PROTOCOL_VERSION,
        name,
        credential,
        link_code: None,
        device: Some("hello-latency".into()),
        client: Some(concat!("hello-latency/", env!("CARGO_PKG_VERSION")).into()),
    }
}

/// One connection, one hello: the time to its welcome, and the welcome.
async fn time_hello(url: &str, event: &ClientEvent) -> anyhow::Result<(Duration, ServerEvent)> {
    let (mut ws, _): (Ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .context("connect")?;
    let started = Instant::now();
    ws.send(Message::text(protocol::encode(event))).await?;
    let answer = loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => break protocol::decode_server(&text)?,
            Ok(Some(Ok(_))) => continue,
            other => bail!("no answer to hello: {other:?}"),
        }
    };
    let took = started.elapsed();
    let _ = ws.close(None).await;
    match answer {
        ServerEvent::Welcome { .. } => Ok((took, answer)),
        other => bail!("hello refused: {other:?}"),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    let tag = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis()
        % 1_000_000;
    let credential = match options.mode {
        Mode::Register => None,
        Mode::Credential => {
            let event = hello(Some(format!("h-{tag}")), None);
            match time_hello(&options.url, &event).await?.1 {
                ServerEvent::Welcome { credential, .. } => credential,
                _ => None,
            }
        }
    };
    let mut histogram = hdrhistogram::Histogram::<u64>::new(3)?;
    for i in 0..options.count {
        let event = match &credential {
            Some(c) => hello(None, Some(c.clone())),
            None => hello(Some(format!("h{i}-{tag}")), None),
        };
        let (took, _) = time_hello(&options.url, &event).await?;
        histogram.record(took.as_micros() as u64)?;
    }
    println!(
        "{:?}: {} hellos, p50 {} us, p99 {} us, max {} us",
        options.mode,
        histogram.len(),
        histogram.value_at_quantile(0.5),
        histogram.value_at_quantile(0.99),
        histogram.max()
    );
    Ok(())
}
