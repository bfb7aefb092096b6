//! The tokens a user's log-in ends with, whatever the grant: an access token for the
//! requested API (or for `/userinfo` only, without `audience`), an ID token with `openid`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::OAuthError;
use super::access_token::AccessTokenGrant;
use super::password::Services;
use super::{audience, refresh, scope};
use crate::events::RequestContext;
use crate::mfa::mfa_api;
use crate::model::{Client, ResourceServer, User};
use crate::oidc::{self, id_token};
use crate::scripts::redirect::{Resume, Suspension};
use crate::scripts::{self, PostLoginOutcome, Protocol, ScopeEdit, shape::LoginFacts};
use crate::store::Store;
use crate::system_apis;

pub struct UserTokenRequest<'a> {
    pub client: &'a Client,
    pub user: &'a User,
    pub audience: Option<&'a str>,
    pub scope: Option<&'a str>,
    pub nonce: Option<&'a str>,
    /// Auth0's `gty`, where it sets one (`password`).
    pub grant_type: Option<&'a str>,
    pub auth_time: Option<i64>,
    /// The family of the refresh token answered, if any; none starts a new one.
    pub refresh_family: Option<refresh::RefreshFamily<'a>>,
    /// Tells the log-in's scripts how the user got here.
    pub protocol: Protocol,
    /// Set at the authorization endpoint (implicit and hybrid responses): the ID token
    /// names the code by hash, and no refresh token is issued there.
    pub front_channel: Option<FrontChannelCode<'a>>,
    pub request: &'a RequestContext,
    /// What the log-in's scripts left, when they already ran (at the authorization
    /// endpoint, for a code exchanged later): they do not run again.
    pub scripted: Option<&'a Scripted>,
}

/// What the scripts of a log-in left for its tokens. A browser log-in's scripts run at the
/// authorization endpoint, as on Auth0, where they may still redirect the user; for the
/// code flow this is kept with the code until it is exchanged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Scripted {
    pub access_claims: Map<String, Value>,
    pub id_claims: Map<String, Value>,
    pub scopes: ScopeEdit,
    /// Roles or groups changed: permissions must be read again.
    pub authorization_changed: bool,
    /// The scripts asked for a second factor: no token until the user passes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multifactor: Option<crate::scripts::engine::MultifactorRequest>,
    /// How the user authenticated (`pwd`, `mfa`, `passkey`), for the ID token's `amr`;
    /// set only once a second factor passed, as Auth0 does. Scripts cannot set it (a
    /// restricted claim), so it travels here, with the code, to the token endpoint.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// The ID token's `acr` ([`crate::mfa::policy::MFA_ACR`] after a second factor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
}

impl Scripted {
    fn of(outcome: &PostLoginOutcome) -> Scripted {
        Scripted {
            access_claims: outcome.access_claims.clone(),
            id_claims: outcome.id_claims.clone(),
            scopes: outcome.scopes.clone(),
            authorization_changed: outcome.authorization_changed,
            multifactor: outcome.multifactor.clone(),
            amr: Vec::new(),
            acr: None,
        }
    }
}

/// What a browser log-in's scripts came to.
pub enum FrontChannelScripts {
    Done(Box<ScriptsDone>),
    /// They sent the browser away.
    Redirect(Box<Suspension>),
}

/// Finished scripts: the user as they left it, and what the tokens get.
pub struct ScriptsDone {
    pub user: User,
    pub scripted: Scripted,
}

/// What the authorization endpoint answers with besides an ID token.
#[derive(Debug, Clone, Copy)]
pub struct FrontChannelCode<'a> {
    /// The access token goes to the browser too (`token` in the response type).
    pub with_access_token: bool,
    pub code: Option<&'a str>,
}

pub struct UserTokens {
    pub access_token: String,
    pub expires_in: i64,
    pub scope: String,
    pub id_token: Option<String>,
    pub refresh_token: Option<String>,
}

/// The stand-in API of tokens that are good for `/userinfo` only.
fn userinfo_api(issuer: &str) -> ResourceServer {
    ResourceServer::new(
        String::new(),
        "userinfo".into(),
        oidc::userinfo_audience(issuer),
    )
}

/// Scopes granted to a user: OIDC scopes as asked, API scopes only where the API defines
/// them, and under RBAC only those the user holds as permissions, or the Management API's
/// current-user scopes, which reach the user's own record only.
fn granted_scopes(
    api: Option<&ResourceServer>,
    permissions: &[String],
    requested: &[String],
) -> Vec<String> {
    requested
        .iter()
        .filter(|s| {
            oidc::is_oidc_scope(s)
                || api.is_some_and(|api| {
                    api.has_scope(s)
                        && (!api.under_rbac()
                            || permissions.contains(s)
                            || system_apis::is_self_service_scope(api, s))
                })
        })
        .cloned()
        .collect()
}

