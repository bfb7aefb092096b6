//! Roles and the permissions they carry: the commands every front end makes them through.

use super::{Editor, validate};
use crate::audit::Change;
use crate::error::{Error, Result};
use crate::model::{Permission, Role};
use crate::store::{ResourceServerStore, RoleStore, Store};

pub struct NewRole {
    pub name: String,
    pub description: Option<String>,
}

/// Fields left `None` keep their value.
#[derive(Default)]
pub struct RoleUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
}

fn check_description(description: &str) -> Result<()> {
    if description.chars().count() > 500 {
        return Err(Error::Invalid(
            "description must be at most 500 characters".into(),
        ));
    }
    Ok(())
}

pub async fn create(ed: &Editor<'_>, input: NewRole) -> Result<Role> {
    validate::non_empty("name", &input.name, 50)?;
    let description = input.description.unwrap_or_default();
    check_description(&description)?;
    let role = Role {
        id: crate::ids::role_id(),
        guid: crate::ids::guid(),
        name: input.name,
        description,
        application_id: None,
        application_type: None,
        created_at: ed.clock.now(),
    };
    let tx = ed.begin().await?;
    tx.create_role(&role).await?;
    let change = Change::CreateRole {
        role_id: role.id.clone(),
        name: role.name.clone(),
        description: role.description.clone(),
    };
    ed.commit(tx, [change]).await?;
    Ok(role)
}

pub async fn get(store: &dyn Store, id: &str) -> Result<Role> {
    find(store, id).await
}

async fn find<S: RoleStore + ?Sized>(store: &S, id: &str) -> Result<Role> {
    store
        .find_role(id)
        .await?
        .ok_or(Error::NotFound { kind: "role" })
}

pub async fn update(ed: &Editor<'_>, id: &str, input: RoleUpdate) -> Result<Role> {
    if let Some(name) = &input.name {
        validate::non_empty("name", name, 50)?;
    }
    if let Some(description) = &input.description {
        check_description(description)?;
    }
    let tx = ed.begin().await?;
    let mut role = find(tx.as_ref(), id).await?;
    role.name = input.name.unwrap_or(role.name);
    role.description = input.description.unwrap_or(role.description);
    tx.update_role(&role).await?;
    let change = Change::UpdateRole {
        role_id: role.id.clone(),
        name: role.name.clone(),
        description: role.description.clone(),
    };
    ed.commit(tx, [change]).await?;
    Ok(role)
}

pub async fn delete(ed: &Editor<'_>, id: &str) -> Result<Role> {
    let tx = ed.begin().await?;
    let role = find(tx.as_ref(), id).await?;
    tx.delete_role(&role.id).await?;
    let change = Change::DeleteRole {
        role_id: role.id.clone(),
        name: role.name.clone(),
    };
    ed.commit(tx, [change]).await?;
    Ok(role)
}

/// Every permission must name a scope the API defines; otherwise nothing is changed.
pub(crate) async fn check_permissions<S: ResourceServerStore + ?Sized>(
    store: &S,
    permissions: &[Permission],
) -> Result<()> {
    non_empty(permissions)?;
    for p in permissions {
        let api = store
            .find_resource_server_by_identifier(&p.resource_server_identifier)
            .await?
            .ok_or(Error::NotFound {
                kind: "resource server",
            })?;
        if !api.has_scope(&p.permission_name) {
            return Err(Error::Invalid(format!(
                "permission \"{}\" is not defined on the API {}",
                p.permission_name, api.identifier
            )));
        }
    }
    Ok(())
}

pub(crate) fn non_empty(permissions: &[Permission]) -> Result<()> {
    if permissions.is_empty() {
        return Err(Error::Invalid(
            "permissions must hold at least one permission".into(),
        ));
    }
    Ok(())
}

pub async fn add_permissions(
    ed: &Editor<'_>,
    id: &str,
    permissions: &[Permission],
) -> Result<Role> {
    let tx = ed.begin().await?;
    let role = find(tx.as_ref(), id).await?;
    check_permissions(tx.as_ref(), permissions).await?;
    tx.add_role_permissions(&role.id, permissions).await?;
    let change = Change::AddRolePermissions {
        role_id: role.id.clone(),
        role_name: role.name.clone(),
        permissions: permissions.to_vec(),
    };
    ed.commit(tx, [change]).await?;
    Ok(role)
}

pub async fn remove_permissions(
    ed: &Editor<'_>,
    id: &str,
    permissions: &[Permission],
) -> Result<Role> {
    let tx = ed.begin().await?;
    let role = find(tx.as_ref(), id).await?;
    non_empty(permissions)?;
    tx.remove_role_permissions(&role.id, permissions).await?;
    let change = Change::RemoveRolePermissions {
        role_id: role.id.clone(),
        role_name: role.name.clone(),
        permissions: permissions.to_vec(),
    };
    ed.commit(tx, [change]).await?;
    Ok(role)
}
