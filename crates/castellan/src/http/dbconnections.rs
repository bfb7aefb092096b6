//! `POST /dbconnections/signup`. Errors carry both of Auth0's shapes at once
//! (`name`/`code`/`description` and `error`/`error_description`), so every SDK reads them.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use castellan_core::directory::signup::{self, SignupError, SignupRequest};
use castellan_core::oauth::OAuthError;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::body::{content_type, read_limited};
use super::context::Context;
use super::cors;
use super::request_id;
use crate::app::AppState;

pub struct DbConnectionError {
    status: StatusCode,
    name: &'static str,
    code: &'static str,
    description: String,
}

impl DbConnectionError {
    fn bad_request(code: &'static str, description: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            name: "BadRequestError",
            code,
            description: description.into(),
        }
    }
}

impl From<SignupError> for DbConnectionError {
    fn from(e: SignupError) -> Self {
        match e {
            SignupError::BadRequest(m) => Self::bad_request("bad.request", m),
            SignupError::InvalidSignup(m) => Self::bad_request("invalid_signup", m),
            SignupError::InvalidPassword(m) => Self {
                name: "PasswordStrengthError",
                ..Self::bad_request("invalid_password", m)
            },
            SignupError::UserExists => Self::bad_request("user_exists", "The user already exists."),
            SignupError::SignupDisabled => {
                Self::bad_request("operation_not_allowed", "public signup is disabled")
            }
            SignupError::Failed(castellan_core::Error::Unavailable) => Self {
                status: StatusCode::SERVICE_UNAVAILABLE,
                name: "ServiceUnavailableError",
                code: "temporarily_unavailable",
                description: "The service is temporarily unavailable; try again shortly".into(),
            },
            SignupError::Failed(cause) => {
                tracing::error!(cause = %cause, "sign-up failed");
                Self {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    name: "InternalServerError",
                    code: "server_error",
                    description: "Internal error".into(),
                }
            }
        }
    }
}

/// A cross-origin call refused for its client ([`super::cors::admit`]), or the store
/// failing while it looked the client up.
impl From<OAuthError> for DbConnectionError {
    fn from(e: OAuthError) -> Self {
        match e {
            OAuthError::AccessDenied(description) => Self {
                status: StatusCode::FORBIDDEN,
                name: "AccessDeniedError",
                code: "access_denied",
                description,
            },
            OAuthError::Unavailable => {
                SignupError::Failed(castellan_core::Error::Unavailable).into()
            }
            other => SignupError::Failed(castellan_core::Error::Internal(other.to_string())).into(),
        }
    }
}

impl IntoResponse for DbConnectionError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "name": self.name,
            "code": self.code,
            "description": self.description,
            "error": self.code,
            "error_description": self.description,
            "message": self.description,
            "statusCode": self.status.as_u16(),
        });
        if let Some(id) = request_id::current() {
            body["request_id"] = json!(id);
        }
        (self.status, Json(body)).into_response()
    }
}

#[derive(Debug, Deserialize)]
struct SignupBody {
    client_id: String,
    email: String,
    password: String,
    connection: String,
    username: Option<String>,
    name: Option<String>,
    nickname: Option<String>,
    picture: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    user_metadata: Option<Map<String, Value>>,
}

/// A small JSON body; `code` names a body that does not parse.
async fn json_body<T: serde::de::DeserializeOwned>(
    request: Request,
    code: &'static str,
) -> Result<T, DbConnectionError> {
    if content_type(&request) != "application/json" {
        return Err(DbConnectionError::bad_request(
            "invalid_body",
            "Content-Type must be application/json",
        ));
    }
    let bytes = read_limited(request).await.map_err(|_| {
        DbConnectionError::bad_request("invalid_body", "The request body is too large")
    })?;
    if let Some(field) = super::input::nul_in_json_body(&bytes) {
        return Err(DbConnectionError::bad_request(
            code,
            castellan_core::text::nul_refused(&field),
        ));
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| DbConnectionError::bad_request(code, format!("Invalid request: {e}")))
}

/// These bodies are small; anything bigger is refused before parsing.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

pub async fn signup(
    State(s): State<AppState>,
    Context(ctx): Context,
    request: Request,
) -> Result<Response, DbConnectionError> {
    let origin = cors::cross_origin(&s, request.headers());
    let body: SignupBody = json_body(request, "invalid_signup").await?;
    cors::admit_client_id(&s, origin.as_deref(), &body.client_id, &ctx).await?;
    let request = SignupRequest {
        client_id: body.client_id,
        connection: body.connection,
        email: body.email,
        password: body.password,
        username: body.username,
        name: body.name,
        nickname: body.nickname,
        picture: body.picture,
        given_name: body.given_name,
        family_name: body.family_name,
        user_metadata: body.user_metadata,
    };
    let client_id = request.client_id.clone();
    let user = signup::signup(
        s.store.as_ref(),
        &s.passwords,
        s.clock.as_ref(),
        &s.scripts,
        request,
        &ctx,
    )
    .await?;
    send_verification(&s, &user, &client_id).await;
    let mut answer = json!({
        "_id": user.local_id(),
        "email": user.email,
        "email_verified": user.email_verified,
    });
    for (key, value) in [
        ("username", &user.username),
        ("given_name", &user.given_name),
        ("family_name", &user.family_name),
        ("name", &user.name),
        ("nickname", &user.nickname),
        ("picture", &user.picture),
    ] {
        if let Some(v) = value {
            answer[key] = json!(v);
        }
    }
    if !user.user_metadata.is_empty() {
        answer["user_metadata"] = Value::Object(user.user_metadata);
    }
    Ok((StatusCode::OK, Json(answer)).into_response())
}

/// A new user gets a link to verify the address; a mail failure does not undo the sign-up.
pub async fn send_verification(s: &AppState, user: &castellan_core::model::User, client_id: &str) {
    if let Err(e) = s.recovery().send_verification(user, Some(client_id)).await {
        tracing::warn!(cause = %e, "could not send the verification email");
    }
}

#[derive(Debug, Deserialize)]
struct ChangePasswordBody {
    client_id: String,
    email: String,
    connection: String,
}

/// `POST /dbconnections/change_password`: mails a reset link if the address has an account;
/// the answer is the same either way.
pub async fn change_password(
    State(s): State<AppState>,
    Context(ctx): Context,
    request: Request,
) -> Result<Response, DbConnectionError> {
    let origin = cors::cross_origin(&s, request.headers());
    let body: ChangePasswordBody = json_body(request, "invalid_body").await?;
    cors::admit_client_id(&s, origin.as_deref(), &body.client_id, &ctx).await?;
    match s
        .recovery()
        .check_reset_request(&body.client_id, &body.connection)
        .await
    {
        Ok(client) => {
            s.queue_reset(client, body.connection, body.email, ctx);
            Ok((
                StatusCode::OK,
                "We've just sent you an email to reset your password.",
            )
                .into_response())
        }
        Err(castellan_core::Error::Invalid(message)) => {
            Err(DbConnectionError::bad_request("bad.request", message))
        }
        Err(other) => Err(SignupError::Failed(other).into()),
    }
}
