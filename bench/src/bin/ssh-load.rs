//! `ssh-load`: what the ssh entrance costs, side by side with WebSocket
//! clients, against a running `chat-server --ssh-listen` (started with
//! `--ssh-max-sessions-per-ip 0 --max-connections-per-ip 0
//! --connection-rate-per-ip 0 --rate-limit 0`):
//!
//! 1. memory per idle connection, first for `--sessions` idle WebSocket
//!    clients, then for as many OpenSSH clients (`ssh -tt`, each with a key
//!    of its own, made by ssh-keygen) that have drawn their first screen in
//!    one room. The server's RSS is read with none, half and all of them
//!    connected, each time once it has stopped falling (polled every
//!    second until no new low for 3 s, at most 15 s): jemalloc gives freed
//!    pages back over ~10 s, so a read right after the first draws still
//!    counts their temporary frames. The figure reported is the steady
//!    marginal cost, (RSS at N − RSS at N/2) / (N/2): it leaves out what the
//!    first connection loads once (code pages, pools, the room itself) and
//!    counts the room growing with its members. The older figure, (RSS at
//!    N − RSS at 0) / N, is printed beside it;
//! 2. server CPU per delivered screen update: `--messages` lines posted at
//!    `--rate` per second into that room, the server's CPU time divided by
//!    lines × sessions, with the ssh sessions in the room, then with the
//!    WebSocket clients instead;
//! 3. keystroke-to-echo latency over ssh: one more session types a key
//!    every 20 ms and times the first byte drawn back, `--keys` times.
//!
//! Every loop is bounded; the OpenSSH clients are killed at the end.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bench::procfs;
use clap::Parser;
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;

#[derive(Debug, Parser)]
#[command(name = "ssh-load")]
struct Options {
    /// The server's process id (its CPU time and memory are read from /proc)
    #[arg(long)]
    pid: u32,
    /// The server's ssh address
    #[arg(long, default_value = "127.0.0.1:2222")]
    ssh: String,
    /// The server's WebSocket URL
    #[arg(long, default_value = "ws://127.0.0.1:3000/ws")]
    url: String,
    /// Sessions (and then WebSocket clients) in the busy room
    #[arg(long, default_value_t = 200)]
    sessions: usize,
    /// Lines posted into the room
    #[arg(long, default_value_t = 200)]
    messages: usize,
    /// Lines per second
    #[arg(long, default_value_t = 20.0)]
    rate: f64,
    /// Keystrokes timed
    #[arg(long, default_value_t = 200)]
    keys: usize,
}

const ROOM: &str = "loadroom";
const PATIENCE: Duration = Duration::from_secs(60);

/// One OpenSSH client, its output counted.
struct Session {
    child: Child,
    stdin: tokio::process::ChildStdin,
    received: Arc<AtomicU64>,
    /// Told after every read of the client's output.
    output: Arc<tokio::sync::Notify>,
}

impl Session {
    async fn open(ssh: &str, key: &std::path::Path, user: &str) -> anyhow::Result<Session> {
        let (host, port) = ssh.rsplit_once(':').context("--ssh HOST:PORT")?;
        let mut child = Command::new("ssh")
            .args(["-tt", "-F", "/dev/null", "-p", port, "-i"])
            .arg(key)
            .args([
                "-o",
                "IdentitiesOnly=yes",
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "LogLevel=ERROR",
            ])
            .arg(format!("{user}@{host}"))
            .arg(ROOM)
            .env("TERM", "xterm-256color")
            .env_remove("SSH_AUTH_SOCK")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting ssh")?;
        let stdin = child.stdin.take().context("ssh stdin")?;
        let mut stdout = child.stdout.take().context("ssh stdout")?;
        let received = Arc::new(AtomicU64::new(0));
        let output = Arc::new(tokio::sync::Notify::new());
        let (counted, told) = (received.clone(), output.clone());
        tokio::spawn(async move {
            let mut buf = vec![0u8; 16 * 1024];
            while let Ok(n) = stdout.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                counted.fetch_add(n as u64, Ordering::Relaxed);
                told.notify_one();
            }
        });
        Ok(Session {
            child,
            stdin,
            received,
            output,
        })
    }
}

