//! Whether a user's log-in without a browser may have its tokens now, or must pass a
//! second factor first through the MFA API (Auth0's `mfa_required`). Called by
//! `user_tokens::issue` after the log-in's scripts ran; the browser's log-ins are decided
//! by the log-in pages.

use super::OAuthError;
use super::password::Services;
use super::refresh;
use super::user_tokens::{Scripted, UserTokenRequest};
use crate::events::{self, LogEventExt};
use crate::mfa::{mfa_api, policy, token as mfa_token};
use crate::model::ResourceServer;
use crate::scripts::Protocol;
use crate::store::Store;

/// Whether a log-in without a browser may have its tokens now, where the browser's
/// pages cannot challenge the user. A password grant that needs a second factor answers
/// Auth0's `mfa_required` with an `mfa_token`, which the MFA API redeems once a factor
/// passed; the scripts' outcome travels in it, so they do not run again. A refresh is
/// asked only when its scripts ask (as on Auth0, where the tenant's policy applies to
/// log-ins, not to refreshes), and never in a family that began with a second factor. A
/// device has no `mfa_token` flow on Auth0, so the scripts asking for a factor there
/// refuse the log-in (a control a script asked for is never dropped).
pub(super) async fn check(
    services: &Services<'_>,
    request: &UserTokenRequest<'_>,
    api: Option<&ResourceServer>,
    scripted: Option<&Scripted>,
) -> Result<(), OAuthError> {
    let asked = scripted.and_then(|s| s.multifactor.as_ref());
    let (store, clock) = (services.store, services.clock);
    match request.protocol {
        Protocol::Password | Protocol::RefreshToken => {
            let always = match request.refresh_family {
                // The tenant's policy is for log-ins: only the scripts ask at a refresh.
                Some(_) if asked.is_none() => return Ok(()),
                Some(family) if began_with_factor(store, family).await? => return Ok(()),
                Some(_) => false,
                None => {
                    let mfa_audience = mfa_api::identifier(&services.tokens.issuer);
                    api.is_some_and(|a| a.identifier == mfa_audience)
                        || policy::always(store).await?
                }
            };
            let Some(requirement) = policy::requirement(always, asked, None) else {
                return Ok(());
            };
            let now = clock.now();
            let pending = mfa_token::MfaPending {
                user_id: request.user.user_id.clone(),
                client_id: request.client.client_id.clone(),
                audience: request.audience.map(str::to_owned),
                scope: request.scope.map(str::to_owned),
                auth_time: request.auth_time.unwrap_or(now),
                scripted: scripted.cloned().unwrap_or_default(),
                expires_at: now + mfa_token::LIFETIME,
                factors: requirement.factors,
            };
            let event = events::event(
                "mfar",
                "Multifactor authentication required",
                request.request,
            )
            .client(request.client)
            .user(request.user);
            events::record(store, clock, event).await;
            Err(OAuthError::MfaRequired {
                mfa_token: mfa_token::seal_mfa_token(services.master_key, &pending),
            })
        }
        _ if policy::requirement(false, asked, None).is_some() => Err(OAuthError::AccessDenied(
            "the scripts require multi-factor authentication, which this grant cannot offer".into(),
        )),
        _ => Ok(()),
    }
}

/// Whether the family of the refresh token presented began with a second factor.
async fn began_with_factor(
    store: &dyn Store,
    family: refresh::RefreshFamily<'_>,
) -> Result<bool, OAuthError> {
    Ok(match family {
        refresh::RefreshFamily::Rotate(record) => record.mfa,
        refresh::RefreshFamily::Keep(token) => store
            .find_refresh_token(&crate::secrets::token_digest(token))
            .await?
            .is_some_and(|r| r.mfa),
        refresh::RefreshFamily::Start(_) => false,
    })
}
