//! Per-address rate limits on the endpoints that check credentials or create accounts
//! (`[rate_limits]`; 0 turns one off). The default never disturbs normal use; client
//! credentials are limited only when an operator asks for it.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::Json;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde_json::json;

use crate::app::AppState;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limited {
    Authentication,
    ClientCredentials,
}

#[derive(Clone, Default)]
pub struct RateLimits {
    authentication: Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>,
    client_credentials: Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>,
}

/// `per_second` requests a second per address, bursts of twice that.
fn limiter(per_second: u32) -> Option<Arc<DefaultKeyedRateLimiter<IpAddr>>> {
    let rate = NonZeroU32::new(per_second)?;
    let burst = NonZeroU32::new(per_second.saturating_mul(2)).unwrap_or(rate);
    Some(Arc::new(RateLimiter::keyed(
        Quota::per_second(rate).allow_burst(burst),
    )))
}

impl RateLimits {
    pub fn new(authentication_per_second: u32, client_credentials_per_second: u32) -> Self {
        Self {
            authentication: limiter(authentication_per_second),
            client_credentials: limiter(client_credentials_per_second),
        }
    }

    /// Whether one more request from `ip` is allowed now.
    pub fn allows(&self, kind: Limited, ip: IpAddr) -> bool {
        let limiter = match kind {
            Limited::Authentication => &self.authentication,
            Limited::ClientCredentials => &self.client_credentials,
        };
        limiter.as_ref().is_none_or(|l| l.check_key(&ip).is_ok())
    }

    /// Forgets addresses that have been quiet, so the table does not grow without end.
    pub fn forget_quiet_addresses(&self) {
        for limiter in [&self.authentication, &self.client_credentials]
            .into_iter()
            .flatten()
        {
            limiter.retain_recent();
        }
    }
}

pub fn too_many_requests() -> Response {
    let description = "Too many requests from this address; slow down and try again shortly";
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        Json(json!({
            "error": "too_many_requests",
            "error_description": description,
            "statusCode": 429,
            "message": description,
        })),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

pub fn peer_ip(request: &Request) -> Option<IpAddr> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip())
}

/// Middleware for the authentication endpoints.
pub async fn authentication(State(s): State<AppState>, request: Request, next: Next) -> Response {
    match peer_ip(&request) {
        Some(ip) if !s.rate_limits.allows(Limited::Authentication, ip) => too_many_requests(),
        _ => next.run(request).await,
    }
}