fn keygen(dir: &std::path::Path, name: &str) -> anyhow::Result<std::path::PathBuf> {
    let path = dir.join(name);
    let status = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&path)
        .status()?;
    if !status.success() {
        bail!("ssh-keygen failed");
    }
    Ok(path)
}

/// Waits (bounded) until `check` holds.
async fn until(what: &str, mut check: impl FnMut() -> bool) -> anyhow::Result<()> {
    let deadline = Instant::now() + PATIENCE;
    while !check() {
        if Instant::now() > deadline {
            bail!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

fn sample(pid: u32) -> anyhow::Result<procfs::Sample> {
    procfs::sample(Some(pid)).context("the server process is gone")
}

/// The server's resident memory in KiB once it has stopped falling: read
/// every second until no new low for 3 s in a row, at most 15 s (freed
/// pages go back to the system over jemalloc's ~10 s decay).
async fn rss_settled(pid: u32) -> anyhow::Result<u64> {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut low = sample(pid)?.rss_kib;
    let mut still = 0;
    while still < 3 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = sample(pid)?.rss_kib;
        if now < low {
            low = now;
            still = 0;
        } else {
            still += 1;
        }
    }
    Ok(sample(pid)?.rss_kib)
}

/// Memory per connection from settled RSS with none, half and all `n`
/// connected: prints both figures, returns the marginal one.
fn per_connection(what: &str, n: usize, rss: [u64; 3]) -> f64 {
    let [none, half, all] = rss;
    let first = n / 2;
    let marginal = all.saturating_sub(half) as f64 / (n - first).max(1) as f64;
    let average = all.saturating_sub(none) as f64 / n.max(1) as f64;
    println!(
        "idle {what}: {n}, settled server RSS {none} -> {half} ({first}) -> {all} KiB: {marginal:.1} KiB each for the second {} ({average:.1} KiB each from none)",
        n - first
    );
    marginal
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn ws_client(url: &str, name: &str) -> anyhow::Result<Ws> {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await?;
    let hello =
        serde_json::json!({"type": "hello", "protocol": protocol::PROTOCOL_VERSION, "name": name});
    ws.send(Message::text(hello.to_string())).await?;
    let join = serde_json::json!({"type": "join", "id": "j", "room": ROOM});
    ws.send(Message::text(join.to_string())).await?;
    for _ in 0..100 {
        let frame = tokio::time::timeout(PATIENCE, ws.next()).await?;
        if let Some(Ok(Message::Text(t))) = frame
            && t.as_str().contains(r#""type":"ack""#)
        {
            return Ok(ws);
        }
    }
    bail!("no join ack for {name}")
}

/// Posts the lines at the rate; returns the server's CPU seconds spent
/// from the first line until every reader got the last one.
async fn busy_room(
    options: &Options,
    phase: &str,
    poster: &mut Ws,
    delivered: impl FnMut() -> bool,
) -> anyhow::Result<f64> {
    let before = sample(options.pid)?.cpu_secs;
    let every = Duration::from_secs_f64(1.0 / options.rate.max(0.1));
    let mut tick = tokio::time::interval(every);
    for i in 0..options.messages {
        tick.tick().await;
        let words = 3 + i % 12;
        let text: Vec<String> = (0..words).map(|w| format!("word{w}")).collect();
        let send = serde_json::json!({"type": "send", "id": format!("{phase}{i}"), "room": ROOM, "text": text.join(" ")});
        poster.send(Message::text(send.to_string())).await?;
    }
    until("every reader got the lines", delivered).await?;
    Ok(sample(options.pid)?.cpu_secs - before)
}

/// Reads a WebSocket until it saw `count` messages of the room (bounded).
async fn count_messages(mut ws: Ws, count: usize, seen: Arc<AtomicU64>) {
    let mut got = 0;
    while got < count {
        match tokio::time::timeout(PATIENCE, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) if t.as_str().contains(r#""type":"message""#) => {
                got += 1;
            }
            Ok(Some(Ok(_))) => {}
            _ => break,
        }
    }
    seen.fetch_add(1, Ordering::Relaxed);
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    let keys = tempfile::tempdir()?;
    let n = options.sessions;
    let run = std::process::id();
    let mut poster = ws_client(&options.url, &format!("poster{run}")).await?;
    let updates = (options.messages * n) as f64;

    // First the WebSocket clients (their memory is given back before the
    // ssh sessions are measured).
    let mut rss = [rss_settled(options.pid).await?, 0, 0];
    let mut clients = Vec::with_capacity(n);
    for (step, upto) in [(1, n / 2), (2, n)] {
        for i in clients.len()..upto {
            clients.push(ws_client(&options.url, &format!("w{run}x{i}")).await?);
        }
        rss[step] = rss_settled(options.pid).await?;
    }
    per_connection("WebSocket clients", n, rss);
    let done = Arc::new(AtomicU64::new(0));
    for ws in clients {
        tokio::spawn(count_messages(ws, options.messages, done.clone()));
    }
    let ws_cpu = busy_room(&options, "ws", &mut poster, || {
        done.load(Ordering::Relaxed) as usize >= n
    })
    .await?;
    println!(
        "busy room, {n} WebSocket clients: {} lines at {}/s, server CPU {ws_cpu:.2} s, {:.1} us per delivered update",
        options.messages,
        options.rate,
        ws_cpu * 1e6 / updates
    );
    // 1. Idle ssh sessions.
    let mut rss = [rss_settled(options.pid).await?, 0, 0];
    let mut sessions = Vec::with_capacity(n);
    for (step, upto) in [(1, n / 2), (2, n)] {
        for i in sessions.len()..upto {
            let key = keygen(keys.path(), &format!("k{i}"))?;
            sessions.push(Session::open(&options.ssh, &key, &format!("s{run}x{i}")).await?);
        }
        until("every session drew its screen", || {
            sessions
                .iter()
                .all(|s| s.received.load(Ordering::Relaxed) > 500)
        })
        .await?;
        rss[step] = rss_settled(options.pid).await?;
    }
    per_connection("ssh sessions", n, rss);

    // 2a. The busy room with the ssh sessions in it.
    let start_bytes: Vec<u64> = sessions
        .iter()
        .map(|s| s.received.load(Ordering::Relaxed))
        .collect();
    let quiet_for = Arc::new(std::sync::Mutex::new(Instant::now()));
    let total = || {
        sessions
            .iter()
            .map(|s| s.received.load(Ordering::Relaxed))
            .sum::<u64>()
    };
    let mut last_total = total();
    let settled = || {
        // Delivered once no session's output has grown for 2 s.
        let now = total();
        let mut at = quiet_for.lock().unwrap_or_else(|e| e.into_inner());
        if now != last_total {
            last_total = now;
            *at = Instant::now();
            return false;
        }
        at.elapsed() > Duration::from_secs(2)
    };
    let ssh_cpu = busy_room(&options, "ssh", &mut poster, settled).await?;
    let bytes: u64 = sessions
        .iter()
        .zip(&start_bytes)
        .map(|(s, b)| s.received.load(Ordering::Relaxed) - b)
        .sum();
    println!(
        "busy room, {n} ssh sessions: {} lines at {}/s, server CPU {ssh_cpu:.2} s, {:.1} us per delivered screen update, {:.0} bytes per session per line",
        options.messages,
        options.rate,
        ssh_cpu * 1e6 / updates,
        bytes as f64 / updates
    );

    // 3. Keystroke to echo, on one more session in a quiet room.
    let key = keygen(keys.path(), "typist")?;
    let mut typist = Session::open(&options.ssh, &key, &format!("typist{run}")).await?;
    until("the typist's screen", || {
        typist.received.load(Ordering::Relaxed) > 500
    })
    .await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut latencies = Vec::with_capacity(options.keys);
    for i in 0..options.keys {
        let before = typist.received.load(Ordering::Relaxed);
        let key = if i % 40 == 39 { b"\x15" } else { b"x" }; // Ctrl-U now and then
        let sent = Instant::now();
        typist.stdin.write_all(key).await?;
        typist.stdin.flush().await?;
        // Woken by the reader, not polled: the time is the echo's.
        while typist.received.load(Ordering::Relaxed) <= before {
            tokio::time::timeout(PATIENCE, typist.output.notified())
                .await
                .context("no echo")?;
        }
        latencies.push(sent.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e3;
    println!(
        "keystroke to echo over ssh: {} keys, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    );
    drop(typist);
    for mut s in sessions {
        let _ = s.child.kill().await;
    }

    Ok(())
}
