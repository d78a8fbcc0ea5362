//! Settings: the config file, merged with command-line options and
//! environment variables (which win).
//!
//! The file is TOML in the platform's config directory, e.g.
//! `~/.config/chat-tui/config.toml` on Linux (see [`default_path`]); every key
//! is optional:
//!
//! ```toml
//! server = "https://chat.example.com/"   # any form --server takes
//! ca_file = "private-ca.pem"   # a private CA to trust; relative to this file
//! name = "ann"
//! rooms = ["dev", "ops"]
//! clock = "24h"          # or "12h" (the default)
//! bell = "mentions"      # "off", "mentions" (the default) or "all"
//! colors = "auto"        # "auto", "256", "16" or "none"
//! hyperlinks = true      # clickable map links (OSC 8)
//! scroll_region = true   # new messages scroll the pane (far fewer bytes)
//!
//! [location]             # used by /location without coordinates
//! latitude = 51.5007
//! longitude = -0.1246
//! ```

use std::path::{Path, PathBuf};

use protocol::validate;
use serde::Deserialize;

use crate::address::{AddressError, ServerAddress};

/// The server used when none is configured.
pub const DEFAULT_SERVER: &str = "ws://127.0.0.1:3000/ws";

/// 12-hour (`3:07 PM`) or 24-hour (`15:07`) timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
pub enum Clock {
    #[default]
    #[serde(rename = "12h")]
    #[value(name = "12h")]
    H12,
    #[serde(rename = "24h")]
    #[value(name = "24h")]
    H24,
}

/// When to ring the terminal bell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Bell {
    Off,
    /// When someone writes your name.
    #[default]
    Mentions,
    /// On every message from someone else.
    All,
}

/// How many colours to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
pub enum Colors {
    /// From `NO_COLOR`, `COLORTERM` and `TERM`.
    #[default]
    #[serde(rename = "auto")]
    #[value(name = "auto")]
    Auto,
    #[serde(rename = "256")]
    #[value(name = "256")]
    C256,
    #[serde(rename = "16")]
    #[value(name = "16")]
    C16,
    #[serde(rename = "none")]
    #[value(name = "none")]
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
}

/// The config file as written; everything optional.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub server: Option<String>,
    /// A private CA's certificate (PEM) to trust besides the system's.
    pub ca_file: Option<PathBuf>,
    pub name: Option<String>,
    pub rooms: Option<Vec<String>>,
    pub clock: Option<Clock>,
    pub bell: Option<Bell>,
    pub colors: Option<Colors>,
    pub hyperlinks: Option<bool>,
    pub scroll_region: Option<bool>,
    pub location: Option<Location>,
}

/// What the command line and environment said; `None`/empty means "not given".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    pub server: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub name: Option<String>,
    /// A one-time code from `/link` on a signed-in device.
    pub link_code: Option<String>,
    pub rooms: Vec<String>,
    pub clock: Option<Clock>,
    pub bell: Option<Bell>,
    pub colors: Option<Colors>,
    pub no_hyperlinks: bool,
    pub no_scroll_region: bool,
}

/// The settings the client runs with, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub server: ServerAddress,
    /// A CA to trust besides the system's, for `wss://`.
    pub ca_file: Option<PathBuf>,
    /// The name to register when this device has no credential for the
    /// server yet (with one, the server knows who you are).
    pub name: Option<String>,
    /// Sign in as an existing identity with a code from `/link`.
    pub link_code: Option<String>,
    /// The config file as named in messages.
    pub config_shown: String,
    pub rooms: Vec<String>,
    pub clock: Clock,
    pub bell: Bell,
    pub colors: Colors,
    pub hyperlinks: bool,
    /// New messages scroll the message pane with the terminal's scrolling
    /// region instead of redrawing what moved (see [`crate::redraw`]).
    pub scroll_region: bool,
    pub location: Option<(f64, f64)>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}, line {line}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error(
        "not signed in to this server yet: give a name to register with --name NAME (or \
         CHAT_NAME, or name = \"...\" in {0}), or sign in as yourself with --link CODE from \
         /link on a signed-in device"
    )]
    NoName(String),
    #[error("bad name {name:?}: {reason}")]
    BadName { name: String, reason: String },
    #[error("bad room {room:?}: {reason}")]
    BadRoom { room: String, reason: String },
    #[error("bad server address: {0}")]
    BadServer(#[from] AddressError),
    #[error("bad default location in the config file: {0}")]
    BadLocation(String),
}

