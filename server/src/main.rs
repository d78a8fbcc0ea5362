//! `chat-server`: parses options (over the config file), sets up logging,
//! binds the listener and runs the server until SIGINT or SIGTERM; SIGHUP
//! reloads the TLS certificate.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{CommandFactory, FromArgMatches, Parser};

/// jemalloc rather than the system allocator: glibc's keeps the memory of
/// freed rooms and connections in its per-thread arenas, so a wave of
/// short-lived rooms raised the resident size for good. jemalloc's
/// background thread gives freed pages back to the system within seconds
/// (see SECURITY.md for the figures).
#[cfg(unix)]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Messages kept per room with `--memory` unless `--retain-messages` is
/// given (as many as a cluster keeps per room in Redis).
const MEMORY_RETAIN_MESSAGES: u64 = 10_000;

/// Chat server: rooms over WebSocket for the terminal client and the web page.
///
/// Every option can also be given as an environment variable (shown in
/// brackets) or as a key of the config file (the option's name without
/// its --); options win over the environment, which wins over the file,
/// which wins over the defaults shown.
#[derive(Debug, Parser)]
#[command(
    name = "chat-server",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
struct Options {
    #[command(subcommand)]
    tool: Option<server::cli::Tool>,

    /// Address to listen on. Use 0.0.0.0:3000 to serve your network.
    /// [default: 127.0.0.1:3000, or 0.0.0.0:$PORT when PORT is set]
    #[arg(long, env = "CHAT_LISTEN")]
    listen: Option<SocketAddr>,

    /// Port to listen on all interfaces, as hosting platforms set it.
    /// Ignored when --listen is given.
    #[arg(long, env = "PORT", hide = true)]
    port: Option<u16>,

    /// Browser origins allowed to connect besides the page's own, e.g.
    /// https://chat.example.com (repeat or separate with commas; * for any).
    /// [default: none]
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

    /// Directory for the history store (chat.sqlite3)
    /// [default: the platform's data directory, e.g. ~/.local/share/chat]
    #[arg(long, env = "CHAT_DATA_DIR", conflicts_with = "memory")]
    data_dir: Option<PathBuf>,

    /// Keep history in memory only: a throwaway server. Keeps the latest
    /// 10,000 messages per room unless --retain-messages says otherwise.
    #[arg(long, env = "CHAT_MEMORY")]
    memory: bool,

    /// Messages of history sent to someone joining a room.
    #[arg(long, env = "CHAT_HISTORY", default_value_t = 50)]
    history: u32,

    /// Most missed messages replayed to a client that reconnects; beyond
    /// this it gets the latest page and a "messages not shown" count.
    #[arg(long, env = "CHAT_RESUME_LIMIT", default_value_t = 1000)]
    resume_limit: u64,

    /// Keep at most this many messages per room [default: all; 10,000 with --memory]
    #[arg(long, env = "CHAT_RETAIN_MESSAGES")]
    retain_messages: Option<u64>,

    /// Delete messages older than this many days [default: never]
    #[arg(long, env = "CHAT_RETAIN_DAYS")]
    retain_days: Option<u32>,

    /// What an acknowledged message survives: `process`, the server process
    /// being killed (SQLite synchronous=NORMAL; Redis appendfsync everysec),
    /// or `power`, the machine losing power (an fsync before every ack;
    /// Redis appendfsync always, checked at start).
    #[arg(long, env = "CHAT_DURABILITY", value_enum, default_value_t = server::durability::Durability::Process)]
    durability: server::durability::Durability,

    /// Cluster mode: share rooms, presence and history with every other
    /// instance using the same Redis (redis://HOST:PORT[/DB]). Redis should
    /// persist (appendonly yes) so acknowledged messages survive its restart.
    /// [default: off, one instance on its own store]
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

    #[command(flatten)]
    front: FrontOptions,

    #[command(flatten)]
    identity: server::identity::admin::IdentityOptions,

    #[command(flatten)]
    ssh: server::ssh::options::SshOptions,

    #[command(flatten)]
    moderation: server::moderation::options::ModerationOptions,

    #[command(flatten)]
    operations: server::cli::Operations,
}

/// Who may connect, how many, how often, under which names, and how long
/// each stage of a connection may take.
#[derive(Debug, clap::Args)]
struct FrontOptions {
    /// The URL people use to reach this server, e.g. https://chat.example.com.
    /// Its host name is allowed in requests and its origin for browsers.
    /// [default: none]
    #[arg(long, env = "CHAT_PUBLIC_URL")]
    public_url: Option<String>,

