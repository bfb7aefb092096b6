//! `fetch` for scripts, only to destinations an allow-list names (none by default, and then
//! there is no `fetch` at all). The server makes the request for the worker, which waits,
//! bounded by the script's remaining time; redirects are followed only to allowed
//! destinations, and the body read is capped.
//!
//! A destination is a scheme, a host and a port: `hooks.example.com` allows
//! `https://hooks.example.com` on port 443 only, `http://10.0.0.5:8080` that address and
//! port over plain http. A script cannot pick another host through the `Host` header
//! (it is dropped, with the other headers that frame the request). Names are checked again
//! once resolved, at every connection, so a name that resolves (or is rebound) to a
//! loopback, private, link-local or otherwise special address is refused, unless an entry
//! names that address range (`10.0.0.0/8`, `127.0.0.1/32`).
//!
//! The server's own origin (its issuer's scheme, host and port) is always allowed, with
//! whatever addresses its name resolves to, private ones included: rules call the
//! Management API at `auth0.baseUrl` with `auth0.accessToken`, and the server usually sits
//! on a private network or loopback. So with the server's origin given, `fetch` exists
//! even when the allow-list is otherwise empty.
//!
//! With an outbound proxy (`Limits::fetch_proxy`), requests to anywhere but the server
//! itself go through it: plain http in absolute form, https through `CONNECT`. The
//! allow-list still decides (scheme, host and port) before a request is made, and on
//! every redirect; but the proxy resolves the destination's name, so the check of the
//! addresses a name resolves to cannot apply there: the proxy is trusted to enforce
//! egress. The proxy's own name may resolve to a private address.

use std::error::Error as StdError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};

/// The most of a response body a script gets.
const MAX_BODY_BYTES: usize = 1024 * 1024;
const MAX_REDIRECTS: usize = 5;

/// Request headers a script may not set: the destination (`Host`), and the ones that frame
/// the request or speak to proxies, which the HTTP client sets itself.
const DROPPED_HEADERS: &[&str] = &[
    "host",
    "connection",
    "content-length",
    "transfer-encoding",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "expect",
    "proxy-authorization",
    "proxy-connection",
];

/// One entry of the allow-list.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    /// Requests may go to this scheme, host and port.
    Destination {
        https: bool,
        host: String,
        port: u16,
    },
    /// Names may resolve to addresses in this range although it is private.
    Range { network: IpAddr, prefix: u8 },
}

impl Entry {
    fn parse(written: &str) -> Result<Entry, String> {
        let invalid = || {
            format!(
                "\"{written}\" is not a host, host:port, http://host:port or address range (10.0.0.0/8)"
            )
        };
        let trimmed = written.trim().trim_end_matches('/');
        if !trimmed.contains("://")
            && let Some((address, prefix)) = trimmed.split_once('/')
        {
            let network: IpAddr = address.parse().map_err(|_| invalid())?;
            let prefix: u8 = prefix.parse().map_err(|_| invalid())?;
            let bits = if network.is_ipv4() { 32 } else { 128 };
            if prefix > bits {
                return Err(invalid());
            }
            return Ok(Entry::Range {
                network: canonical(network),
                prefix,
            });
        }
        let (https, rest) = match trimmed.split_once("://") {
            Some(("http", rest)) => (false, rest),
            Some(("https", rest)) => (true, rest),
            Some(_) => return Err(invalid()),
            None => (true, trimmed),
        };
        let well_formed = !rest.is_empty()
            && rest
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c));
        if !well_formed {
            return Err(invalid());
        }
        let scheme = if https { "https" } else { "http" };
        let url = reqwest::Url::parse(&format!("{scheme}://{rest}/")).map_err(|_| invalid())?;
        let host = url.host_str().ok_or_else(invalid)?.to_owned();
        let port = url.port_or_known_default().ok_or_else(invalid)?;
        Ok(Entry::Destination { https, host, port })
    }
}

impl Entry {
    /// Whether this is a destination with the scheme, host and port of `url`.
    fn is_origin_of(&self, url: &reqwest::Url) -> bool {
        let Entry::Destination { https, host, port } = self else {
            return false;
        };
        let secure = match url.scheme() {
            "https" => true,
            "http" => false,
            _ => return false,
        };
        *https == secure
            && url.host_str().is_some_and(|h| host.eq_ignore_ascii_case(h))
            && url.port_or_known_default() == Some(*port)
    }
}

