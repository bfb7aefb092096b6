//! Calls from browser apps on other origins, as Auth0 allows them. Discovery and the signing
//! keys are public documents that any origin may read. The token, revocation, user-info and
//! database-connection endpoints answer an origin that a client lists
//! ([`Client::allows_origin`]); a preflight names no client, so the CORS layer admits an
//! origin that some client lists, and each endpoint then refuses a request whose own client
//! does not list its origin ([`admit`]): one client's origins never open another client to a
//! page.

use std::time::Duration;

use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use castellan_core::events::{self, LogEventExt, RequestContext};
use castellan_core::model::Client;
use castellan_core::oauth::OAuthError;
use castellan_core::paging::PageRequest;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};

use crate::app::AppState;

/// The header Auth0's SDKs add to every call, naming themselves.
const AUTH0_CLIENT: HeaderName = HeaderName::from_static("auth0-client");
/// How long a browser may keep a preflight's answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(86_400);

/// For discovery and the signing keys.
pub fn public() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET])
}

/// For the endpoints a browser app calls with its client id.
pub fn for_clients(state: AppState) -> CorsLayer {
    let admitted = move |origin: HeaderValue, _: &Parts| {
        let state = state.clone();
        async move {
            match origin.to_str() {
                Ok(origin) => listed_by_any_client(&state, origin).await,
                Err(_) => false,
            }
        }
    };
    CorsLayer::new()
        .allow_origin(AllowOrigin::async_predicate(admitted))
        // DELETE for the MFA API's `/mfa/authenticators/{id}`.
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION, AUTH0_CLIENT])
        .max_age(PREFLIGHT_MAX_AGE)
}

async fn listed_by_any_client(state: &AppState, origin: &str) -> bool {
    match state.store.list_clients(PageRequest::ALL).await {
        Ok(clients) => clients.items.iter().any(|c| c.allows_origin(origin)),
        Err(e) => {
            tracing::warn!(cause = %e, "could not read the clients to check an origin");
            false
        }
    }
}

/// The origin of a browser's cross-origin request: none for callers that are not browsers
/// (they send no `Origin`) and for the server's own pages.
pub fn cross_origin(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let origin = headers.get(header::ORIGIN)?.to_str().ok()?;
    let own = url::Url::parse(&state.settings.issuer)
        .ok()
        .map(|issuer| issuer.origin().ascii_serialization());
    (own.as_deref() != Some(origin)).then(|| origin.to_string())
}

/// Refuses a cross-origin request made for a client that does not list its origin, and
/// records the refusal as Auth0's `fco` ("failed by CORS").
pub async fn admit(
    state: &AppState,
    origin: Option<&str>,
    client: &Client,
    ctx: &RequestContext,
) -> Result<(), OAuthError> {
    match origin {
        Some(origin) if !client.allows_origin(origin) => {
            let description = format!("Origin {origin} is not allowed for this application");
            let event = events::event("fco", description.clone(), ctx).client(client);
            events::record(state.store.as_ref(), state.clock.as_ref(), event).await;
            Err(OAuthError::AccessDenied(description))
        }
        _ => Ok(()),
    }
}

/// [`admit`] for a client named by its id: an unknown client is the endpoint's to refuse.
pub async fn admit_client_id(
    state: &AppState,
    origin: Option<&str>,
    client_id: &str,
    ctx: &RequestContext,
) -> Result<(), OAuthError> {
    if origin.is_none() {
        return Ok(());
    }
    match state.store.find_client(client_id).await? {
        Some(client) => admit(state, origin, &client, ctx).await,
        None => Ok(()),
    }
}
