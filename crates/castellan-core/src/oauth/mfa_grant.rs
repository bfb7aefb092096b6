//! Auth0's MFA grants, which finish a password log-in that answered `mfa_required`:
//! `mfa-otp` (a code of the user's app), `mfa-oob` (the code an email challenge sent, as
//! `binding_code`) and `mfa-recovery-code` (the recovery code, answered with its
//! replacement). Every code is checked by [`Factors`], which takes it once, counts wrong
//! ones and locks the factor; a refused request changes nothing else.

use super::OAuthError;
use super::password::Services;
use super::token_request::Params;
use super::user_tokens::{self, UserTokenRequest, UserTokens};
use crate::events::{self, LogEventExt, RequestContext};
use crate::mfa::factors::{FactorError, Factors};
use crate::mfa::token::{self, MfaPending};
use crate::model::{Authenticator, AuthenticatorKind, Client, User};
use crate::scripts::Protocol;

pub const OTP: &str = "http://auth0.com/oauth/grant-type/mfa-otp";
pub const OOB: &str = "http://auth0.com/oauth/grant-type/mfa-oob";
pub const RECOVERY_CODE: &str = "http://auth0.com/oauth/grant-type/mfa-recovery-code";

/// What the user presents for the pending log-in of `mfa_token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MfaProof {
    Otp {
        otp: String,
    },
    Oob {
        oob_code: String,
        binding_code: String,
    },
    RecoveryCode {
        recovery_code: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaGrantRequest {
    pub mfa_token: String,
    pub proof: MfaProof,
}

impl MfaProof {
    pub fn grant_type(&self) -> &'static str {
        match self {
            Self::Otp { .. } => OTP,
            Self::Oob { .. } => OOB,
            Self::RecoveryCode { .. } => RECOVERY_CODE,
        }
    }

    /// Auth0's log event codes: success, failure.
    fn events(&self) -> (&'static str, &'static str) {
        match self {
            Self::Otp { .. } => ("seotpft", "feotpft"),
            Self::Oob { .. } => ("seoobft", "feoobft"),
            Self::RecoveryCode { .. } => ("sercft", "fercft"),
        }
    }
}

/// The tokens, and with a recovery code its replacement, to be shown once.
pub struct MfaIssued {
    pub tokens: UserTokens,
    pub recovery_code: Option<String>,
}

/// The pending log-in of an `mfa_token`, which must be this client's.
pub async fn pending_for(
    services: &Services<'_>,
    client: &Client,
    mfa_token: &str,
) -> Result<(MfaPending, User), OAuthError> {
    let pending = token::open_mfa_token(services.master_key, mfa_token, services.clock.now())
        .map_err(|e| OAuthError::InvalidGrant(e.to_string()))?;
    if pending.client_id != client.client_id {
        return Err(OAuthError::InvalidGrant(
            "The mfa_token was issued to another client.".into(),
        ));
    }
    let user = services
        .store
        .find_user(&pending.user_id)
        .await?
        .ok_or_else(|| OAuthError::InvalidGrant("The user no longer exists.".into()))?;
    if user.blocked {
        return Err(OAuthError::AccessDenied("user is blocked".into()));
    }
    Ok((pending, user))
}

/// `grant_type` is the one the client sent; `Params` carries a missing parameter until the
/// client is known to have the grant.
pub async fn exchange(
    services: &Services<'_>,
    factors: &Factors<'_>,
    client: &Client,
    grant_type: &'static str,
    request: Params<MfaGrantRequest>,
    ctx: &RequestContext,
) -> Result<MfaIssued, OAuthError> {
    if !client.has_grant(grant_type) {
        return Err(OAuthError::UnauthorizedClient(format!(
            "Grant type '{grant_type}' not allowed for the client."
        )));
    }
    let request = request?;
    let (success, failure) = request.proof.events();
    let result = redeem(services, factors, client, &request, ctx).await;
    let (code, description, user) = match &result {
        Ok((_, user)) => (
            success,
            "Successful multifactor exchange".to_owned(),
            Some(user),
        ),
        Err((e, user)) => (failure, e.to_string(), user.as_ref()),
    };
    let mut event = events::event(code, description, ctx).client(client);
    if let Some(user) = user {
        event = event.user(user);
    }
    events::record(services.store, services.clock, event).await;
    result.map(|(issued, _)| issued).map_err(|(e, _)| e)
}

