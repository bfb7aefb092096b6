//! The extension's permissions: names bound to an application.

use serde_json::json;

use super::roles::check_application;
use super::{Editor, Result, in_use, not_found, text};
use crate::model::ExtensionPermission;
use crate::store::{Store, StoreError};

#[derive(Debug, Clone, Default)]
pub struct PermissionInput {
    pub name: String,
    pub description: String,
    pub application_type: String,
    pub application_id: String,
}

fn check(input: &PermissionInput) -> Result<()> {
    text("name", &input.name, 100)?;
    text("description", &input.description, 500)?;
    check_application(&input.application_type, &input.application_id)
}

pub async fn find(store: &dyn Store, id: &str) -> Result<ExtensionPermission> {
    store
        .find_permission(id)
        .await?
        .ok_or_else(|| not_found("permissions", id))
}

pub async fn list(store: &dyn Store) -> Result<Vec<ExtensionPermission>> {
    Ok(store.list_permissions().await?)
}

pub async fn create(ed: &Editor<'_>, input: PermissionInput) -> Result<ExtensionPermission> {
    check(&input)?;
    let p = ExtensionPermission {
        guid: crate::ids::guid(),
        name: input.name,
        description: input.description,
        application_type: input.application_type,
        application_id: input.application_id,
        created_at: ed.clock.now(),
    };
    ed.store.create_permission(&p).await?;
    ed.audit(
        "create_permission",
        format!("Created permission {}", p.name),
        json!({"permission_id": p.guid}),
        json!({"name": p.name, "applicationType": p.application_type, "applicationId": p.application_id}),
    )
    .await;
    Ok(p)
}

async fn used_by(ed: &Editor<'_>, guid: &str) -> Result<super::ExtensionError> {
    let roles = ed.store.roles_using_permission(guid).await?;
    Ok(in_use(
        "permissions",
        "roles",
        &roles.into_iter().map(|r| r.name).collect::<Vec<_>>(),
    ))
}

/// Refused while a role uses the permission, as in the extension.
pub async fn update(
    ed: &Editor<'_>,
    id: &str,
    input: PermissionInput,
) -> Result<ExtensionPermission> {
    check(&input)?;
    let mut p = find(ed.store, id).await?;
    if !ed.store.roles_using_permission(&p.guid).await?.is_empty() {
        return Err(used_by(ed, &p.guid).await?);
    }
    p.name = input.name;
    p.description = input.description;
    p.application_type = input.application_type;
    p.application_id = input.application_id;
    match ed.store.update_permission(&p).await {
        Ok(()) => {}
        Err(StoreError::NotFound) => return Err(not_found("permissions", id)),
        Err(e) => return Err(e.into()),
    }
    ed.audit(
        "update_permission",
        format!("Updated permission {}", p.name),
        json!({"permission_id": p.guid}),
        json!({"name": p.name, "description": p.description}),
    )
    .await;
    Ok(p)
}

/// Refused while a role uses the permission (the schema's RESTRICT decides).
pub async fn delete(ed: &Editor<'_>, id: &str) -> Result<()> {
    let p = find(ed.store, id).await?;
    match ed.store.delete_permission(&p.guid).await {
        Ok(_) => {}
        Err(StoreError::Conflict(_)) => return Err(used_by(ed, &p.guid).await?),
        Err(e) => return Err(e.into()),
    }
    ed.audit(
        "delete_permission",
        format!("Deleted permission {}", p.name),
        json!({"permission_id": p.guid}),
        json!({"name": p.name}),
    )
    .await;
    Ok(())
}
