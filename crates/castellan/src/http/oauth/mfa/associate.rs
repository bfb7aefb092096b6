//! `POST /mfa/associate`: enrols a one-time-password app (`otp`) or an email address
//! (`oob` with `oob_channels: ["email"]`). The enrolment finishes with the first right
//! code, given to the MFA grants as for a challenge. With an `mfa_token` only a user who
//! has no second factor yet may enrol (Auth0: "User is already enrolled"); otherwise the
//! MFA audience's `enroll` scope is needed, which only a passed factor gets. The first
//! enrolment hands out the recovery code, once.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use castellan_core::mfa::factors::EMAIL_CODE_SECONDS;
use castellan_core::mfa::token::{OobCode, seal_oob_code};
use castellan_core::mfa::{mfa_api, policy, totp};
use castellan_core::model::User;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Caller, caller, insufficient_scope, refused, store_failed};
use crate::app::AppState;
use crate::http::context::Context;
use crate::http::error::no_store;

/// A list may come as one string (a form field, or a client's shortcut).
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => s.split_whitespace().map(str::to_owned).collect(),
            OneOrMany::Many(v) => v,
        }
    }
}

#[derive(Deserialize)]
struct AssociateRequest {
    authenticator_types: Option<OneOrMany>,
    oob_channels: Option<OneOrMany>,
    email: Option<String>,
}

fn invalid(description: &str) -> Response {
    refused(StatusCode::BAD_REQUEST, "invalid_request", description)
}

/// The request, from a JSON body or a form; none if it is neither.
fn read(headers: &HeaderMap, body: &[u8]) -> Option<AssociateRequest> {
    match crate::http::body::content_type_of(headers).as_str() {
        "application/x-www-form-urlencoded" => serde_urlencoded::from_bytes(body).ok(),
        _ => serde_json::from_slice(body).ok(),
    }
}

pub async fn associate(
    State(s): State<AppState>,
    Context(ctx): Context,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (caller, user) = match caller(&s, &headers).await {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    if !caller.allows(mfa_api::ENROLL) {
        return insufficient_scope(mfa_api::ENROLL);
    }
    let Some(request) = read(&headers, &body) else {
        return invalid("The body must be a JSON object or a form");
    };
    let factors = s.factors();
    if let Caller::MfaToken = caller {
        match factors.enrolled(&user.user_id).await {
            Ok(enrolled) if !enrolled.is_empty() => {
                return refused(
                    StatusCode::FORBIDDEN,
                    "access_denied",
                    "User is already enrolled.",
                );
            }
            Ok(_) => {}
            Err(e) => return store_failed(e),
        }
    }
    let types = request
        .authenticator_types
        .map(OneOrMany::into_vec)
        .unwrap_or_default();
    let channels = request
        .oob_channels
        .map(OneOrMany::into_vec)
        .unwrap_or_default();
    let result = match types.as_slice() {
        [t] if t == "otp" => enrol_app(&s, &user).await,
        [t] if t == "oob" && channels == ["email"] => match request.email.as_deref() {
            Some(email) if valid_email(email) => enrol_email(&s, &user, email, &ctx).await,
            _ => Err(invalid("A valid email is required for the email channel")),
        },
        [t] if t == "oob" => Err(invalid(
            "Unsupported oob_channels: only [\"email\"] is available",
        )),
        [] => Err(invalid("Missing required parameter: authenticator_types")),
        _ => Err(invalid(
            "authenticator_types must be [\"otp\"] or [\"oob\"]",
        )),
    };
    let mut body = match result {
        Ok(body) => body,
        Err(refusal) => return refusal,
    };
    // A first enrolment (through an mfa_token) always gets a new recovery code, so that one
    // handed to an abandoned enrolment, by someone who had only the password, dies when
    // the user enrols. A further factor gets one only if the user has none.
    let recovery_code = match caller {
        Caller::MfaToken => factors.replace_recovery_code(&user).await.map(Some),
        Caller::AccessToken { .. } => factors.first_recovery_code(&user).await,
    };
    match recovery_code {
        Ok(Some(code)) => body["recovery_codes"] = json!([code]),
        Ok(None) => {}
        Err(e) => return store_failed(e),
    }
    (no_store(), Json(body)).into_response()
}

fn valid_email(email: &str) -> bool {
    email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Refused unless the tenant enabled the Guardian factor `name`.
async fn enabled(s: &AppState, name: &str) -> Result<(), Response> {
    match policy::factor_enabled(s.store.as_ref(), name).await {
        Ok(Some(true)) => Ok(()),
        Ok(_) => Err(refused(
            StatusCode::FORBIDDEN,
            "access_denied",
            &format!("The {name} factor is not enabled for this tenant."),
        )),
        Err(e) => Err(store_failed(e.into())),
    }
}

async fn enrol_app(s: &AppState, user: &User) -> Result<Value, Response> {
    enabled(s, "otp").await?;
    let enrolment = s.factors().start_totp(user).await.map_err(store_failed)?;
    let account = user.email.as_deref().unwrap_or(&user.user_id);
    let label = issuer_label(&s.settings.issuer);
    Ok(json!({
        "authenticator_type": "otp",
        "secret": totp::base32(&enrolment.secret),
        "barcode_uri": totp::otpauth_uri(&label, account, &enrolment.secret),
    }))
}

/// The name an authenticator app shows for the account: the issuer's host.
fn issuer_label(issuer: &str) -> String {
    url::Url::parse(issuer)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| issuer.to_owned())
}

async fn enrol_email(
    s: &AppState,
    user: &User,
    email: &str,
    ctx: &castellan_core::events::RequestContext,
) -> Result<Value, Response> {
    enabled(s, "email").await?;
    let factor = s
        .factors()
        .start_email(user, email, ctx)
        .await
        .map_err(store_failed)?;
    let oob_code = seal_oob_code(
        &s.master_key,
        &OobCode {
            user_id: user.user_id.clone(),
            authenticator_id: factor.id,
            expires_at: s.clock.now() + EMAIL_CODE_SECONDS,
        },
    );
    Ok(json!({
        "authenticator_type": "oob",
        "oob_channel": "email",
        "oob_code": oob_code,
        "binding_method": "prompt",
    }))
}
