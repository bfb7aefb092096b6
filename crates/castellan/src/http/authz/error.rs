//! The one place that turns the Authorization Extension API's errors into responses, in the
//! extension's (hapi/Boom) shape `{statusCode, error, message}`: `error` is `ValidationError`
//! or `NotFoundError` for the extension's own errors and the status text otherwise. Guard
//! and body failures arrive as the Management API's `ApiError` and keep their status,
//! message and challenge.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use castellan_core::directory::extension::ExtensionError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::error::ApiError;
use crate::http::request_id;

/// The body of an error, in the extension's (hapi/Boom) shape.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthzErrorBody {
    pub status_code: u16,
    /// `ValidationError`, `NotFoundError`, or the status's reason phrase.
    pub error: &'static str,
    pub message: String,
    /// On 5xx answers only, for a report to quote.
    #[serde(rename = "request_id", skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

#[derive(Debug)]
pub struct AuthzError {
    pub status: StatusCode,
    pub error: &'static str,
    pub message: String,
    pub www_authenticate: Option<String>,
}

impl AuthzError {
    pub fn validation(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error: "ValidationError",
            message: message.into(),
            www_authenticate: None,
        }
    }

    /// Back to the Management API's type, for the guard (which renders it through `From`).
    pub fn into_api_error(self) -> ApiError {
        let mut e = ApiError::new(self.status, "authz_error", self.message);
        e.www_authenticate = self.www_authenticate;
        e
    }
}

impl From<ApiError> for AuthzError {
    fn from(e: ApiError) -> Self {
        Self {
            status: e.status,
            error: e.status.canonical_reason().unwrap_or("Error"),
            message: e.message,
            www_authenticate: e.www_authenticate,
        }
    }
}

impl From<ExtensionError> for AuthzError {
    fn from(e: ExtensionError) -> Self {
        match e {
            ExtensionError::NotFound { .. } => Self {
                status: StatusCode::NOT_FOUND,
                error: "NotFoundError",
                message: e.to_string(),
                www_authenticate: None,
            },
            ExtensionError::Validation(message) => Self::validation(message),
            // Unavailable storage and internal failures: the Management API's mapping decides
            // the status and keeps the cause out of the body.
            ExtensionError::Core(e) => ApiError::from(e).into(),
        }
    }
}

impl From<castellan_core::Error> for AuthzError {
    fn from(e: castellan_core::Error) -> Self {
        ExtensionError::from(e).into()
    }
}

impl IntoResponse for AuthzError {
    fn into_response(self) -> Response {
        let body = AuthzErrorBody {
            status_code: self.status.as_u16(),
            error: self.error,
            message: self.message,
            request_id: request_id::current().filter(|_| self.status.is_server_error()),
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(value) = self
            .www_authenticate
            .and_then(|v| HeaderValue::from_str(&v).ok())
        {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}