/// Where the config file lives on this platform, if there is a home.
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "chat-tui").map(|d| d.config_dir().join("config.toml"))
}

/// Whether the config file must exist: one named with `--config` must,
/// the default one need not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Required,
    Optional,
}

/// Reads the config file; a missing optional file is an empty config. A
/// relative `ca_file` is taken relative to the file.
pub fn load_file(path: &Path, presence: Presence) -> Result<FileConfig, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && presence == Presence::Optional => {
            return Ok(FileConfig::default());
        }
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let mut file = parse_file(&text, path)?;
    if let (Some(ca), Some(dir)) = (&file.ca_file, path.parent()) {
        file.ca_file = Some(dir.join(ca));
    }
    Ok(file)
}

/// Parses config text; errors name the line, on one line.
pub fn parse_file(text: &str, path: &Path) -> Result<FileConfig, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        line: e.span().map_or(1, |s| {
            text[..s.start.min(text.len())].matches('\n').count() + 1
        }),
        message: e.message().trim().replace('\n', " "),
    })
}

impl Settings {
    /// Merges options over the file and checks the result.
    pub fn merge(
        over: Overrides,
        file: FileConfig,
        file_path: &str,
    ) -> Result<Settings, ConfigError> {
        let name = match over.name.or(file.name) {
            Some(name) => Some(
                validate::display_name(&name)
                    .map_err(|e| ConfigError::BadName {
                        name: name.clone(),
                        reason: e.to_string(),
                    })?
                    .to_string(),
            ),
            None => None,
        };
        let link_code = over
            .link_code
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty());
        let raw_rooms = if over.rooms.is_empty() {
            file.rooms.unwrap_or_default()
        } else {
            over.rooms
        };
        let mut rooms: Vec<String> = Vec::new();
        for raw in raw_rooms {
            let room = validate::normalize_room(&raw);
            if room.is_empty() && raw.trim().is_empty() {
                continue; // "dev,,ops" or a trailing comma
            }
            validate::room_name(&room).map_err(|e| ConfigError::BadRoom {
                room: raw.clone(),
                reason: e.to_string(),
            })?;
            if !rooms.contains(&room) {
                rooms.push(room);
            }
        }
        let server = ServerAddress::parse(
            over.server
                .or(file.server)
                .as_deref()
                .unwrap_or(DEFAULT_SERVER),
        )?;
        let location = match file.location {
            Some(l) => {
                validate::location(l.latitude, l.longitude)
                    .map_err(|e| ConfigError::BadLocation(e.to_string()))?;
                Some((l.latitude, l.longitude))
            }
            None => None,
        };
        Ok(Settings {
            server,
            ca_file: over.ca_file.or(file.ca_file),
            name,
            link_code,
            config_shown: file_path.to_string(),
            rooms,
            clock: over.clock.or(file.clock).unwrap_or_default(),
            bell: over.bell.or(file.bell).unwrap_or_default(),
            colors: over.colors.or(file.colors).unwrap_or_default(),
            hyperlinks: !over.no_hyperlinks && file.hyperlinks.unwrap_or(true),
            scroll_region: !over.no_scroll_region && file.scroll_region.unwrap_or(true),
            location,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path() -> &'static Path {
        Path::new("config.toml")
    }

    fn over(name: &str) -> Overrides {
        Overrides {
            name: Some(name.into()),
            ..Overrides::default()
        }
    }

    #[test]
    fn full_file_parses() {
        let f = parse_file(
            r##"
server = "ws://example.invalid:3000/ws"
name = "ann"
rooms = ["dev", "#Ops"]
clock = "24h"
bell = "all"
colors = "16"
hyperlinks = false
scroll_region = false
[location]
latitude = 51.5
longitude = -0.12
"##,
            path(),
        )
        .unwrap();
        let s = Settings::merge(Overrides::default(), f, "config.toml").unwrap();
        assert_eq!(s.server.as_str(), "ws://example.invalid:3000/ws");
        assert_eq!(s.name.as_deref(), Some("ann"));
        assert_eq!(s.rooms, vec!["dev", "ops"]);
        assert_eq!(s.clock, Clock::H24);
        assert_eq!(s.bell, Bell::All);
        assert_eq!(s.colors, Colors::C16);
        assert!(!s.hyperlinks);
        assert!(!s.scroll_region);
        assert_eq!(s.location, Some((51.5, -0.12)));
    }

    #[test]
    fn options_win_over_the_file() {
        let f = parse_file("name = \"ann\"\nrooms = [\"dev\"]\nclock = \"24h\"", path()).unwrap();
        let o = Overrides {
            name: Some("bob".into()),
            rooms: vec!["ops".into()],
            clock: Some(Clock::H12),
            server: Some("localhost:4000".into()),
            ..Overrides::default()
        };
        let s = Settings::merge(o, f, "config.toml").unwrap();
        assert_eq!(
            (
                s.name.as_deref().unwrap_or(""),
                s.rooms,
                s.clock,
                s.server.as_str()
            ),
            (
                "bob",
                vec!["ops".to_string()],
                Clock::H12,
                "ws://localhost:4000/ws"
            )
        );
    }

    #[test]
    fn defaults() {
        let s = Settings::merge(over(" ann "), FileConfig::default(), "c").unwrap();
        assert_eq!(s.name.as_deref(), Some("ann"));
        assert_eq!(s.server.as_str(), DEFAULT_SERVER);
        assert_eq!(s.ca_file, None);
        assert!(s.rooms.is_empty());
        assert_eq!(
            (s.clock, s.bell, s.colors),
            (Clock::H12, Bell::Mentions, Colors::Auto)
        );
        assert!(s.hyperlinks);
        assert_eq!(s.location, None);
    }

    #[test]
    fn errors_are_one_clear_line() {
        // No name is fine here: a kept credential or a link code may do.
        let s =
            Settings::merge(Overrides::default(), FileConfig::default(), "~/.config/x").unwrap();
        assert_eq!((s.name, s.link_code), (None, None));
        let e = ConfigError::NoName(s.config_shown);
        assert!(e.to_string().contains("--name NAME"), "{e}");
        assert!(e.to_string().contains("--link CODE"), "{e}");
        assert!(e.to_string().contains("~/.config/x"), "{e}");
        let e = Settings::merge(over("a\u{202e}b"), FileConfig::default(), "c").unwrap_err();
        assert!(matches!(e, ConfigError::BadName { .. }));
        let mut o = over("ann");
        o.rooms = vec!["no spaces".into()];
        let e = Settings::merge(o, FileConfig::default(), "c").unwrap_err();
        assert!(matches!(e, ConfigError::BadRoom { .. }), "{e}");
        let e = parse_file("name = \"ann\"\nbell = \"loud\"\n", path()).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("line 2"), "{msg}");
        assert!(!msg.contains('\n'), "{msg}");
        let e = parse_file("nmae = \"ann\"", path()).unwrap_err();
        assert!(e.to_string().contains("nmae"), "{e}");
    }

