//! `fetch` for scripts, only to hosts an allow-list names (none by default, and then there
//! is no `fetch` at all). The request runs on the server's async runtime while the worker
//! waits, bounded by the script's remaining time; redirects are followed only to allowed
//! hosts, and the body read is capped.

use std::time::Duration;

use serde_json::{Map, Value, json};

/// The most of a response body a script gets.
const MAX_BODY_BYTES: usize = 1024 * 1024;
const MAX_REDIRECTS: usize = 5;

/// Allowed destinations: `host` or `host:port` for https, `http://host[:port]` for plain
/// http (meant for services on the same network).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    entries: Vec<(bool, String)>,
}

impl AllowList {
    pub fn new(entries: &[String]) -> AllowList {
        AllowList {
            entries: entries
                .iter()
                .map(|e| match e.strip_prefix("http://") {
                    Some(host) => (false, host.trim_end_matches('/').to_lowercase()),
                    None => (
                        true,
                        e.trim_start_matches("https://")
                            .trim_end_matches('/')
                            .to_lowercase(),
                    ),
                })
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries as they are written in the settings.
    pub fn entries(&self) -> Vec<String> {
        self.entries
            .iter()
            .map(|(https, host)| {
                if *https {
                    host.clone()
                } else {
                    format!("http://{host}")
                }
            })
            .collect()
    }

    /// An entry is a host with an optional port, `http://` in front for plain http.
    pub fn check_entry(entry: &str) -> Result<(), String> {
        let host = entry
            .strip_prefix("http://")
            .or_else(|| entry.strip_prefix("https://"))
            .unwrap_or(entry)
            .trim_end_matches('/');
        let well_formed = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c));
        if well_formed {
            Ok(())
        } else {
            Err(format!(
                "\"{entry}\" is not a host, host:port or http://host:port"
            ))
        }
    }

    pub fn allows(&self, url: &reqwest::Url) -> bool {
        let secure = match url.scheme() {
            "https" => true,
            "http" => false,
            _ => return false,
        };
        let Some(host) = url.host_str().map(str::to_lowercase) else {
            return false;
        };
        let with_port = url.port().map(|p| format!("{host}:{p}"));
        self.entries.iter().any(|(https, allowed)| {
            *https == secure && (*allowed == host || Some(allowed) == with_port.as_ref())
        })
    }
}

/// What a worker needs to make requests for its scripts.
pub(crate) struct Fetcher {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
    allow: AllowList,
}

impl Fetcher {
    /// `None` without an allow-list, or outside a Tokio runtime (there is nothing to run
    /// requests on).
    pub fn new(allow: AllowList) -> Option<Fetcher> {
        if allow.is_empty() {
            return None;
        }
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        let for_redirects = allow.clone();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() >= MAX_REDIRECTS {
                    attempt.error("too many redirects")
                } else if for_redirects.allows(attempt.url()) {
                    attempt.follow()
                } else {
                    attempt.error("redirect to a host that is not allowed")
                }
            }))
            .build()
            .ok()?;
        Some(Fetcher {
            client,
            runtime,
            allow,
        })
    }

    /// Runs one request; the answer is `{status, statusText, url, headers, body}` as JSON.
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
            return Err(format!(
                "fetch to {} is not allowed",
                url.host_str().unwrap_or("")
            ));
        }
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes())
            .map_err(|_| format!("invalid method {method}"))?;
        let headers: Map<String, Value> = serde_json::from_str(headers).unwrap_or_default();
        let mut request = self.client.request(method, url).timeout(time_left);
        for (name, value) in &headers {
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

    #[test]
    fn https_by_host_and_plain_http_only_when_named() {
        let allow = AllowList::new(&["hooks.example.com".into(), "http://127.0.0.1:9000".into()]);
        let ok = |u: &str| allow.allows(&reqwest::Url::parse(u).unwrap());
        assert!(ok("https://hooks.example.com/x"));
        assert!(ok("https://HOOKS.example.com:443/x"));
        assert!(!ok("http://hooks.example.com/x"));
        assert!(ok("http://127.0.0.1:9000/x"));
        assert!(!ok("http://127.0.0.1:9001/x"));
        assert!(!ok("https://evil.example.com/"));
        assert!(!ok("file:///etc/passwd"));
    }
}
