//! The `authorization_code` grant (RFC 6749 §4.1.3) with PKCE (RFC 7636 §4.6): the code
//! is redeemed in one store step, so once at most. Presenting it again revokes the
//! refresh tokens issued from it (§4.1.2); the access and ID tokens are signed JWTs that
//! cannot be recalled and expire on their own.

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::OAuthError;
use super::password::Services;
use super::refresh::RefreshFamily;
use super::token_request::Params;
use super::user_tokens::{self, UserTokenRequest, UserTokens};
use crate::events::{self, LogEventExt, RequestContext};
use crate::model::Client;
use crate::scripts::Protocol;
use crate::secrets::token_digest;
use crate::store::CodeRedemption;

pub const GRANT_TYPE: &str = "authorization_code";

const INVALID: &str = "Invalid authorization code";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeExchange {
    pub code: String,
    pub redirect_uri: String,
    /// PKCE; required when the authorization request had a `code_challenge`.
    pub code_verifier: Option<String>,
}

fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    // RFC 7636 §4.1: 43 to 128 unreserved characters.
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    let computed = URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes()));
    well_formed && verify_slices_are_equal(computed.as_bytes(), challenge.as_bytes()).is_ok()
}

pub async fn exchange(
    services: &Services<'_>,
    client: &Client,
    request: Params<CodeExchange>,
    ctx: &RequestContext,
) -> Result<UserTokens, OAuthError> {
    let result = redeem(services, client, request, ctx).await;
    let event = match &result {
        Ok(_) => events::event(
            "seacft",
            "Successful exchange of authorization code for access token",
            ctx,
        ),
        Err(e) => events::event("feacft", e.to_string(), ctx),
    };
    events::record(services.store, services.clock, event.client(client)).await;
    result
}

async fn redeem(
    services: &Services<'_>,
    client: &Client,
    request: Params<CodeExchange>,
    ctx: &RequestContext,
) -> Result<UserTokens, OAuthError> {
    let store = services.store;
    if !client.has_grant(GRANT_TYPE) {
        return Err(OAuthError::UnauthorizedClient(
            "Grant type 'authorization_code' not allowed for the client.".into(),
        ));
    }
    let request = request?;
    // The family the refresh tokens issued from this code will belong to, recorded with
    // the redemption so that a second presentation can revoke them.
    let family = crate::ids::alphanumeric(24);
    let now = services.clock.now();
    let code_hash = token_digest(&request.code);
    let record = match store
        .redeem_authorization_code(&code_hash, &family, now)
        .await?
    {
        CodeRedemption::Redeemed(record) => record,
        CodeRedemption::Replayed { refresh_family } => {
            if let Some(family) = refresh_family {
                store.revoke_refresh_family(&family).await?;
            }
            let event = events::event(
                "feacft",
                "An authorization code was presented again; the refresh tokens issued from it are revoked",
                ctx,
            )
            .client(client);
            events::record(store, services.clock, event).await;
            return Err(OAuthError::InvalidGrant(INVALID.into()));
        }
        CodeRedemption::Unknown => return Err(OAuthError::InvalidGrant(INVALID.into())),
    };
    if record.client_id != client.client_id || record.expires_at <= now {
        return Err(OAuthError::InvalidGrant(INVALID.into()));
    }
    if record.redirect_uri != request.redirect_uri {
        return Err(OAuthError::InvalidGrant(
            "redirect_uri does not match the one of the authorization request".into(),
        ));
    }
    match (&record.code_challenge, request.code_verifier.as_deref()) {
        (Some(challenge), Some(verifier)) if pkce_matches(verifier, challenge) => {}
        (Some(_), _) => {
            return Err(OAuthError::InvalidGrant(
                "Failed to verify code verifier".into(),
            ));
        }
        (None, Some(_)) => {
            return Err(OAuthError::InvalidRequest(
                "code_verifier given but the authorization request had no code_challenge".into(),
            ));
        }
        (None, None) if client.is_public() => {
            return Err(OAuthError::InvalidGrant(
                "Public clients must use PKCE".into(),
            ));
        }
        (None, None) => {}
    }
    let user = store
        .find_user(&record.user_id)
        .await?
        .ok_or_else(|| OAuthError::InvalidGrant(INVALID.into()))?;
    // Blocked after the code was issued: no tokens.
    if user.blocked {
        return Err(OAuthError::AccessDenied("user is blocked".into()));
    }
    let scope = record.scope.join(" ");
    // What the log-in's scripts left at the authorization endpoint; a code issued before
    // they ran there has none, and they run now.
    let scripted: Option<user_tokens::Scripted> = match record.scripted.as_deref() {
        Some(text) => Some(serde_json::from_str(text).map_err(|e| {
            OAuthError::from(crate::error::Error::Internal(format!(
                "a code's scripted outcome is unreadable: {e}"
            )))
        })?),
        None => None,
    };
    let issued = user_tokens::issue(
        services,
        UserTokenRequest {
            client,
            user: &user,
            audience: record.audience.as_deref(),
            scope: Some(&scope),
            nonce: record.nonce.as_deref(),
            grant_type: None,
            auth_time: Some(record.auth_time),
            refresh_family: Some(RefreshFamily::Start(&family)),
            protocol: Protocol::AuthorizationCode,
            request: ctx,
            front_channel: None,
            scripted: scripted.as_ref(),
        },
    )
    .await?;
    // A replay that came while the tokens were being made found no tokens to revoke yet.
    if store.authorization_code_replayed(&code_hash).await? {
        store.revoke_refresh_family(&family).await?;
        return Err(OAuthError::InvalidGrant(INVALID.into()));
    }
    Ok(issued)
}

#[cfg(test)]
mod tests {
    use super::pkce_matches;

    #[test]
    fn rfc7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_matches(verifier, challenge));
        assert!(!pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK",
            challenge
        ));
        assert!(!pkce_matches("short", challenge));
    }
}