    /// More host names requests may use (besides IP addresses, localhost
    /// and --public-url's); *.example.com for every name under it.
    /// [default: none]
    #[arg(
        long = "allowed-host",
        env = "CHAT_ALLOWED_HOSTS",
        value_delimiter = ','
    )]
    allowed_hosts: Vec<String>,

    /// Connections open at once, in total [default: what the open-file
    /// limit (ulimit -n) allows, less a tenth (at least 64) of headroom]
    #[arg(long, env = "CHAT_MAX_CONNECTIONS")]
    max_connections: Option<usize>,

    /// Connections open at once from one client address (IPv6: per /64);
    /// 0 turns the limit off.
    #[arg(long, env = "CHAT_MAX_CONNECTIONS_PER_IP", default_value_t = 64)]
    max_connections_per_ip: usize,

    /// New connections per second from one client address, sustained; 0
    /// turns the limit off.
    #[arg(long, env = "CHAT_CONNECTION_RATE_PER_IP", default_value_t = 10.0)]
    connection_rate_per_ip: f64,

    /// New connections from one client address allowed in a burst.
    #[arg(long, env = "CHAT_CONNECTION_BURST_PER_IP", default_value_t = 50)]
    connection_burst_per_ip: u32,

    /// A reverse proxy (address or network, e.g. 10.0.0.0/8) whose
    /// X-Forwarded-For / Forwarded headers name the client; repeat or
    /// separate with commas. Nobody else's forwarding headers are believed.
    /// [default: none]
    #[arg(
        long = "trusted-proxy",
        env = "CHAT_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<String>,

    /// Rooms that may exist at once on this server.
    #[arg(long, env = "CHAT_MAX_TOTAL_ROOMS", default_value_t = 10_000)]
    max_total_rooms: usize,

    /// Rooms one connection may create per second (sustained, after a burst
    /// of 32); 0 turns the limit off.
    #[arg(long, env = "CHAT_ROOM_CREATE_RATE", default_value_t = 1.0)]
    room_create_rate: f64,

    /// Malformed frames a connection may send per minute before it is
    /// closed (1008).
    #[arg(long, env = "CHAT_MALFORMED_LIMIT", default_value_t = 10)]
    malformed_limit: u32,

    /// Seconds a client may take to send an HTTP request's headers.
    #[arg(long, env = "CHAT_HEADER_TIMEOUT_SECS", default_value_t = 10.0)]
    header_timeout_secs: f64,

    /// Seconds an HTTP connection may last before it becomes a WebSocket.
    #[arg(long, env = "CHAT_HTTP_TIMEOUT_SECS", default_value_t = 30.0)]
    http_timeout_secs: f64,

    /// Seconds a new WebSocket has to send hello.
    #[arg(long, env = "CHAT_HELLO_TIMEOUT_SECS", default_value_t = 10.0)]
    hello_timeout_secs: f64,

    /// Seconds one write to a client may block (it is not reading) before
    /// the connection is dropped.
    #[arg(long, env = "CHAT_WRITE_TIMEOUT_SECS", default_value_t = 20.0)]
    write_timeout_secs: f64,
}

/// A positive number of seconds as a duration.
fn seconds(value: f64, option: &str) -> anyhow::Result<Duration> {
    anyhow::ensure!(
        value.is_finite() && value > 0.0 && value < 1e9,
        "{option} must be a positive number of seconds"
    );
    Ok(Duration::from_secs_f64(value))
}

