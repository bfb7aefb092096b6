//! The Device Authorization Grant (RFC 8628) as Auth0 serves it: a native app without a
//! secret asks `/oauth/device/code` for a device code and a user code, shows the user code
//! and `{issuer}activate`, and polls the token endpoint while its user approves on the
//! activation page (`login::device`). Both codes are stored as digests; the device code is
//! exchanged once.

use super::OAuthError;
use super::password::Services;
use super::token_request::Params;
use super::user_tokens::{self, UserTokenRequest, UserTokens};
use super::{audience, scope};
use crate::events::{self, LogEventExt, RequestContext};
use crate::model::{AppType, Client, DeviceCode, DeviceDecision};
use crate::scripts::Protocol;
use crate::secrets::{opaque_token, token_digest};
use crate::store::StoreError;

pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// Auth0's lifetime of a device code, in seconds.
pub const EXPIRES_IN: i64 = 900;
/// Auth0's polling interval, in seconds.
pub const INTERVAL: i64 = 5;
/// How much the interval grows each time the device polls too fast (RFC 8628 §3.5).
pub const SLOW_DOWN: i64 = 5;

/// Auth0's user-code alphabet: no vowels (no words) and no look-alikes.
const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
const USER_CODE_LEN: usize = 8;
/// A drawn user code can collide with a live one; a few draws make that vanishingly rare.
const USER_CODE_DRAWS: usize = 5;

const INVALID: &str = "Invalid or expired device code.";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceAuthorizationRequest {
    pub scope: Option<String>,
    pub audience: Option<String>,
}

/// The answer of `/oauth/device/code` (RFC 8628 §3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceAuthorization {
    pub device_code: String,
    /// As shown to the user: `XXXX-XXXX`.
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: i64,
    pub interval: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCodeExchange {
    pub device_code: String,
}

/// The user code as typed, upper-cased and without its dash or spaces, if it can be one.
pub fn normalize_user_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let well_formed =
        code.len() == USER_CODE_LEN && code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b));
    well_formed.then_some(code)
}

/// `XXXX-XXXX`, from a normalized code.
pub fn display_user_code(normalized: &str) -> String {
    let (head, tail) = normalized.split_at(normalized.len() / 2);
    format!("{head}-{tail}")
}

/// How a user code is looked up: the digest of its normalized form.
pub fn user_code_digest(normalized: &str) -> String {
    token_digest(normalized)
}

/// Auth0 lets native apps without a secret use the grant, and only those that list it.
pub fn check_client(client: &Client) -> Result<(), OAuthError> {
    if !client.has_grant(GRANT_TYPE) {
        return Err(OAuthError::UnauthorizedClient(format!(
            "Grant type '{GRANT_TYPE}' not allowed for the client."
        )));
    }
    if client.app_type != AppType::Native || !client.is_public() {
        return Err(OAuthError::UnauthorizedClient(
            "Only native applications without a client secret may use the device authorization flow."
                .into(),
        ));
    }
    Ok(())
}

