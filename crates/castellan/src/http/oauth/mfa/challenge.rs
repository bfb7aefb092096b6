//! `POST /mfa/challenge`: the client says which challenges it can handle (`challenge_type`,
//! space-separated `otp` and `oob`) and, optionally, which factor; the answer says which
//! one to use. `otp` needs nothing sent; `oob` mails a code to the email factor and answers
//! the `oob_code` that the `mfa-oob` grant presents with the code the user types.

use axum::Json;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use castellan_core::mfa::factors::{EMAIL_CODE_SECONDS, FactorError};
use castellan_core::mfa::token::{OobCode, seal_oob_code};
use castellan_core::model::{Authenticator, AuthenticatorKind};
use castellan_core::oauth::{OAuthError, client_auth, mfa_grant};
use serde_json::{Value, json};

use super::super::params::{self, presented};
use crate::app::AppState;
use crate::http::context::Context;
use crate::http::cors;
use crate::http::error::{OAuthHttpError, no_store};

pub async fn challenge(
    State(s): State<AppState>,
    Context(ctx): Context,
    request: Request,
) -> Result<Response, OAuthHttpError> {
    let origin = cors::cross_origin(&s, request.headers());
    let (mut params, basic) = params::parse(request).await?;
    let basic_auth = basic.is_some();
    let with_basic = |error: OAuthError| OAuthHttpError { error, basic_auth };
    let credentials = presented(&mut params, basic)?;
    // A browser app's origin must be one its client lists, as at the token endpoint.
    cors::admit_client_id(&s, origin.as_deref(), &credentials.client_id, &ctx)
        .await
        .map_err(with_basic)?;
    let client = client_auth::authenticate(s.store.as_ref(), &credentials)
        .await
        .map_err(with_basic)?;
    if ![mfa_grant::OTP, mfa_grant::OOB, mfa_grant::RECOVERY_CODE]
        .iter()
        .any(|g| client.has_grant(g))
    {
        return Err(OAuthError::UnauthorizedClient(
            "The MFA grant types are not allowed for the client.".into(),
        )
        .into());
    }
    let mfa_token = params.require("mfa_token").map_err(OAuthError::from)?;
    let accepted: Vec<String> = params
        .take("challenge_type")
        .map(|t| t.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_else(|| vec!["otp".into(), "oob".into()]);
    let authenticator_id = params.take("authenticator_id");
    let services = s.services();
    let (pending, user) = mfa_grant::pending_for(&services, &client, &mfa_token).await?;
    let mine = s
        .store
        .list_authenticators(&user.user_id)
        .await
        .map_err(|e| OAuthError::from(castellan_core::Error::from(e)))?;
    let usable = |a: &&Authenticator| {
        // The challenge type, and Guardian's name for the factor (which the scripts use).
        let (kind, factor) = match a.kind {
            AuthenticatorKind::Totp => ("otp", "otp"),
            AuthenticatorKind::Email => ("oob", "email"),
            _ => return false,
        };
        accepted.iter().any(|t| t == kind)
            && pending.allows(factor)
            && authenticator_id.as_deref().is_none_or(|id| id == a.id)
    };
    // Confirmed factors first; one still being enrolled is challenged only by its id.
    let chosen = mine
        .iter()
        .filter(|a| a.confirmed || authenticator_id.is_some())
        .find(usable)
        .ok_or_else(|| {
            OAuthError::UnsupportedChallengeType(
                "User is not enrolled with any of the challenge types asked for.".into(),
            )
        })?;
    let body: Value = match chosen.kind {
        AuthenticatorKind::Email => {
            let factors = s.factors();
            factors
                .send_email_code(&user, &chosen.id, &ctx)
                .await
                .map_err(|e| match e {
                    FactorError::Locked { .. } => OAuthError::TooManyAttempts(e.to_string()),
                    FactorError::Unknown | FactorError::WrongCode => {
                        OAuthError::UnsupportedChallengeType(e.to_string())
                    }
                    FactorError::Failed(inner) => inner.into(),
                })?;
            let oob_code = seal_oob_code(
                &s.master_key,
                &OobCode {
                    user_id: user.user_id.clone(),
                    authenticator_id: chosen.id.clone(),
                    expires_at: s.clock.now() + EMAIL_CODE_SECONDS,
                },
            );
            json!({"challenge_type": "oob", "oob_code": oob_code, "binding_method": "prompt"})
        }
        _ => json!({"challenge_type": "otp"}),
    };
    Ok((no_store(), Json(body)).into_response())
}