/// The permissions the user holds on the API, where the API enforces them (RBAC).
async fn permissions_on(
    store: &dyn Store,
    api: Option<&ResourceServer>,
    user_id: &str,
) -> Result<Option<Vec<String>>, OAuthError> {
    match api.filter(|a| a.under_rbac()) {
        // One query, whatever the number of roles the user has.
        Some(api) => Ok(Some(
            store
                .effective_permissions(user_id, &api.identifier)
                .await?,
        )),
        None => Ok(None),
    }
}

/// The API asked for, the scopes asked for, the user's permissions on the API and the
/// scopes granted before the scripts run.
struct Grant {
    api: Option<ResourceServer>,
    requested: Vec<String>,
    permissions: Option<Vec<String>>,
    scopes: Vec<String>,
}

async fn grant(
    services: &Services<'_>,
    request: &UserTokenRequest<'_>,
) -> Result<Grant, OAuthError> {
    let (store, tokens) = (services.store, services.tokens);
    let api = match request.audience.filter(|a| !a.is_empty()) {
        Some(requested) if requested == mfa_api::identifier(&tokens.issuer) => {
            Some(mfa_api::resource_server(&tokens.issuer))
        }
        Some(requested) => Some(
            audience::resolve(store, &tokens.issuer, requested)
                .await?
                .ok_or_else(|| {
                    OAuthError::AccessDenied(format!(
                        "Service not enabled within domain: {requested}"
                    ))
                })?,
        ),
        None => None,
    };
    let requested = request.scope.map(scope::parse).unwrap_or_default();
    let permissions = permissions_on(store, api.as_ref(), &request.user.user_id).await?;
    let scopes = granted_scopes(
        api.as_ref(),
        permissions.as_deref().unwrap_or_default(),
        &requested,
    );
    Ok(Grant {
        api,
        requested,
        permissions,
        scopes,
    })
}

/// Runs the log-in's scripts for `grant`: `None` when there are none.
async fn run_scripts(
    services: &Services<'_>,
    request: &UserTokenRequest<'_>,
    grant: &Grant,
    redirect_state: Option<&str>,
    resume: Option<Resume>,
) -> Result<Option<PostLoginOutcome>, OAuthError> {
    let tokens = services.tokens;
    let facts = LoginFacts {
        client: request.client,
        user: request.user,
        // The pipeline knows the connections.
        connection: None,
        protocol: request.protocol,
        request: request.request,
        hostname: services.scripts.hostname(),
        audience: grant.api.as_ref().map(|a| a.identifier.as_str()),
        requested_scopes: &grant.requested,
        granted_scopes: &grant.scopes,
        auth_time: request.auth_time.unwrap_or_else(|| tokens.clock.now()),
    };
    let outcome = scripts::post_login(
        services.store,
        services.clock,
        services.scripts,
        &facts,
        redirect_state,
        resume,
    )
    .await?;
    Ok(outcome)
}

/// Runs a browser log-in's scripts (at the authorization endpoint, or at `/continue` for
/// one they sent away before), which may send the browser away under `state`.
pub async fn front_channel_scripts(
    services: &Services<'_>,
    request: &UserTokenRequest<'_>,
    state: &str,
    resume: Option<Resume>,
) -> Result<FrontChannelScripts, OAuthError> {
    let grant = grant(services, request).await?;
    Ok(
        match run_scripts(services, request, &grant, Some(state), resume).await? {
            None => FrontChannelScripts::Done(Box::new(ScriptsDone {
                user: request.user.clone(),
                scripted: Scripted::default(),
            })),
            Some(outcome) => match outcome.redirect {
                Some(suspension) => FrontChannelScripts::Redirect(Box::new(suspension)),
                None => FrontChannelScripts::Done(Box::new(ScriptsDone {
                    scripted: Scripted::of(&outcome),
                    user: outcome.user,
                })),
            },
        },
    )
}

