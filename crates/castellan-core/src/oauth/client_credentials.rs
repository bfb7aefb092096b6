//! The `client_credentials` grant (RFC 6749 §4.4) as Auth0 does it: `audience` names the
//! API, the client grant for that API bounds the scopes, `sub` is `{client_id}@clients`.

use super::OAuthError;
use super::access_token::{AccessTokenGrant, MintedToken, TokenService};
use super::client_auth::{self, PresentedCredentials};
use super::{audience, scope};
use crate::events::{self, LogEventExt, RequestContext};
use crate::model::{Client, ClientGrant, ResourceServer};
use crate::store::Store;

pub const GRANT_TYPE: &str = "client_credentials";
/// The `gty` claim of its tokens (Auth0's spelling); an end user's token never carries it.
pub const GTY: &str = "client-credentials";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCredentialsRequest {
    pub audience: Option<String>,
    pub scope: Option<String>,
}

pub struct IssuedToken {
    pub minted: MintedToken,
    pub scope: String,
}

/// Authenticates the client and issues its token. The usual case (known client, known API,
/// a grant between them) costs one store round trip; anything else takes the long way, which
/// also finds the precise error.
pub async fn issue(
    store: &dyn Store,
    tokens: &TokenService,
    presented: &PresentedCredentials,
    request: &ClientCredentialsRequest,
    ctx: &RequestContext,
) -> Result<IssuedToken, OAuthError> {
    let identifier = request
        .audience
        .as_deref()
        .map(|a| audience::canonical(&tokens.issuer, a));
    let known = match &identifier {
        Some(identifier) => {
            store
                .find_client_with_grant(&presented.client_id, identifier)
                .await?
        }
        None => None,
    };
    let (client, result) = match known {
        Some((client, api, grant)) => {
            client_auth::check_secret(&client, presented)?;
            let result = mint(tokens, &client, &api, grant, request);
            (client, result)
        }
        None => {
            let client = client_auth::authenticate(store, presented).await?;
            let result = resolve_and_mint(store, tokens, &client, request).await;
            (client, result)
        }
    };
    let event = match &result {
        Ok(_) => events::event(
            "seccft",
            "Successful exchange of client credentials for access token",
            ctx,
        ),
        Err(e) => events::event("feccft", e.to_string(), ctx),
    };
    events::record(store, tokens.clock.as_ref(), event.client(&client)).await;
    result
}

async fn resolve_and_mint(
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
    mint(tokens, client, &api, grant, request)
}

fn mint(
    tokens: &TokenService,
    client: &Client,
    api: &ResourceServer,
    grant: ClientGrant,
    request: &ClientCredentialsRequest,
) -> Result<IssuedToken, OAuthError> {
    if client.is_public() || !client.has_grant(GRANT_TYPE) {
        return Err(OAuthError::UnauthorizedClient(
            "Grant type 'client_credentials' not allowed for the client.".into(),
        ));
    }
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
        api,
        subject: format!("{}@clients", client.client_id),
        client_id: &client.client_id,
        scopes: &scopes,
        grant_type: Some(GTY),
        permissions: Some(&scopes),
        also_userinfo: false,
        // Client credentials never run the log-in's scripts.
        custom_claims: &serde_json::Map::new(),
    })?;
    Ok(IssuedToken {
        minted,
        scope: scopes.join(" "),
    })
}
