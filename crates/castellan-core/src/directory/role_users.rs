//! The users holding a role directly (`/api/v2/roles/{id}/users`).

use super::{Editor, roles};
use crate::audit::Change;
use crate::error::{Error, Result};
use crate::model::{Role, User};
use crate::paging::{Page, PageRequest};
use crate::store::Store;

pub async fn list(store: &dyn Store, role_id: &str, page: PageRequest) -> Result<Page<User>> {
    let role = roles::get(store, role_id).await?;
    Ok(store.list_role_users(&role.id, page).await?)
}

/// Gives the role to every user named; the first unknown user is an error and nobody gets
/// the role. Each user gets an audit entry of their own.
pub async fn add(ed: &Editor<'_>, role_id: &str, user_ids: &[String]) -> Result<Role> {
    let tx = ed.begin().await?;
    let role = tx
        .find_role(role_id)
        .await?
        .ok_or(Error::NotFound { kind: "role" })?;
    if user_ids.is_empty() {
        return Err(Error::Invalid(
            "users must hold at least one user id".into(),
        ));
    }
    for user_id in user_ids {
        if tx.find_user(user_id).await?.is_none() {
            return Err(Error::NotFound { kind: "user" });
        }
    }
    tx.add_role_users(&role.id, user_ids).await?;
    let changes: Vec<Change> = user_ids
        .iter()
        .map(|user_id| Change::GiveRoleToUser {
            role_id: role.id.clone(),
            role_name: role.name.clone(),
            user_id: user_id.clone(),
        })
        .collect();
    ed.commit(tx, changes).await?;
    Ok(role)
}
