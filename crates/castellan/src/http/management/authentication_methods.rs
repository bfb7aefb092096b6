//! `/users/{id}/authentication-methods`: a user's enrolled factors as Auth0 lists them
//! (`{id, type, confirmed, name, created_at, last_auth_at, email?}`), created (TOTP with a
//! known key, email) and deleted, one or all; `/users/{id}/enrollments`, Guardian's older
//! view of the same factors; the recovery-code regeneration and "invalidate remember
//! browser".

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, post};
use castellan_core::directory::authentication_methods::{self as methods, NewMethod};
use castellan_core::model::{Authenticator, AuthenticatorKind, Named};
use castellan_core::oidc::claims::rfc3339;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::paging::Listing;
use crate::app::AppState;
use crate::http::body::{JsonBody, QueryParams};
use crate::http::endpoint::{Endpoint, Scopes, Scopes::AnyOf, endpoint};
use crate::http::error::ApiError;
use crate::http::guard::{self, Caller};
use crate::http::wire_schema::Shape;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        endpoint(
            Method::GET,
            "/users/{id}/authentication-methods",
            AnyOf(&["read:authentication_methods"]),
            "List a user's authentication methods",
            get(list),
        )
        .answers(
            200,
            Shape::listing_of::<AuthenticationMethodResponse>("authenticators"),
        ),
        endpoint(
            Method::POST,
            "/users/{id}/authentication-methods",
            AnyOf(&["create:authentication_methods"]),
            "Add a confirmed authentication method (totp or email) to a user",
            post(create),
        )
        .takes(Shape::of::<CreateAuthenticationMethodRequest>())
        .answers(201, Shape::of::<AuthenticationMethodResponse>()),
        endpoint(
            Method::DELETE,
            "/users/{id}/authentication-methods",
            AnyOf(&["delete:authentication_methods"]),
            "Remove all authentication methods of a user and forget remembered browsers",
            delete(delete_all),
        )
        .answers_empty(204),
        endpoint(
            Method::GET,
            "/users/{id}/authentication-methods/{authentication_method_id}",
            AnyOf(&["read:authentication_methods"]),
            "Get one authentication method of a user",
            get(read),
        )
        .answers(200, Shape::of::<AuthenticationMethodResponse>()),
        endpoint(
            Method::DELETE,
            "/users/{id}/authentication-methods/{authentication_method_id}",
            AnyOf(&["delete:authentication_methods"]),
            "Remove one authentication method of a user",
            delete(delete_one),
        )
        .answers_empty(204),
        endpoint(
            Method::GET,
            "/users/{id}/enrollments",
            AnyOf(&["read:users", "read:current_user"]),
            "List a user's confirmed MFA enrollments (with read:current_user, the token's own user only)",
            get(enrollments),
        )
        .answers(200, Shape::list_of::<EnrollmentResponse>()),
        endpoint(
            Method::POST,
            "/users/{id}/recovery-code-regeneration",
            AnyOf(&["update:users"]),
            "Replace a user's MFA recovery code; the new one is shown once",
            post(regenerate_recovery_code),
        )
        .answers(200, Shape::of::<RecoveryCodeResponse>()),
        endpoint(
            Method::POST,
            "/users/{id}/multifactor/actions/invalidate-remember-browser",
            AnyOf(&["update:users"]),
            "Forget every browser the user chose to remember for MFA",
            post(invalidate_remember_browser),
        )
        .answers_empty(204),
    ]
}

/// Auth0's authentication method.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = UserAuthenticationMethod)]
pub struct AuthenticationMethodResponse {
    id: String,
    /// `totp`, `email`, `webauthn-roaming`, `webauthn-platform`, `passkey`, `recovery-code`.
    #[serde(rename = "type")]
    kind: &'static str,
    confirmed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    enrolled_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_auth_at: Option<String>,
}