/// Allowed destinations: `host` or `host:port` for https (port 443 unless written),
/// `http://host[:port]` for plain http (port 80 unless written, meant for services on the
/// same network), and address ranges that names may resolve to although they are private.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    written: Vec<String>,
    entries: Vec<Entry>,
    /// The server's own origin, allowed whatever the entries say; not one of the written
    /// entries (the settings do not name it).
    own: Option<Entry>,
}

impl AllowList {
    /// The list from its entries as written (ones that [`AllowList::check_entry`] refuses
    /// are left out).
    pub fn new(entries: &[String]) -> AllowList {
        let (written, entries) = entries
            .iter()
            .filter_map(|e| Some((e.clone(), Entry::parse(e).ok()?)))
            .unzip();
        AllowList {
            written,
            entries,
            own: None,
        }
    }

    /// The list that also allows the server's own origin: the scheme, host and port of
    /// `issuer` (`http://127.0.0.1:8080/`), with any address its host resolves to. An
    /// issuer that is not an http(s) URL adds nothing.
    pub fn with_own_origin(mut self, issuer: &str) -> AllowList {
        self.own = reqwest::Url::parse(issuer).ok().and_then(|url| {
            let https = match url.scheme() {
                "https" => true,
                "http" => false,
                _ => return None,
            };
            Some(Entry::Destination {
                https,
                host: url.host_str()?.to_owned(),
                port: url.port_or_known_default()?,
            })
        });
        self
    }

    pub fn is_empty(&self) -> bool {
        self.own.is_none()
            && !self
                .entries
                .iter()
                .any(|e| matches!(e, Entry::Destination { .. }))
    }

    /// The entries as they are written in the settings.
    pub fn entries(&self) -> Vec<String> {
        self.written.clone()
    }

    /// An entry is a host with an optional port, `http://` in front for plain http, or an
    /// address range.
    pub fn check_entry(entry: &str) -> Result<(), String> {
        Entry::parse(entry).map(|_| ())
    }

    /// Whether a request may go to `url`: its scheme, host and port (the scheme's own when
    /// the URL gives none) are those of an entry.
    pub fn allows(&self, url: &reqwest::Url) -> bool {
        self.entries
            .iter()
            .chain(self.own.as_ref())
            .any(|entry| entry.is_origin_of(url))
    }

    /// Whether `url` is on the server's own origin.
    fn is_own(&self, url: &reqwest::Url) -> bool {
        self.own.as_ref().is_some_and(|own| own.is_origin_of(url))
    }

    /// Whether `name` is the host of the server's own origin.
    fn is_own_host(&self, name: &str) -> bool {
        matches!(&self.own, Some(Entry::Destination { host, .. }) if host.eq_ignore_ascii_case(name))
    }

    /// Whether a name may resolve to `ip`: any address that is not special, and special
    /// ones in a range an entry names.
    fn admits(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        !is_special(ip)
            || self.entries.iter().any(|entry| match entry {
                Entry::Range { network, prefix } => in_range(ip, *network, *prefix),
                Entry::Destination { .. } => false,
            })
    }
}

/// An IPv4 address written as IPv6 (`::ffff:10.0.0.1`) is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn in_range(ip: IpAddr, network: IpAddr, prefix: u8) -> bool {
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(network)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(network) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(network)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(network) & mask
        }
        _ => false,
    }
}

/// Loopback, private, link-local (where clouds answer with their metadata), shared,
/// unspecified, broadcast, multicast, documentation and reserved addresses, and IPv6
/// addresses that carry one of those IPv4 addresses.
fn is_special(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => is_special_v4(v4),
        IpAddr::V6(v6) => is_special_v6(v6),
    }
}

fn is_special_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (carrier NAT)
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240 // reserved
}

fn is_special_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    let embedded = |high: u16, low: u16| {
        is_special_v4(Ipv4Addr::from((u32::from(high) << 16) | u32::from(low)))
    };
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_unique_local()
        || ip.is_unicast_link_local()
        || (segments[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
        || (segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] && embedded(segments[6], segments[7])) // NAT64
        || (segments[0] == 0x2002 && embedded(segments[1], segments[2])) // 6to4
        || ip.to_ipv4().is_some_and(|v4| segments[..6] == [0; 6] && is_special_v4(v4)) // IPv4-compatible
}

/// Why the resolver refused a name; found again in the client's error chain.
#[derive(Debug)]
struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for Refused {}

