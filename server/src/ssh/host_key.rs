//! The server's ssh host key: an Ed25519 key in an OpenSSH private key
//! file, made on first start (mode 0600, created exclusively, so cluster
//! instances starting together on a shared file end up with the one that
//! was written first) and read on every later start.

use std::io::Write;
use std::path::{Path, PathBuf};

use russh::keys::ssh_key::LineEnding;
use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::{HashAlg, PrivateKey};

/// The host key's file name in the data directory.
pub const FILE_NAME: &str = "ssh_host_ed25519_key";

/// Why the host key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum HostKeyError {
    #[error("ssh host key {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("ssh host key {path} is not an OpenSSH private key: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// Reads the host key at `path`, or makes one there if there is none.
/// Returns the key and whether it was made now.
pub fn load_or_create(path: &Path) -> Result<(PrivateKey, bool), HostKeyError> {
    let io = |source| HostKeyError::Io {
        path: path.to_owned(),
        source,
    };
    match std::fs::read(path) {
        Ok(bytes) => return parse(path, &bytes).map(|key| (key, false)),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
        Err(_) => {}
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let key = ephemeral();
    let text = key
        .to_openssh(LineEnding::LF)
        .map_err(|e| HostKeyError::Invalid {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
    match create_private(path) {
        Ok(mut file) => {
            file.write_all(text.as_bytes()).map_err(io)?;
            file.sync_all().map_err(io)?;
            Ok((key, true))
        }
        // Another instance made it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let bytes = std::fs::read(path).map_err(io)?;
            parse(path, &bytes).map(|key| (key, false))
        }
        Err(e) => Err(io(e)),
    }
}

/// A new Ed25519 key.
pub fn ephemeral() -> PrivateKey {
    let seed = crate::identity::secrets::random_bytes::<32>();
    PrivateKey::from(Ed25519Keypair::from_seed(&seed))
}

fn parse(path: &Path, bytes: &[u8]) -> Result<PrivateKey, HostKeyError> {
    PrivateKey::from_openssh(bytes).map_err(|e| HostKeyError::Invalid {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

/// A new file only its owner may read.
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// The key's fingerprint as `ssh` shows it (`SHA256:...`).
pub fn fingerprint(key: &PrivateKey) -> String {
    key.public_key().fingerprint(HashAlg::Sha256).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_made_once_private_and_read_back_the_same() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sub").join(FILE_NAME);
        let (made, new) = load_or_create(&path).expect("made");
        assert!(new);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (read, new) = load_or_create(&path).expect("read");
        assert!(!new);
        assert_eq!(fingerprint(&made), fingerprint(&read));
        assert!(fingerprint(&read).starts_with("SHA256:"));
        std::fs::write(&path, "not a key").expect("write");
        assert!(matches!(
            load_or_create(&path),
            Err(HostKeyError::Invalid { .. })
        ));
    }
}
