//! The parts of `chat-server`'s command line about running it rather than
//! about the chat: the config file, TLS, metrics and the log format
//! ([`Operations`], flattened into the binary's options), and the tools
//! that print shell completions and the manual page ([`Tool`]).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::logging::LogFormat;
use crate::tls::{Tls, TlsError};

/// How the server is run: config file, TLS, metrics, logs.
#[derive(Debug, clap::Args)]
pub struct Operations {
    /// TOML file of settings, keyed by option name (e.g. rate-limit = 5)
    /// [default: none]
    #[arg(long, env = "CHAT_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Serve HTTPS and WSS with this certificate chain (PEM, leaf first);
    /// SIGHUP reloads it [default: plain HTTP]
    #[arg(long, env = "CHAT_TLS_CERT", value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The certificate's private key (PEM) [default: none]
    #[arg(long, env = "CHAT_TLS_KEY", value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Serve Prometheus metrics at http://ADDR/metrics; a bare port means
    /// loopback (127.0.0.1:PORT). Never on the chat's own port.
    /// [default: off]
    #[arg(
        long,
        env = "CHAT_METRICS_LISTEN",
        value_name = "ADDR",
        value_parser = crate::metrics::parse_listen
    )]
    pub metrics_listen: Option<SocketAddr>,

    /// Log lines as text (coloured only on a terminal) or JSON
    #[arg(long, env = "CHAT_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// What `chat-server` can do instead of serving.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Tool {
    /// Print a shell completion script, e.g.
    /// `chat-server completions bash > /etc/bash_completion.d/chat-server`
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g.
    /// `chat-server man > /usr/local/share/man/man1/chat-server.1`
    Man,
    /// Manage identities in the store: add (prints a link code), link,
    /// list, remove, rename
    User(crate::identity::admin::UserCommand),
}

/// Why the operations could not start.
#[derive(Debug, thiserror::Error)]
pub enum OperationsError {
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("--metrics-listen {0} is the chat's own port; give metrics a port of their own")]
    MetricsOnChatPort(SocketAddr),
    #[error(transparent)]
    Metrics(#[from] crate::metrics::MetricsError),
    #[error("cannot listen for SIGHUP: {0}")]
    Signal(std::io::Error),
}

impl Operations {
    /// The certificate, when TLS is asked for.
    pub fn tls(&self) -> Result<Option<Arc<Tls>>, TlsError> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Ok(Some(Arc::new(Tls::load(cert, key)?))),
            _ => Ok(None),
        }
    }

    /// The metrics address, refused when it is the chat's own.
    pub fn metrics_addr(&self, chat: SocketAddr) -> Result<Option<SocketAddr>, OperationsError> {
        let Some(metrics) = self.metrics_listen else {
            return Ok(None);
        };
        let overlap = metrics.ip() == chat.ip()
            || metrics.ip().is_unspecified()
            || chat.ip().is_unspecified();
        if metrics.port() == chat.port() && metrics.port() != 0 && overlap {
            return Err(OperationsError::MetricsOnChatPort(metrics));
        }
        Ok(Some(metrics))
    }

    /// Starts what runs beside the chat until `stop`: certificate reloads
    /// on SIGHUP, and the metrics listener (whose address is printed on
    /// stdout, like the chat's).
    pub async fn start(
        &self,
        chat: SocketAddr,
        tls: Option<Arc<Tls>>,
        stop: &CancellationToken,
    ) -> Result<(), OperationsError> {
        let metrics = self.metrics_addr(chat)?;
        #[cfg(unix)]
        {
            let reload =
                crate::tls::reload_on_hangup(tls, stop.clone()).map_err(OperationsError::Signal)?;
            tokio::spawn(reload);
        }
        #[cfg(not(unix))]
        drop(tls);
        if let Some(addr) = metrics {
            let handle = crate::metrics::install()?;
            let listener = crate::metrics::bind(addr).await?;
            let local = listener
                .local_addr()
                .map_err(|source| crate::metrics::MetricsError::Listen { addr, source })?;
            println!("metrics on http://{local}/metrics");
            tokio::spawn(crate::metrics::serve(listener, handle, stop.clone()));
        }
        Ok(())
    }
}

/// Writes a completion script or the manual page for `command` to `out`.
pub fn run_tool(
    tool: Tool,
    mut command: clap::Command,
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    let name = command.get_name().to_string();
    let mut text = Vec::new();
    match tool {
        // clap_complete panics on a failed write: generate into memory.
        Tool::Completions { shell } => {
            clap_complete::generate(shell, &mut command, name, &mut text);
        }
        Tool::Man => clap_mangen::Man::new(command).render(&mut text)?,
        Tool::User(_) => {
            return Err(std::io::Error::other(
                "the user command runs on the store, not as a printing tool",
            ));
        }
    }
    out.write_all(&text)?;
    out.flush()
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM. The handlers are installed
/// when this is called, not when the future is first polled, so a signal
/// that arrives while the server is still starting is not lost.
#[cfg(unix)]
pub fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

#[cfg(not(unix))]
pub fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    #[command(name = "t")]
    struct Options {
        #[command(flatten)]
        operations: Operations,
    }

    fn parse(args: &[&str]) -> Operations {
        Options::try_parse_from(std::iter::once("t").chain(args.iter().copied()))
            .expect("options parse")
            .operations
    }

    #[test]
    fn metrics_never_share_the_chat_port() {
        let chat: SocketAddr = "0.0.0.0:3000".parse().unwrap();
        let err = parse(&["--metrics-listen", "3000"])
            .metrics_addr(chat)
            .unwrap_err();
        assert!(err.to_string().contains("the chat's own port"), "{err}");
        let ok = parse(&["--metrics-listen", "9300"]).metrics_addr(chat);
        assert_eq!(ok.unwrap(), Some("127.0.0.1:9300".parse().unwrap()));
        // The same port on another address is another socket.
        let other = "127.0.0.2:3000".parse().unwrap();
        let ok = parse(&["--metrics-listen", "127.0.0.3:3000"]).metrics_addr(other);
        assert!(ok.unwrap().is_some());
        assert_eq!(parse(&[]).metrics_addr(chat).unwrap(), None);
    }

    #[test]
    fn a_certificate_needs_its_key() {
        assert!(Options::try_parse_from(["t", "--tls-cert", "c.pem"]).is_err());
        assert!(Options::try_parse_from(["t", "--tls-key", "k.pem"]).is_err());
        let both = parse(&[
            "--tls-cert",
            "/nonexistent/c.pem",
            "--tls-key",
            "/nonexistent/k.pem",
        ]);
        let err = both.tls().unwrap_err().to_string();
        assert!(
            err.starts_with("cannot read the certificate /nonexistent/c.pem"),
            "{err}"
        );
    }
}