/// Resolves names as the system does, then keeps only the addresses the allow-list admits.
/// It runs for every connection, redirects included, and the client connects to exactly
/// what it hands back, so a name cannot be rebound between the check and the connection.
struct CheckedResolver {
    allow: Arc<AllowList>,
    /// The outbound proxy's host, which may resolve to a private address.
    proxy_host: Option<String>,
}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow = Arc::clone(&self.allow);
        let host = name.as_str().to_owned();
        // The allow-list pins the port of these names, and they are the server's own
        // settings, not a script's.
        let trusted = allow.is_own_host(&host)
            || self
                .proxy_host
                .as_deref()
                .is_some_and(|proxy| proxy.eq_ignore_ascii_case(&host));
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let admitted: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|address| trusted || allow.admits(address.ip()))
                .collect();
            if admitted.is_empty() {
                let shown = found
                    .first()
                    .map(|a| a.ip().to_string())
                    .unwrap_or_default();
                let refused = Refused(format!(
                    "{host} resolves to {shown}, a private or special address that fetch_allow does not name"
                ));
                return Err(Box::new(refused) as Box<dyn StdError + Send + Sync>);
            }
            Ok(Box::new(admitted.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// What the server needs to make requests for scripts.
pub(crate) struct Fetcher {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
    allow: Arc<AllowList>,
}

impl Fetcher {
    /// `None` without an allow-list, or outside a Tokio runtime (there is nothing to run
    /// requests on). With `proxy`, requests go through it but for those to the server's
    /// own origin, which the server reaches directly.
    pub fn new(allow: AllowList, proxy: Option<&reqwest::Url>) -> Option<Fetcher> {
        if allow.is_empty() {
            return None;
        }
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        let allow = Arc::new(allow);
        let for_redirects = Arc::clone(&allow);
        let builder = match proxy {
            Some(proxy) => {
                let (proxy, own) = (proxy.clone(), Arc::clone(&allow));
                reqwest::Client::builder().proxy(reqwest::Proxy::custom(move |url| {
                    (!own.is_own(url)).then(|| proxy.clone())
                }))
            }
            // Without one, none is taken from the environment: it would resolve names
            // itself, past the check.
            None => reqwest::Client::builder().no_proxy(),
        };
        let client = builder
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() >= MAX_REDIRECTS {
                    attempt.error("too many redirects")
                } else if for_redirects.allows(attempt.url()) {
                    attempt.follow()
                } else {
                    attempt.error("redirect to a host that is not allowed")
                }
            }))
            .dns_resolver(CheckedResolver {
                allow: Arc::clone(&allow),
                proxy_host: proxy.and_then(|p| p.host_str()).map(str::to_owned),
            })
            .build()
            .ok()?;
        Some(Fetcher {
            client,
            runtime,
            allow,
        })
    }

    /// Runs one request; the answer is `{status, statusText, url, headers, body}` as JSON.
    /// Blocks the calling thread, which must not be one of the runtime's.
    pub fn fetch(
        &self,
        url: &str,
        method: &str,
        headers: &str,
        body: Option<String>,
        time_left: Duration,
    ) -> Result<String, String> {
        let url = reqwest::Url::parse(url).map_err(|e| format!("invalid URL: {e}"))?;
        if !self.allow.allows(&url) {
            let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
            return Err(format!(
                "fetch to {}{port} is not allowed",
                url.host_str().unwrap_or("")
            ));
        }
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes())
            .map_err(|_| format!("invalid method {method}"))?;
        let headers: Map<String, Value> = serde_json::from_str(headers).unwrap_or_default();
        let mut request = self.client.request(method, url).timeout(time_left);
        for (name, value) in &headers {
            let lower = name.to_ascii_lowercase();
            if DROPPED_HEADERS.contains(&lower.as_str()) || lower.starts_with("proxy-") {
                continue;
            }
            let value = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned);
            request = request.header(name.as_str(), value);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        self.runtime.block_on(async move {
            let mut response = request.send().await.map_err(describe)?;
            let status = response.status();
            let url = response.url().to_string();
            let headers: Map<String, Value> = response
                .headers()
                .iter()
                .filter_map(|(k, v)| Some((k.as_str().to_owned(), json!(v.to_str().ok()?))))
                .collect();
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(describe)? {
                if body.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(format!(
                        "the response body exceeds {} KiB",
                        MAX_BODY_BYTES / 1024
                    ));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(json!({
                "status": status.as_u16(),
                "statusText": status.canonical_reason().unwrap_or(""),
                "url": url,
                "headers": headers,
                "body": String::from_utf8_lossy(&body),
            })
            .to_string())
        })
    }
}

