//! Roles assigned to a user directly (`/api/v2/users/{id}/roles`).

use crate::error::{Error, Result};
use crate::model::Role;
use crate::paging::{Page, PageRequest};
use crate::store::Store;

/// The stored ids of `ids` (which may be `rol_…` ids or GUIDs); the first unknown one is an
/// error, so nothing is half-assigned.
async fn resolve(store: &dyn Store, ids: &[String]) -> Result<Vec<String>> {
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

pub(crate) async fn existing_user(store: &dyn Store, user_id: &str) -> Result<()> {
    store
        .find_user(user_id)
        .await?
        .map(|_| ())
        .ok_or(Error::NotFound { kind: "user" })
}

pub async fn assign(store: &dyn Store, user_id: &str, role_ids: &[String]) -> Result<()> {
    existing_user(store, user_id).await?;
    let roles = resolve(store, role_ids).await?;
    Ok(store.assign_user_roles(user_id, &roles).await?)
}

pub async fn remove(store: &dyn Store, user_id: &str, role_ids: &[String]) -> Result<()> {
    existing_user(store, user_id).await?;
    let roles = resolve(store, role_ids).await?;
    Ok(store.remove_user_roles(user_id, &roles).await?)
}

pub async fn list(store: &dyn Store, user_id: &str, page: PageRequest) -> Result<Page<Role>> {
    existing_user(store, user_id).await?;
    Ok(store.list_user_roles(user_id, page).await?)
}
