//! What every start makes sure of: the two system APIs with their full scope lists, the
//! database connection on a first start, and the bootstrap administrator.

use super::clients::{self, ClientFields};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::model::{ClientGrant, Connection, DATABASE_CONNECTION, ResourceServer};
use crate::secrets::generate_client_secret;
use crate::store::Store;
use crate::system_apis;

pub const ADMIN_CLIENT_NAME: &str = "Castellan bootstrap administrator";

/// Credentials the operator gave, or that were generated on an empty store.
pub struct AdminCredentials {
    pub client_id: String,
    pub client_secret: String,
}

pub enum AdminOutcome {
    /// The configured client exists with the configured secret and full grants.
    Ensured,
    /// The store was empty and nothing was configured: print these once.
    Generated(AdminCredentials),
    /// Nothing configured and the tenant already has clients.
    Untouched,
}

pub async fn ensure_tenant(store: &dyn Store, issuer: &str) -> Result<()> {
    let first_start = store.count_clients().await? == 0
        && store
            .find_resource_server_by_identifier(system_apis::AUTHZ_API_IDENTIFIER)
            .await?
            .is_none();
    ensure_system_api(
        store,
        system_apis::management_api(issuer, crate::ids::resource_server_id()),
    )
    .await?;
    ensure_system_api(
        store,
        system_apis::authz_api(crate::ids::resource_server_id()),
    )
    .await?;
    if first_start
        && store
            .find_connection_by_name(DATABASE_CONNECTION)
            .await?
            .is_none()
    {
        let created = store
            .create_connection(&Connection {
                default_assignments: None,
                id: crate::ids::connection_id(),
                name: DATABASE_CONNECTION.into(),
                strategy: super::connections::DATABASE_STRATEGY.into(),
                options: serde_json::json!({}),
                enabled_clients: vec![],
            })
            .await;
        unless_another_node_did_it(created)?;
    }
    Ok(())
}

/// Nodes starting together on one database race to create the same records; the loser's
/// uniqueness conflict means the record exists, which is all a start needs.
fn unless_another_node_did_it(result: crate::store::StoreResult<()>) -> Result<()> {
    match result {
        Ok(()) | Err(crate::store::StoreError::Conflict(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Creates the API, or brings the scope list of an existing one up to this version's.
async fn ensure_system_api(store: &dyn Store, wanted: ResourceServer) -> Result<()> {
    match store
        .find_resource_server_by_identifier(&wanted.identifier)
        .await?
    {
        None => unless_another_node_did_it(store.create_resource_server(&wanted).await),
        Some(existing) if existing.scopes != wanted.scopes || !existing.is_system => {
            store
                .update_resource_server(&ResourceServer {
                    scopes: wanted.scopes,
                    is_system: true,
                    ..existing
                })
                .await?;
            Ok(())
        }
        Some(_) => Ok(()),
    }
}

pub async fn ensure_admin(
    store: &dyn Store,
    clock: &dyn Clock,
    issuer: &str,
    configured: Option<AdminCredentials>,
) -> Result<AdminOutcome> {
    let (credentials, outcome) = match configured {
        Some(c) => (c, None),
        None if store.count_clients().await? == 0 => {
            let generated = AdminCredentials {
                client_id: crate::ids::client_id(),
                client_secret: generate_client_secret(),
            };
            (generated, Some(()))
        }
        None => return Ok(AdminOutcome::Untouched),
    };
    let mut client = match store.find_client(&credentials.client_id).await? {
        Some(client) => client,
        None => {
            let fields = ClientFields {
                name: Some(ADMIN_CLIENT_NAME.into()),
                app_type: Some("non_interactive".into()),
                grant_types: Some(vec!["client_credentials".into()]),
                ..Default::default()
            };
            match clients::create_with_id(store, clock, credentials.client_id.clone(), fields).await
            {
                Ok(created) => created.client,
                Err(Error::Conflict(_)) => clients::get(store, &credentials.client_id).await?,
                Err(e) => return Err(e),
            }
        }
    };
    let secret_matches = client
        .secret_hash
        .as_deref()
        .is_some_and(|h| crate::secrets::verify_client_secret(&credentials.client_secret, h));
    if !secret_matches || !client.has_grant("client_credentials") {
        if !client.has_grant("client_credentials") {
            client.grant_types.push("client_credentials".into());
        }
        clients::set_secret(store, clock, &mut client, &credentials.client_secret).await?;
    }
    for identifier in [
        system_apis::management_api_identifier(issuer),
        system_apis::AUTHZ_API_IDENTIFIER.to_string(),
    ] {
        ensure_full_grant(store, &credentials.client_id, &identifier).await?;
    }
    Ok(match outcome {
        Some(()) => AdminOutcome::Generated(credentials),
        None => AdminOutcome::Ensured,
    })
}

async fn ensure_full_grant(store: &dyn Store, client_id: &str, identifier: &str) -> Result<()> {
    let api = store
        .find_resource_server_by_identifier(identifier)
        .await?
        .ok_or(Error::NotFound {
            kind: "resource server",
        })?;
    let scope: Vec<String> = api.scopes.iter().map(|s| s.value.clone()).collect();
    match store.find_client_grant_for(client_id, identifier).await? {
        Some(grant) if grant.scope == scope => Ok(()),
        Some(grant) => Ok(store
            .update_client_grant(&ClientGrant { scope, ..grant })
            .await?),
        None => unless_another_node_did_it(
            store
                .create_client_grant(&ClientGrant {
                    id: crate::ids::client_grant_id(),
                    client_id: client_id.into(),
                    audience: identifier.into(),
                    scope,
                })
                .await,
        ),
    }
}
