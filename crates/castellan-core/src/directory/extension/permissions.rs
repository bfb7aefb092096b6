//! The extension's permissions: names bound to an application.

use super::roles::check_application;
use super::{Editor, Result, in_use, not_found, text};
use crate::audit::ExtensionChange;
use crate::model::ExtensionPermission;
use crate::store::{ExtensionStore, Store, StoreError};

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

pub async fn find<S: ExtensionStore + ?Sized>(store: &S, id: &str) -> Result<ExtensionPermission> {
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
    let tx = ed.begin().await?;
    tx.create_permission(&p).await?;
    let change = ExtensionChange::CreatePermission {
        guid: p.guid.clone(),
        name: p.name.clone(),
        application_type: p.application_type.clone(),
        application_id: p.application_id.clone(),
    };
    ed.commit(tx, [change]).await?;
    Ok(p)
}

async fn used_by<S: ExtensionStore + ?Sized>(
    store: &S,
    guid: &str,
) -> Result<super::ExtensionError> {
    let roles = store.roles_using_permission(guid).await?;
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
    let tx = ed.begin().await?;
    let mut p = find(tx.as_ref(), id).await?;
    if !tx.roles_using_permission(&p.guid).await?.is_empty() {
        return Err(used_by(tx.as_ref(), &p.guid).await?);
    }
    p.name = input.name;
    p.description = input.description;
    p.application_type = input.application_type;
    p.application_id = input.application_id;
    match tx.update_permission(&p).await {
        Ok(()) => {}
        Err(StoreError::NotFound) => return Err(not_found("permissions", id)),
        Err(e) => return Err(e.into()),
    }
    let change = ExtensionChange::UpdatePermission {
        guid: p.guid.clone(),
        name: p.name.clone(),
        description: p.description.clone(),
    };
    ed.commit(tx, [change]).await?;
    Ok(p)
}

/// Refused while a role uses the permission (the schema's RESTRICT decides).
pub async fn delete(ed: &Editor<'_>, id: &str) -> Result<()> {
    let tx = ed.begin().await?;
    let p = find(tx.as_ref(), id).await?;
    match tx.delete_permission(&p.guid).await {
        Ok(_) => {}
        Err(StoreError::Conflict(_)) => {
            drop(tx);
            return Err(used_by(ed.store, &p.guid).await?);
        }
        Err(e) => return Err(e.into()),
    }
    let change = ExtensionChange::DeletePermission {
        guid: p.guid,
        name: p.name,
    };
    ed.commit(tx, [change]).await?;
    Ok(())
}
