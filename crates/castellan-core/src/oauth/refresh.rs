//! Refresh tokens (RFC 6749 §6), as each client's `refresh_token` settings say. Rotating
//! ones: each exchange returns a new token of the same family, and presenting a token that
//! was already used, after the client's leeway, revokes the whole family (the reuse
//! detection of OAuth 2.0 Security BCP §4.14.2). Non-rotating ones are answered again.
//! Either ends with its family's absolute lifetime or after its idle lifetime unused.

use super::OAuthError;
use super::user_tokens::{self, UserTokenRequest, UserTokens};
use crate::events::{self, LogEventExt, RequestContext};
use crate::model::{Client, RefreshToken, RefreshTokenSettings, ResourceServer};
use crate::oauth::password::Services;
use crate::oauth::scope;
use crate::oauth::token_request::Params;
use crate::scripts::Protocol;
use crate::secrets::{opaque_token, token_digest};
use crate::store::Store;

pub const GRANT_TYPE: &str = "refresh_token";

const INVALID: &str = "Unknown or invalid refresh token.";

/// A log-in gets a refresh token when `offline_access` was granted, the client may use the
/// grant, and the API (if any) allows offline access.
pub fn eligible(client: &Client, api: Option<&ResourceServer>, scopes: &[String]) -> bool {
    scopes.iter().any(|s| s == "offline_access")
        && client.has_grant(GRANT_TYPE)
        && api.is_none_or(|api| api.allow_offline_access)
}

/// Where the refresh token answered with a log-in's tokens comes from.
#[derive(Debug, Clone, Copy)]
pub enum RefreshFamily<'a> {
    /// A new family under this id (an authorization code's redemption recorded it).
    Start(&'a str),
    /// A rotation: a new member of the presented token's family, ending when it ends.
    Rotate(&'a RefreshToken),
    /// A non-rotating token, answered again.
    Keep(&'a str),
}

pub struct NewRefreshToken<'a> {
    pub family: Option<RefreshFamily<'a>>,
    pub client: &'a Client,
    pub user_id: &'a str,
    pub audience: Option<&'a str>,
    pub scope: &'a [String],
    pub auth_time: i64,
    /// The log-in passed a second factor (a rotation keeps its family's mark).
    pub mfa: bool,
}

pub async fn mint(
    store: &dyn Store,
    now: i64,
    new: NewRefreshToken<'_>,
) -> Result<String, OAuthError> {
    let settings = &new.client.refresh_token;
    let absolute_end = settings.absolute_lifetime().map(|l| now + l);
    let (family_id, family_expires_at, mfa) = match new.family {
        Some(RefreshFamily::Keep(token)) => return Ok(token.to_string()),
        Some(RefreshFamily::Rotate(record)) => (
            record.family_id.clone(),
            record.family_expires_at,
            record.mfa || new.mfa,
        ),
        Some(RefreshFamily::Start(id)) => (id.to_string(), absolute_end, new.mfa),
        None => (crate::ids::alphanumeric(24), absolute_end, new.mfa),
    };
    let token = opaque_token();
    store
        .create_refresh_token(&RefreshToken {
            token_hash: token_digest(&token),
            family_id,
            client_id: new.client.client_id.clone(),
            user_id: new.user_id.to_string(),
            audience: new.audience.map(str::to_string),
            scope: new.scope.to_vec(),
            auth_time: new.auth_time,
            created_at: now,
            family_expires_at,
            idle_expires_at: idle_end(settings, now),
            rotating: settings.rotating(),
            used_at: None,
            revoked: false,
            mfa,
        })
        .await?;
    Ok(token)
}

/// When a token exchanged (or made) at `now` ends if unused.
fn idle_end(settings: &RefreshTokenSettings, now: i64) -> Option<i64> {
    settings.idle_lifetime().map(|l| now + l)
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
        .filter(|r| r.client_id == client.client_id && !r.revoked && r.unexpired_at(now))
        .ok_or_else(|| OAuthError::InvalidGrant(INVALID.into()))?;
    let settings = &client.refresh_token;
    // A token used while the client rotated stays spent if it stops rotating.
    let within_leeway = record
        .used_at
        .map(|used| settings.rotating() && now - used < settings.leeway);
    if within_leeway == Some(false) {
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
            refresh_family: Some(if settings.rotating() {
                RefreshFamily::Rotate(&record)
            } else {
                RefreshFamily::Keep(&request.refresh_token)
            }),
            protocol: Protocol::RefreshToken,
            request: ctx,
            front_channel: None,
            scripted: None,
        },
    )
    .await?;
    // Only now, so that a refused request leaves the token as it was; a concurrent
    // exchange that got here first makes this one a reuse. Within the leeway the token
    // is spent already.
    if !settings.rotating() {
        if !store
            .renew_refresh_token(&hash, idle_end(settings, now))
            .await?
        {
            return Err(OAuthError::InvalidGrant(INVALID.into()));
        }
    } else if within_leeway.is_none() && !store.use_refresh_token(&hash, now).await? {
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
