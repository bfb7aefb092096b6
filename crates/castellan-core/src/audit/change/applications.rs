//! Audit entries of changes to applications (clients), APIs (resource servers), client
//! grants, connections and their default assignments, signing keys. A client secret or a
//! key's private part never appears: an entry says that a secret changed, not what it is.

use serde_json::{Map, Value, json};

use super::{Change, Entry};
use crate::model::{DefaultAssignments, Named, SigningAlg};

#[derive(Debug, Clone, PartialEq)]
pub enum ApplicationChange {
    CreateClient {
        client_id: String,
        name: String,
        app_type: String,
    },
    /// The client's name as the update left it, and the attributes whose values changed
    /// (`client_secret` when a secret was set or made).
    UpdateClient {
        client_id: String,
        name: String,
        attributes: Vec<&'static str>,
    },
    RotateClientSecret {
        client_id: String,
        name: String,
    },
    DeleteClient {
        client_id: String,
        name: String,
    },
    CreateResourceServer {
        id: String,
        name: String,
        identifier: String,
    },
    /// The name as the update left it; `changes` holds each changed setting's new value
    /// and the scopes added, removed or redescribed.
    UpdateResourceServer {
        id: String,
        name: String,
        changes: Map<String, Value>,
    },
    DeleteResourceServer {
        identifier: String,
    },
    CreateClientGrant {
        grant_id: String,
        client_name: String,
        audience: String,
        scope: Vec<String>,
    },
    UpdateClientGrant {
        grant_id: String,
        client_name: String,
        audience: String,
        scope: Vec<String>,
    },
    DeleteClientGrant {
        grant_id: String,
        client_name: String,
        audience: String,
    },
    CreateConnection {
        connection_id: String,
        name: String,
    },
    /// Its options or enabled clients; default assignments are `SetDefaultAssignments`.
    UpdateConnection {
        connection_id: String,
        name: String,
    },
    DeleteConnection {
        connection_id: String,
        name: String,
    },
    /// Default assignments decide who gets which roles, so setting them is audited like a
    /// role assignment. `None`: removed.
    SetDefaultAssignments {
        connection_id: String,
        connection: String,
        defaults: Option<DefaultAssignments>,
    },
    /// `kid` signs from `current_since`; `next` is the key published to follow it.
    RotateSigningKey {
        alg: SigningAlg,
        kid: String,
        current_since: i64,
        next: String,
    },
    RevokeSigningKey {
        alg: SigningAlg,
        kid: String,
        revoked_at: i64,
    },
}

fn defaults_json(d: Option<&DefaultAssignments>) -> Value {
    d.map_or(
        Value::Null,
        |d| json!({"roles": d.roles, "groups": d.groups, "on": d.on.name()}),
    )
}

impl ApplicationChange {
    pub(super) fn entry(self) -> Entry {
        use ApplicationChange as C;
        match self {
            C::CreateClient {
                client_id,
                name,
                app_type,
            } => Entry::new(
                "create_client",
                format!("Create the application {name}"),
                json!({"client_id": client_id}),
                json!({"name": name, "app_type": app_type}),
            ),
            C::UpdateClient {
                client_id,
                name,
                attributes,
            } => Entry::new(
                "update_client",
                format!("Update the application {name}"),
                json!({"client_id": client_id}),
                json!({"attributes": attributes}),
            ),
            C::RotateClientSecret { client_id, name } => Entry::new(
                "rotate_client_secret",
                format!("Rotate the secret of the application {name}"),
                json!({"client_id": client_id}),
                json!({}),
            ),
            C::DeleteClient { client_id, name } => Entry::new(
                "delete_client",
                format!("Delete the application {name}"),
                json!({"client_id": client_id}),
                json!({}),
            ),
            C::CreateResourceServer {
                id,
                name,
                identifier,
            } => Entry::new(
                "create_resource_server",
                format!("Create the API {name}"),
                json!({"resource_server_id": id}),
                json!({"name": name, "identifier": identifier}),
            ),
            C::UpdateResourceServer { id, name, changes } => Entry::new(
                "update_resource_server",
                format!("Update the API {name}"),
                json!({"resource_server_id": id}),
                Value::Object(changes),
            ),
            C::DeleteResourceServer { identifier } => Entry::new(
                "delete_resource_server",
                format!("Delete the API {identifier}"),
                json!({"identifier": identifier}),
                json!({}),
            ),
            C::CreateClientGrant {
                grant_id,
                client_name,
                audience,
                scope,
            } => Entry::new(
                "create_client_grant",
                format!("Grant {client_name} access to {audience}"),
                json!({"client_grant_id": grant_id}),
                json!({"scope": scope}),
            ),
            C::UpdateClientGrant {
                grant_id,
                client_name,
                audience,
                scope,
            } => Entry::new(
                "update_client_grant",
                format!("Change the grant of {client_name} to {audience}"),
                json!({"client_grant_id": grant_id}),
                json!({"scope": scope}),
            ),
            C::DeleteClientGrant {
                grant_id,
                client_name,
                audience,
            } => Entry::new(
                "delete_client_grant",
                format!("Remove the grant of {client_name} to {audience}"),
                json!({"client_grant_id": grant_id}),
                json!({}),
            ),
            C::CreateConnection {
                connection_id,
                name,
            } => Entry::new(
                "create_connection",
                format!("Create the connection {name}"),
                json!({"connection_id": connection_id}),
                json!({"name": name}),
            ),
            C::UpdateConnection {
                connection_id,
                name,
            } => Entry::new(
                "update_connection",
                format!("Update the connection {name}"),
                json!({"connection_id": connection_id}),
                json!({}),
            ),
            C::DeleteConnection {
                connection_id,
                name,
            } => Entry::new(
                "delete_connection",
                format!("Delete the connection {name}"),
                json!({"connection_id": connection_id}),
                json!({}),
            ),
            C::SetDefaultAssignments {
                connection_id,
                connection,
                defaults,
            } => Entry::new(
                "set_default_assignments",
                format!("Default assignments of connection {connection} set"),
                json!({"connection_id": connection_id, "connection": connection}),
                json!({"default_assignments": defaults_json(defaults.as_ref())}),
            ),
            C::RotateSigningKey {
                alg,
                kid,
                current_since,
                next,
            } => Entry::new(
                "rotate_signing_key",
                format!("Rotate the {} signing key", alg.name()),
                json!({"kid": kid}),
                json!({"alg": alg.name(), "current_since": current_since, "next": next}),
            ),
            C::RevokeSigningKey {
                alg,
                kid,
                revoked_at,
            } => Entry::new(
                "revoke_signing_key",
                format!("Revoke the {} signing key {kid}", alg.name()),
                json!({"kid": kid}),
                json!({"revoked_at": revoked_at}),
            ),
        }
    }
}

impl From<ApplicationChange> for Change {
    fn from(change: ApplicationChange) -> Self {
        Change::Application(change)
    }
}