fn describe(e: reqwest::Error) -> String {
    let mut source = e.source();
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<Refused>() {
            return format!("fetch refused: {refused}");
        }
        source = cause.source();
    }
    if e.is_timeout() {
        "fetch timed out".into()
    } else if e.is_redirect() {
        "fetch followed a redirect to a host that is not allowed".into()
    } else {
        format!("fetch failed: {e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> AllowList {
        AllowList::new(&entries.iter().map(|e| (*e).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn https_by_host_and_plain_http_only_when_named() {
        let allow = list(&["hooks.example.com", "http://127.0.0.1:9000"]);
        let ok = |u: &str| allow.allows(&reqwest::Url::parse(u).unwrap());
        assert!(ok("https://hooks.example.com/x"));
        assert!(ok("https://HOOKS.example.com:443/x"));
        assert!(!ok("http://hooks.example.com/x"));
        assert!(ok("http://127.0.0.1:9000/x"));
        assert!(!ok("http://127.0.0.1:9001/x"));
        assert!(!ok("https://evil.example.com/"));
        assert!(!ok("file:///etc/passwd"));
    }

    #[test]
    fn an_entry_pins_its_port() {
        let allow = list(&[
            "hooks.example.com",
            "api.example.com:8443",
            "http://intranet",
        ]);
        let ok = |u: &str| allow.allows(&reqwest::Url::parse(u).unwrap());
        assert!(!ok("https://hooks.example.com:8443/"));
        assert!(!ok("https://hooks.example.com:22/"));
        assert!(ok("https://api.example.com:8443/"));
        assert!(!ok("https://api.example.com/"));
        assert!(ok("http://intranet/"));
        assert!(ok("http://intranet:80/"));
        assert!(!ok("http://intranet:6379/"));
    }

    #[test]
    fn the_servers_own_origin_is_allowed_but_not_written() {
        let allow = list(&[]).with_own_origin("https://auth.example.com/");
        let ok = |u: &str| allow.allows(&reqwest::Url::parse(u).unwrap());
        assert!(!allow.is_empty());
        assert!(allow.entries().is_empty());
        assert!(ok("https://AUTH.example.com/api/v2/users"));
        assert!(!ok("http://auth.example.com/api/v2/users"));
        assert!(!ok("https://auth.example.com:8443/"));
        assert!(!ok("https://other.example.com/"));
        assert!(allow.is_own_host("auth.example.com"));
        assert!(!allow.is_own_host("other.example.com"));
        let local = list(&["hooks.example.com"]).with_own_origin("http://127.0.0.1:8080/");
        assert!(local.allows(&reqwest::Url::parse("http://127.0.0.1:8080/x").unwrap()));
        assert!(local.allows(&reqwest::Url::parse("https://hooks.example.com/").unwrap()));
        assert!(list(&[]).with_own_origin("not a url").is_empty());
    }

    #[test]
    fn entries_are_checked() {
        for good in [
            "hooks.example.com",
            "https://hooks.example.com/",
            "http://10.0.0.5:8080",
            "[::1]:8443",
            "10.0.0.0/8",
            "fd00::/8",
            "127.0.0.1/32",
        ] {
            assert!(AllowList::check_entry(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "ftp://x",
            "hooks.example.com/path",
            "10.0.0.0/33",
            "example.com/8",
            "user@host",
        ] {
            assert!(AllowList::check_entry(bad).is_err(), "{bad}");
        }
        // A range alone gives no destination, so no `fetch`.
        assert!(list(&["10.0.0.0/8"]).is_empty());
    }

    #[test]
    fn special_addresses_are_admitted_only_in_a_named_range() {
        let none = list(&["hooks.example.com"]);
        for special in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2002:a00:1::1",
        ] {
            assert!(!none.admits(special.parse().unwrap()), "{special}");
        }
        for public in [
            "93.184.216.34",
            "2606:2800:220:1:248:1893:25c8:1946",
            "::ffff:93.184.216.34",
        ] {
            assert!(none.admits(public.parse().unwrap()), "{public}");
        }
        let some = list(&["hooks.example.com", "10.0.0.0/8", "::1/128"]);
        assert!(some.admits("10.200.0.1".parse().unwrap()));
        assert!(some.admits("::ffff:10.200.0.1".parse().unwrap()));
        assert!(some.admits("::1".parse().unwrap()));
        assert!(!some.admits("192.168.0.1".parse().unwrap()));
        assert!(!some.admits("127.0.0.1".parse().unwrap()));
    }
}
