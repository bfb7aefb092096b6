//! Operations endpoints: liveness, readiness (the store commits a write), Prometheus metrics, and
//! the middleware that counts and times every request by route and status. Every label
//! takes one of a fixed set of values (routes as declared, standard methods, status
//! codes), so no request can add a series: a method the server does not know is `other`,
//! a path no route matches is `unmatched`. `[metrics] token` puts `/metrics` behind a
//! bearer token; `[metrics] listen` serves it on its own address instead.

use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use castellan_core::secrets::constant_time_eq;
use serde_json::json;

use crate::app::AppState;

pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// How long `/readyz` waits for the store's write probe. Shorter than health checkers'
/// usual timeouts (2 s and up), so that a store that does not answer shows as a 503 and
/// not as a hung check; a store that needs longer than this to commit a one-row write is
/// not ready to serve either.
const READY_WITHIN: Duration = Duration::from_secs(1);

/// A probe's verdict answers every `/readyz` for this long. `/readyz` needs no credentials
/// and each probe is a write (SQLite has one writer), so however often it is called the
/// store sees at most one probe a second.
const VERDICT_KEPT: Duration = Duration::from_secs(1);

/// The last readiness probe: callers that arrive while one runs wait for it and share
/// its verdict.
#[derive(Default)]
pub struct Readiness {
    last: tokio::sync::Mutex<Option<(Instant, Result<(), String>)>>,
}

impl Readiness {
    async fn check<F>(&self, probe: impl FnOnce() -> F) -> Result<(), String>
    where
        F: std::future::Future<Output = Result<(), String>>,
    {
        let mut last = self.last.lock().await;
        if let Some((at, verdict)) = last.as_ref()
            && at.elapsed() < VERDICT_KEPT
        {
            return verdict.clone();
        }
        let verdict = match tokio::time::timeout(READY_WITHIN, probe()).await {
            Ok(verdict) => verdict,
            Err(_) => Err(format!(
                "the store did not commit a write within {READY_WITHIN:?}"
            )),
        };
        *last = Some((Instant::now(), verdict.clone()));
        verdict
    }
}

pub async fn readyz(State(s): State<AppState>) -> Response {
    let probe = || async { s.store.ping().await.map_err(|e| e.to_string()) };
    let Err(cause) = s.readiness.check(probe).await else {
        return Json(json!({"status": "ready"})).into_response();
    };
    tracing::warn!(cause, "readiness check failed");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"status": "unavailable", "store": "unavailable"})),
    )
        .into_response()
}

pub async fn metrics(State(s): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &s.settings.metrics.token
        && !bearer_matches(&headers, &token.0)
    {
        let mut refused = (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "unauthorized", "error_description": "A valid bearer token is required"})),
        )
            .into_response();
        refused.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"metrics\""),
        );
        return refused;
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.metrics.render(),
    )
        .into_response()
}

/// Every 503 says when to come back (RFC 9110 §10.2.3): the causes (a saturated password
/// hasher, a store that does not answer) pass within seconds.
pub async fn retry_after_when_unavailable(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if response.status() == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .entry(header::RETRY_AFTER)
            .or_insert(HeaderValue::from_static("1"));
    }
    response
}

fn bearer_matches(headers: &HeaderMap, token: &str) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|presented| constant_time_eq(presented.trim().as_bytes(), token.as_bytes()))
}

/// The method as a label: one of the standard methods, or `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

pub async fn record(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [
        ("route", route),
        ("method", method.to_string()),
        ("status", status),
    ];
    metrics::counter!("castellan_http_requests_total", &labels).increment(1);
    metrics::histogram!("castellan_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn readiness_calls_share_one_probe_a_second() {
        let readiness = Arc::new(Readiness::default());
        let probes = Arc::new(AtomicUsize::new(0));
        let probe = |probes: Arc<AtomicUsize>| async move {
            probes.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            Err("disk full".to_string())
        };
        let calls: Vec<_> = (0..50)
            .map(|_| {
                let (readiness, probes) = (readiness.clone(), probes.clone());
                tokio::spawn(async move { readiness.check(|| probe(probes)).await })
            })
            .collect();
        for call in calls {
            assert_eq!(call.await.unwrap(), Err("disk full".to_string()));
        }
        assert_eq!(
            probes.load(Ordering::SeqCst),
            1,
            "50 calls at once, one probe"
        );

        // Once the verdict is older than a second, the next call probes again.
        tokio::time::sleep(VERDICT_KEPT).await;
        let again = readiness.check(|| async { Ok(()) }).await;
        assert_eq!(again, Ok(()));
    }

    #[tokio::test]
    async fn a_probe_that_hangs_is_a_verdict_within_a_second() {
        let readiness = Readiness::default();
        let verdict = readiness
            .check(std::future::pending::<Result<(), String>>)
            .await;
        assert!(verdict.unwrap_err().contains("did not commit"));
    }

    #[test]
    fn unknown_methods_fold_into_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        for odd in ["FOO", "BREW", "PROPFIND", "TRACE"] {
            assert_eq!(
                method_label(&Method::from_bytes(odd.as_bytes()).unwrap()),
                "other"
            );
        }
    }

    #[test]
    fn the_bearer_token_must_match_exactly() {
        let mut headers = HeaderMap::new();
        assert!(!bearer_matches(&headers, "s3cret"));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer s3cret"),
        );
        assert!(bearer_matches(&headers, "s3cret"));
        assert!(!bearer_matches(&headers, "s3cret2"));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic s3cret"),
        );
        assert!(!bearer_matches(&headers, "s3cret"));
    }
}
