//! The server address a person gives, turned into the WebSocket URL to
//! connect to.
//!
//! People paste what they have: the page's address from the browser
//! (`https://chat.example.com/`, `http://host:3000/?username=ann`), a
//! `host:port`, or the WebSocket URL itself. Each becomes one WebSocket URL:
//! `http` maps to `ws`, `https` to `wss`, and a page's address gets the
//! `ws` endpoint next to it (`/ws`, or `/chat/ws` for a page under `/chat/`).
//! A WebSocket URL with a path other than `/` is taken as given. Pure: no
//! I/O, so every accepted and refused form is a table test.

use url::{Host, Url};

/// A checked server address: the WebSocket URL to connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerAddress {
    url: Url,
}

/// Why an address was refused, in words for the one-line error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("no address given")]
    Empty,
    #[error("{0:?} has no port: write HOST:PORT (e.g. localhost:3000) or a URL (https://HOST/)")]
    NoPort(String),
    #[error("{given:?} is not an address: {reason}")]
    Unparsable { given: String, reason: String },
    #[error("{given:?}: chat-tui speaks ws://, wss://, http:// or https://, not {scheme}://")]
    Scheme { given: String, scheme: String },
    #[error("{0:?} carries a user name or password; chat-tui never sends them, leave them out")]
    Credentials(String),
}

impl ServerAddress {
    /// Reads an address in any of the accepted forms.
    pub fn parse(raw: &str) -> Result<ServerAddress, AddressError> {
        let given = raw.trim();
        if given.is_empty() {
            return Err(AddressError::Empty);
        }
        if given.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(unparsable(
                given,
                "it contains spaces or control characters",
            ));
        }
        let text = if given.contains("://") {
            given.to_string()
        } else {
            // host:port[/path]: a WebSocket address without its scheme. Only
            // with a port: a bare word could be a host or a typo, and no port
            // is the right guess for both http and https.
            if !has_port(given) {
                return Err(AddressError::NoPort(given.to_string()));
            }
            format!("ws://{given}")
        };
        let mut url = Url::parse(&text).map_err(|e| unparsable(given, &e.to_string()))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(AddressError::Credentials(given.to_string()));
        }
        let (scheme, from_page) = match url.scheme() {
            "ws" => ("ws", false),
            "wss" => ("wss", false),
            "http" => ("ws", true),
            "https" => ("wss", true),
            other => {
                return Err(AddressError::Scheme {
                    given: given.to_string(),
                    scheme: other.to_string(),
                });
            }
        };
        if url.host_str().is_none_or(str::is_empty) {
            return Err(unparsable(given, "it names no host"));
        }
        // Between special schemes with the same default ports this cannot fail.
        url.set_scheme(scheme)
            .map_err(|()| unparsable(given, "its scheme cannot be changed"))?;
        // WebSocket URLs have no fragment (RFC 6455, 3.).
        url.set_fragment(None);
        if from_page {
            // A page address: its query (?username=...) is the page's.
            url.set_query(None);
            let path = page_to_socket_path(url.path());
            url.set_path(&path);
        } else if url.path() == "/" {
            url.set_path("/ws");
        }
        Ok(ServerAddress { url })
    }

    /// The WebSocket URL.
    pub fn as_str(&self) -> &str {
        self.url.as_str()
    }

    /// The host as written in the URL (without brackets for IPv6), which
    /// is also the name the server's certificate must carry.
    pub fn host(&self) -> String {
        match self.url.host() {
            Some(Host::Ipv6(ip)) => ip.to_string(),
            Some(host) => host.to_string(),
            None => String::new(),
        }
    }

    /// The port, the scheme's default when none is written.
    pub fn port(&self) -> u16 {
        self.url
            .port_or_known_default()
            .unwrap_or(if self.is_tls() { 443 } else { 80 })
    }

    /// Whether the connection is encrypted (`wss://`).
    pub fn is_tls(&self) -> bool {
        self.url.scheme() == "wss"
    }

    /// Whether this is plain `ws://` to another machine: readable and
    /// changeable by anyone on the way, so worth a warning.
    pub fn is_unencrypted_remote(&self) -> bool {
        !self.is_tls() && !self.is_loopback()
    }

    /// The warning for plain `ws://` to another machine, once per start.
    pub fn unencrypted_warning(&self) -> Option<String> {
        self.is_unencrypted_remote().then(|| {
            format!(
                "{self} is not encrypted: anyone on the way to {} can read and change \
                 what you send and receive; use wss:// (or https://) if the server offers it",
                self.host()
            )
        })
    }

    /// This machine: `localhost`, the loopback range, or the unspecified
    /// address (which connects to this machine).
    fn is_loopback(&self) -> bool {
        match self.url.host() {
            Some(Host::Domain(d)) => {
                let d = d.trim_end_matches('.').to_ascii_lowercase();
                d == "localhost" || d.ends_with(".localhost")
            }
            Some(Host::Ipv4(ip)) => ip.is_loopback() || ip.is_unspecified(),
            Some(Host::Ipv6(ip)) => {
                ip.is_loopback()
                    || ip.is_unspecified()
                    || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
            }
            None => false,
        }
    }
}

