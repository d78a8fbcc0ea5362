//! `chat-server`: parses options, sets up logging, binds the listener and
//! runs the server until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;

/// Chat server: rooms over WebSocket for the terminal client and the web page.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Options {
    /// Address to listen on. Defaults to 127.0.0.1:3000, or 0.0.0.0:$PORT
    /// when PORT is set. Use 0.0.0.0:3000 to serve your network.
    #[arg(long, env = "CHAT_LISTEN")]
    listen: Option<SocketAddr>,

    /// Port to listen on all interfaces, as hosting platforms set it.
    /// Ignored when --listen is given.
    #[arg(long, env = "PORT", hide = true)]
    port: Option<u16>,

    /// Browser origins allowed to connect besides the page's own, e.g.
    /// https://chat.example.com (repeat or separate with commas; * for any).
    #[arg(
        long = "allowed-origin",
        env = "CHAT_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    allowed_origins: Vec<String>,

    /// Requests per second each connection may send (sustained); 0 turns
    /// rate limiting off.
    #[arg(long, env = "CHAT_RATE_LIMIT", default_value_t = 10.0)]
    rate_limit: f64,

    /// Requests a connection may send in a burst above the rate.
    #[arg(long, env = "CHAT_RATE_BURST", default_value_t = 30)]
    rate_burst: u32,

    /// Rooms one connection may be in at once.
    #[arg(long, env = "CHAT_MAX_ROOMS", default_value_t = 32)]
    max_rooms: usize,

    /// Frames that may wait for one client before it counts as a slow
    /// consumer and is disconnected.
    #[arg(long, env = "CHAT_OUTBOUND_QUEUE", default_value_t = 1024)]
    outbound_queue: usize,

    /// Seconds between heartbeats; a client silent for two is disconnected.
    #[arg(long, env = "CHAT_HEARTBEAT_SECS", default_value_t = 30)]
    heartbeat_secs: u64,

    /// Bytes of WebSocket read buffer per connection (memory vs. syscalls).
    #[arg(long, env = "CHAT_READ_BUFFER", default_value_t = server::Config::default().read_buffer_bytes, hide = true)]
    read_buffer: usize,

    /// Directory for the history store (chat.sqlite3). Defaults to the
    /// platform's data directory, e.g. ~/.local/share/chat.
    #[arg(long, env = "CHAT_DATA_DIR", conflicts_with = "memory")]
    data_dir: Option<PathBuf>,

    /// Keep history in memory only: a throwaway server.
    #[arg(long, env = "CHAT_MEMORY")]
    memory: bool,

    /// Messages of history sent to someone joining a room.
    #[arg(long, env = "CHAT_HISTORY", default_value_t = 50)]
    history: u32,

    /// Most missed messages replayed to a client that reconnects; beyond
    /// this it gets the latest page and a "messages not shown" count.
    #[arg(long, env = "CHAT_RESUME_LIMIT", default_value_t = 1000)]
    resume_limit: u64,

    /// Keep at most this many messages per room (default: all).
    #[arg(long, env = "CHAT_RETAIN_MESSAGES")]
    retain_messages: Option<u64>,

    /// Delete messages older than this many days (default: never).
    #[arg(long, env = "CHAT_RETAIN_DAYS")]
    retain_days: Option<u32>,

    /// Cluster mode: share rooms, presence and history with every other
    /// instance using the same Redis (redis://HOST:PORT[/DB]). Redis should
    /// persist (appendonly yes) so acknowledged messages survive its restart.
    #[arg(long, env = "CHAT_REDIS")]
    redis: Option<String>,

    /// Prefix of every Redis key and channel, so clusters can share a Redis.
    #[arg(
        long,
        env = "CHAT_REDIS_PREFIX",
        default_value = "chat:",
        requires = "redis"
    )]
    redis_prefix: String,

    /// Milliseconds after which an instance that stopped refreshing its
    /// liveness key is considered dead and its users leave.
    #[arg(
        long,
        env = "CHAT_CLUSTER_TTL_MS",
        default_value_t = 10_000,
        requires = "redis"
    )]
    cluster_ttl_ms: u64,

    /// Messages kept per room in the shared Redis log.
    #[arg(
        long,
        env = "CHAT_REDIS_HISTORY",
        default_value_t = 10_000,
        requires = "redis"
    )]
    redis_history: u64,
}

