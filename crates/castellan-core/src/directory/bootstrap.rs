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
            let id = credentials.client_id.clone();
            let secret = Some(credentials.client_secret.as_str());
            match clients::create_with_id(store, clock, id, fields, secret).await {
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

/// The configured bootstrap administrator must keep its access to the Management API:
/// without it the operator is locked out until a restart makes it again. Changes through
/// the API that would take it away are refused with how to replace the client instead.
pub struct AdminGuard {
    /// `CASTELLAN_ADMIN_CLIENT_ID`, when configured.
    client_id: Option<String>,
    management_api: String,
}

impl AdminGuard {
    pub fn new(configured: Option<&str>, issuer: &str) -> Self {
        Self {
            client_id: configured.map(str::to_string),
            management_api: system_apis::management_api_identifier(issuer),
        }
    }

    fn refused(&self, client_id: &str) -> Error {
        Error::Forbidden(format!(
            "The client {client_id} is the bootstrap administrator (CASTELLAN_ADMIN_CLIENT_ID): it \
             cannot be deleted, lose the client_credentials grant or its secret, or lose its \
             Management API grant here. To replace it, create another client with a client grant \
             for the Management API, set CASTELLAN_ADMIN_CLIENT_ID and CASTELLAN_ADMIN_CLIENT_SECRET \
             to it and restart; this one can then be deleted."
        ))
    }

    fn is_admin(&self, client_id: &str) -> bool {
        self.client_id.as_deref() == Some(client_id)
    }

    pub fn check_delete(&self, client_id: &str) -> Result<()> {
        if self.is_admin(client_id) {
            return Err(self.refused(client_id));
        }
        Ok(())
    }

    /// `client` as an update would leave it.
    pub fn check_update(&self, client: &crate::model::Client) -> Result<()> {
        if self.is_admin(&client.client_id)
            && (!client.has_grant("client_credentials") || client.is_public())
        {
            return Err(self.refused(&client.client_id));
        }
        Ok(())
    }

    /// Deleting `grant`, or narrowing it to `scope`.
    pub fn check_grant(&self, grant: &ClientGrant, scope: Option<&[String]>) -> Result<()> {
        let narrowed = scope.is_none_or(|scope| grant.scope.iter().any(|s| !scope.contains(s)));
        if self.is_admin(&grant.client_id) && grant.audience == self.management_api && narrowed {
            return Err(self.refused(&grant.client_id));
        }
        Ok(())
    }
}
