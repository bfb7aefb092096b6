//! Permissions given to a user directly (`/api/v2/users/{id}/permissions`). They count
//! towards the user's effective permissions like those of their roles.

use super::Editor;
use super::roles::{check_permissions, non_empty};
use crate::audit::Change;
use crate::error::Result;
use crate::model::Permission;

/// Every permission must name a scope its API defines; otherwise nothing is added.
pub async fn add(ed: &Editor<'_>, user_id: &str, permissions: &[Permission]) -> Result<()> {
    let tx = ed.begin().await?;
    super::users::find(tx.as_ref(), user_id).await?;
    check_permissions(tx.as_ref(), permissions).await?;
    tx.add_user_permissions(user_id, permissions).await?;
    let change = Change::AddUserPermissions {
        user_id: user_id.to_string(),
        permissions: permissions.to_vec(),
    };
    Ok(ed.commit(tx, [change]).await?)
}

pub async fn remove(ed: &Editor<'_>, user_id: &str, permissions: &[Permission]) -> Result<()> {
    let tx = ed.begin().await?;
    super::users::find(tx.as_ref(), user_id).await?;
    non_empty(permissions)?;
    tx.remove_user_permissions(user_id, permissions).await?;
    let change = Change::RemoveUserPermissions {
        user_id: user_id.to_string(),
        permissions: permissions.to_vec(),
    };
    Ok(ed.commit(tx, [change]).await?)
}
