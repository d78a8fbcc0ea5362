//! TLS for `wss://`: rustls with the operating system's trust store
//! (rustls-platform-verifier), plus the private CA of `--ca-file`.
//!
//! Verification is never switched off: a server whose certificate does
//! not check out is refused with one line that names the host and the
//! reason ([`describe_failure`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{CertificateError, ClientConfig};

/// Why TLS could not be set up before connecting.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("cannot read the CA file {path}: {reason}")]
    CaFile { path: PathBuf, reason: String },
    #[error("the CA file {0} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")]
    NoCertificate(PathBuf),
    #[error("cannot use the CA file {path}: {reason}")]
    BadCertificate { path: PathBuf, reason: String },
    #[error("cannot load the system's trusted certificates ({0}); pass --ca-file FILE")]
    NoRoots(String),
}

/// The client configuration: the platform's roots, plus every certificate
/// in `ca_file`, with ring as the crypto provider.
pub fn client_config(ca_file: Option<&Path>) -> Result<Arc<ClientConfig>, TlsSetupError> {
    let extra = match ca_file {
        Some(path) => read_ca_file(path)?,
        None => Vec::new(),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier =
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone()).map_err(
            |e| match ca_file {
                Some(path) => TlsSetupError::BadCertificate {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                },
                None => TlsSetupError::NoRoots(e.to_string()),
            },
        )?;
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsSetupError::NoRoots(e.to_string()))?
        // "dangerous" is rustls' name for any verifier of one's own; this
        // one is the platform's, which verifies fully.
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let bytes = std::fs::read(path).map_err(|e| TlsSetupError::CaFile {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsSetupError::BadCertificate {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsSetupError::NoCertificate(path.to_path_buf()));
    }
    Ok(certs)
}

/// A failed TLS handshake with `host` as one line: who, and why.
pub fn describe_failure(host: &str, error: &std::io::Error) -> String {
    let rustls_error = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match rustls_error {
        Some(rustls::Error::InvalidCertificate(cert)) => {
            format!(
                "the certificate of {host} is not trusted: {}",
                certificate_reason(cert)
            )
        }
        Some(rustls::Error::InvalidMessage(_)) => {
            format!("{host} did not answer in TLS (does it serve plain ws:// on this port?)")
        }
        Some(rustls::Error::AlertReceived(alert)) => {
            format!("{host} ended the TLS handshake: {alert:?}")
        }
        Some(other) => format!("TLS with {host} failed: {other}"),
        None => format!(
            "TLS with {host} failed: {}",
            crate::net::one_line(&error.to_string())
        ),
    }
}

fn certificate_reason(error: &CertificateError) -> String {
    match error {
        CertificateError::UnknownIssuer => "it is signed by an unknown authority \
            (if the server uses a private CA, pass its certificate with --ca-file)"
            .into(),
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            format!("it is for another name ({error})")
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            format!("it has expired ({error})")
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            format!("it is not valid yet; is this machine's clock right? ({error})")
        }
        CertificateError::Revoked => "it has been revoked".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io(e: rustls::Error) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidData, e)
    }

    #[test]
    fn a_verification_failure_names_the_host_and_the_reason() {
        let line = describe_failure(
            "chat.example.com",
            &io(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer,
            )),
        );
        assert!(
            line.starts_with("the certificate of chat.example.com is not trusted"),
            "{line}"
        );
        assert!(line.contains("unknown authority"), "{line}");
        assert!(line.contains("--ca-file"), "{line}");
        let line = describe_failure(
            "h",
            &io(rustls::Error::InvalidCertificate(CertificateError::Expired)),
        );
        assert!(line.contains("expired"), "{line}");
        let line = describe_failure(
            "h",
            &io(rustls::Error::InvalidMessage(
                rustls::InvalidMessage::InvalidContentType,
            )),
        );
        assert!(line.contains("plain ws://"), "{line}");
        let line = describe_failure("h", &std::io::Error::other("reset\nby peer"));
        assert_eq!(line, "TLS with h failed: reset");
    }

    #[test]
    fn ca_file_problems_are_named() {
        let dir = std::env::temp_dir();
        let missing = dir.join("chat-tui-no-such-ca.pem");
        let e = client_config(Some(&missing)).unwrap_err();
        assert!(matches!(e, TlsSetupError::CaFile { .. }), "{e}");
        let empty = dir.join(format!("chat-tui-empty-ca-{}.pem", std::process::id()));
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let e = client_config(Some(&empty)).unwrap_err();
        let _ = std::fs::remove_file(&empty);
        assert!(matches!(e, TlsSetupError::NoCertificate(_)), "{e}");
    }
}
