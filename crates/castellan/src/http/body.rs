//! Request bodies and query strings for the JSON APIs, with failures in the Management
//! API's error shape. Size limits are axum's `DefaultBodyLimit`, set on the router
//! (`max_body_bytes`, smaller on the routes that take small forms); reading past one
//! answers 413 instead of reading on.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use castellan_core::text::nul_refused;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use super::serve::is_body_timeout;
use crate::app::AppState;

/// Reads the whole body, refusing more than the route's limit with 413, and a body that
/// does not arrive within the body timeout with 408.
pub async fn read_limited(request: Request) -> Result<Bytes, StatusCode> {
    Bytes::from_request(request, &()).await.map_err(|e| {
        if is_body_timeout(&e) {
            StatusCode::REQUEST_TIMEOUT
        } else {
            StatusCode::PAYLOAD_TOO_LARGE
        }
    })
}

pub fn content_type(request: &Request) -> String {
    content_type_of(request.headers())
}

/// The media type of the body, lower-cased, without parameters.
pub fn content_type_of(headers: &axum::http::HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// A JSON body deserialised into `T`.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        if content_type(&request) != "application/json" {
            return Err(ApiError::bad_request(
                "invalid_body",
                "Content-Type must be application/json",
            ));
        }
        let bytes = read_limited(request).await.map_err(|status| match status {
            StatusCode::REQUEST_TIMEOUT => ApiError::new(
                status,
                "request_timeout",
                "The request body did not arrive in time",
            ),
            _ => ApiError::new(
                status,
                "payload_too_large",
                format!(
                    "The request body exceeds {} bytes",
                    state.settings.max_body_bytes
                ),
            ),
        })?;
        if let Some(field) = super::input::nul_in_json_body(&bytes) {
            return Err(ApiError::bad_request(
                "invalid_body",
                format!("Payload validation error: {}", nul_refused(&field)),
            ));
        }
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| {
            ApiError::bad_request("invalid_body", format!("Payload validation error: {e}"))
        })
    }
}

/// The query string as name → value, read by handlers that know their parameters.
pub struct QueryParams(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(query)
            .map(QueryParams)
            .map_err(|_| {
                ApiError::bad_request(
                    "invalid_query_string",
                    "Query validation error: malformed query string",
                )
            })
    }
}

impl QueryParams {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn number(&self, name: &str) -> Result<Option<u64>, ApiError> {
        self.get(name)
            .map(|v| {
                v.parse().map_err(|_| {
                    ApiError::bad_request(
                        "invalid_query_string",
                        format!("Query validation error: '{name}' must be a non-negative integer"),
                    )
                })
            })
            .transpose()
    }

    pub fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.get(name) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err(ApiError::bad_request(
                "invalid_query_string",
                format!("Query validation error: '{name}' must be true or false"),
            )),
        }
    }
}
