//! The resource-owner password grants (RFC 6749 §4.3), `password` and Auth0's
//! `password-realm` (`realm` names the connection), each only for clients that have it.

use super::OAuthError;
use super::token_request::Params;
use super::user_tokens::{self, UserTokenRequest, UserTokens};
use crate::clock::Clock;
use crate::events::{self, LogEventExt, RequestContext};
use crate::login::password::{self, PasswordLogin};
use crate::model::{Client, DATABASE_CONNECTION};
use crate::oauth::access_token::TokenService;
use crate::passwords::PasswordService;
use crate::scripts::{Protocol, Scripts};
use crate::store::Store;

pub const PASSWORD: &str = "password";
pub const PASSWORD_REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordGrant {
    Password,
    /// `realm` is required.
    PasswordRealm,
}

impl PasswordGrant {
    pub fn grant_type(self) -> &'static str {
        match self {
            Self::Password => PASSWORD,
            Self::PasswordRealm => PASSWORD_REALM,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordGrantRequest {
    pub username: String,
    pub password: String,
    /// The connection; without it (plain `password` only), the database connection.
    pub realm: Option<String>,
    pub audience: Option<String>,
    pub scope: Option<String>,
}

pub struct Services<'a> {
    pub store: &'a dyn Store,
    pub tokens: &'a TokenService,
    pub passwords: &'a PasswordService,
    pub clock: &'a dyn Clock,
    pub scripts: &'a Scripts,
    /// Seals the `mfa_token` of a log-in that must pass a second factor.
    pub master_key: &'a crate::secrets::MasterKey,
}

pub async fn issue(
    services: &Services<'_>,
    client: &Client,
    grant: PasswordGrant,
    request: Params<PasswordGrantRequest>,
    ctx: &RequestContext,
) -> Result<UserTokens, OAuthError> {
    let store = services.store;
    if !client.has_grant(grant.grant_type()) {
        return Err(OAuthError::UnauthorizedClient(format!(
            "Grant type '{}' not allowed for the client.",
            grant.grant_type()
        )));
    }
    let request = request?;
    let connection_name = request.realm.as_deref().unwrap_or(DATABASE_CONNECTION);
    let connection = store
        .find_connection_by_name(connection_name)
        .await?
        .ok_or_else(|| OAuthError::InvalidRequest(format!("Unknown realm: {connection_name}")))?;
    if !connection.enabled_clients.contains(&client.client_id) {
        return Err(OAuthError::UnauthorizedClient(format!(
            "The connection {connection_name} is not enabled for this client"
        )));
    }
    let login = PasswordLogin {
        connection: connection_name,
        identifier: &request.username,
        password: &request.password,
    };
    let user =
        match password::authenticate(store, services.passwords, services.clock, login, ctx).await {
            Ok(user) => user,
            Err(e) => {
                let event = events::event("fepft", e.to_string(), ctx)
                    .client(client)
                    .connection(connection_name);
                events::record(store, services.clock, event).await;
                return Err(e.into());
            }
        };
    let issued = user_tokens::issue(
        services,
        UserTokenRequest {
            client,
            user: &user,
            audience: request.audience.as_deref(),
            scope: request.scope.as_deref(),
            nonce: None,
            grant_type: Some("password"),
            auth_time: Some(services.clock.now()),
            refresh_family: None,
            protocol: Protocol::Password,
            request: ctx,
            front_channel: None,
            scripted: None,
        },
    )
    .await?;
    let event = events::event(
        "sepft",
        "Successful exchange of password for access token",
        ctx,
    )
    .client(client)
    .user(&user);
    events::record(store, services.clock, event).await;
    Ok(issued)
}
