//! Server settings. The binary fills them from the command line and the
//! environment; tests build them directly.

use std::time::Duration;

/// Everything that can be tuned. `Default` gives the production defaults.
#[derive(Debug, Clone)]
pub struct Config {
    /// Browser origins allowed to open the WebSocket besides the page's own
    /// (same-origin is always allowed). `"*"` allows any origin.
    pub allowed_origins: Vec<String>,
    /// Sustained requests per second per connection; 0 turns the limit off.
    pub rate_per_sec: f64,
    /// Requests allowed in a burst above the sustained rate.
    pub rate_burst: u32,
    /// Rooms one connection may be in at once.
    pub max_rooms_per_connection: usize,
    /// Frames that may wait in one connection's outbound queue. A client
    /// that lets it fill up is disconnected as a slow consumer.
    pub outbound_queue: usize,
    /// How often the server pings an idle client. A client silent for two
    /// intervals is disconnected.
    pub heartbeat_interval: Duration,
    /// How long a new connection has to send `hello`.
    pub handshake_timeout: Duration,
    /// How long shutdown waits for connections to close.
    pub shutdown_grace: Duration,
    /// How long a client may take to send an HTTP request's headers (the
    /// slowloris guard; also how long an idle keep-alive connection stays).
    pub header_timeout: Duration,
    /// How long an HTTP connection may last before it becomes a WebSocket:
    /// every request on it, its upgrade, and reading the answers. Browsers
    /// simply open a new one.
    pub http_timeout: Duration,
    /// How long one write to a WebSocket client may block (it is not
    /// reading) before the connection is dropped.
    pub write_timeout: Duration,
    /// Who may connect, how many, how often, and from where.
    pub admission: crate::front::AdmissionConfig,
    /// Host names (besides IP addresses and `localhost`) that requests may
    /// name in `Host`; anything else is refused, so a DNS name an attacker
    /// rebinds to this server cannot reach it.
    pub allowed_hosts: Vec<String>,
    /// Malformed frames (undecodable, binary, invalid ids, a second hello,
    /// a bad hello) a connection may send within
    /// [`Config::malformed_window`] before it is closed with 1008.
    pub malformed_limit: u32,
    pub malformed_window: Duration,
    /// Rooms that may run on this server at once.
    pub max_rooms_total: usize,
    /// Rooms one connection may create (join while nobody is in them) per
    /// second, sustained, and in a burst; a rate of 0 turns it off.
    pub room_create_rate: f64,
    pub room_create_burst: u32,
    /// Per-connection WebSocket read buffer: the most read from the socket
    /// at once. Small on purpose: thousands of idle connections must stay
    /// cheap, a typical chat frame fits, a larger one just takes a few
    /// reads, and the WebSocket library zero-fills this much before every
    /// read. Measured per idle connection (10,000 in 1,000 rooms): 4 KiB
    /// 12.0 KB, 1 KiB 6.4 KB, 512 B 5.9 KB of server RSS.
    pub read_buffer_bytes: usize,
    /// Where history is kept, and for how long.
    pub store: crate::store::StoreConfig,
    /// Messages a joiner gets from the room's history.
    pub history_on_join: u32,
    /// Most messages replayed to a client resuming after a reconnect.
    pub resume_limit: u64,
    /// Cluster mode: share rooms with other instances through Redis. When
    /// set, history lives in Redis and `store` is not used.
    pub cluster: Option<crate::cluster::ClusterConfig>,
    /// Serve HTTPS and WSS with this certificate instead of plain HTTP.
    pub tls: Option<std::sync::Arc<crate::tls::Tls>>,
    /// Registration and the expiry of unused names.
    pub identity: crate::identity::IdentityConfig,
    /// The ssh entrance's settings (used with an ssh listener).
    pub ssh: Option<crate::ssh::SshConfig>,
    /// The content filter and the admins named in the options.
    pub moderation: crate::moderation::ModerationConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            allowed_origins: Vec::new(),
            rate_per_sec: 10.0,
            rate_burst: 30,
            max_rooms_per_connection: 32,
            outbound_queue: 1024,
            heartbeat_interval: Duration::from_secs(30),
            handshake_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(5),
            header_timeout: Duration::from_secs(10),
            http_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(20),
            admission: crate::front::AdmissionConfig::default(),
            allowed_hosts: Vec::new(),
            malformed_limit: 10,
            malformed_window: Duration::from_secs(60),
            max_rooms_total: 10_000,
            room_create_rate: 1.0,
            room_create_burst: 32,
            read_buffer_bytes: 512,
            store: crate::store::StoreConfig::default(),
            history_on_join: protocol::limits::HISTORY_PAGE,
            resume_limit: 1000,
            cluster: None,
            tls: None,
            identity: crate::identity::IdentityConfig::default(),
            ssh: None,
            moderation: crate::moderation::ModerationConfig::default(),
        }
    }
}

impl Config {
    /// The limits announced to clients in `welcome`.
    pub fn limits(&self) -> protocol::ServerLimits {
        use protocol::limits::*;
        protocol::ServerLimits {
            max_name_chars: MAX_NAME_CHARS,
            max_room_chars: MAX_ROOM_CHARS,
            max_text_chars: MAX_TEXT_CHARS,
            max_frame_bytes: MAX_FRAME_BYTES,
            max_rooms: self.max_rooms_per_connection,
            rate_per_sec: self.rate_per_sec,
            rate_burst: if self.rate_per_sec > 0.0 {
                self.rate_burst
            } else {
                0
            },
            max_server_frame_bytes: MAX_SERVER_FRAME_BYTES,
        }
    }
}