impl Options {
    fn listen_addr(&self) -> SocketAddr {
        self.listen.unwrap_or_else(|| match self.port {
            Some(port) => SocketAddr::from(([0, 0, 0, 0], port)),
            None => SocketAddr::from(([127, 0, 0, 1], 3000)),
        })
    }

    fn config(&self) -> anyhow::Result<server::Config> {
        anyhow::ensure!(
            self.rate_limit.is_finite() && self.rate_limit >= 0.0,
            "--rate-limit must be 0 or more"
        );
        anyhow::ensure!(
            self.heartbeat_secs > 0,
            "--heartbeat-secs must be at least 1"
        );
        anyhow::ensure!(
            self.outbound_queue > 0,
            "--outbound-queue must be at least 1"
        );
        anyhow::ensure!(
            self.history <= protocol::limits::MAX_HISTORY_PAGE,
            "--history may be at most {}",
            protocol::limits::MAX_HISTORY_PAGE
        );
        let path = if self.memory {
            None
        } else {
            let dir = match &self.data_dir {
                Some(dir) => dir.clone(),
                None => server::store::default_data_dir().context(
                    "this platform has no data directory; pass --data-dir DIR or --memory",
                )?,
            };
            Some(server::store::file_in(&dir))
        };
        Ok(server::Config {
            allowed_origins: self.allowed_origins.clone(),
            rate_per_sec: self.rate_limit,
            rate_burst: self.rate_burst,
            max_rooms_per_connection: self.max_rooms,
            outbound_queue: self.outbound_queue,
            heartbeat_interval: Duration::from_secs(self.heartbeat_secs),
            read_buffer_bytes: self.read_buffer.max(256),
            store: server::store::StoreConfig {
                path,
                retain_messages: self.retain_messages,
                retain_age: self
                    .retain_days
                    .map(|d| Duration::from_secs(u64::from(d) * 24 * 3600)),
            },
            history_on_join: self.history,
            resume_limit: self.resume_limit,
            cluster: self
                .redis
                .as_ref()
                .map(|url| server::cluster::ClusterConfig {
                    url: url.clone(),
                    prefix: self.redis_prefix.clone(),
                    instance_ttl: Duration::from_millis(self.cluster_ttl_ms.max(100)),
                    max_log: self.redis_history.max(1),
                }),
            ..server::Config::default()
        })
    }
}

fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = options.config()?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let shutdown = shutdown_signal()?;
        let addr = options.listen_addr();
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let local = listener.local_addr()?;
        // On stdout, for people and for scripts that start us on port 0.
        println!("listening on http://{local}");
        tracing::info!(%local, "chat-server ready");
        Ok(server::run(listener, config, shutdown).await?)
    })
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM. The handlers are installed
/// when this is called, not when the future is first polled, so a signal
/// that arrives while the server is still starting is not lost.
#[cfg(unix)]
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).context("listening for SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

#[cfg(not(unix))]
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Options {
        Options::try_parse_from(std::iter::once("chat-server").chain(args.iter().copied()))
            .expect("options parse")
    }

    #[test]
    fn listen_address_defaults_port_and_override() {
        assert_eq!(
            parse(&["--memory"]).listen_addr().to_string(),
            "127.0.0.1:3000"
        );
        // PORT (here as its flag) means every interface, as hosting platforms expect.
        assert_eq!(
            parse(&["--port", "4000"]).listen_addr().to_string(),
            "0.0.0.0:4000"
        );
        assert_eq!(
            parse(&["--port", "4000", "--listen", "127.0.0.1:5000"])
                .listen_addr()
                .to_string(),
            "127.0.0.1:5000"
        );
    }

    #[test]
    fn bad_values_are_refused_with_a_reason() {
        let err = parse(&["--rate-limit=-1", "--memory"])
            .config()
            .unwrap_err();
        assert!(err.to_string().contains("--rate-limit"), "{err}");
        assert!(Options::try_parse_from(["chat-server", "--memory", "--data-dir", "x"]).is_err());
        let memory = parse(&["--memory"]).config().expect("config");
        assert!(memory.store.path.is_none());
        let dir = parse(&["--data-dir", "some/dir"]).config().expect("config");
        assert_eq!(
            dir.store.path.as_deref(),
            Some(std::path::Path::new("some/dir/chat.sqlite3"))
        );
    }
}