pub async fn issue(
    services: &Services<'_>,
    request: UserTokenRequest<'_>,
) -> Result<UserTokens, OAuthError> {
    let (store, tokens) = (services.store, services.tokens);
    let Grant {
        api,
        requested,
        mut permissions,
        mut scopes,
    } = grant(services, &request).await?;
    let mut user = request.user.clone();
    let scripted = match request.scripted {
        Some(ran) => Some(ran.clone()),
        None => {
            let grant = Grant {
                api: api.clone(),
                requested: requested.clone(),
                permissions: permissions.clone(),
                scopes: scopes.clone(),
            };
            match run_scripts(services, &request, &grant, None, None).await? {
                Some(outcome) => {
                    let scripted = Scripted::of(&outcome);
                    user = outcome.user;
                    Some(scripted)
                }
                None => None,
            }
        }
    };
    if request.scripted.is_none() {
        super::second_factor::check(services, &request, api.as_ref(), scripted.as_ref()).await?;
    }
    let passed_factor = scripted
        .as_ref()
        .is_some_and(|s| s.amr.iter().any(|m| m == "mfa"));
    let (mut access_claims, mut id_claims) = (Map::new(), Map::new());
    if let Some(outcome) = scripted {
        let (amr, acr) = (outcome.amr.clone(), outcome.acr.clone());
        // Roles a script assigned are in this very token.
        if outcome.authorization_changed {
            permissions = permissions_on(store, api.as_ref(), &user.user_id).await?;
            scopes = granted_scopes(
                api.as_ref(),
                permissions.as_deref().unwrap_or_default(),
                &requested,
            );
        }
        scopes = outcome.scopes.apply(scopes);
        access_claims = outcome.access_claims;
        id_claims = outcome.id_claims;
        // After the scripts' claims: these names are the server's.
        if !amr.is_empty() {
            id_claims.insert("amr".into(), Value::from(amr));
        }
        if let Some(acr) = acr {
            id_claims.insert("acr".into(), Value::String(acr));
        }
    }
    let openid = scopes.iter().any(|s| s == "openid");
    let target = api.clone().unwrap_or_else(|| userinfo_api(&tokens.issuer));
    let minted = tokens.mint(AccessTokenGrant {
        api: &target,
        subject: user.user_id.clone(),
        client_id: &request.client.client_id,
        scopes: &scopes,
        grant_type: request.grant_type,
        permissions: permissions.as_deref(),
        also_userinfo: openid,
        custom_claims: &access_claims,
    })?;
    let id_token = openid
        .then(|| {
            id_token::mint(
                tokens,
                id_token::IdTokenRequest {
                    user: &user,
                    client_id: &request.client.client_id,
                    scopes: &scopes,
                    nonce: request.nonce,
                    auth_time: request.auth_time,
                    custom_claims: &id_claims,
                    front_channel: request.front_channel.map(|f| id_token::FrontChannel {
                        access_token: f.with_access_token.then_some(minted.token.as_str()),
                        code: f.code,
                    }),
                },
            )
        })
        .transpose()?;
    let refresh_token = if request.front_channel.is_none()
        && refresh::eligible(request.client, api.as_ref(), &scopes)
    {
        let now = tokens.clock.now();
        let new = refresh::NewRefreshToken {
            family: request.refresh_family,
            client: request.client,
            user_id: &user.user_id,
            audience: api.as_ref().map(|a| a.identifier.as_str()),
            scope: &scopes,
            auth_time: request.auth_time.unwrap_or(now),
            mfa: passed_factor,
        };
        Some(refresh::mint(store, now, new).await?)
    } else {
        None
    };
    Ok(UserTokens {
        access_token: minted.token,
        expires_in: minted.expires_in,
        scope: scopes.join(" "),
        id_token,
        refresh_token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_scopes_only_where_defined_and_under_rbac_only_with_permission() {
        let mut api = userinfo_api("http://x/");
        api.scopes = vec![crate::model::Scope {
            value: "read:a".into(),
            description: String::new(),
        }];
        let asked: Vec<String> = ["openid", "read:a", "read:b"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            granted_scopes(Some(&api), &[], &asked),
            ["openid", "read:a"]
        );
        api.enforce_policies = true;
        assert_eq!(granted_scopes(Some(&api), &[], &asked), ["openid"]);
        assert_eq!(
            granted_scopes(Some(&api), &["read:a".into()], &asked),
            ["openid", "read:a"]
        );
        assert_eq!(granted_scopes(None, &[], &asked), ["openid"]);
    }

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn system_apis_grant_users_only_current_user_scopes_and_held_permissions() {
        let management = system_apis::management_api("http://x/", "m".into());
        let asked = strings(&[
            "openid",
            "read:users",
            "delete:users",
            "castellan:admin",
            "read:current_user",
            "update:current_user_metadata",
        ]);
        assert_eq!(
            granted_scopes(Some(&management), &[], &asked),
            [
                "openid",
                "read:current_user",
                "update:current_user_metadata"
            ]
        );
        assert_eq!(
            granted_scopes(Some(&management), &strings(&["read:users"]), &asked),
            [
                "openid",
                "read:users",
                "read:current_user",
                "update:current_user_metadata"
            ]
        );
        let authz = system_apis::authz_api("a".into());
        let asked = strings(&["read:users", "read:current_user", "create:groups"]);
        assert!(granted_scopes(Some(&authz), &[], &asked).is_empty());
        assert_eq!(
            granted_scopes(Some(&authz), &strings(&["create:groups"]), &asked),
            ["create:groups"]
        );
    }
}
