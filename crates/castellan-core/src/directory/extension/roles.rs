//! Roles through the extension: the shared `roles` table, bound to an application, with the
//! extension's permissions.

use super::{Editor, ExtensionError, Result, in_use, not_found, text};
use crate::audit::{ExtensionChange, RoleRef};
use crate::model::{ExtensionPermission, Role, RoleRecord};
use crate::store::{ExtensionStore, RoleStore, Store, StoreError};

pub const APPLICATION_TYPES: &[&str] = &["client", "resource_server"];

/// What `POST`/`PUT /roles` carry.
#[derive(Debug, Clone, Default)]
pub struct RoleInput {
    pub name: String,
    pub description: String,
    pub application_type: String,
    pub application_id: String,
    pub permissions: Vec<String>,
}

/// By GUID (or `rol_…` id).
pub async fn find<S: RoleStore + ?Sized>(store: &S, id: &str) -> Result<Role> {
    store
        .find_role(id)
        .await?
        .ok_or_else(|| not_found("roles", id))
}

pub async fn records(store: &dyn Store) -> Result<Vec<RoleRecord>> {
    Ok(store.role_records().await?)
}

/// Each role with its extension permissions.
pub async fn with_permissions(
    store: &dyn Store,
    roles: Vec<Role>,
) -> Result<Vec<(Role, Vec<ExtensionPermission>)>> {
    let ids: Vec<String> = roles.iter().map(|r| r.id.clone()).collect();
    let permissions = store.permissions_of_roles(&ids).await?;
    Ok(roles
        .into_iter()
        .map(|role| {
            let own = permissions
                .iter()
                .filter(|(id, _)| *id == role.id)
                .map(|(_, p)| p.clone())
                .collect();
            (role, own)
        })
        .collect())
}

pub(crate) fn check_application(application_type: &str, application_id: &str) -> Result<()> {
    if !APPLICATION_TYPES.contains(&application_type) {
        return Err(ExtensionError::Validation(
            "\"applicationType\" must be one of [client, resource_server]".into(),
        ));
    }
    text("applicationId", application_id, 500)
}

/// Validates the input; the permissions must exist and be bound to the role's application.
/// (The extension throws a plain error there; a `ValidationError` says more.)
async fn check<S: ExtensionStore + ?Sized>(store: &S, input: &RoleInput) -> Result<Vec<String>> {
    text("name", &input.name, 50)?;
    text("description", &input.description, 500)?;
    check_application(&input.application_type, &input.application_id)?;
    let mut guids = Vec::new();
    for id in &input.permissions {
        let p = store
            .find_permission(id)
            .await?
            .ok_or_else(|| not_found("permissions", id))?;
        if p.application_id != input.application_id {
            return Err(ExtensionError::Validation(format!(
                "The permission {} belongs to application {}, not to {}",
                p.name, p.application_id, input.application_id
            )));
        }
        if !guids.contains(&p.guid) {
            guids.push(p.guid);
        }
    }
    Ok(guids)
}

fn named(role: &Role) -> RoleRef {
    RoleRef {
        id: role.id.clone(),
        guid: role.guid.clone(),
        name: role.name.clone(),
    }
}

pub async fn create(ed: &Editor<'_>, input: RoleInput) -> Result<RoleRecord> {
    let tx = ed.begin().await?;
    let permissions = check(tx.as_ref(), &input).await?;
    let role = Role {
        id: crate::ids::role_id(),
        guid: crate::ids::guid(),
        name: input.name,
        description: input.description,
        application_id: Some(input.application_id),
        application_type: Some(input.application_type),
        created_at: ed.clock.now(),
    };
    tx.create_extension_role(&role, &permissions).await?;
    let change = ExtensionChange::CreateRole {
        role: named(&role),
        application_id: role.application_id.clone(),
        permissions: permissions.clone(),
    };
    ed.commit(tx, [change]).await?;
    Ok(RoleRecord {
        role,
        permissions,
        users: vec![],
    })
}

pub async fn update(ed: &Editor<'_>, id: &str, input: RoleInput) -> Result<RoleRecord> {
    let tx = ed.begin().await?;
    let mut role = find(tx.as_ref(), id).await?;
    let permissions = check(tx.as_ref(), &input).await?;
    // A role is bound to one application for good, as in the extension. A role made through
    // the Management API has none; the extension cannot edit it (it would have to bind it).
    match &role.application_id {
        Some(bound) if *bound == input.application_id => {}
        Some(_) => {
            return Err(ExtensionError::Validation(
                "The applicationId of a role cannot be changed".into(),
            ));
        }
        None => {
            return Err(ExtensionError::Validation(
                "This role is not bound to an application; edit it through the Management API"
                    .into(),
            ));
        }
    }
    role.name = input.name;
    role.description = input.description;
    role.application_type = Some(input.application_type);
    tx.update_extension_role(&role, &permissions).await?;
    let change = ExtensionChange::UpdateRole {
        role: named(&role),
        description: role.description.clone(),
        permissions: permissions.clone(),
    };
    ed.commit(tx, [change]).await?;
    let users = ed
        .store
        .role_records()
        .await?
        .into_iter()
        .find(|r| r.role.id == role.id)
        .map(|r| r.users)
        .unwrap_or_default();
    Ok(RoleRecord {
        role,
        permissions,
        users,
    })
}

/// Refused while a group uses the role (the schema's RESTRICT decides).
pub async fn delete(ed: &Editor<'_>, id: &str) -> Result<()> {
    let tx = ed.begin().await?;
    let role = find(tx.as_ref(), id).await?;
    match tx.delete_role(&role.id).await {
        Ok(_) => {}
        Err(StoreError::Conflict(_)) => {
            drop(tx);
            let groups = ed.store.groups_using_role(&role.id).await?;
            return Err(in_use(
                "roles",
                "groups",
                &groups.into_iter().map(|g| g.name).collect::<Vec<_>>(),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    let change = ExtensionChange::DeleteRole { role: named(&role) };
    ed.commit(tx, [change]).await?;
    Ok(())
}
