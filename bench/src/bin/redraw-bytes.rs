//! `redraw-bytes`: bytes written to a terminal per new message, the cost
//! every ssh session multiplies. A running chat-server gets, in one room:
//! for each terminal size, a chat-tui in a pseudo-terminal of that size
//! (the bytes read from the pty master are what a terminal would get) and
//! the ssh renderer (`tui_client::remote`, its frames counted); then four
//! senders write `--messages` ordinary lines of 3 to 14 words at `--rate`
//! lines a second in all. Bytes per message = bytes written from the first
//! line until a second after the last, divided by the lines.
//!
//! `--no-scroll-region` measures the full redraw (the fallback) instead.
//! Loopback servers only; every wait is bounded.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use futures::{SinkExt, StreamExt};
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use protocol::{ClientEvent, PROTOCOL_VERSION};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tui_client::address::ServerAddress;
use tui_client::dial::Endpoint;
use tui_client::remote::{
    self, EndpointDialer, Incoming, RemoteOptions, RemoteSignIn, TerminalInfo,
};

/// Measures bytes written per new message, chat-tui in a pty and the ssh renderer.
#[derive(Debug, Parser)]
#[command(name = "redraw-bytes")]
struct Options {
    /// The server's WebSocket URL (a loopback address)
    #[arg(long, default_value = "ws://127.0.0.1:3000/ws")]
    url: String,
    /// The chat-tui binary to run in the pseudo-terminals
    #[arg(long, default_value = "target/release/chat-tui")]
    chat_tui: String,
    /// Terminal sizes, COLSxROWS, comma-separated
    #[arg(long, default_value = "80x24,120x32,200x50", value_delimiter = ',')]
    sizes: Vec<String>,
    /// Lines sent (at most 2000)
    #[arg(long, default_value_t = 200)]
    messages: u32,
    /// Lines a second, all senders together (at most 100)
    #[arg(long, default_value_t = 20)]
    rate: u32,
    /// Redraw what moved instead of scrolling the pane (the fallback)
    #[arg(long)]
    no_scroll_region: bool,
}

const WORDS: &[&str] = &[
    "the", "deploy", "is", "done", "can", "you", "check", "logs", "after", "lunch", "I", "think",
    "we", "should", "ship", "it", "today", "tests", "pass", "on", "main", "again", "nice", "one",
    "who", "broke", "build", "coffee", "meeting", "moved", "to", "three", "thanks", "ok",
];
const SENDERS: u32 = 4;

/// Line `n`: 3 to 14 words, the same every run.
fn line(n: u32) -> String {
    let mut x = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let count = 3 + next() % 12;
    (0..count)
        .map(|_| WORDS[(next() % WORDS.len() as u64) as usize])
        .collect::<Vec<_>>()
        .join(" ")
}

fn parse_size(s: &str) -> anyhow::Result<(u16, u16)> {
    let (c, r) = s.split_once('x').context("a size is COLSxROWS")?;
    Ok((c.parse()?, r.parse()?))
}

/// A chat-tui in a pty; its output counted.
struct Local {
    child: Box<dyn portable_pty::Child + Send + Sync>,
    bytes: Arc<AtomicUsize>,
    _dir: tempfile::TempDir,
}

fn start_local(o: &Options, size: (u16, u16), name: &str, room: &str) -> anyhow::Result<Local> {
    let pair = native_pty_system().openpty(PtySize {
        rows: size.1,
        cols: size.0,
        pixel_width: 0,
        pixel_height: 0,
    })?;
    let dir = tempfile::tempdir()?;
    let mut cmd = CommandBuilder::new(&o.chat_tui);
    cmd.args(["--server", &o.url, "--name", name, "--room", room]);
    if o.no_scroll_region {
        cmd.arg("--no-scroll-region");
    }
    cmd.env("TERM", "xterm-256color");
    cmd.env("HOME", dir.path());
    cmd.env("XDG_CONFIG_HOME", dir.path().join("config"));
    cmd.env("XDG_DATA_HOME", dir.path().join("data"));
    cmd.env_remove("NO_COLOR");
    let child = pair.slave.spawn_command(cmd)?;
    let mut reader = pair.master.try_clone_reader()?;
    let bytes = Arc::new(AtomicUsize::new(0));
    let counter = bytes.clone();
    // Keeps the master open (and answers nothing: chat-tui asks no
    // questions of the terminal) until the child is gone.
    let master = pair.master;
    std::thread::spawn(move || {
        let _master = master;
        let mut buf = [0u8; 65536];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            counter.fetch_add(n, Ordering::Relaxed);
        }
    });
    Ok(Local {
        child,
        bytes,
        _dir: dir,
    })
}