type Redeemed = Result<(MfaIssued, User), (OAuthError, Option<User>)>;

async fn redeem(
    services: &Services<'_>,
    factors: &Factors<'_>,
    client: &Client,
    request: &MfaGrantRequest,
    ctx: &RequestContext,
) -> Redeemed {
    let (pending, user) = pending_for(services, client, &request.mfa_token)
        .await
        .map_err(|e| (e, None))?;
    let fail = |e: OAuthError| (e, Some(user.clone()));
    // The scripts may have named the factors this log-in takes (`challengeWith`); the
    // recovery code stands in for any of them.
    let kind = match &request.proof {
        MfaProof::Otp { .. } => Some("otp"),
        MfaProof::Oob { .. } => Some("email"),
        MfaProof::RecoveryCode { .. } => None,
    };
    if let Some(kind) = kind.filter(|k| !pending.allows(k)) {
        return Err(fail(OAuthError::InvalidGrant(format!(
            "This log-in does not take the {kind} factor."
        ))));
    }
    let recovery_code = match &request.proof {
        MfaProof::Otp { otp } => {
            let factor = otp_factor(factors, &user).await.map_err(fail)?;
            checked(
                factors.verify(&user, &factor.id, otp, ctx).await,
                "otp_code",
            )
            .map_err(fail)?;
            None
        }
        MfaProof::Oob {
            oob_code,
            binding_code,
        } => {
            let now = services.clock.now();
            let sent = token::open_oob_code(services.master_key, oob_code, now)
                .ok()
                .filter(|s| s.user_id == user.user_id)
                .ok_or_else(|| fail(OAuthError::InvalidGrant("Invalid oob_code.".into())))?;
            let verified = factors
                .verify(&user, &sent.authenticator_id, binding_code, ctx)
                .await;
            checked(verified, "binding_code").map_err(fail)?;
            None
        }
        MfaProof::RecoveryCode { recovery_code } => {
            let next = factors.recover(&user, recovery_code, ctx).await;
            Some(checked(next, "recovery_code").map_err(fail)?)
        }
    };
    let mut scripted = pending.scripted.clone();
    // Asked and answered. Auth0's ID token after the MFA API says `amr: ["mfa"]`.
    scripted.multifactor = None;
    scripted.amr = vec!["mfa".to_owned()];
    let tokens = user_tokens::issue(
        services,
        UserTokenRequest {
            client,
            user: &user,
            audience: pending.audience.as_deref(),
            scope: pending.scope.as_deref(),
            nonce: None,
            grant_type: Some("password"),
            auth_time: Some(pending.auth_time),
            refresh_family: None,
            protocol: Protocol::Password,
            request: ctx,
            front_channel: None,
            scripted: Some(&scripted),
        },
    )
    .await
    .map_err(fail)?;
    Ok((
        MfaIssued {
            tokens,
            recovery_code,
        },
        user,
    ))
}

/// The app whose code `mfa-otp` checks: one being enrolled (Auth0 has the client finish
/// an `/mfa/associate` with this grant), else the user's first confirmed one.
async fn otp_factor(factors: &Factors<'_>, user: &User) -> Result<Authenticator, OAuthError> {
    let apps: Vec<Authenticator> = factors
        .store
        .list_authenticators(&user.user_id)
        .await?
        .into_iter()
        .filter(|a| a.kind == AuthenticatorKind::Totp)
        .collect();
    apps.iter()
        .rev()
        .find(|a| !a.confirmed)
        .or_else(|| apps.iter().find(|a| a.confirmed))
        .cloned()
        .ok_or_else(|| OAuthError::InvalidGrant("User is not enrolled with otp.".into()))
}

/// A code's check in Auth0's words: `Invalid {what}.` for a wrong one.
fn checked<T>(result: Result<T, FactorError>, what: &str) -> Result<T, OAuthError> {
    result.map_err(|e| match e {
        FactorError::Locked { .. } => OAuthError::TooManyAttempts(e.to_string()),
        FactorError::WrongCode => OAuthError::InvalidGrant(format!("Invalid {what}.")),
        FactorError::Unknown => OAuthError::InvalidGrant(format!("Invalid {what}.")),
        FactorError::Failed(inner) => inner.into(),
    })
}
