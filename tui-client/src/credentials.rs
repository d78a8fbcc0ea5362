//! Where chat-tui keeps the secret that signs you in, one file per server.
//!
//! The first time a free name is used the server registers it and hands
//! out a credential; with it, the name is yours on this device from then
//! on. It lives in the platform's data directory (on Linux
//! `~/.local/share/chat-tui/credentials/<host>_<port>.json`), the
//! directory readable by you alone (0700) and each file too (0600). A file
//! is replaced whole (written beside it, then renamed), so a crash never
//! leaves half a secret.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::address::ServerAddress;

/// What is kept for one server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stored {
    /// The server as given (its WebSocket URL), for the person reading the
    /// file; the file name is what finds it.
    pub server: String,
    pub user_id: String,
    pub name: String,
    pub credential: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is damaged ({reason}); delete it to register or link again")]
    Damaged { path: PathBuf, reason: String },
}

/// The directory holding one credential file per server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialStore {
    dir: PathBuf,
}

impl CredentialStore {
    /// The platform's data directory for chat-tui, if there is a home.
    pub fn default_location() -> Option<CredentialStore> {
        directories::ProjectDirs::from("", "", "chat-tui")
            .map(|d| CredentialStore::at(d.data_dir().join("credentials")))
    }

    pub fn at(dir: impl Into<PathBuf>) -> CredentialStore {
        CredentialStore { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file for `server`: its host and port, with anything but
    /// letters, digits, dots and dashes made `_`.
    pub fn file_for(&self, server: &ServerAddress) -> PathBuf {
        let key: String = format!("{}_{}", server.host(), server.port())
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(format!("{key}.json"))
    }

    /// The credential kept for `server`, if any.
    pub fn load(&self, server: &ServerAddress) -> Result<Option<Stored>, CredentialError> {
        let path = self.file_for(server);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(CredentialError::Read { path, source }),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| CredentialError::Damaged {
                path,
                reason: e.to_string(),
            })
    }

    /// Keeps `stored` for `server`, readable by you alone.
    pub fn save(
        &self,
        server: &ServerAddress,
        stored: &Stored,
    ) -> Result<PathBuf, CredentialError> {
        let path = self.file_for(server);
        let failed = |source| CredentialError::Write {
            path: path.clone(),
            source,
        };
        private_dir(&self.dir).map_err(failed)?;
        let text =
            serde_json::to_string_pretty(stored).map_err(|e| failed(std::io::Error::other(e)))?;
        let temp = path.with_extension("json.new");
        let _ = std::fs::remove_file(&temp);
        let mut file = private_file(&temp).map_err(failed)?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.write_all(b"\n"))
            .and_then(|()| file.sync_all())
            .map_err(failed)?;
        drop(file);
        std::fs::rename(&temp, &path).map_err(failed)?;
        Ok(path)
    }

    /// Forgets the credential for `server` (refused or revoked by it).
    /// Forgetting what is not there is fine.
    pub fn forget(&self, server: &ServerAddress) -> Result<(), CredentialError> {
        let path = self.file_for(server);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(CredentialError::Write { path, source }),
        }
    }
}

/// Creates `dir` (and its parents) and makes it yours alone.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        // An existing directory may have been made with looser rights.
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}

/// A new file, readable and writable by you alone from the start.
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(raw: &str) -> ServerAddress {
        ServerAddress::parse(raw).unwrap()
    }

    fn stored(name: &str) -> Stored {
        Stored {
            server: "ws://127.0.0.1:3000/ws".into(),
            user_id: "u_0123456789abcdef".into(),
            name: name.into(),
            credential: "c2VjcmV0".into(),
        }
    }

    #[test]
    fn a_saved_credential_is_loaded_back_and_forgotten() {
        let tmp = tempfile::tempdir().unwrap();
        let store = CredentialStore::at(tmp.path().join("deep/credentials"));
        let here = server("127.0.0.1:3000");
        assert_eq!(store.load(&here).unwrap(), None);
        store.save(&here, &stored("ann")).unwrap();
        assert_eq!(store.load(&here).unwrap(), Some(stored("ann")));
        // Saved again: replaced whole.
        store.save(&here, &stored("bob")).unwrap();
        assert_eq!(store.load(&here).unwrap(), Some(stored("bob")));
        // Another server has its own file.
        assert_eq!(store.load(&server("127.0.0.1:3001")).unwrap(), None);
        store.forget(&here).unwrap();
        assert_eq!(store.load(&here).unwrap(), None);
        store.forget(&here).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn the_file_and_its_directory_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("credentials");
        // A directory made earlier with looser rights is tightened.
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let store = CredentialStore::at(&dir);
        let path = store
            .save(&server("https://chat.example.com/"), &stored("ann"))
            .unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600, "{}", path.display());
        assert_eq!(mode(&dir), 0o700, "{}", dir.display());
        assert!(!path.with_extension("json.new").exists());
    }

    #[test]
    fn file_names_carry_no_path_syntax() {
        let store = CredentialStore::at("/x");
        let name = |raw: &str| {
            let path = store.file_for(&server(raw));
            path.file_name().unwrap().to_string_lossy().into_owned()
        };
        assert_eq!(name("ws://127.0.0.1:3000/ws"), "127.0.0.1_3000.json");
        assert_eq!(
            name("wss://chat.example.com/ws"),
            "chat.example.com_443.json"
        );
        assert!(!name("ws://[::1]:3000/ws").contains(':'));
        assert!(!name("ws://[::1]:3000/ws").contains('/'));
    }

    #[test]
    fn a_damaged_file_says_so_and_what_to_do() {
        let tmp = tempfile::tempdir().unwrap();
        let store = CredentialStore::at(tmp.path());
        let here = server("127.0.0.1:3000");
        std::fs::write(store.file_for(&here), "{not json").unwrap();
        let err = store.load(&here).unwrap_err().to_string();
        assert!(
            err.contains("damaged") && err.contains("delete it"),
            "{err}"
        );
    }
}