impl FrontOptions {
    /// Applies these options to `config`.
    fn apply(&self, config: &mut server::Config) -> anyhow::Result<()> {
        for (rate, option) in [
            (self.connection_rate_per_ip, "--connection-rate-per-ip"),
            (self.room_create_rate, "--room-create-rate"),
        ] {
            anyhow::ensure!(
                rate.is_finite() && rate >= 0.0,
                "{option} must be 0 or more"
            );
        }
        anyhow::ensure!(
            self.max_total_rooms > 0,
            "--max-total-rooms must be at least 1"
        );
        let mut trusted = Vec::new();
        for proxy in &self.trusted_proxies {
            let net = proxy
                .parse::<ipnet::IpNet>()
                .or_else(|_| proxy.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .with_context(|| {
                    format!("--trusted-proxy {proxy:?} is not an address or network")
                })?;
            trusted.push(net);
        }
        let admission = &mut config.admission;
        if let Some(max) = self.max_connections {
            anyhow::ensure!(max > 0, "--max-connections must be at least 1");
            admission.max_connections = max;
        }
        admission.max_per_address = self.max_connections_per_ip;
        admission.rate_per_address = self.connection_rate_per_ip;
        admission.burst_per_address = self.connection_burst_per_ip;
        admission.trusted_proxies = trusted;

        config.allowed_hosts = self.allowed_hosts.clone();
        if let Some(url) = &self.public_url {
            let (scheme, rest) = url
                .split_once("://")
                .filter(|(scheme, _)| matches!(*scheme, "http" | "https"))
                .with_context(|| {
                    format!("--public-url {url:?} must start with http:// or https://")
                })?;
            let authority = rest.split('/').next().unwrap_or_default();
            anyhow::ensure!(!authority.is_empty(), "--public-url {url:?} names no host");
            config.allowed_hosts.push(authority.to_owned());
            config
                .allowed_origins
                .push(format!("{scheme}://{authority}"));
        }
        config.max_rooms_total = self.max_total_rooms;
        config.room_create_rate = self.room_create_rate;
        config.malformed_limit = self.malformed_limit.max(1);
        config.header_timeout = seconds(self.header_timeout_secs, "--header-timeout-secs")?;
        config.http_timeout = seconds(self.http_timeout_secs, "--http-timeout-secs")?;
        config.handshake_timeout = seconds(self.hello_timeout_secs, "--hello-timeout-secs")?;
        config.write_timeout = seconds(self.write_timeout_secs, "--write-timeout-secs")?;
        Ok(())
    }
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
        let dir = if self.memory {
            None
        } else {
            Some(match &self.data_dir {
                Some(dir) => dir.clone(),
                None => server::store::default_data_dir().context(
                    "this platform has no data directory; pass --data-dir DIR or --memory",
                )?,
            })
        };
        let path = dir.as_deref().map(server::store::file_in);
        let mut config = server::Config {
            allowed_origins: self.allowed_origins.clone(),
            rate_per_sec: self.rate_limit,
            rate_burst: self.rate_burst,
            max_rooms_per_connection: self.max_rooms,
            outbound_queue: self.outbound_queue,
            heartbeat_interval: Duration::from_secs(self.heartbeat_secs),
            read_buffer_bytes: self.read_buffer.max(256),
            store: server::store::StoreConfig {
                path,
                // History in memory is bounded by default: all of it
                // would be resident for as long as the server runs.
                retain_messages: self
                    .retain_messages
                    .or(self.memory.then_some(MEMORY_RETAIN_MESSAGES)),
                retain_age: self
                    .retain_days
                    .map(|d| Duration::from_secs(u64::from(d) * 24 * 3600)),
                durability: self.durability,
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
            tls: self.operations.tls()?,
            identity: self.identity.config(),
            ssh: self.ssh.config(dir.as_deref())?,
            moderation: (self.moderation.config())
                .context("cannot read the --content-filter word list")?,
            ..server::Config::default()
        };
        self.front.apply(&mut config)?;
        Ok(config)
    }
}

/// The options' definition, with this machine's data directory as the
/// shown default of `--data-dir`.
fn command() -> clap::Command {
    let command = Options::command();
    match server::store::default_data_dir() {
        Some(dir) => command.mut_arg("data_dir", |arg| {
            arg.default_value(dir.to_string_lossy().into_owned())
        }),
        None => command,
    }
}

/// The options from the command line, the environment and the config file.
fn parse_options() -> anyhow::Result<Options> {
    use server::config_file::ParseError;
    match server::config_file::matches(command(), std::env::args_os()) {
        Ok(matches) => Ok(Options::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())),
        // --help, --version and bad options: clap's own output and exit code.
        Err(ParseError::Options(e)) => e.exit(),
        Err(ParseError::File(e)) => Err(e.into()),
    }
}

fn main() -> anyhow::Result<()> {
    let options = parse_options()?;
    if let Some(server::cli::Tool::User(command)) = options.tool {
        return run_user_command(&command);
    }
    if let Some(tool) = options.tool {
        // Without this machine's paths: the output may be packaged.
        let printed = server::cli::run_tool(tool, Options::command(), &mut std::io::stdout());
        return match printed {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
            _ => Ok(()),
        };
    }
    server::logging::init(options.operations.log_format);
    let config = options.config()?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let shutdown = server::cli::shutdown_signal().context("listening for signals")?;
        let addr = options.listen_addr();
        let stop = tokio_util::sync::CancellationToken::new();
        let _stop_on_exit = stop.clone().drop_guard();
        options
            .operations
            .start(addr, config.tls.clone(), &stop)
            .await?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let local = listener.local_addr()?;
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let ssh = match options.ssh.ssh_listen {
            Some(addr) => Some(
                tokio::net::TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("cannot listen for ssh on {addr}"))?,
            ),
            None => None,
        };
        // On stdout, for people and for scripts that start us on port 0.
        println!("listening on {scheme}://{local}");
        if let Some(ssh) = &ssh {
            println!("ssh listening on {}", ssh.local_addr()?);
        }
        tracing::info!(%local, "chat-server ready");
        Ok(server::run_with_ssh(listener, ssh, config, shutdown).await?)
    })
}

/// `chat-server user ...`: on the store directly, printing its answer.
fn run_user_command(command: &server::identity::admin::UserCommand) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let store = command.store().await?;
        command.run(store, &mut std::io::stdout()).await?;
        Ok(())
    })
}

// The options' tests, in a file of their own so this one stays short.
#[cfg(test)]
#[path = "main_tests.rs"]
mod tests;
