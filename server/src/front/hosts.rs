//! Which `Host` a request may name: the guard against DNS rebinding.
//!
//! A page on `http://rebind.evil.example:3000` whose name is re-pointed at
//! this server after it loaded would be same-origin with its own requests,
//! so the `Origin` check alone lets it through. Refusing every host name the
//! operator did not list closes that door. An IP address in `Host` is always
//! allowed (rebinding needs a name), and so are `localhost` and names under
//! `.localhost`, which browsers resolve to loopback themselves.

use std::net::{IpAddr, Ipv6Addr};

/// The host names a request may name, besides IP addresses and localhost.
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts {
    /// Lower case, no port, no trailing dot; `*.example.com` as
    /// `.example.com` (any name under it).
    names: Vec<String>,
}

impl AllowedHosts {
    /// From names as an operator writes them: `chat.example.com`,
    /// `chat.example.com:8443`, `*.example.com`, or a whole URL such as
    /// `https://chat.example.com/`.
    pub fn new<S: AsRef<str>>(allowed: &[S]) -> Self {
        let names = allowed
            .iter()
            .filter_map(|a| {
                let a = a.as_ref().trim();
                let a = a.split_once("://").map_or(a, |(_, rest)| rest);
                let authority = a.split('/').next().unwrap_or(a);
                let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
                let wildcard = authority.strip_prefix("*.");
                let name = host_name(wildcard.unwrap_or(authority))?;
                Some(match wildcard {
                    Some(_) => format!(".{name}"),
                    None => name,
                })
            })
            .collect();
        AllowedHosts { names }
    }

    /// Whether a request whose `Host` header is `host` may be served. A
    /// request without `Host` (HTTP/1.0) is allowed: browsers always send one.
    pub fn allows(&self, host: Option<&str>) -> bool {
        let Some(host) = host else {
            return true;
        };
        let Some(name) = host_name(host) else {
            return false;
        };
        if name.parse::<IpAddr>().is_ok() || name == "localhost" || name.ends_with(".localhost") {
            return true;
        }
        self.names
            .iter()
            .any(|allowed| match allowed.strip_prefix('.') {
                Some(parent) => name
                    .strip_suffix(parent)
                    .is_some_and(|sub| sub.ends_with('.') && sub.len() > 1),
                None => *allowed == name,
            })
    }

    /// Whether any name besides IP addresses and localhost is allowed.
    pub fn has_names(&self) -> bool {
        !self.names.is_empty()
    }
}

/// The name (or IP address, without brackets) in a `Host` value, lower
/// case, without its port or a trailing dot; `None` if it is not a host.
fn host_name(host: &str) -> Option<String> {
    let host = host.trim();
    if let Some(rest) = host.strip_prefix('[') {
        let (v6, port) = rest.split_once(']')?;
        if !(port.is_empty() || is_port(port.strip_prefix(':')?)) {
            return None;
        }
        return v6.parse::<Ipv6Addr>().ok().map(|ip| ip.to_string());
    }
    let name = match host.rsplit_once(':') {
        Some((name, port)) if is_port(port) => name,
        Some(_) => return None,
        None => host,
    };
    let name = name.strip_suffix('.').unwrap_or(name);
    let valid = !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
    valid.then(|| name.to_ascii_lowercase())
}

fn is_port(s: &str) -> bool {
    !s.is_empty() && s.len() <= 5 && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_localhost_are_always_allowed() {
        let none = AllowedHosts::new::<&str>(&[]);
        for host in [
            "127.0.0.1:3000",
            "192.168.1.5",
            "[::1]:3000",
            "[2001:db8::1]",
            "localhost:3000",
            "LOCALHOST.",
            "app.localhost:8080",
        ] {
            assert!(none.allows(Some(host)), "{host}");
        }
        assert!(none.allows(None));
        assert!(!none.has_names());
    }

    #[test]
    fn other_names_only_when_listed() {
        let none = AllowedHosts::new::<&str>(&[]);
        for host in [
            "rebind.evil.example:3000",
            "evil.example",
            "localhost.evil.example",
            "127.0.0.1.evil.example",
            "a b",
            "",
            "[::1",
            "host:port",
        ] {
            assert!(!none.allows(Some(host)), "{host}");
        }
        let listed = AllowedHosts::new(&["https://Chat.Example.com/", "*.corp.example:443"]);
        assert!(listed.allows(Some("chat.example.com")));
        assert!(listed.allows(Some("chat.example.com.:8443")));
        assert!(listed.allows(Some("eu.corp.example")));
        assert!(!listed.allows(Some("corp.example")));
        assert!(!listed.allows(Some("evilcorp.example")));
        assert!(!listed.allows(Some("chat.example.com.evil.example")));
        assert!(listed.has_names());
    }

    proptest::proptest! {
        /// Whatever a client puts in `Host`, the check does not panic, and
        /// with no names listed it lets through only addresses and localhost.
        #[test]
        fn any_host_header_is_judged_safely(host in ".{0,80}") {
            let none = AllowedHosts::new::<&str>(&[]);
            if none.allows(Some(&host)) {
                let name = host_name(&host).expect("an allowed host has a name");
                proptest::prop_assert!(
                    name.parse::<IpAddr>().is_ok() || name == "localhost" || name.ends_with(".localhost"),
                    "{:?} let through", host
                );
            }
        }
    }
}
