//! The ssh entrance's command-line options (flattened into chat-server's;
//! each also from the environment and the config file).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::SshConfig;

/// Options of the ssh entrance.
#[derive(Debug, clap::Args)]
pub struct SshOptions {
    /// Serve the chat to ssh clients on ADDR (e.g. 0.0.0.0:2222): people run
    /// `ssh -p 2222 you@host` and get chat-tui, signed in by their key.
    /// [default: off]
    #[arg(long, env = "CHAT_SSH_LISTEN", value_name = "ADDR")]
    pub ssh_listen: Option<SocketAddr>,

    /// The ssh host key (OpenSSH private key file), made on first start if
    /// missing; cluster instances may share one file. [default:
    /// ssh_host_ed25519_key in the data directory; with --memory, a new
    /// key each start]
    #[arg(long, env = "CHAT_SSH_HOST_KEY", value_name = "FILE")]
    pub ssh_host_key: Option<PathBuf>,

    /// ssh sessions open at once, in total.
    #[arg(long, env = "CHAT_SSH_MAX_SESSIONS", default_value_t = 1000)]
    pub ssh_max_sessions: usize,

    /// ssh sessions open at once from one client address (IPv6: per /64);
    /// 0 turns the limit off.
    #[arg(long, env = "CHAT_SSH_MAX_SESSIONS_PER_IP", default_value_t = 8)]
    pub ssh_max_sessions_per_ip: usize,

    /// Authentication attempts (keys offered) per ssh connection.
    #[arg(long, env = "CHAT_SSH_MAX_AUTH_ATTEMPTS", default_value_t = 6)]
    pub ssh_max_auth_attempts: usize,

    /// Seconds an ssh connection may take to authenticate.
    #[arg(long, env = "CHAT_SSH_LOGIN_TIMEOUT_SECS", default_value_t = 30)]
    pub ssh_login_timeout_secs: u64,

    /// Minutes an ssh session may go without a key pressed before it is
    /// closed.
    #[arg(long, env = "CHAT_SSH_IDLE_TIMEOUT_MINS", default_value_t = 60)]
    pub ssh_idle_timeout_mins: u64,
}

/// An option out of range.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct OptionError(String);

impl SshOptions {
    /// The settings, if the entrance is on. `data_dir` is where the host
    /// key lives unless `--ssh-host-key` says otherwise (none: a throwaway
    /// server).
    pub fn config(&self, data_dir: Option<&Path>) -> Result<Option<SshConfig>, OptionError> {
        if self.ssh_listen.is_none() {
            return Ok(None);
        }
        let positive = |value: u64, option: &str| {
            if value == 0 {
                Err(OptionError(format!("{option} must be at least 1")))
            } else {
                Ok(value)
            }
        };
        let host_key = self
            .ssh_host_key
            .clone()
            .or_else(|| data_dir.map(|d| d.join(super::host_key::FILE_NAME)));
        let mut config = SshConfig::new(host_key);
        config.max_sessions =
            positive(self.ssh_max_sessions as u64, "--ssh-max-sessions")? as usize;
        config.max_sessions_per_ip = self.ssh_max_sessions_per_ip;
        config.max_auth_attempts =
            positive(self.ssh_max_auth_attempts as u64, "--ssh-max-auth-attempts")? as usize;
        config.login_timeout = Duration::from_secs(positive(
            self.ssh_login_timeout_secs,
            "--ssh-login-timeout-secs",
        )?);
        config.idle_timeout = Duration::from_secs(
            positive(self.ssh_idle_timeout_mins, "--ssh-idle-timeout-mins")?.saturating_mul(60),
        );
        Ok(Some(config))
    }
}