    #[test]
    fn server_addresses_in_every_form_are_read_and_bad_ones_named() {
        let mut o = over("ann");
        o.server = Some("https://chat.example.com/".into());
        let s = Settings::merge(o, FileConfig::default(), "c").unwrap();
        assert_eq!(s.server.as_str(), "wss://chat.example.com/ws");
        let mut o = over("ann");
        o.server = Some("ftp://h/".into());
        let e = Settings::merge(o, FileConfig::default(), "c").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("bad server address: \"ftp://h/\""),
            "{e}"
        );
    }

    #[test]
    fn a_missing_default_file_is_an_empty_config_but_a_named_one_is_an_error() {
        let path = Path::new("/nonexistent/dir/chat-tui.toml");
        let f = load_file(path, Presence::Optional).unwrap();
        assert_eq!(f, FileConfig::default());
        let e = load_file(path, Presence::Required).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("cannot read config file /nonexistent/dir/chat-tui.toml"),
            "{e}"
        );
    }

    #[test]
    fn a_relative_ca_file_is_beside_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "ca_file = \"ca.pem\"\n").unwrap();
        let f = load_file(&path, Presence::Required).unwrap();
        assert_eq!(f.ca_file, Some(dir.path().join("ca.pem")));
        let mut o = over("ann");
        o.ca_file = Some("other.pem".into());
        let s = Settings::merge(o, f, "c").unwrap();
        assert_eq!(s.ca_file, Some(PathBuf::from("other.pem")));
    }
}
