//! `GET /userinfo` (OpenID Connect Core §5.3): the claims of the user behind an access
//! token whose audience includes `{issuer}userinfo`, chosen by the token's scopes.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use castellan_core::oidc::{claims, userinfo_audience};
use serde_json::json;

use crate::app::AppState;

fn unauthorized(description: &str) -> Response {
    let challenge = format!(
        "Bearer realm=\"castellan\", error=\"invalid_token\", error_description=\"{description}\""
    );
    let mut response = (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": "invalid_token", "error_description": description})),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

pub async fn userinfo(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
    else {
        return unauthorized("Missing access token");
    };
    let audiences = [userinfo_audience(&s.settings.issuer)];
    let Ok(token_claims) = s.tokens.verify(token, &audiences).await else {
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
