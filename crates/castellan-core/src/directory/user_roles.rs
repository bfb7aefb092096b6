//! Roles assigned to a user directly (`/api/v2/users/{id}/roles`).

use super::{Editor, users};
use crate::audit::Change;
use crate::error::{Error, Result};
use crate::model::Role;
use crate::paging::{Page, PageRequest};
use crate::store::{RoleStore, Store};

/// The stored ids of `ids` (which may be `rol_…` ids or GUIDs); the first unknown one is an
/// error, so nothing is half-assigned.
async fn resolve<S: RoleStore + ?Sized>(store: &S, ids: &[String]) -> Result<Vec<String>> {
    if ids.is_empty() {
        return Err(Error::Invalid(
            "roles must hold at least one role id".into(),
        ));
    }
    let mut resolved = Vec::with_capacity(ids.len());
    for id in ids {
        let role = store
            .find_role(id)
            .await?
            .ok_or(Error::NotFound { kind: "role" })?;
        resolved.push(role.id);
    }
    Ok(resolved)
}

pub async fn assign(ed: &Editor<'_>, user_id: &str, role_ids: &[String]) -> Result<()> {
    let tx = ed.begin().await?;
    users::find(tx.as_ref(), user_id).await?;
    let role_ids = resolve(tx.as_ref(), role_ids).await?;
    tx.assign_user_roles(user_id, &role_ids).await?;
    let change = Change::AssignUserRoles {
        user_id: user_id.to_string(),
        role_ids,
    };
    Ok(ed.commit(tx, [change]).await?)
}

pub async fn remove(ed: &Editor<'_>, user_id: &str, role_ids: &[String]) -> Result<()> {
    let tx = ed.begin().await?;
    users::find(tx.as_ref(), user_id).await?;
    let role_ids = resolve(tx.as_ref(), role_ids).await?;
    tx.remove_user_roles(user_id, &role_ids).await?;
    let change = Change::RemoveUserRoles {
        user_id: user_id.to_string(),
        role_ids,
    };
    Ok(ed.commit(tx, [change]).await?)
}

pub async fn list(store: &dyn Store, user_id: &str, page: PageRequest) -> Result<Page<Role>> {
    users::find(store, user_id).await?;
    Ok(store.list_user_roles(user_id, page).await?)
}