pub fn method_wire(m: Authenticator) -> AuthenticationMethodResponse {
    AuthenticationMethodResponse {
        id: m.id,
        kind: m.kind.name(),
        confirmed: m.confirmed,
        name: m.name,
        email: m.email,
        created_at: rfc3339(m.created_at).unwrap_or_default(),
        enrolled_at: m.confirmed.then(|| rfc3339(m.created_at)).flatten(),
        last_auth_at: m.last_auth_at.and_then(rfc3339),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAuthenticationMethodRequest {
    /// `totp` or `email` (Auth0 also has `phone`, `webauthn-roaming` and `passkey`, refused
    /// here with a 400 that says so).
    #[serde(rename = "type")]
    kind: String,
    name: Option<String>,
    /// Base32, with `type: totp`.
    totp_secret: Option<String>,
    /// With `type: email`.
    email: Option<String>,
    /// Auth0's fields for the types not created here; read so that their answer is the
    /// 400 naming the supported types rather than an unknown-field error.
    phone_number: Option<String>,
    preferred_authentication_method: Option<String>,
    key_id: Option<String>,
    public_key: Option<String>,
    relying_party_identifier: Option<String>,
}

async fn list(
    State(s): State<AppState>,
    Path(id): Path<String>,
    q: QueryParams,
) -> Result<Json<Value>, ApiError> {
    let listing = Listing::from_query(&q, false)?;
    let page = methods::page(s.store.as_ref(), &id, listing.request()).await?;
    Ok(listing.respond("authenticators", page, method_wire))
}

async fn read(
    State(s): State<AppState>,
    Path((id, method_id)): Path<(String, String)>,
) -> Result<Json<AuthenticationMethodResponse>, ApiError> {
    let method = methods::get(s.store.as_ref(), &id, &method_id).await?;
    Ok(Json(method_wire(method)))
}

async fn create(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<CreateAuthenticationMethodRequest>,
) -> Result<(StatusCode, Json<AuthenticationMethodResponse>), ApiError> {
    let other_fields = [
        ("phone_number", &body.phone_number),
        (
            "preferred_authentication_method",
            &body.preferred_authentication_method,
        ),
        ("key_id", &body.key_id),
        ("public_key", &body.public_key),
        ("relying_party_identifier", &body.relying_party_identifier),
    ];
    let input = NewMethod {
        kind: body.kind,
        name: body.name,
        totp_secret: body.totp_secret,
        email: body.email,
    };
    // A type this server does not create is refused for its type first (the clearer
    // reason); any other type's fields are refused by name.
    if methods::CREATABLE.contains(&input.kind.as_str())
        && let Some((field, _)) = other_fields.iter().find(|(_, v)| v.is_some())
    {
        return Err(ApiError::bad_request(
            "invalid_body",
            format!(
                "Payload validation error: {field} is not taken with type {}",
                input.kind
            ),
        ));
    }
    let created = methods::create(&caller.editor(&s), &s.master_key, &id, &input).await?;
    Ok((StatusCode::CREATED, Json(method_wire(created))))
}

async fn delete_one(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, method_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    methods::delete(&caller.editor(&s), &id, &method_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn delete_all(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    methods::delete_all(&caller.editor(&s), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Guardian's enrollment, one per confirmed second factor.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = UsersEnrollment)]
pub struct EnrollmentResponse {
    id: String,
    /// Always `confirmed`: pending enrolments are not listed, as on Auth0.
    status: &'static str,
    /// `authenticator` (an OTP app), `email`, `webauthn-roaming`, `webauthn-platform`.
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    /// The address an email factor sends to.
    #[serde(skip_serializing_if = "Option::is_none")]
    identifier: Option<String>,
    auth_method: &'static str,
    enrolled_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_auth: Option<String>,
}

fn enrollment_wire(m: Authenticator) -> EnrollmentResponse {
    let kind = match m.kind {
        AuthenticatorKind::Totp => "authenticator",
        other => other.name(),
    };
    EnrollmentResponse {
        id: m.id,
        status: "confirmed",
        kind,
        name: m.name,
        identifier: m.email,
        auth_method: kind,
        enrolled_at: rfc3339(m.created_at).unwrap_or_default(),
        last_auth: m.last_auth_at.and_then(rfc3339),
    }
}

const READ_ANY_USER: Scopes = AnyOf(&["read:users"]);

async fn enrollments(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<EnrollmentResponse>>, ApiError> {
    if !caller.holds(READ_ANY_USER) && !caller.is_user(&id) {
        return Err(guard::refused(READ_ANY_USER));
    }
    let all = methods::list(s.store.as_ref(), &id).await?;
    Ok(Json(
        all.into_iter()
            .filter(|m| m.confirmed && m.kind.is_second_factor())
            .map(enrollment_wire)
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryCodeResponse {
    recovery_code: String,
}

async fn regenerate_recovery_code(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<RecoveryCodeResponse>, ApiError> {
    let recovery_code = methods::regenerate_recovery_code(&caller.editor(&s), &id).await?;
    Ok(Json(RecoveryCodeResponse { recovery_code }))
}

async fn invalidate_remember_browser(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    methods::invalidate_remember_browser(&caller.editor(&s), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
