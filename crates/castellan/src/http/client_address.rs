//! The client's address: the peer's, or, when the peer is one of `trusted_proxies`, the
//! one the proxies forwarded (`Forwarded: for=`, RFC 7239, else `X-Forwarded-For`). The
//! list is read from the right and believed only as far as it was written by trusted
//! proxies, so a client cannot choose its address by sending the header itself. The result
//! replaces `ConnectInfo`, so rate limits, brute-force counters and the tenant log all see
//! the same address.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

use crate::app::AppState;

/// Addresses and networks whose forwarding headers are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Each entry an address (`10.0.0.5`, `::1`) or a network (`10.0.0.0/8`).
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        entries
            .iter()
            .map(|entry| {
                let entry = entry.trim();
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        format!("\"{entry}\" is not an address or a network like 10.0.0.0/8")
                    })
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    pub fn entries(&self) -> Vec<String> {
        self.0.iter().map(ToString::to_string).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client behind `peer`: the right-most forwarded address not itself a trusted
    /// proxy. A hop that cannot be read (`unknown`, an obfuscated name) ends the walk at the
    /// proxy that wrote it.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.trusts(client) {
            return client;
        }
        for hop in forwarded_for(headers).iter().rev() {
            match parse_hop(hop) {
                Some(ip) => {
                    client = ip;
                    if !self.trusts(ip) {
                        break;
                    }
                }
                None => break,
            }
        }
        client
    }
}

/// The forwarded addresses, client first: from `Forwarded` when present, else from
/// `X-Forwarded-For`; every line of the header in order.
fn forwarded_for(headers: &HeaderMap) -> Vec<String> {
    let lines = |name: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|v| v.trim().to_string())
            .collect::<Vec<_>>()
    };
    let forwarded = lines("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .map(|element| {
                element
                    .split(';')
                    .find_map(|pair| {
                        let (key, value) = pair.trim().split_once('=')?;
                        key.eq_ignore_ascii_case("for")
                            .then(|| value.trim().trim_matches('"').to_string())
                    })
                    // An element without `for` is a hop we cannot read.
                    .unwrap_or_default()
            })
            .collect();
    }
    lines("x-forwarded-for")
}

/// `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]:4711`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let ip = hop
        .parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| hop.strip_prefix('[')?.strip_suffix(']')?.parse().ok())?;
    Some(ip.to_canonical())
}

/// Middleware: puts the client's address in `ConnectInfo` when the peer is a trusted proxy.
pub async fn layer(State(s): State<AppState>, mut request: Request, next: Next) -> Response {
    let proxies = &s.settings.trusted_proxies;
    if !proxies.is_empty()
        && let Some(ConnectInfo(peer)) = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .copied()
    {
        let client = proxies.client(peer.ip(), request.headers());
        if client != peer.ip() {
            request
                .extensions_mut()
                .insert(ConnectInfo(SocketAddr::new(client, 0)));
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn proxies(entries: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(&entries.iter().map(|e| e.to_string()).collect::<Vec<_>>()).unwrap()
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_static(v));
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let sent = headers(&[("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(trusted.client(ip("203.0.113.9"), &sent), ip("203.0.113.9"));
        assert_eq!(proxies(&[]).client(ip("10.0.0.1"), &sent), ip("10.0.0.1"));
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let trusted = proxies(&["10.0.0.0/8", "192.0.2.1"]);
        // The client forged the first entry; the proxies appended the rest.
        let sent = headers(&[("x-forwarded-for", "1.2.3.4, 198.51.100.7, 10.1.1.1")]);
        assert_eq!(trusted.client(ip("192.0.2.1"), &sent), ip("198.51.100.7"));
        let all_trusted = headers(&[("x-forwarded-for", "10.9.9.9")]);
        assert_eq!(trusted.client(ip("10.0.0.2"), &all_trusted), ip("10.9.9.9"));
        let split = headers(&[
            ("x-forwarded-for", "198.51.100.7"),
            ("x-forwarded-for", "10.1.1.1"),
        ]);
        assert_eq!(trusted.client(ip("10.0.0.2"), &split), ip("198.51.100.7"));
    }

    #[test]
    fn forwarded_wins_and_its_forms_are_read() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let sent = headers(&[
            ("x-forwarded-for", "203.0.113.1"),
            (
                "forwarded",
                "for=\"[2001:db8:cafe::17]:4711\";proto=https, for=10.0.0.3",
            ),
        ]);
        assert_eq!(
            trusted.client(ip("10.0.0.2"), &sent),
            ip("2001:db8:cafe::17")
        );
        let with_port = headers(&[("forwarded", "for=\"198.51.100.7:5000\"")]);
        assert_eq!(
            trusted.client(ip("10.0.0.2"), &with_port),
            ip("198.51.100.7")
        );
        let hidden = headers(&[("forwarded", "for=_hidden, for=10.0.0.9")]);
        assert_eq!(
            trusted.client(ip("10.0.0.2"), &hidden),
            ip("10.0.0.9"),
            "an unreadable hop stops at the proxy that wrote it"
        );
    }

    #[test]
    fn mapped_addresses_match_their_networks_and_bad_entries_are_refused() {
        let trusted = proxies(&["127.0.0.1"]);
        let sent = headers(&[("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(
            trusted.client(ip("::ffff:127.0.0.1"), &sent),
            ip("198.51.100.7")
        );
        let err = TrustedProxies::parse(&["10.0.0.0/33".into()]).unwrap_err();
        assert!(err.contains("10.0.0.0/33"), "{err}");
        assert_eq!(proxies(&["10.0.0.1"]).entries(), ["10.0.0.1/32"]);
    }
}
