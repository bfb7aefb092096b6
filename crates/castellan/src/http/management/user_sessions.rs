//! `/users/{id}/sessions` and `/users/{id}/refresh-tokens`: what outlives a user's log-in,
//! listed (checkpoint paging, `{sessions|tokens, next}`) and ended. Auth0 answers the
//! deletions with 202; here they are done when the answer comes.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get};
use castellan_core::directory::user_sessions;
use serde_json::Value;

use super::paging::Listing;
use crate::app::AppState;
use crate::http::body::QueryParams;
use crate::http::endpoint::{Endpoint, Scopes::AllOf, endpoint};
use crate::http::error::ApiError;
use crate::http::guard::Caller;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        endpoint(
            Method::GET,
            "/users/{id}/sessions",
            AllOf(&["read:sessions"]),
            "List a user's sessions",
            get(list_sessions),
        ),
        endpoint(
            Method::DELETE,
            "/users/{id}/sessions",
            AllOf(&["delete:sessions"]),
            "End all sessions of a user",
            delete(end_sessions),
        ),
        endpoint(
            Method::GET,
            "/users/{id}/refresh-tokens",
            AllOf(&["read:refresh_tokens"]),
            "List a user's refresh tokens",
            get(list_refresh_tokens),
        ),
        endpoint(
            Method::DELETE,
            "/users/{id}/refresh-tokens",
            AllOf(&["delete:refresh_tokens"]),
            "Revoke all refresh tokens of a user",
            delete(revoke_refresh_tokens),
        ),
    ]
}

async fn list_sessions(
    State(s): State<AppState>,
    Path(id): Path<String>,
    q: QueryParams,
) -> Result<Json<Value>, ApiError> {
    let listing = Listing::checkpoint(&q)?;
    let page =
        user_sessions::sessions(s.store.as_ref(), s.clock.as_ref(), &id, listing.request()).await?;
    Ok(listing.respond("sessions", page, user_sessions::session_json))
}

async fn end_sessions(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    user_sessions::end_sessions(&caller.editor(&s), &id).await?;
    Ok(StatusCode::ACCEPTED)
}

async fn list_refresh_tokens(
    State(s): State<AppState>,
    Path(id): Path<String>,
    q: QueryParams,
) -> Result<Json<Value>, ApiError> {
    let listing = Listing::checkpoint(&q)?;
    let page =
        user_sessions::refresh_tokens(s.store.as_ref(), s.clock.as_ref(), &id, listing.request())
            .await?;
    Ok(listing.respond("tokens", page, user_sessions::refresh_token_json))
}

async fn revoke_refresh_tokens(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    user_sessions::revoke_refresh_tokens(&caller.editor(&s), &id).await?;
    Ok(StatusCode::ACCEPTED)
}
