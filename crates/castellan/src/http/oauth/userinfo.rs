//! `GET /userinfo` (OpenID Connect Core §5.3): the claims of the user behind an access
//! token whose audience includes `{issuer}userinfo`, chosen by the token's scopes. The token
//! comes in the `Authorization` header, or as an `access_token` query or form parameter
//! (RFC 6750 §2.2–2.3; passport-auth0 sends it in the query), in exactly one of them.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use castellan_core::oidc::{claims, userinfo_audience};
use serde_json::json;

use crate::app::AppState;

fn unauthorized(description: &str) -> Response {
    refused(StatusCode::UNAUTHORIZED, "invalid_token", description)
}

fn refused(status: StatusCode, error: &str, description: &str) -> Response {
    let challenge = format!(
        "Bearer realm=\"castellan\", error=\"{error}\", error_description=\"{description}\""
    );
    let mut response = (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// The `access_token` parameter of a query string or form body.
fn parameter(encoded: &[u8]) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(encoded)
        .ok()?
        .into_iter()
        .find_map(|(name, value)| (name == "access_token").then_some(value))
}

/// Why no token could be read from the request.
enum NotPresented {
    Missing,
    /// RFC 6750 §2: "MUST NOT use more than one method".
    Twice,
}

impl IntoResponse for NotPresented {
    fn into_response(self) -> Response {
        match self {
            NotPresented::Missing => unauthorized("Missing access token"),
            NotPresented::Twice => refused(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The access token was given in more than one way",
            ),
        }
    }
}

/// The token, from wherever the client put it, once.
fn presented(
    headers: &HeaderMap,
    query: Option<&str>,
    body: &[u8],
) -> Result<String, NotPresented> {
    let header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_string());
    let form = (crate::http::body::content_type_of(headers) == "application/x-www-form-urlencoded")
        .then(|| parameter(body))
        .flatten();
    let query = query.and_then(|q| parameter(q.as_bytes()));
    let mut given = [header, query, form].into_iter().flatten();
    match (given.next(), given.next()) {
        (Some(token), None) => Ok(token),
        (None, _) => Err(NotPresented::Missing),
        (Some(_), Some(_)) => Err(NotPresented::Twice),
    }
}

pub async fn userinfo(
    State(s): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let token = match presented(&headers, query.as_deref(), &body) {
        Ok(token) => token,
        Err(refusal) => return refusal.into_response(),
    };
    let audiences = [userinfo_audience(&s.settings.issuer)];
    let Ok(token_claims) = s.tokens.verify(&token, &audiences).await else {
        return unauthorized("Invalid or expired access token");
    };
    let user = match s.store.find_user(&token_claims.sub).await {
        Ok(Some(user)) => user,
        Ok(None) => return unauthorized("The user behind this token no longer exists"),
        Err(e) => {
            return crate::http::error::ApiError::from(castellan_core::Error::from(e))
                .into_response();
        }
    };
    Json(claims::by_scope(&user, &token_claims.scopes())).into_response()
}
