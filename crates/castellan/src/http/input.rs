//! Input every backend can store, checked where it enters. PostgreSQL refuses NUL in text
//! and `\u0000` in jsonb, where SQLite keeps both; so NUL in a path parameter, a query
//! parameter, a form field or anywhere in a JSON body (keys included) is refused with a 400
//! that names the field, in the shape of the API the request was for. Bodies are checked by
//! the extractors that read them (`JsonBody`, the token endpoint's, the pages' and the
//! console's forms); the path and the query string by `uri`, for every route.

use axum::extract::{FromRequestParts, OriginalUri, RawPathParams, Request};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use castellan_core::oauth::OAuthError;
use castellan_core::text::{nul_in_json, nul_refused};
use serde_json::Value;

use super::authz::error::AuthzError;
use super::error::{ApiError, OAuthHttpError};
use super::{authz, management};

/// The path (`user_metadata.note`) of the first string or key holding NUL in a JSON body.
pub fn nul_in_json_body(bytes: &[u8]) -> Option<String> {
    // Valid JSON can hold NUL only as the escape `\u0000`: most bodies are parsed once.
    if !bytes.windows(6).any(|w| w == b"\\u0000") {
        return None;
    }
    let value: Value = serde_json::from_slice(bytes).ok()?;
    nul_in_json("", &value).map(|at| if at.is_empty() { "body".into() } else { at })
}

/// The name of the first parameter whose name or value holds NUL.
pub fn nul_in_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<String> {
    pairs
        .into_iter()
        .find(|(name, value)| name.contains('\0') || value.contains('\0'))
        .map(|(name, _)| name.escape_debug().to_string())
}

/// `nul_in_pairs` for a form-encoded body or query string; one that does not parse is left
/// to the reader, which refuses it in its own words.
pub fn nul_in_form(encoded: &[u8]) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(encoded).ok()?;
    nul_in_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

enum Refused {
    Path(String),
    Query(String),
}

/// Refuses a request whose path parameters are not UTF-8 or hold NUL, or whose query string
/// holds NUL, before any handler reads them.
pub async fn uri(request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    match refused(&mut parts).await {
        Some(refused) => refusal(&parts, refused),
        None => next.run(Request::from_parts(parts, body)).await,
    }
}

async fn refused(parts: &mut Parts) -> Option<Refused> {
    match RawPathParams::from_request_parts(parts, &()).await {
        Ok(params) => {
            if let Some(name) = nul_in_pairs(params.iter()) {
                return Some(Refused::Path(nul_refused(&name)));
            }
        }
        Err(
            rejection @ axum::extract::rejection::RawPathParamsRejection::InvalidUtf8InPathParam(_),
        ) => {
            return Some(Refused::Path(rejection.body_text()));
        }
        // A route without parameters.
        Err(_) => {}
    }
    let name = nul_in_form(parts.uri.query()?.as_bytes())?;
    Some(Refused::Query(nul_refused(&name)))
}

fn refusal(parts: &Parts, refused: Refused) -> Response {
    let path = parts
        .extensions
        .get::<OriginalUri>()
        .map_or(parts.uri.path(), |original| original.path());
    let (part, error_code, message) = match refused {
        Refused::Path(message) => ("Path", "invalid_uri", message),
        Refused::Query(message) => ("Query", "invalid_query_string", message),
    };
    if path.starts_with(management::PREFIX) {
        ApiError::bad_request(error_code, format!("{part} validation error: {message}"))
            .into_response()
    } else if path.starts_with(authz::PREFIX) {
        AuthzError::validation(message).into_response()
    } else {
        OAuthHttpError::from(OAuthError::InvalidRequest(message)).into_response()
    }
}
