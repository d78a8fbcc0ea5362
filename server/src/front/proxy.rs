//! The client address behind a trusted reverse proxy.
//!
//! Behind a proxy every connection comes from the proxy's address, so the
//! per-address limits would lump all clients together. A proxy listed with
//! `--trusted-proxy` appends the address it saw to `X-Forwarded-For` (or to
//! `Forwarded`); the client is the right-most address in that list that is
//! not itself a trusted proxy. Anything further left was written by the
//! client and is not believed. Headers from peers that are not trusted
//! proxies are ignored altogether.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use axum::http::HeaderMap;

/// The address to count a request from `peer` by.
///
/// `X-Forwarded-For` is read when present, else `Forwarded` (RFC 7239): a
/// proxy that only writes `Forwarded` must drop any `X-Forwarded-For` a
/// client sent. An entry that is not an address (`unknown`, an obfuscated
/// name) ends the search at the proxy: such clients are counted as the
/// proxy itself.
pub fn client_address(
    peer: IpAddr,
    headers: &HeaderMap,
    is_trusted: impl Fn(IpAddr) -> bool,
) -> IpAddr {
    if !is_trusted(peer) {
        return peer;
    }
    let chain = forwarded_chain(headers);
    let mut client = peer;
    for entry in chain.iter().rev() {
        match entry {
            Some(ip) if is_trusted(*ip) => client = *ip,
            Some(ip) => return *ip,
            None => return client,
        }
    }
    client
}

/// The addresses in the forwarding header, left (first hop) to right
/// (last hop); `None` for an entry that is not an address.
fn forwarded_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect::<Vec<_>>()
    };
    let xff = values("x-forwarded-for");
    if !xff.is_empty() {
        return xff.into_iter().map(parse_node).collect();
    }
    values("forwarded")
        .into_iter()
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (name, value) = pair.trim().split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| parse_node(value.trim()))
            })
        })
        .collect()
}

/// One node: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
/// `[2001:db8::1]:4711`, optionally in double quotes.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim_matches('"');
    if let Some(rest) = node.strip_prefix('[') {
        let (v6, _) = rest.split_once(']')?;
        return v6.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    let (v4, port) = node.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    v4.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(*name, HeaderValue::from_str(value).expect("value"));
        }
        h
    }

    fn trusted(ip: IpAddr) -> bool {
        ip.to_string().starts_with("10.")
    }

    #[test]
    fn untrusted_peers_are_counted_as_themselves() {
        let h = headers(&[("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(
            client_address(ip("192.0.2.1"), &h, trusted),
            ip("192.0.2.1")
        );
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        // The client wrote 203.0.113.66 itself; the proxy appended what it saw.
        let h = headers(&[
            ("x-forwarded-for", "203.0.113.66, 198.51.100.7"),
            ("x-forwarded-for", "10.0.0.2"),
        ]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &h, trusted),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_address(ip("10.0.0.1"), &HeaderMap::new(), trusted),
            ip("10.0.0.1"),
            "no header: the proxy itself"
        );
        let unknown = headers(&[("x-forwarded-for", "198.51.100.7, unknown")]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &unknown, trusted),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn forwarded_is_read_when_there_is_no_x_forwarded_for() {
        let h = headers(&[(
            "forwarded",
            "for=203.0.113.66;proto=http, for=\"[2001:db8:cafe::17]:4711\";by=10.0.0.1",
        )]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &h, trusted),
            ip("2001:db8:cafe::17")
        );
        let h = headers(&[("forwarded", "proto=https;For=\"198.51.100.7:80\"")]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &h, trusted),
            ip("198.51.100.7")
        );
    }

    proptest::proptest! {
        /// Whatever the forwarding headers say, the answer is the peer or an
        /// address written in them, and an untrusted peer is always itself.
        #[test]
        fn any_forwarding_header_is_read_safely(xff in ".{0,60}", fwd in ".{0,60}") {
            let mut h = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_str(&xff) {
                h.append("x-forwarded-for", v);
            }
            if let Ok(v) = HeaderValue::from_str(&fwd) {
                h.append("forwarded", v);
            }
            let peer = ip("10.0.0.1");
            let client = client_address(peer, &h, trusted);
            proptest::prop_assert!(client == peer || forwarded_chain(&h).contains(&Some(client)));
            proptest::prop_assert_eq!(client_address(ip("192.0.2.1"), &h, trusted), ip("192.0.2.1"));
        }
    }
}
