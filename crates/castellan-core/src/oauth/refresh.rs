//! Refresh tokens (RFC 6749 §6) that rotate: each exchange returns a new token of the same
//! family, and presenting a token that was already used revokes the whole family (the
//! reuse detection of OAuth 2.0 Security BCP §4.14.2).

use super::OAuthError;
use super::user_tokens::{self, UserTokenRequest, UserTokens};
use crate::events::{self, LogEventExt, RequestContext};
use crate::model::{Client, RefreshToken, ResourceServer};
use crate::oauth::password::Services;
use crate::oauth::scope;
use crate::oauth::token_request::Params;
use crate::scripts::Protocol;
use crate::secrets::{opaque_token, token_digest};
use crate::store::Store;

pub const GRANT_TYPE: &str = "refresh_token";
/// Absolute lifetime of a refresh token family member, as Auth0's rotation default.
pub const LIFETIME: i64 = 30 * 86_400;

const INVALID: &str = "Unknown or invalid refresh token.";

/// A log-in gets a refresh token when `offline_access` was granted, the client may use the
/// grant, and the API (if any) allows offline access.
pub fn eligible(client: &Client, api: Option<&ResourceServer>, scopes: &[String]) -> bool {
    scopes.iter().any(|s| s == "offline_access")
        && client.has_grant(GRANT_TYPE)
        && api.is_none_or(|api| api.allow_offline_access)
}

pub struct NewRefreshToken<'a> {
    pub family_id: Option<&'a str>,
    pub client_id: &'a str,
    pub user_id: &'a str,
    pub audience: Option<&'a str>,
    pub scope: &'a [String],
    pub auth_time: i64,
}

pub async fn mint(
    store: &dyn Store,
    now: i64,
    new: NewRefreshToken<'_>,
) -> Result<String, OAuthError> {
    let token = opaque_token();
    store
        .create_refresh_token(&RefreshToken {
            token_hash: token_digest(&token),
            family_id: new
                .family_id
                .map_or_else(|| crate::ids::alphanumeric(24), str::to_string),
            client_id: new.client_id.to_string(),
            user_id: new.user_id.to_string(),
            audience: new.audience.map(str::to_string),
            scope: new.scope.to_vec(),
            auth_time: new.auth_time,
            created_at: now,
            expires_at: now + LIFETIME,
            used_at: None,
            revoked: false,
        })
        .await?;
    Ok(token)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRequest {
    pub refresh_token: String,
    /// A narrower scope than the one first granted; none keeps it.
    pub scope: Option<String>,
}

pub async fn exchange(
    services: &Services<'_>,
    client: &Client,
    request: Params<RefreshRequest>,
    ctx: &RequestContext,
) -> Result<UserTokens, OAuthError> {
    let result = rotate(services, client, request, ctx).await;
    if let Err(e) = &result {
        let event = events::event("fertft", e.to_string(), ctx).client(client);
        events::record(services.store, services.clock, event).await;
    }
    result
}

async fn rotate(
    services: &Services<'_>,
    client: &Client,
    request: Params<RefreshRequest>,
    ctx: &RequestContext,
) -> Result<UserTokens, OAuthError> {
    let store = services.store;
    if !client.has_grant(GRANT_TYPE) {
        return Err(OAuthError::UnauthorizedClient(
            "Grant type 'refresh_token' not allowed for the client.".into(),
        ));
    }
    let request = request?;
    let hash = token_digest(&request.refresh_token);
    let now = services.clock.now();
    let record = store
        .find_refresh_token(&hash)
        .await?
        .filter(|r| r.client_id == client.client_id && !r.revoked && r.expires_at > now)
        .ok_or_else(|| OAuthError::InvalidGrant(INVALID.into()))?;
    if record.used_at.is_some() {
        return Err(reused(services, client, &record, ctx).await);
    }
    let user = store
        .find_user(&record.user_id)
        .await?
        .ok_or_else(|| OAuthError::InvalidGrant(INVALID.into()))?;
    if user.blocked {
        return Err(OAuthError::AccessDenied("user is blocked".into()));
    }
    let joined = narrowed(&record.scope, request.scope.as_deref()).join(" ");
    let issued = user_tokens::issue(
        services,
        UserTokenRequest {
            client,
            user: &user,
            audience: record.audience.as_deref(),
            scope: Some(&joined),
            nonce: None,
            grant_type: None,
            auth_time: Some(record.auth_time),
            refresh_family: Some(&record.family_id),
            protocol: Protocol::RefreshToken,
            request: ctx,
            front_channel: None,
        },
    )
    .await?;
    // Only now, so that a refused request leaves the token usable; a concurrent exchange
    // that got here first makes this one a reuse.
    if !store.use_refresh_token(&hash, now).await? {
        return Err(reused(services, client, &record, ctx).await);
    }
    let event = events::event(
        "sertft",
        "Successful exchange of refresh token for access token",
        ctx,
    )
    .client(client)
    .user(&user);
    events::record(store, services.clock, event).await;
    Ok(issued)
}

/// The scope of the new tokens: the one granted at log-in, or the part of it a `scope`
/// parameter asks for. A scope asked for that was not granted is left out rather than
/// refused, as Auth0 does: SDKs ask again for the scope of their log-in, part of which RBAC
/// may have dropped, and a refusal would end their session.
fn narrowed(granted: &[String], asked: Option<&str>) -> Vec<String> {
    match asked.map(scope::parse).filter(|s| !s.is_empty()) {
        None => granted.to_vec(),
        Some(asked) => asked.into_iter().filter(|s| granted.contains(s)).collect(),
    }
}

/// A token presented after it was used: its whole family ends (OAuth 2.0 Security BCP
/// §4.14.2).
async fn reused(
    services: &Services<'_>,
    client: &Client,
    record: &RefreshToken,
    ctx: &RequestContext,
) -> OAuthError {
    if let Err(e) = services
        .store
        .revoke_refresh_family(&record.family_id)
        .await
    {
        return e.into();
    }
    let event = events::event(
        "ferrt",
        "A used refresh token was presented again; its family is revoked",
        ctx,
    )
    .client(client);
    events::record(services.store, services.clock, event).await;
    OAuthError::InvalidGrant(INVALID.into())
}

/// `POST /oauth/revoke` (RFC 7009): the token's family ends. Unknown tokens, and tokens of
/// other clients, are answered the same way and change nothing (RFC 7009 §2.2).
pub async fn revoke(store: &dyn Store, client: &Client, presented: &str) -> Result<(), OAuthError> {
    if let Some(record) = store.find_refresh_token(&token_digest(presented)).await?
        && record.client_id == client.client_id
    {
        store.revoke_refresh_family(&record.family_id).await?;
    }
    Ok(())
}
