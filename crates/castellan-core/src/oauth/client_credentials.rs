//! The `client_credentials` grant (RFC 6749 §4.4) as Auth0 does it: `audience` names the
//! API, the client grant for that API bounds the scopes, `sub` is `{client_id}@clients`.

use super::OAuthError;
use super::access_token::{AccessTokenGrant, MintedToken, TokenService};
use super::{audience, scope};
use crate::events::{self, LogEventExt, RequestContext};
use crate::model::Client;
use crate::store::Store;

pub const GRANT_TYPE: &str = "client_credentials";

pub struct ClientCredentialsRequest {
    pub audience: Option<String>,
    pub scope: Option<String>,
}

pub struct IssuedToken {
    pub minted: MintedToken,
    pub scope: String,
}

pub async fn issue(
    store: &dyn Store,
    tokens: &TokenService,
    client: &Client,
    request: &ClientCredentialsRequest,
    ctx: &RequestContext,
) -> Result<IssuedToken, OAuthError> {
    let result = grant(store, tokens, client, request).await;
    let event = match &result {
        Ok(_) => events::event(
            "seccft",
            "Successful exchange of client credentials for access token",
            ctx,
        ),
        Err(e) => events::event("feccft", e.to_string(), ctx),
    };
    events::record(store, tokens.clock.as_ref(), event.client(client)).await;
    result
}

async fn grant(
    store: &dyn Store,
    tokens: &TokenService,
    client: &Client,
    request: &ClientCredentialsRequest,
) -> Result<IssuedToken, OAuthError> {
    if client.is_public() || !client.has_grant(GRANT_TYPE) {
        return Err(OAuthError::UnauthorizedClient(
            "Grant type 'client_credentials' not allowed for the client.".into(),
        ));
    }
    let Some(requested_audience) = request.audience.as_deref().filter(|a| !a.is_empty()) else {
        return Err(OAuthError::AccessDenied(
            "No audience parameter was provided, and no default audience has been configured"
                .into(),
        ));
    };
    let Some(api) = audience::resolve(store, &tokens.issuer, requested_audience).await? else {
        return Err(OAuthError::AccessDenied(format!(
            "Service not enabled within domain: {requested_audience}"
        )));
    };
    let Some(grant) = store
        .find_client_grant_for(&client.client_id, &api.identifier)
        .await?
    else {
        return Err(OAuthError::AccessDenied(format!(
            "Client is not authorized to access \"{}\". You need to create a \"client-grant\" associated to this API.",
            api.identifier
        )));
    };
    // A scope removed from the API since the grant was made is no longer grantable.
    let allowed: Vec<String> = grant
        .scope
        .into_iter()
        .filter(|s| api.has_scope(s))
        .collect();
    let scopes = scope::narrow(&allowed, request.scope.as_deref()).map_err(|missing| {
        OAuthError::AccessDenied(format!("Client has not been granted scopes: {missing}"))
    })?;
    let minted = tokens.mint(AccessTokenGrant {
        api: &api,
        subject: format!("{}@clients", client.client_id),
        client_id: &client.client_id,
        scopes: &scopes,
        grant_type: Some("client-credentials"),
        permissions: Some(&scopes),
        also_userinfo: false,
    })?;
    Ok(IssuedToken {
        minted,
        scope: scopes.join(" "),
    })
}
