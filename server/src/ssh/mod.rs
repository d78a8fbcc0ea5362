//! The ssh entrance (`--ssh-listen`): any OpenSSH client gets the whole
//! chat-tui app, drawn on its terminal, signed in by its key.
//!
//! - `listener.rs`: the accept loop (every TCP connection admitted by the
//!   same limits as the web's), the login timeout, shutdown;
//! - `host_key.rs`: the server's Ed25519 host key, made on first start;
//! - `auth.rs`: public keys only; what a key is as a credential, claiming a
//!   name for an unknown key, the words of each refusal;
//! - `session.rs`: one ssh connection's requests (pty, environment, shell
//!   or command, window changes, typed bytes);
//! - `app.rs`: one session's chat: the session limits, the first screen for
//!   an unknown key, the rooms, chat-tui's app (`tui_client::remote`) until
//!   it ends, the idle timeout, and the goodbye;
//! - `options.rs`: its command-line options;
//! - `transport.rs`: the in-process channel into the server's own
//!   connection loop: there is no second way into a room.

mod app;
pub mod auth;
pub mod host_key;
mod listener;
pub mod options;
mod session;
pub mod transport;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use russh::keys::PrivateKey;

use crate::front::{Admission, AdmissionConfig};

pub use host_key::HostKeyError;
pub use listener::serve;

/// The ssh entrance's settings.
#[derive(Debug, Clone)]
pub struct SshConfig {
    /// The host key file (made on first start if missing); none: a new
    /// key each start (a throwaway server).
    pub host_key: Option<PathBuf>,
    /// ssh sessions open at once, in total.
    pub max_sessions: usize,
    /// ssh sessions open at once from one client address (IPv6: per /64);
    /// 0 turns the limit off.
    pub max_sessions_per_ip: usize,
    /// Authentication attempts per connection.
    pub max_auth_attempts: usize,
    /// How long a connection may take to authenticate.
    pub login_timeout: Duration,
    /// A session with no key pressed for this long is closed.
    pub idle_timeout: Duration,
}

impl SshConfig {
    /// The defaults, with the host key at `host_key`.
    pub fn new(host_key: Option<PathBuf>) -> Self {
        SshConfig {
            host_key,
            max_sessions: 1000,
            max_sessions_per_ip: 8,
            max_auth_attempts: 6,
            login_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(3600),
        }
    }
}

/// The ssh entrance of a running server.
#[derive(Debug)]
pub struct Ssh {
    pub config: SshConfig,
    russh: Arc<russh::server::Config>,
    /// The session limits (a second set of the front door's counters).
    sessions: Arc<Admission>,
}

impl Ssh {
    /// Reads (or makes) the host key and logs its fingerprint.
    pub fn new(config: SshConfig) -> Result<Self, HostKeyError> {
        let key = match &config.host_key {
            Some(path) => {
                let (key, made) = host_key::load_or_create(path)?;
                let fingerprint = host_key::fingerprint(&key);
                let path = path.display().to_string();
                let what = if made {
                    "ssh host key made"
                } else {
                    "ssh host key"
                };
                tracing::info!(%fingerprint, %path, "{what}");
                key
            }
            None => {
                let key = host_key::ephemeral();
                let fingerprint = host_key::fingerprint(&key);
                tracing::warn!(
                    %fingerprint,
                    "ssh host key made for this run only (no data directory): clients will \
                     see a new one after a restart; pass --ssh-host-key FILE to keep one"
                );
                key
            }
        };
        let sessions = Admission::new(AdmissionConfig {
            max_connections: config.max_sessions.max(1),
            max_per_address: config.max_sessions_per_ip,
            rate_per_address: 0.0,
            ..AdmissionConfig::default()
        });
        Ok(Ssh {
            russh: Arc::new(russh_config(&config, key)),
            config,
            sessions,
        })
    }

    pub fn fingerprint(&self) -> String {
        self.russh
            .keys
            .first()
            .map(host_key::fingerprint)
            .unwrap_or_default()
    }
}

fn russh_config(config: &SshConfig, key: PrivateKey) -> russh::server::Config {
    use russh::MethodKind;
    russh::server::Config {
        server_id: russh::SshId::Standard(
            concat!("SSH-2.0-chat-server_", env!("CARGO_PKG_VERSION")).into(),
        ),
        // Public keys only: no password or keyboard-interactive is offered.
        methods: (&[MethodKind::PublicKey][..]).into(),
        auth_rejection_time: Duration::from_millis(300),
        // OpenSSH first tries "none" to learn the methods: answer at once.
        auth_rejection_time_initial: Some(Duration::ZERO),
        max_auth_attempts: config.max_auth_attempts,
        keys: vec![key],
        // The idle timeout is about keys pressed (see `app.rs`); a client
        // that stopped answering is found by keepalives.
        inactivity_timeout: None,
        keepalive_interval: Some(Duration::from_secs(30)),
        keepalive_max: 3,
        nodelay: true,
        // Small windows and buffers: thousands of idle sessions stay
        // cheap, and a stalled client holds little.
        window_size: 64 * 1024,
        channel_buffer_size: 16,
        ..russh::server::Config::default()
    }
}
