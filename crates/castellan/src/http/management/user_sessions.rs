//! `/users/{id}/sessions` and `/users/{id}/refresh-tokens`: what outlives a user's log-in,
//! listed (checkpoint paging, `{sessions|tokens, next}`) and ended. Auth0 answers the
//! deletions with 202; here they are done when the answer comes.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get};
use castellan_core::directory::user_sessions;
use castellan_core::model::{RefreshToken, Session};
use castellan_core::oidc::claims::rfc3339;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::paging::Listing;
use crate::app::AppState;
use crate::http::body::QueryParams;
use crate::http::endpoint::{Endpoint, Scopes::AllOf, endpoint};
use crate::http::error::ApiError;
use crate::http::guard::Caller;
use crate::http::wire_schema::Shape;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        endpoint(
            Method::GET,
            "/users/{id}/sessions",
            AllOf(&["read:sessions"]),
            "List a user's sessions",
            get(list_sessions),
        )
        .answers(200, Shape::listing_of::<SessionWire>("sessions")),
        endpoint(
            Method::DELETE,
            "/users/{id}/sessions",
            AllOf(&["delete:sessions"]),
            "End all sessions of a user",
            delete(end_sessions),
        )
        .answers_empty(202),
        endpoint(
            Method::GET,
            "/users/{id}/refresh-tokens",
            AllOf(&["read:refresh_tokens"]),
            "List a user's refresh tokens",
            get(list_refresh_tokens),
        )
        .answers(200, Shape::listing_of::<RefreshTokenWire>("tokens")),
        endpoint(
            Method::DELETE,
            "/users/{id}/refresh-tokens",
            AllOf(&["delete:refresh_tokens"]),
            "Revoke all refresh tokens of a user",
            delete(revoke_refresh_tokens),
        )
        .answers_empty(202),
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
    Ok(listing.respond("sessions", page, session_wire))
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
    Ok(listing.respond("tokens", page, refresh_token_wire))
}

async fn revoke_refresh_tokens(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    user_sessions::revoke_refresh_tokens(&caller.editor(&s), &id).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Auth0's session object, with what Castellan records of a session.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = UserSession)]
struct SessionWire {
    id: String,
    user_id: String,
    created_at: Option<String>,
    updated_at: Option<String>,
    authenticated_at: Option<String>,
    expires_at: Option<String>,
    authentication: Authentication,
}

#[derive(Debug, Serialize, ToSchema)]
struct Authentication {
    methods: Vec<AuthenticationMethod>,
}

#[derive(Debug, Serialize, ToSchema)]
struct AuthenticationMethod {
    name: &'static str,
    timestamp: Option<String>,
}

fn session_wire(session: Session) -> SessionWire {
    let authenticated = rfc3339(session.auth_time);
    SessionWire {
        id: session.id_hash,
        user_id: session.user_id,
        created_at: authenticated.clone(),
        updated_at: authenticated.clone(),
        authenticated_at: authenticated.clone(),
        expires_at: rfc3339(session.expires_at),
        authentication: Authentication {
            methods: vec![AuthenticationMethod {
                name: "pwd",
                timestamp: authenticated,
            }],
        },
    }
}

/// Auth0's refresh token object.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = UserRefreshToken)]
struct RefreshTokenWire {
    id: String,
    user_id: String,
    client_id: String,
    created_at: Option<String>,
    /// The family's end; null for never.
    expires_at: Option<String>,
    /// The end of the token unless exchanged before; null for never.
    idle_expires_at: Option<String>,
    last_exchanged_at: Option<String>,
    rotating: bool,
    resource_servers: Vec<TokenResourceServer>,
}

#[derive(Debug, Serialize, ToSchema)]
struct TokenResourceServer {
    audience: String,
    /// Space-separated.
    scopes: String,
}

fn refresh_token_wire(token: RefreshToken) -> RefreshTokenWire {
    RefreshTokenWire {
        id: token.family_id,
        user_id: token.user_id,
        client_id: token.client_id,
        created_at: rfc3339(token.auth_time),
        expires_at: token.family_expires_at.and_then(rfc3339),
        idle_expires_at: token.idle_expires_at.and_then(rfc3339),
        // The newest member was made by the last exchange (or by the log-in itself).
        last_exchanged_at: (token.created_at > token.auth_time)
            .then(|| rfc3339(token.created_at))
            .flatten(),
        rotating: token.rotating,
        resource_servers: token
            .audience
            .map(|audience| {
                vec![TokenResourceServer {
                    audience,
                    scopes: token.scope.join(" "),
                }]
            })
            .unwrap_or_default(),
    }
}
