//! Per-address rate limits on the endpoints that check credentials or create accounts
//! (`[rate_limits]`; 0 turns one off). The default never disturbs normal use; client
//! credentials are limited only when an operator asks for it.
//!
//! Requests that hash a password (log-in, sign-up, a new password) also draw on a second,
//! smaller budget per address: a quarter of what the machine can hash by default, so one
//! address can never take all the cores and everyone else's log-ins keep their latency.
//! Their refusals are answered only after the `Retry-After` pause: a client that does not
//! wait is slowed to one attempt per connection per second, instead of costing the
//! server thousands of cheap refusals a second.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

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
    /// An authentication request that hashes a password: also the hashing budget.
    PasswordCheck,
    ClientCredentials,
}

/// Which budget a refused request would have overdrawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Requests a second.
    Rate,
    /// Password hashes a second.
    HashingBudget,
}

#[derive(Clone, Default)]
pub struct RateLimits {
    authentication: Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>,
    password_checks: Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>,
    client_credentials: Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>,
}

/// The share of the machine's hashing one address gets unless configured.
const DEFAULT_HASHING_SHARE: f64 = 0.25;

/// Password checks a second per address when none is configured: a quarter of
/// `hashes_per_second`, at least one.
pub fn default_password_checks_per_second(hashes_per_second: f64) -> u32 {
    let share = (hashes_per_second * DEFAULT_HASHING_SHARE).floor();
    if share.is_finite() && share >= 1.0 {
        share.min(f64::from(u32::MAX)) as u32
    } else {
        1
    }
}

/// Password checks one address may make at once before its budget's rate applies: a
/// person logging in, signing up and logging in again within a second is not an attack,
/// even where a busy machine measured a budget of one a second.
const HASHING_BURST_FLOOR: u32 = 10;

/// `per_second` requests a second per address, bursts of twice that (at least `burst_floor`).
fn limiter(per_second: u32, burst_floor: u32) -> Option<Arc<DefaultKeyedRateLimiter<IpAddr>>> {
    let rate = NonZeroU32::new(per_second)?;
    let burst = NonZeroU32::new(per_second.saturating_mul(2).max(burst_floor)).unwrap_or(rate);
    Some(Arc::new(RateLimiter::keyed(
        Quota::per_second(rate).allow_burst(burst),
    )))
}

impl RateLimits {
    pub fn new(
        authentication_per_second: u32,
        password_checks_per_second: u32,
        client_credentials_per_second: u32,
    ) -> Self {
        Self {
            authentication: limiter(authentication_per_second, 0),
            password_checks: limiter(password_checks_per_second, HASHING_BURST_FLOOR),
            client_credentials: limiter(client_credentials_per_second, 0),
        }
    }

    /// Whether one more request from `ip` is allowed now.
    pub fn allows(&self, kind: Limited, ip: IpAddr) -> bool {
        self.check(kind, ip).is_ok()
    }

    /// One more request from `ip` now, or which budget it would overdraw.
    pub fn check(&self, kind: Limited, ip: IpAddr) -> Result<(), Refusal> {
        let within = |limiter: &Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>| {
            limiter.as_ref().is_none_or(|l| l.check_key(&ip).is_ok())
        };
        let (general, hashing) = match kind {
            Limited::Authentication => (&self.authentication, &None),
            Limited::PasswordCheck => (&self.authentication, &self.password_checks),
            Limited::ClientCredentials => (&self.client_credentials, &None),
        };
        if !within(general) {
            return Err(Refusal::Rate);
        }
        if !within(hashing) {
            return Err(Refusal::HashingBudget);
        }
        Ok(())
    }

    /// Forgets addresses that have been quiet, so the table does not grow without end.
    pub fn forget_quiet_addresses(&self) {
        for limiter in [
            &self.authentication,
            &self.password_checks,
            &self.client_credentials,
        ]
        .into_iter()
        .flatten()
        {
            limiter.retain_recent();
        }
    }
}

/// The pause before refusing a password check over the hashing budget, and its
/// `Retry-After`.
const HASHING_REFUSAL_PAUSE: Duration = Duration::from_secs(1);

/// The answer to a refused request: at once, or after a pause for the hashing budget.
pub async fn refuse(refusal: Refusal) -> Response {
    if refusal == Refusal::HashingBudget {
        tokio::time::sleep(HASHING_REFUSAL_PAUSE).await;
    }
    too_many_requests()
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

/// Middleware for the authentication endpoints that hash no password.
pub async fn authentication(State(s): State<AppState>, request: Request, next: Next) -> Response {
    limit(&s, Limited::Authentication, request, next).await
}

/// Middleware for the authentication endpoints that hash a password.
pub async fn password_check(State(s): State<AppState>, request: Request, next: Next) -> Response {
    limit(&s, Limited::PasswordCheck, request, next).await
}

async fn limit(s: &AppState, kind: Limited, request: Request, next: Next) -> Response {
    match peer_ip(&request).map(|ip| s.rate_limits.check(kind, ip)) {
        Some(Err(refusal)) => refuse(refusal).await,
        _ => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_hashing_budget_is_a_quarter_of_the_machine() {
        assert_eq!(default_password_checks_per_second(25.0), 6);
        assert_eq!(default_password_checks_per_second(2.0), 1);
        assert_eq!(default_password_checks_per_second(f64::INFINITY), 1);
    }

    #[test]
    fn password_checks_draw_on_both_budgets() {
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let limits = RateLimits::new(100, 1, 0);
        // A burst of the floor, then nothing.
        for _ in 0..HASHING_BURST_FLOOR {
            assert!(limits.allows(Limited::PasswordCheck, ip));
        }
        assert_eq!(
            limits.check(Limited::PasswordCheck, ip),
            Err(Refusal::HashingBudget)
        );
        assert!(
            limits.allows(Limited::Authentication, ip),
            "requests that hash nothing are not held back"
        );
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(limits.allows(Limited::PasswordCheck, other));
    }
}
