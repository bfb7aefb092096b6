//! OAuth error codes (RFC 6749 §5.2, plus Auth0's). The binary picks status codes.

use crate::Error;

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    InvalidClient(String),
    #[error("{0}")]
    UnauthorizedClient(String),
    #[error("{0}")]
    AccessDenied(String),
    /// A rule refused the log-in with `UnauthorizedError` (Auth0's `unauthorized`).
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    InvalidGrant(String),
    #[error("{0}")]
    InvalidScope(String),
    #[error("{0}")]
    UnsupportedGrantType(String),
    #[error("{0}")]
    TooManyAttempts(String),
    /// Auth0's answer to a password log-in that must pass a second factor first: the
    /// client goes on through the MFA API with `mfa_token`.
    #[error("Multifactor authentication required")]
    MfaRequired { mfa_token: String },
    /// Auth0's `unsupported_challenge_type` at `/mfa/challenge`: the user has no factor of
    /// the kinds the client can handle.
    #[error("{0}")]
    UnsupportedChallengeType(String),
    /// RFC 8628 §3.5: the user has not decided yet; the device polls again.
    #[error("User has yet to authorize device code.")]
    AuthorizationPending,
    /// RFC 8628 §3.5: polled sooner than the interval; it has grown by five seconds.
    #[error("You are polling faster than the specified interval of {0} seconds.")]
    SlowDown(i64),
    #[error("The device code has expired")]
    ExpiredToken,
    #[error("storage unavailable")]
    Unavailable,
    #[error("internal error: {0}")]
    Internal(String),
}

impl OAuthError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidClient(_) => "invalid_client",
            Self::UnauthorizedClient(_) => "unauthorized_client",
            Self::AccessDenied(_) => "access_denied",
            Self::Unauthorized(_) => "unauthorized",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::InvalidScope(_) => "invalid_scope",
            Self::UnsupportedGrantType(_) => "unsupported_grant_type",
            Self::TooManyAttempts(_) => "too_many_attempts",
            Self::MfaRequired { .. } => "mfa_required",
            Self::UnsupportedChallengeType(_) => "unsupported_challenge_type",
            Self::AuthorizationPending => "authorization_pending",
            Self::SlowDown(_) => "slow_down",
            Self::ExpiredToken => "expired_token",
            Self::Unavailable => "temporarily_unavailable",
            Self::Internal(_) => "server_error",
        }
    }
}

/// A required parameter the request lacks, by the name the answer gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Missing required parameter: {0}")]
pub struct MissingParameter(pub &'static str);

impl From<MissingParameter> for OAuthError {
    fn from(e: MissingParameter) -> Self {
        Self::InvalidRequest(e.to_string())
    }
}

impl From<Error> for OAuthError {
    fn from(e: Error) -> Self {
        match e {
            Error::Unavailable => Self::Unavailable,
            // What the store refuses (NUL in text) is the request's fault, not the server's.
            Error::Invalid(message) => Self::InvalidRequest(message),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<crate::login::password::LoginError> for OAuthError {
    fn from(e: crate::login::password::LoginError) -> Self {
        use crate::login::password::LoginError;
        match e {
            LoginError::WrongCredentials => Self::InvalidGrant(e.to_string()),
            LoginError::TooManyAttempts => Self::TooManyAttempts(e.to_string()),
            LoginError::UserBlocked => Self::AccessDenied(e.to_string()),
            LoginError::Failed(inner) => inner.into(),
        }
    }
}

impl From<crate::scripts::PostLoginError> for OAuthError {
    fn from(e: crate::scripts::PostLoginError) -> Self {
        use crate::scripts::{PostLoginError, Stop};
        match e {
            PostLoginError::Stopped { stop, .. } => match stop {
                Stop::Unauthorized { message, .. } => Self::Unauthorized(message),
                Stop::Denied { message, .. } => Self::AccessDenied(message),
                Stop::Failed { description, .. } | Stop::Unsupported { description, .. } => {
                    Self::AccessDenied(description)
                }
            },
            PostLoginError::Store(e) => e.into(),
        }
    }
}

impl From<crate::store::StoreError> for OAuthError {
    fn from(e: crate::store::StoreError) -> Self {
        Error::from(e).into()
    }
}
