//! The `Origin` check for WebSocket upgrades.
//!
//! Browsers send the page's origin with every WebSocket handshake; a page on
//! another site must not be able to open a chat connection with a visitor's
//! browser. Non-browser clients (the terminal client, bots) send no
//! `Origin` and are allowed.

/// Whether a handshake with these `Origin` and `Host` headers is allowed.
///
/// Allowed: no `Origin`; an `Origin` whose host and port equal `Host`
/// (same origin); an `Origin` listed in `allowed` (exact match, ignoring
/// case and a trailing slash), or any origin when `allowed` contains `"*"`.
pub fn is_allowed(origin: Option<&str>, host: Option<&str>, allowed: &[String]) -> bool {
    let Some(origin) = origin else {
        return true;
    };
    let origin = origin.trim().trim_end_matches('/');
    if allowed
        .iter()
        .any(|a| a == "*" || a.trim_end_matches('/').eq_ignore_ascii_case(origin))
    {
        return true;
    }
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    match (authority, host) {
        (Some(authority), Some(host)) => authority.eq_ignore_ascii_case(host.trim()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::is_allowed;

    #[test]
    fn same_origin_and_non_browsers_are_allowed() {
        assert!(is_allowed(None, Some("chat.example:3000"), &[]));
        assert!(is_allowed(
            Some("http://chat.example:3000"),
            Some("chat.example:3000"),
            &[]
        ));
        assert!(is_allowed(
            Some("https://Chat.Example"),
            Some("chat.example"),
            &[]
        ));
    }

    #[test]
    fn other_origins_need_the_allow_list() {
        assert!(!is_allowed(
            Some("http://evil.example"),
            Some("chat.example"),
            &[]
        ));
        assert!(!is_allowed(Some("null"), Some("chat.example"), &[]));
        let allowed = vec!["http://evil.example/".to_string()];
        assert!(is_allowed(
            Some("http://evil.example"),
            Some("chat.example"),
            &allowed
        ));
        assert!(is_allowed(Some("http://x"), None, &["*".to_string()]));
    }
}
