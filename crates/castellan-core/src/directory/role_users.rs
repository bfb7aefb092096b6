//! The users holding a role directly (`/api/v2/roles/{id}/users`).

use super::roles;
use crate::error::{Error, Result};
use crate::model::{Role, User};
use crate::paging::{Page, PageRequest};
use crate::store::Store;

pub async fn list(store: &dyn Store, role_id: &str, page: PageRequest) -> Result<Page<User>> {
    let role = roles::get(store, role_id).await?;
    Ok(store.list_role_users(&role.id, page).await?)
}

/// Gives the role to every user named; the first unknown user is an error and nobody gets
/// the role. Returns the role, for the audit trail.
pub async fn add(store: &dyn Store, role_id: &str, user_ids: &[String]) -> Result<Role> {
    let role = roles::get(store, role_id).await?;
    if user_ids.is_empty() {
        return Err(Error::Invalid(
            "users must hold at least one user id".into(),
        ));
    }
    for user_id in user_ids {
        if store.find_user(user_id).await?.is_none() {
            return Err(Error::NotFound { kind: "user" });
        }
    }
    store.add_role_users(&role.id, user_ids).await?;
    Ok(role)
}
