//! Web origins as a client lists them (`https://app.example.com`, `https://*.example.com`)
//! and as a browser sends them in its `Origin` header. Both are read by the `url` crate so
//! that a listed origin and a sent one compare as browsers compare them: host without
//! case, default port implied.

use url::{Host, Url};

/// A scheme, host and port, the host possibly under a `*.` that stands for one label.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pattern {
    scheme: String,
    /// The host after the `*.` when `wildcard`, all of it otherwise.
    host: String,
    port: u16,
    wildcard: bool,
}

impl Pattern {
    fn parse(entry: &str) -> Result<Pattern, &'static str> {
        // `url` drops surrounding spaces and inner tabs and newlines: what it would read
        // is not what was written.
        if entry.is_empty() || entry.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("is not a URL");
        }
        let url = Url::parse(entry).map_err(|_| "is not a URL")?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("must use http or https");
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not hold a user name or password");
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err("must not have a path, query or fragment");
        }
        let port = url.port_or_known_default().ok_or("is not a URL")?;
        let (host, wildcard) = match url.host() {
            Some(Host::Domain(domain)) => match domain.strip_prefix("*.") {
                Some(rest) => (rest, true),
                None => (domain, false),
            },
            Some(_) => (url.host_str().ok_or("is not a URL")?, false),
            None => return Err("must have a host"),
        };
        if host.contains('*') {
            return Err("may hold a wildcard only as its whole first label");
        }
        // `*.com` would let every site under a top-level domain in.
        if wildcard && (host.split('.').count() < 2 || host.split('.').any(str::is_empty)) {
            return Err("must have at least two labels after a wildcard");
        }
        Ok(Pattern {
            scheme: url.scheme().to_string(),
            host: host.to_string(),
            port,
            wildcard,
        })
    }

    /// Whether the (wildcard-free) `origin` is this one, or under its `*.` by one label.
    fn admits(&self, origin: &Pattern) -> bool {
        self.scheme == origin.scheme
            && self.port == origin.port
            && if self.wildcard {
                origin
                    .host
                    .strip_suffix(self.host.as_str())
                    .and_then(|rest| rest.strip_suffix('.'))
                    .is_some_and(|label| !label.is_empty() && !label.contains('.'))
            } else {
                self.host == origin.host
            }
    }

    /// The origin of a URL such as a callback, which may have any path, query or fragment.
    fn of_url(uri: &str) -> Option<Pattern> {
        let url = Url::parse(uri).ok()?;
        if !matches!(url.scheme(), "http" | "https") {
            return None;
        }
        Some(Pattern {
            scheme: url.scheme().to_string(),
            host: url.host_str()?.to_string(),
            port: url.port_or_known_default()?,
            wildcard: false,
        })
    }
}

/// Why `entry` is not an origin a client may list: `Err` holds the end of a sentence that
/// begins with "it" (`"must use http or https"`).
pub fn check_listed_origin(entry: &str) -> Result<(), &'static str> {
    Pattern::parse(entry).map(|_| ())
}

/// Whether a browser at `origin` may call cross-origin a client that lists `listed`
/// origins and has `callbacks`.
pub(super) fn allows<'a>(
    origin: &str,
    listed: impl IntoIterator<Item = &'a String>,
    callbacks: &[String],
) -> bool {
    let Ok(origin) = Pattern::parse(origin) else {
        return false;
    };
    if origin.wildcard {
        return false;
    }
    listed
        .into_iter()
        .filter_map(|entry| Pattern::parse(entry).ok())
        .chain(callbacks.iter().filter_map(|cb| Pattern::of_url(cb)))
        .any(|pattern| pattern.admits(&origin))
}

