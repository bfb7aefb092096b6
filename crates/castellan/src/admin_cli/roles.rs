//! `castellan roles create|list|assign|add-permissions`.

use castellan_core::directory::roles::NewRole;
use castellan_core::directory::{role_users, roles};
use castellan_core::model::{Permission, Role};
use castellan_core::paging::PageRequest;
use serde_json::{Value, json};

use super::error::CliError;
use super::output::{show, table};
use super::tenant::Tenant;

#[derive(Debug, clap::Subcommand)]
pub enum RolesAction {
    /// Create a role.
    Create {
        name: String,
        #[arg(long)]
        description: Option<String>,
    },
    /// List roles by name.
    List {
        /// Only roles whose name contains this (case-insensitive).
        #[arg(long)]
        filter: Option<String>,
    },
    /// Give a role (id or name) to users (ids or emails).
    Assign {
        role: String,
        #[arg(required = true)]
        users: Vec<String>,
        /// The connection of users given by an email held in several.
        #[arg(long)]
        connection: Option<String>,
    },
    /// Let a role (id or name) hold scopes of an API (id or identifier).
    AddPermissions {
        role: String,
        #[arg(long)]
        api: String,
        #[arg(required = true)]
        scopes: Vec<String>,
    },
}

pub fn wire(role: &Role) -> Value {
    json!({"id": role.id, "name": role.name, "description": role.description})
}

pub async fn run(tenant: &Tenant, action: RolesAction, json_wanted: bool) -> Result<(), CliError> {
    match action {
        RolesAction::Create { name, description } => {
            let role = create(tenant, &name, description.as_deref()).await?;
            show(json_wanted, wire(&role), || {
                format!("created the role {} ({})\n", role.name, role.id)
            });
        }
        RolesAction::List { filter } => {
            let page = tenant
                .store
                .list_roles(filter.as_deref(), PageRequest::ALL)
                .await?;
            show(
                json_wanted,
                Value::Array(page.items.iter().map(wire).collect()),
                || {
                    let rows: Vec<Vec<String>> = page
                        .items
                        .iter()
                        .map(|r| vec![r.id.clone(), r.name.clone(), r.description.clone()])
                        .collect();
                    table(&["ID", "NAME", "DESCRIPTION"], &rows)
                },
            );
        }
        RolesAction::Assign {
            role,
            users,
            connection,
        } => {
            let role = tenant.role(&role).await?;
            let mut user_ids = Vec::with_capacity(users.len());
            for reference in &users {
                user_ids.push(tenant.user(reference, connection.as_deref()).await?.user_id);
            }
            assign(tenant, &role, &user_ids).await?;
            show(
                json_wanted,
                json!({"role": wire(&role), "users": user_ids}),
                || format!("gave the role {} to {}\n", role.name, user_ids.join(", ")),
            );
        }
        RolesAction::AddPermissions { role, api, scopes } => {
            let role = tenant.role(&role).await?;
            let api = castellan_core::directory::resource_servers::get(tenant.store.as_ref(), &api)
                .await?;
            let permissions: Vec<Permission> = scopes
                .iter()
                .map(|s| Permission {
                    resource_server_identifier: api.identifier.clone(),
                    permission_name: s.clone(),
                })
                .collect();
            add_permissions(tenant, &role, &permissions).await?;
            show(
                json_wanted,
                json!({"role": wire(&role), "api": api.identifier, "added": scopes}),
                || {
                    format!(
                        "the role {} holds {} on {}\n",
                        role.name,
                        scopes.join(" "),
                        api.identifier
                    )
                },
            );
        }
    }
    Ok(())
}

/// `roles::create`, as `POST /api/v2/roles` makes it.
pub async fn create(
    tenant: &Tenant,
    name: &str,
    description: Option<&str>,
) -> Result<Role, CliError> {
    let input = NewRole {
        name: name.to_string(),
        description: description.map(String::from),
    };
    roles::create(&tenant.editor(), input)
        .await
        .map_err(|e| match e {
            castellan_core::Error::Conflict(_) => {
                CliError::Input(format!("a role named \"{name}\" already exists"))
            }
            other => other.into(),
        })
}

/// `role_users::add`, as `POST /api/v2/roles/{id}/users` makes it.
pub async fn assign(tenant: &Tenant, role: &Role, user_ids: &[String]) -> Result<(), CliError> {
    role_users::add(&tenant.editor(), &role.id, user_ids).await?;
    Ok(())
}

/// The role named `name`, created when there is none; one another process made meanwhile
/// (nodes starting together) is as good.
pub async fn ensure(tenant: &Tenant, name: &str, description: &str) -> Result<Role, CliError> {
    if let Some(role) = tenant.find_role(name).await? {
        return Ok(role);
    }
    match create(tenant, name, Some(description)).await {
        Ok(role) => Ok(role),
        Err(CliError::Input(_)) => tenant.role(name).await,
        Err(e) => Err(e),
    }
}

/// `roles::add_permissions`, as `POST /api/v2/roles/{id}/permissions` makes it.
pub async fn add_permissions(
    tenant: &Tenant,
    role: &Role,
    permissions: &[Permission],
) -> Result<(), CliError> {
    roles::add_permissions(&tenant.editor(), &role.id, permissions).await?;
    Ok(())
}