/// `POST /oauth/device/code` for an authenticated client.
pub async fn authorize(
    services: &Services<'_>,
    client: &Client,
    request: DeviceAuthorizationRequest,
) -> Result<DeviceAuthorization, OAuthError> {
    check_client(client)?;
    let (store, issuer) = (services.store, &services.tokens.issuer);
    let audience = match request.audience.as_deref().filter(|a| !a.is_empty()) {
        Some(requested) => Some(
            audience::resolve(store, issuer, requested)
                .await?
                .ok_or_else(|| OAuthError::AccessDenied(format!("Service not found: {requested}")))?
                .identifier,
        ),
        None => None,
    };
    let device_code = opaque_token();
    let now = services.clock.now();
    let mut record = DeviceCode {
        device_code_hash: token_digest(&device_code),
        user_code_hash: String::new(),
        client_id: client.client_id.clone(),
        scope: request
            .scope
            .as_deref()
            .map(scope::parse)
            .unwrap_or_default(),
        audience,
        interval: INTERVAL,
        created_at: now,
        expires_at: now + EXPIRES_IN,
        last_polled_at: None,
        polled_too_fast: false,
        decision: DeviceDecision::Pending,
    };
    for _ in 0..USER_CODE_DRAWS {
        let user_code = crate::ids::drawn_from(USER_CODE_ALPHABET, USER_CODE_LEN);
        record.user_code_hash = user_code_digest(&user_code);
        match store.create_device_code(&record).await {
            Ok(()) => {
                let shown = display_user_code(&user_code);
                let verification_uri = format!("{issuer}activate");
                return Ok(DeviceAuthorization {
                    device_code,
                    verification_uri_complete: format!("{verification_uri}?user_code={shown}"),
                    verification_uri,
                    user_code: shown,
                    expires_in: EXPIRES_IN,
                    interval: INTERVAL,
                });
            }
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(OAuthError::Internal(
        "no free user code after several draws".into(),
    ))
}

/// The token endpoint's `device_code` grant. Polls that are only early or pending are not
/// logged: a device polls every few seconds for minutes.
pub async fn exchange(
    services: &Services<'_>,
    client: &Client,
    request: Params<DeviceCodeExchange>,
    ctx: &RequestContext,
) -> Result<UserTokens, OAuthError> {
    let result = redeem(services, client, request, ctx).await;
    let event = match &result {
        Ok(_) => Some(events::event(
            "sede",
            "Successful exchange of device code for access token",
            ctx,
        )),
        Err(OAuthError::AuthorizationPending | OAuthError::SlowDown(_)) => None,
        Err(e) => Some(events::event("fede", e.to_string(), ctx)),
    };
    if let Some(event) = event {
        events::record(services.store, services.clock, event.client(client)).await;
    }
    result
}

async fn redeem(
    services: &Services<'_>,
    client: &Client,
    request: Params<DeviceCodeExchange>,
    ctx: &RequestContext,
) -> Result<UserTokens, OAuthError> {
    check_client(client)?;
    let request = request?;
    let store = services.store;
    let now = services.clock.now();
    let hash = token_digest(&request.device_code);
    let polled = store
        .poll_device_code(&hash, now, SLOW_DOWN)
        .await?
        .filter(|code| code.client_id == client.client_id)
        .ok_or_else(|| OAuthError::InvalidGrant(INVALID.into()))?;
    if polled.expires_at <= now {
        return Err(OAuthError::ExpiredToken);
    }
    match polled.decision {
        DeviceDecision::Denied => {
            return Err(OAuthError::AccessDenied("User denied access".into()));
        }
        DeviceDecision::Pending if polled.polled_too_fast => {
            return Err(OAuthError::SlowDown(polled.interval));
        }
        DeviceDecision::Pending => return Err(OAuthError::AuthorizationPending),
        DeviceDecision::Approved { .. } => {}
    }
    // Two polls may both have seen it approved; the one that takes it gets the tokens.
    let taken = store
        .take_approved_device_code(&hash)
        .await?
        .ok_or_else(|| OAuthError::InvalidGrant(INVALID.into()))?;
    let DeviceDecision::Approved { user_id, auth_time } = taken.decision else {
        return Err(OAuthError::InvalidGrant(INVALID.into()));
    };
    let user = store
        .find_user(&user_id)
        .await?
        .ok_or_else(|| OAuthError::InvalidGrant(INVALID.into()))?;
    if user.blocked {
        return Err(OAuthError::AccessDenied("user is blocked".into()));
    }
    let scope = taken.scope.join(" ");
    user_tokens::issue(
        services,
        UserTokenRequest {
            client,
            user: &user,
            audience: taken.audience.as_deref(),
            scope: Some(&scope),
            nonce: None,
            grant_type: None,
            auth_time: Some(auth_time),
            refresh_family: None,
            protocol: Protocol::DeviceCode,
            request: ctx,
            front_channel: None,
            scripted: None,
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_read_case_insensitively_with_or_without_the_dash() {
        for typed in ["BCDF-GHJK", "bcdfghjk", " bcdf-ghjk ", "BcDf GhJk"] {
            assert_eq!(normalize_user_code(typed).as_deref(), Some("BCDFGHJK"));
        }
        for typed in ["BCDF-GHJ", "BCDF-GHJKL", "ABCD-EFGH", "BCDF-GHJ1", ""] {
            assert_eq!(normalize_user_code(typed), None, "{typed}");
        }
        assert_eq!(display_user_code("BCDFGHJK"), "BCDF-GHJK");
    }

    #[test]
    fn drawn_user_codes_use_the_alphabet() {
        let code = crate::ids::drawn_from(USER_CODE_ALPHABET, USER_CODE_LEN);
        assert_eq!(normalize_user_code(&code).as_deref(), Some(code.as_str()));
    }
}