/// Whether the origin of `uri` (a redirect URI, with any path) is one of `listed`.
pub(super) fn lists_origin_of<'a>(uri: &str, listed: impl IntoIterator<Item = &'a String>) -> bool {
    let Some(origin) = Pattern::of_url(uri) else {
        return false;
    };
    listed
        .into_iter()
        .filter_map(|entry| Pattern::parse(entry).ok())
        .any(|pattern| pattern.admits(&origin))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AppType, Client, TokenEndpointAuthMethod};

    fn client(allowed: &[&str], web: &[&str], callbacks: &[&str]) -> Client {
        let list = |l: &[&str]| l.iter().map(|s| s.to_string()).collect();
        Client {
            client_id: "c".into(),
            name: "c".into(),
            description: String::new(),
            app_type: AppType::Spa,
            is_first_party: true,
            grant_types: vec![],
            callbacks: list(callbacks),
            allowed_logout_urls: vec![],
            web_origins: list(web),
            allowed_origins: list(allowed),
            token_endpoint_auth_method: TokenEndpointAuthMethod::None,
            refresh_token: crate::directory::clients::default_refresh_token(AppType::Spa),
            client_metadata: Default::default(),
            secret_hash: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn listed_origins_are_scheme_host_and_port_only() {
        for good in [
            "https://app.example.com",
            "https://app.example.com/",
            "http://localhost:3000",
            "http://127.0.0.1:8080",
            "http://[::1]:3000",
            "https://APP.Example.com:443",
            "https://*.example.com",
            "https://*.example.com:8443",
            "https://xn--bcher-kva.example",
            "https://bücher.example",
        ] {
            assert_eq!(check_listed_origin(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            " https://app.example.com",
            "https://app.example.com ",
            "https://app.\texample.com",
            "app.example.com",
            "/cb",
            "null",
            "*",
            "https://*",
            "https://*.com",
            "https://*.example..com",
            "https://a.*.example.com",
            "https://*.*.example.com",
            "https://a*.example.com",
            "https://app.example.com/cb",
            "https://app.example.com/?",
            "https://app.example.com?x=1",
            "https://app.example.com#top",
            "https://user@app.example.com",
            "https://user:pw@app.example.com",
            "ftp://app.example.com",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "com.example.app://callback",
            "https://app.example.com:99999",
        ] {
            assert!(check_listed_origin(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_origin_matches_a_listed_one_as_browsers_compare_them() {
        let c = client(
            &["https://app.example.com", "http://localhost:3000"],
            &[],
            &[],
        );
        assert!(c.allows_origin("https://app.example.com"));
        assert!(c.allows_origin("http://localhost:3000"));
        // Host without case, and the default port said or not, on either side.
        assert!(c.allows_origin("https://APP.example.COM"));
        assert!(c.allows_origin("https://app.example.com:443"));
        assert!(
            client(&["https://app.example.com:443"], &[], &[])
                .allows_origin("https://app.example.com")
        );
        assert!(
            client(&["HTTPS://App.Example.com/"], &[], &[])
                .allows_origin("https://app.example.com")
        );
        // Another scheme, port or host is another origin.
        assert!(!c.allows_origin("http://app.example.com"));
        assert!(!c.allows_origin("https://app.example.com:8443"));
        assert!(!c.allows_origin("http://localhost:3001"));
        assert!(!c.allows_origin("http://localhost"));
        assert!(!c.allows_origin("https://app.example.com.evil.example"));
        assert!(!c.allows_origin("https://evil.example"));
        assert!(!c.allows_origin("https://sub.app.example.com"));
    }

    #[test]
    fn web_origins_and_the_origins_of_callbacks_count_too() {
        let c = client(
            &[],
            &["https://web.example.com"],
            &[
                "https://cb.example.com:8443/callback?x=1",
                "com.example.app://callback",
            ],
        );
        assert!(c.allows_origin("https://web.example.com"));
        assert!(c.allows_origin("https://cb.example.com:8443"));
        assert!(!c.allows_origin("https://cb.example.com"));
        assert!(!c.allows_origin("com.example.app://callback"));
        assert!(!client(&[], &[], &[]).allows_origin("https://web.example.com"));
    }

    #[test]
    fn a_wildcard_stands_for_exactly_one_label() {
        for c in [
            client(&["https://*.example.com"], &[], &[]),
            client(&[], &["https://*.example.com"], &[]),
        ] {
            assert!(c.allows_origin("https://app.example.com"));
            assert!(c.allows_origin("https://APP.example.com:443"));
            assert!(!c.allows_origin("https://a.b.example.com"));
            assert!(!c.allows_origin("https://example.com"));
            assert!(!c.allows_origin("https://.example.com"));
            assert!(!c.allows_origin("https://appexample.com"));
            assert!(!c.allows_origin("http://app.example.com"));
            assert!(!c.allows_origin("https://app.example.com:8443"));
            assert!(!c.allows_origin("https://app.example.com.evil.example"));
            // The wildcard itself is not an origin a browser sends.
            assert!(!c.allows_origin("https://*.example.com"));
        }
        // A wildcard in a callback is not one: the callback's host is taken as written.
        assert!(
            !client(&[], &[], &["https://*.example.com/cb"])
                .allows_origin("https://app.example.com")
        );
    }

    #[test]
    fn what_is_not_an_origin_is_refused() {
        let c = client(
            &["https://app.example.com"],
            &["https://app.example.com/path", "not a url"],
            &["https://app.example.com/cb"],
        );
        for bad in [
            "null",
            "",
            "garbage",
            " https://app.example.com",
            "https://app.example.com/cb",
            "https://app.example.com?x",
            "https://user@app.example.com",
            "//app.example.com",
            "app.example.com",
            "not a url",
        ] {
            assert!(!c.allows_origin(bad), "{bad:?}");
        }
    }
}
