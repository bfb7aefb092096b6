//! The one place that turns errors into status codes and bodies. Each wire contract has its
//! shape: the Management API's `{statusCode, error, message, errorCode}` and OAuth's
//! `{error, error_description}` (RFC 6749 §5.2). 5xx answers carry the request id and a
//! generic message; the cause goes to the log only.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use castellan_core::Error;
use castellan_core::oauth::OAuthError;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::oauth::params::RequestError;
use super::request_id;

/// The body of a Management API error, as Auth0 answers it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ManagementErrorBody {
    pub status_code: u16,
    /// The status's reason phrase (`Forbidden`).
    pub error: &'static str,
    pub message: String,
    /// Stable and machine-readable (`insufficient_scope`).
    pub error_code: &'static str,
    /// Set when the request id is known, for a report to quote.
    #[serde(rename = "request_id", skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// An error of the Management API.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub error_code: &'static str,
    pub message: String,
    pub www_authenticate: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, error_code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            error_code,
            message: message.into(),
            www_authenticate: None,
        }
    }

    pub fn bad_request(error_code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error_code, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "inexistent_resource", message)
    }

    fn internal(cause: &str) -> Self {
        tracing::error!(cause, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Internal error",
        )
    }

    fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "The service is temporarily unavailable; try again shortly",
        )
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::NotFound { kind } => Self::new(
                StatusCode::NOT_FOUND,
                not_found_code(kind),
                format!("The {kind} does not exist."),
            ),
            Error::Conflict(message) => Self::new(StatusCode::CONFLICT, "conflict", message),
            Error::Invalid(message) => Self::bad_request(
                "invalid_body",
                format!("Payload validation error: {message}"),
            ),
            Error::Forbidden(message) => {
                Self::new(StatusCode::FORBIDDEN, "operation_not_allowed", message)
            }
            Error::InvalidQuery(message) => Self::bad_request(
                "invalid_query_string",
                format!("Query validation error: {message}"),
            ),
            // Auth0's wording for a password the connection's policy refuses.
            Error::WeakPassword(message) => Self::bad_request(
                "invalid_password",
                format!("PasswordStrengthError: {message}"),
            ),
            Error::Unavailable => {
                tracing::warn!(
                    "unavailable: the store does not answer or password hashing is saturated"
                );
                Self::unavailable()
            }
            Error::Internal(cause) => Self::internal(&cause),
        }
    }
}

fn not_found_code(kind: &str) -> &'static str {
    match kind {
        "client" => "inexistent_client",
        "resource server" => "inexistent_resource_server",
        "client grant" => "inexistent_client_grant",
        "connection" => "inexistent_connection",
        "role" => "inexistent_role",
        "user" => "inexistent_user",
        "rule" => "inexistent_rule",
        "log" => "inexistent_log",
        _ => "inexistent_resource",
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ManagementErrorBody {
            status_code: self.status.as_u16(),
            error: self.status.canonical_reason().unwrap_or("Error"),
            message: self.message,
            error_code: self.error_code,
            request_id: request_id::current(),
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

/// An error of the token endpoint.
#[derive(Debug)]
pub struct OAuthHttpError {
    pub error: OAuthError,
    /// The client authenticated with HTTP Basic: a 401 must then ask for Basic again (RFC 6749 §5.2).
    pub basic_auth: bool,
}

impl From<OAuthError> for OAuthHttpError {
    fn from(error: OAuthError) -> Self {
        Self {
            error,
            basic_auth: false,
        }
    }
}

/// A token or revocation request refused before any grant saw it: `invalid_request`, but
/// for an unknown grant, and for Basic credentials that do not decode, which is the
/// client's authentication failing (so the 401 asks for Basic again).
impl From<RequestError> for OAuthHttpError {
    fn from(e: RequestError) -> Self {
        let description = e.to_string();
        let (error, basic_auth) = match e {
            RequestError::MalformedBasic => (OAuthError::InvalidClient(description), true),
            RequestError::UnsupportedGrant(_) => {
                (OAuthError::UnsupportedGrantType(description), false)
            }
            _ => (OAuthError::InvalidRequest(description), false),
        };
        Self { error, basic_auth }
    }
}

impl IntoResponse for OAuthHttpError {
    fn into_response(self) -> Response {
        let status = match &self.error {
            OAuthError::InvalidRequest(_)
            | OAuthError::InvalidScope(_)
            | OAuthError::UnsupportedGrantType(_)
            | OAuthError::UnsupportedChallengeType(_) => StatusCode::BAD_REQUEST,
            OAuthError::InvalidClient(_) | OAuthError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            // Auth0 answers these with 403.
            OAuthError::UnauthorizedClient(_)
            | OAuthError::MfaRequired { .. }
            | OAuthError::AccessDenied(_)
            | OAuthError::InvalidGrant(_)
            | OAuthError::AuthorizationPending
            | OAuthError::ExpiredToken => StatusCode::FORBIDDEN,
            OAuthError::TooManyAttempts(_) | OAuthError::SlowDown(_) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            OAuthError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            OAuthError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let description = match &self.error {
            OAuthError::Internal(cause) => {
                tracing::error!(cause = cause.as_str(), "token request failed");
                "Internal error".to_string()
            }
            OAuthError::Unavailable => {
                "The service is temporarily unavailable; try again shortly".to_string()
            }
            other => other.to_string(),
        };
        let mut body = json!({"error": self.error.code(), "error_description": description});
        if let OAuthError::MfaRequired { mfa_token } = &self.error {
            body["mfa_token"] = json!(mfa_token);
        }
        if let Some(id) = request_id::current() {
            body["request_id"] = json!(id);
        }
        let mut response = (status, no_store(), Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED && self.basic_auth {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"castellan\""),
            );
        }
        response
    }
}

/// Token responses must not be cached (RFC 6749 §5.1).
pub fn no_store() -> [(header::HeaderName, HeaderValue); 2] {
    [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (header::PRAGMA, HeaderValue::from_static("no-cache")),
    ]
}
