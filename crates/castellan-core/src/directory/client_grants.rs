//! Client grants: which scopes of an API a client obtains through client credentials; the
//! commands every front end makes them through.

use super::bootstrap::AdminGuard;
use super::{Editor, clients, validate};
use crate::audit::ApplicationChange;
use crate::error::{Error, Result};
use crate::model::ClientGrant;
use crate::oauth::audience;
use crate::store::{ClientGrantStore, ResourceServerStore, Store};

/// The API an audience names (accepting the Management API's `https://` alias), and that
/// every scope exists on it.
async fn check_scopes<S: ResourceServerStore + ?Sized>(
    store: &S,
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

/// A grant to make: `audience` may be the Management API's `https://` alias of `issuer`.
pub struct NewClientGrant {
    pub client_id: String,
    pub audience: String,
    pub scope: Vec<String>,
}

pub async fn create(ed: &Editor<'_>, issuer: &str, input: NewClientGrant) -> Result<ClientGrant> {
    let tx = ed.begin().await?;
    let client = clients::find(tx.as_ref(), &input.client_id).await?;
    let audience = check_scopes(tx.as_ref(), issuer, &input.audience, &input.scope).await?;
    let grant = ClientGrant {
        id: crate::ids::client_grant_id(),
        client_id: client.client_id,
        audience,
        scope: input.scope,
    };
    tx.create_client_grant(&grant).await?;
    let change = ApplicationChange::CreateClientGrant {
        grant_id: grant.id.clone(),
        client_name: client.name,
        audience: grant.audience.clone(),
        scope: grant.scope.clone(),
    };
    ed.commit(tx, [change]).await?;
    Ok(grant)
}

pub async fn get(store: &dyn Store, id: &str) -> Result<ClientGrant> {
    find(store, id).await
}

async fn find<S: ClientGrantStore + ?Sized>(store: &S, id: &str) -> Result<ClientGrant> {
    store.find_client_grant(id).await?.ok_or(Error::NotFound {
        kind: "client grant",
    })
}

/// Replaces the grant's scopes, unless `guard` keeps them.
pub async fn update_scope(
    ed: &Editor<'_>,
    issuer: &str,
    id: &str,
    scope: Vec<String>,
    guard: &AdminGuard,
) -> Result<ClientGrant> {
    let tx = ed.begin().await?;
    let mut grant = find(tx.as_ref(), id).await?;
    guard.check_grant(&grant, Some(&scope))?;
    check_scopes(tx.as_ref(), issuer, &grant.audience, &scope).await?;
    let client = clients::find(tx.as_ref(), &grant.client_id).await?;
    grant.scope = scope;
    tx.update_client_grant(&grant).await?;
    let change = ApplicationChange::UpdateClientGrant {
        grant_id: grant.id.clone(),
        client_name: client.name,
        audience: grant.audience.clone(),
        scope: grant.scope.clone(),
    };
    ed.commit(tx, [change]).await?;
    Ok(grant)
}

/// Deletes the grant, unless `guard` keeps it.
pub async fn delete(ed: &Editor<'_>, id: &str, guard: &AdminGuard) -> Result<ClientGrant> {
    let tx = ed.begin().await?;
    let grant = find(tx.as_ref(), id).await?;
    guard.check_grant(&grant, None)?;
    let client = clients::find(tx.as_ref(), &grant.client_id).await?;
    tx.delete_client_grant(&grant.id).await?;
    let change = ApplicationChange::DeleteClientGrant {
        grant_id: grant.id.clone(),
        client_name: client.name,
        audience: grant.audience.clone(),
    };
    ed.commit(tx, [change]).await?;
    Ok(grant)
}