impl std::fmt::Display for ServerAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn unparsable(given: &str, reason: &str) -> AddressError {
    AddressError::Unparsable {
        given: given.to_string(),
        reason: reason.to_string(),
    }
}

/// `host:port`, `host:port/path` or `[v6]:port` (a port of digits after
/// the host's last colon).
fn has_port(text: &str) -> bool {
    let authority = text.split('/').next().unwrap_or(text);
    let after_host = match authority.rfind(']') {
        Some(end) => &authority[end + 1..],
        None => authority,
    };
    after_host
        .rsplit_once(':')
        .is_some_and(|(_, port)| !port.is_empty())
}

/// The WebSocket path beside a page: `/` -> `/ws`, `/chat/` -> `/chat/ws`,
/// `/chat` -> `/chat/ws`, `/chat/index.html` -> `/chat/ws`; a path that
/// already ends in `/ws` is kept.
fn page_to_socket_path(path: &str) -> String {
    if path.ends_with("/ws") {
        return path.to_string();
    }
    let dir = match path.rsplit_once('/') {
        Some((dir, file)) if file.ends_with(".html") => format!("{dir}/"),
        _ if path.ends_with('/') => path.to_string(),
        _ => format!("{path}/"),
    };
    format!("{dir}ws")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every accepted form and what it becomes.
    const ACCEPTED: &[(&str, &str)] = &[
        // The page's address, as copied from the browser.
        ("https://chat.example.com/", "wss://chat.example.com/ws"),
        ("https://chat.example.com", "wss://chat.example.com/ws"),
        ("http://host:3000", "ws://host:3000/ws"),
        ("http://host:3000/", "ws://host:3000/ws"),
        (
            "http://127.0.0.1:3000/?username=ann&room=dev",
            "ws://127.0.0.1:3000/ws",
        ),
        ("https://example.com/chat/", "wss://example.com/chat/ws"),
        ("https://example.com/chat", "wss://example.com/chat/ws"),
        (
            "https://example.com/chat/index.html#top",
            "wss://example.com/chat/ws",
        ),
        ("https://example.com:8443/ws", "wss://example.com:8443/ws"),
        ("HTTPS://Example.COM/", "wss://example.com/ws"),
        // host:port, with or without a path.
        ("host:3000", "ws://host:3000/ws"),
        ("localhost:3000", "ws://localhost:3000/ws"),
        ("127.0.0.1:3000", "ws://127.0.0.1:3000/ws"),
        ("[::1]:3000", "ws://[::1]:3000/ws"),
        ("host:3000/chat/ws", "ws://host:3000/chat/ws"),
        ("  host:3000  ", "ws://host:3000/ws"),
        // WebSocket URLs: a path is taken as given, none gets /ws.
        ("wss://host/ws", "wss://host/ws"),
        ("ws://host:3000/ws", "ws://host:3000/ws"),
        ("ws://host:3000/", "ws://host:3000/ws"),
        ("ws://host:3000", "ws://host:3000/ws"),
        ("wss://host/chat/ws", "wss://host/chat/ws"),
        ("wss://host:443/ws", "wss://host/ws"),
        ("ws://host:3000/ws#frag", "ws://host:3000/ws"),
    ];

    #[test]
    fn every_accepted_form_becomes_its_websocket_url() {
        for (given, expected) in ACCEPTED {
            match ServerAddress::parse(given) {
                Ok(a) => assert_eq!(a.as_str(), *expected, "from {given:?}"),
                Err(e) => panic!("{given:?} refused: {e}"),
            }
        }
    }

    #[test]
    fn refused_forms_say_why_in_one_line() {
        let refused: &[(&str, &str)] = &[
            ("", "no address"),
            ("   ", "no address"),
            ("chat.example.com", "has no port"),
            ("localhost", "has no port"),
            ("host:", "has no port"),
            ("ftp://host/", "not ftp://"),
            ("file:///etc/passwd", "not file://"),
            ("ws://", "not an address"),
            ("https://", "not an address"),
            ("host:99999", "not an address"),
            ("host:port", "not an address"),
            ("ws://a b:1/ws", "spaces"),
            ("ws://host:1/\u{1b}[2J", "control"),
            ("https://ann:secret@host/", "password"),
            ("ws://ann@host:1/ws", "user name"),
        ];
        for (given, why) in refused {
            let err = match ServerAddress::parse(given) {
                Ok(a) => panic!("{given:?} accepted as {a}"),
                Err(e) => e.to_string(),
            };
            assert!(err.contains(why), "{given:?}: {err}");
            assert!(!err.contains('\n'), "{given:?}: {err}");
        }
    }

    #[test]
    fn host_port_and_encryption() {
        let a = ServerAddress::parse("https://chat.example.com/").unwrap();
        assert_eq!(
            (a.host().as_str(), a.port(), a.is_tls()),
            ("chat.example.com", 443, true)
        );
        let a = ServerAddress::parse("[::1]:3000").unwrap();
        assert_eq!(
            (a.host().as_str(), a.port(), a.is_tls()),
            ("::1", 3000, false)
        );
        let a = ServerAddress::parse("http://host/").unwrap();
        assert_eq!(a.port(), 80);
    }

    #[test]
    fn plain_websocket_to_another_machine_is_unencrypted_remote() {
        let remote = [
            "ws://chat.example.com:3000/ws",
            "http://192.0.2.7:3000/",
            "host:3000",
            "[2001:db8::1]:3000",
            "ws://127.0.0.1.example.com:3000/ws",
        ];
        for given in remote {
            let a = ServerAddress::parse(given).unwrap();
            assert!(a.is_unencrypted_remote(), "{given}");
        }
        let fine = [
            "ws://localhost:3000/ws",
            "ws://LOCALHOST.:3000/ws",
            "ws://app.localhost:3000/ws",
            "ws://127.0.0.1:3000/ws",
            "ws://127.8.9.10:3000/ws",
            "ws://[::1]:3000/ws",
            "ws://[::ffff:127.0.0.1]:3000/ws",
            "ws://0.0.0.0:3000/ws",
            "ws://[::]:3000/ws",
            "wss://chat.example.com/ws",
            "https://192.0.2.7/",
        ];
        for given in fine {
            let a = ServerAddress::parse(given).unwrap();
            assert!(!a.is_unencrypted_remote(), "{given}");
            assert_eq!(a.unencrypted_warning(), None, "{given}");
        }
        let warning = ServerAddress::parse("http://chat.example.com:3000/")
            .unwrap()
            .unencrypted_warning()
            .unwrap();
        assert!(
            warning.starts_with(
                "ws://chat.example.com:3000/ws is not encrypted: anyone on the way to \
                 chat.example.com can read"
            ),
            "{warning}"
        );
        assert!(warning.contains("wss://"), "{warning}");
    }
}
