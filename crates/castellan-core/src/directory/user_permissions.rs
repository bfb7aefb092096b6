//! Permissions given to a user directly (`/api/v2/users/{id}/permissions`). They count
//! towards the user's effective permissions like those of their roles.

use super::roles::check_permissions;
use super::user_roles::existing_user;
use crate::error::{Error, Result};
use crate::model::Permission;
use crate::store::Store;

/// Every permission must name a scope its API defines; otherwise nothing is added.
pub async fn add(store: &dyn Store, user_id: &str, permissions: &[Permission]) -> Result<()> {
    existing_user(store, user_id).await?;
    check_permissions(store, permissions).await?;
    Ok(store.add_user_permissions(user_id, permissions).await?)
}

pub async fn remove(store: &dyn Store, user_id: &str, permissions: &[Permission]) -> Result<()> {
    existing_user(store, user_id).await?;
    if permissions.is_empty() {
        return Err(Error::Invalid(
            "permissions must hold at least one permission".into(),
        ));
    }
    Ok(store.remove_user_permissions(user_id, permissions).await?)
}
