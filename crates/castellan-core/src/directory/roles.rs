//! Roles and the permissions they carry, shared by the Management API and (later) the
//! Authorization Extension API.

use super::validate;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::model::{Permission, Role};
use crate::store::Store;

pub async fn create(
    store: &dyn Store,
    clock: &dyn Clock,
    name: &str,
    description: Option<&str>,
) -> Result<Role> {
    validate::non_empty("name", name, 50)?;
    let description = description.unwrap_or_default();
    if description.chars().count() > 500 {
        return Err(Error::Invalid(
            "description must be at most 500 characters".into(),
        ));
    }
    let role = Role {
        id: crate::ids::role_id(),
        guid: crate::ids::guid(),
        name: name.to_string(),
        description: description.to_string(),
        application_id: None,
        application_type: None,
        created_at: clock.now(),
    };
    store.create_role(&role).await?;
    Ok(role)
}

pub async fn get(store: &dyn Store, id: &str) -> Result<Role> {
    store
        .find_role(id)
        .await?
        .ok_or(Error::NotFound { kind: "role" })
}

pub async fn update(
    store: &dyn Store,
    id: &str,
    name: Option<&str>,
    description: Option<&str>,
) -> Result<Role> {
    let mut role = get(store, id).await?;
    if let Some(name) = name {
        validate::non_empty("name", name, 50)?;
        role.name = name.to_string();
    }
    if let Some(description) = description {
        if description.chars().count() > 500 {
            return Err(Error::Invalid(
                "description must be at most 500 characters".into(),
            ));
        }
        role.description = description.to_string();
    }
    store.update_role(&role).await?;
    Ok(role)
}

pub async fn delete(store: &dyn Store, id: &str) -> Result<()> {
    let role = get(store, id).await?;
    store.delete_role(&role.id).await?;
    Ok(())
}

/// Every permission must name a scope the API defines; otherwise nothing is changed.
pub(crate) async fn check_permissions(store: &dyn Store, permissions: &[Permission]) -> Result<()> {
    if permissions.is_empty() {
        return Err(Error::Invalid(
            "permissions must hold at least one permission".into(),
        ));
    }
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

pub async fn add_permissions(
    store: &dyn Store,
    id: &str,
    permissions: &[Permission],
) -> Result<()> {
    let role = get(store, id).await?;
    check_permissions(store, permissions).await?;
    Ok(store.add_role_permissions(&role.id, permissions).await?)
}

pub async fn remove_permissions(
    store: &dyn Store,
    id: &str,
    permissions: &[Permission],
) -> Result<()> {
    let role = get(store, id).await?;
    if permissions.is_empty() {
        return Err(Error::Invalid(
            "permissions must hold at least one permission".into(),
        ));
    }
    Ok(store.remove_role_permissions(&role.id, permissions).await?)
}
