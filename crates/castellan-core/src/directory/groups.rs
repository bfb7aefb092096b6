//! Reading groups, for the Management API's group views (`/api/v2/groups`, a user's groups).
//! Groups are changed through the Authorization Extension API (`directory::extension`).

use crate::error::{Error, Result};
use crate::model::{Group, Role, User};
use crate::paging::{Page, PageRequest};
use crate::store::Store;

/// By `grp_…` id or GUID.
pub async fn get(store: &dyn Store, id: &str) -> Result<Group> {
    store
        .find_group(id)
        .await?
        .ok_or(Error::NotFound { kind: "group" })
}

pub async fn list(store: &dyn Store, page: PageRequest) -> Result<Page<Group>> {
    Ok(store.list_groups(page).await?)
}

pub async fn members(store: &dyn Store, id: &str, page: PageRequest) -> Result<Page<User>> {
    let group = get(store, id).await?;
    Ok(store.list_group_members(&group.id, page).await?)
}

pub async fn roles(store: &dyn Store, id: &str, page: PageRequest) -> Result<Page<Role>> {
    let group = get(store, id).await?;
    Ok(store.list_group_roles(&group.id, page).await?)
}

/// The groups the user is a direct member of.
pub async fn of_user(store: &dyn Store, user_id: &str, page: PageRequest) -> Result<Page<Group>> {
    store
        .find_user(user_id)
        .await?
        .ok_or(Error::NotFound { kind: "user" })?;
    Ok(store.list_user_groups(user_id, page).await?)
}
