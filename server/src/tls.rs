//! HTTPS and WSS on the chat's one port, with rustls (ring as the crypto
//! provider).
//!
//! The certificate sits behind a resolver that hands out whatever was
//! loaded last, so [`Tls::reload`] (on SIGHUP, see
//! [`reload_on_hangup`]) swaps it for new handshakes while every
//! connection already open keeps its session. A reload that fails (a
//! half-written file, a key that does not match) keeps the old certificate
//! and says why.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// How long a client has for the TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a certificate and key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {what} {path}: {reason}")]
    Read {
        what: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("{0} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")]
    NoCertificate(PathBuf),
    #[error("the key {key} does not fit the certificate {cert}: {reason}")]
    Mismatch {
        cert: PathBuf,
        key: PathBuf,
        reason: String,
    },
    #[error("cannot set up TLS: {0}")]
    Setup(String),
}

/// The server's TLS: its configuration and the certificate it can reload.
#[derive(Debug)]
pub struct Tls {
    cert_path: PathBuf,
    key_path: PathBuf,
    provider: Arc<CryptoProvider>,
    current: Arc<Current>,
    config: Arc<ServerConfig>,
}

/// The certificate handed to new handshakes.
#[derive(Debug)]
struct Current(RwLock<Arc<CertifiedKey>>);

impl ResolvesServerCert for Current {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        // A panic while swapping leaves the old Arc in place: still valid.
        Some(self.0.read().unwrap_or_else(|e| e.into_inner()).clone())
    }
}

impl Tls {
    /// Loads the certificate chain (PEM, leaf first) and its private key.
    pub fn load(cert_path: &Path, key_path: &Path) -> Result<Tls, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = certified_key(cert_path, key_path, &provider)?;
        let current = Arc::new(Current(RwLock::new(Arc::new(key))));
        let mut config = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Setup(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(current.clone());
        // WebSocket upgrades are HTTP/1.1: say so, so browsers do not
        // expect HTTP/2.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Tls {
            cert_path: cert_path.to_path_buf(),
            key_path: key_path.to_path_buf(),
            provider,
            current,
            config: Arc::new(config),
        })
    }

    /// Reads the files again; new handshakes get the new certificate. On
    /// an error the old one stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let key = certified_key(&self.cert_path, &self.key_path, &self.provider)?;
        *self.current.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(key);
        Ok(())
    }

    /// The leaf certificate new handshakes get (DER).
    pub fn certificate(&self) -> Option<CertificateDer<'static>> {
        let current = self.current.0.read().unwrap_or_else(|e| e.into_inner());
        current.cert.first().cloned()
    }

    /// Runs the TLS handshake on an accepted connection; `None` (logged at
    /// debug level) when the client fails it or takes too long.
    pub async fn handshake<S>(&self, stream: S) -> Option<TlsStream<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        match tokio::time::timeout(
            HANDSHAKE_TIMEOUT,
            TlsAcceptor::from(self.config.clone()).accept(stream),
        )
        .await
        {
            Ok(Ok(tls)) => Some(tls),
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "TLS handshake failed");
                None
            }
            Err(_) => {
                tracing::debug!("TLS handshake took too long");
                None
            }
        }
    }
}

fn certified_key(
    cert_path: &Path,
    key_path: &Path,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, TlsError> {
    let read = |what, path: &Path, reason: String| TlsError::Read {
        what,
        path: path.to_path_buf(),
        reason,
    };
    let cert_pem =
        std::fs::read(cert_path).map_err(|e| read("the certificate", cert_path, e.to_string()))?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| read("the certificate", cert_path, e.to_string()))?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate(cert_path.to_path_buf()));
    }
    let key_pem =
        std::fs::read(key_path).map_err(|e| read("the private key", key_path, e.to_string()))?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| read("the private key", key_path, e.to_string()))?;
    CertifiedKey::from_der(chain, key, provider).map_err(|e| TlsError::Mismatch {
        cert: cert_path.to_path_buf(),
        key: key_path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Reloads the certificate on every SIGHUP until `stop` is cancelled;
/// without TLS a SIGHUP is only logged. The handler is installed before
/// this returns, so a SIGHUP right after start is not lost (nor does it
/// end the process, SIGHUP's default).
#[cfg(unix)]
pub fn reload_on_hangup(
    tls: Option<Arc<Tls>>,
    stop: tokio_util::sync::CancellationToken,
) -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangups = signal(SignalKind::hangup())?;
    Ok(async move {
        loop {
            tokio::select! {
                received = hangups.recv() => if received.is_none() { return },
                () = stop.cancelled() => return,
            }
            match tls.as_deref().map(Tls::reload) {
                Some(Ok(())) => tracing::info!("SIGHUP: reloaded the TLS certificate"),
                Some(Err(e)) => tracing::error!(
                    error = %e,
                    "SIGHUP: cannot reload the TLS certificate; keeping the old one"
                ),
                None => tracing::info!("SIGHUP: nothing to reload (no TLS certificate)"),
            }
        }
    })
}
