//! Auth0's MFA API for log-ins without a browser: `/mfa/authenticators` (list, delete),
//! `/mfa/associate` and `/mfa/challenge`. The caller is the user behind an `mfa_token`
//! (a password log-in waiting for its second factor) or behind an access token for the
//! MFA audience (`{issuer}mfa/`, got by passing a second factor). Codes are checked and
//! factors enrolled by `castellan_core::mfa::factors` only; the grants that finish the
//! log-in are at the token endpoint (`castellan_core::oauth::mfa_grant`).

pub mod associate;
pub mod authenticators;
pub mod challenge;

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use castellan_core::mfa::mfa_api;
use castellan_core::mfa::token;
use castellan_core::model::User;
use serde_json::json;

use crate::app::AppState;
use crate::http::error::no_store;

/// An answer in the shape of the Authentication API's errors.
pub(crate) fn refused(status: StatusCode, error: &str, description: &str) -> Response {
    let mut response = (
        status,
        no_store(),
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        let challenge = format!("Bearer realm=\"castellan\", error=\"{error}\"");
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
    }
    response
}

fn unauthorized(description: &str) -> Response {
    refused(StatusCode::UNAUTHORIZED, "invalid_token", description)
}

/// What the bearer of the request proved.
pub(crate) enum Caller {
    /// A password only: the log-in waits for its second factor.
    MfaToken,
    /// A second factor passed; the token's scopes of the MFA audience.
    AccessToken { scopes: Vec<String> },
}

impl Caller {
    /// Whether the caller may do what `scope` allows. An `mfa_token` may list the
    /// factors and enrol a first one (Auth0); only a token that passed a factor may
    /// enrol another or remove one.
    pub(crate) fn allows(&self, scope: &str) -> bool {
        match self {
            Caller::MfaToken => scope != mfa_api::REMOVE,
            Caller::AccessToken { scopes } => scopes.iter().any(|s| s == scope),
        }
    }
}

/// The user behind the request's bearer token, and what the token proves.
pub(crate) async fn caller(s: &AppState, headers: &HeaderMap) -> Result<(Caller, User), Response> {
    let Some(bearer) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_owned())
    else {
        return Err(unauthorized("Missing authorization header"));
    };
    let now = s.clock.now();
    let (caller, user_id) = if bearer.contains('.') {
        // A JWT: the MFA audience's access token.
        let audiences = [mfa_api::identifier(&s.settings.issuer)];
        let claims = s
            .tokens
            .verify(&bearer, &audiences)
            .await
            .map_err(|_| unauthorized("Invalid or expired access token"))?;
        let scopes = claims.scopes();
        (Caller::AccessToken { scopes }, claims.sub)
    } else {
        let pending = token::open_mfa_token(&s.master_key, &bearer, now)
            .map_err(|e| unauthorized(&e.to_string()))?;
        (Caller::MfaToken, pending.user_id)
    };
    match s.store.find_user(&user_id).await {
        Ok(Some(user)) if !user.blocked => Ok((caller, user)),
        Ok(_) => Err(unauthorized("The user behind this token cannot log in")),
        Err(e) => Err(store_failed(e.into())),
    }
}

pub(crate) fn store_failed(e: castellan_core::Error) -> Response {
    crate::http::error::ApiError::from(e).into_response()
}

pub(crate) fn insufficient_scope(scope: &str) -> Response {
    refused(
        StatusCode::FORBIDDEN,
        "insufficient_scope",
        &format!("Insufficient scope, expected: {scope}"),
    )
}
