//! Client grants: which scopes of an API a client obtains through client credentials.

use super::validate;
use crate::error::{Error, Result};
use crate::model::ClientGrant;
use crate::oauth::audience;
use crate::store::Store;

/// The API an audience names (accepting the Management API's `https://` alias), and that
/// every scope exists on it.
async fn check_scopes(
    store: &dyn Store,
    issuer: &str,
    audience: &str,
    scope: &[String],
) -> Result<String> {
    let api = audience::resolve(store, issuer, audience)
        .await?
        .ok_or(Error::NotFound {
            kind: "resource server",
        })?;
    validate::no_duplicates("scope", scope)?;
    if let Some(unknown) = scope.iter().find(|s| !api.has_scope(s)) {
        return Err(Error::Invalid(format!(
            "scope \"{unknown}\" is not defined on the API {}",
            api.identifier
        )));
    }
    Ok(api.identifier)
}

pub async fn create(
    store: &dyn Store,
    issuer: &str,
    client_id: &str,
    audience: &str,
    scope: Vec<String>,
) -> Result<ClientGrant> {
    if store.find_client(client_id).await?.is_none() {
        return Err(Error::NotFound { kind: "client" });
    }
    let audience = check_scopes(store, issuer, audience, &scope).await?;
    let grant = ClientGrant {
        id: crate::ids::client_grant_id(),
        client_id: client_id.to_string(),
        audience,
        scope,
    };
    store.create_client_grant(&grant).await?;
    Ok(grant)
}

pub async fn get(store: &dyn Store, id: &str) -> Result<ClientGrant> {
    store.find_client_grant(id).await?.ok_or(Error::NotFound {
        kind: "client grant",
    })
}

pub async fn update_scope(
    store: &dyn Store,
    issuer: &str,
    id: &str,
    scope: Vec<String>,
) -> Result<ClientGrant> {
    let mut grant = get(store, id).await?;
    check_scopes(store, issuer, &grant.audience, &scope).await?;
    grant.scope = scope;
    store.update_client_grant(&grant).await?;
    Ok(grant)
}

pub async fn delete(store: &dyn Store, id: &str) -> Result<()> {
    if store.delete_client_grant(id).await? {
        Ok(())
    } else {
        Err(Error::NotFound {
            kind: "client grant",
        })
    }
}