/// The ssh renderer, over a WebSocket; its frames counted.
fn start_remote(
    o: &Options,
    size: (u16, u16),
    name: &str,
    room: &str,
) -> anyhow::Result<(Arc<AtomicUsize>, mpsc::Sender<Incoming>)> {
    let address = ServerAddress::parse(&o.url)?;
    let dialer = Arc::new(EndpointDialer(Endpoint::plain(address)));
    let terminal = TerminalInfo {
        term: "xterm-256color".into(),
        cols: size.0,
        rows: size.1,
    };
    let mut options = RemoteOptions::new(terminal, vec![room.into()], "bench".into());
    options.scroll_region = !o.no_scroll_region;
    let sign_in = RemoteSignIn {
        user: String::new(),
        name: name.into(),
        device: "redraw-bytes".into(),
    };
    let (in_tx, in_rx) = mpsc::channel(16);
    let (out_tx, mut out_rx) = mpsc::channel::<Vec<u8>>(1);
    let bytes = Arc::new(AtomicUsize::new(0));
    let counter = bytes.clone();
    tokio::spawn(async move {
        while let Some(frame) = out_rx.recv().await {
            counter.fetch_add(frame.len(), Ordering::Relaxed);
        }
    });
    tokio::spawn(remote::run(options, sign_in, in_rx, out_tx, dialer));
    Ok((bytes, in_tx))
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn sender(url: &str, name: String, room: &str) -> anyhow::Result<Ws> {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await?;
    let hello = ClientEvent::Hello {
        protocol: PROTOCOL_VERSION,
        name: Some(name),
        credential: None,
        link_code: None,
        device: Some("redraw-bytes".into()),
        client: None,
    };
    ws.send(Message::text(protocol::encode(&hello))).await?;
    let join = ClientEvent::Join {
        id: "j".into(),
        room: room.into(),
        since: None,
        epoch: None,
    };
    ws.send(Message::text(protocol::encode(&join))).await?;
    // The welcome and the join's answers, before sending.
    for _ in 0..64 {
        let frame = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .context("no answer to join")?;
        match frame {
            Some(Ok(Message::Text(t))) if t.contains("\"history\"") => return Ok(ws),
            Some(Ok(Message::Text(t))) if t.contains("\"error\"") => bail!("refused: {t}"),
            Some(Ok(_)) => {}
            _ => bail!("the server closed the connection"),
        }
    }
    bail!("no history after join")
}

fn total(counters: &[Arc<AtomicUsize>]) -> Vec<usize> {
    counters.iter().map(|c| c.load(Ordering::Relaxed)).collect()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let o = Options::parse();
    let host = ServerAddress::parse(&o.url)?.host();
    if !matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]" | "::1") {
        bail!("--url must be a loopback address");
    }
    let messages = o.messages.min(2000);
    let rate = o.rate.clamp(1, 100);
    let sizes: Vec<(u16, u16)> = o
        .sizes
        .iter()
        .map(|s| parse_size(s))
        .collect::<Result<_, _>>()?;
    let tag = format!("{:06x}", std::process::id() ^ 0x5a5a5a);
    let room = format!("redraw{tag}");

    let mut locals = Vec::new();
    let mut remotes = Vec::new();
    for (i, size) in sizes.iter().enumerate() {
        locals.push(start_local(&o, *size, &format!("tui{i}{tag}"), &room)?);
        remotes.push(start_remote(&o, *size, &format!("ssh{i}{tag}"), &room)?);
    }
    let mut senders = Vec::new();
    for i in 0..SENDERS {
        senders.push(sender(&o.url, format!("send{i}{tag}"), &room).await?);
    }
    // Everyone joined and drew the room: wait until nothing is written for
    // a moment (at most 10 s).
    let counters: Vec<_> = locals
        .iter()
        .map(|l| l.bytes.clone())
        .chain(remotes.iter().map(|r| r.0.clone()))
        .collect();
    let mut last = total(&counters);
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = total(&counters);
        if now == last && now.iter().all(|&n| n > 0) {
            break;
        }
        last = now;
    }
    let before = total(&counters);
    // Drain what the senders receive, so the server never waits on them.
    let mut sinks = Vec::new();
    for ws in senders {
        let (sink, mut stream) = ws.split();
        tokio::spawn(async move { while let Some(Ok(_)) = stream.next().await {} });
        sinks.push(sink);
    }
    let mut tick = tokio::time::interval(Duration::from_secs(1) / rate);
    for n in 0..messages {
        tick.tick().await;
        let send = ClientEvent::Send {
            id: format!("m{n}"),
            room: room.clone(),
            text: line(n),
            action: false,
        };
        let sink = &mut sinks[(n % SENDERS) as usize];
        sink.send(Message::text(protocol::encode(&send))).await?;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = total(&counters);

    let mode = if o.no_scroll_region {
        "full redraw"
    } else {
        "scrolling region"
    };
    println!("{messages} lines at {rate}/s, {mode}; bytes written per message:");
    println!("| terminal size | chat-tui (pty) | ssh renderer |");
    println!("| --- | ---: | ---: |");
    let n = sizes.len();
    for (i, (c, r)) in sizes.iter().enumerate() {
        let local = (after[i] - before[i]) / messages as usize;
        let remote = (after[n + i] - before[n + i]) / messages as usize;
        println!("| {c}x{r} | {local} | {remote} |");
    }
    for mut l in locals {
        let _ = l.child.kill();
    }
    for (_, input) in remotes {
        let _ = input.send(Incoming::Closed).await;
    }
    Ok(())
}
