//! Users through the extension: the user list, a user's groups and roles.

use super::{Editor, Result, is_id, non_empty, not_found};
use crate::audit::ExtensionChange;
use crate::model::{ExtensionPermission, Group, Role, User};
use crate::paging::{Page, PageRequest};
use crate::store::{Store, UserStore};

pub async fn find<S: UserStore + ?Sized>(store: &S, user_id: &str) -> Result<User> {
    store
        .find_user(user_id)
        .await?
        .ok_or_else(|| not_found("users", user_id))
}

/// `q` searched in `field` (or in email, name, nickname and user id).
pub async fn search(
    store: &dyn Store,
    field: Option<&str>,
    q: Option<&str>,
    page: PageRequest,
) -> Result<Page<User>> {
    Ok(store.find_users_containing(field, q, page).await?)
}

pub async fn groups(store: &dyn Store, user_id: &str) -> Result<Vec<Group>> {
    Ok(store
        .list_user_groups(user_id, PageRequest::ALL)
        .await?
        .items)
}

/// Direct groups and all their ancestors.
pub async fn calculated_groups(store: &dyn Store, user_id: &str) -> Result<Vec<Group>> {
    Ok(store.user_groups_with_ancestors(user_id).await?)
}

/// `?expand`: the groups with their ancestors, and the roles of those groups with their
/// permissions.
pub async fn expanded_groups(
    store: &dyn Store,
    user_id: &str,
) -> Result<(Vec<Group>, Vec<(Role, Vec<ExtensionPermission>)>)> {
    let groups = calculated_groups(store, user_id).await?;
    let mut roles: Vec<Role> = Vec::new();
    for g in &groups {
        for role in store.list_group_roles(&g.id, PageRequest::ALL).await?.items {
            if !roles.iter().any(|r| r.id == role.id) {
                roles.push(role);
            }
        }
    }
    roles.sort_by_key(|a| a.name.to_lowercase());
    Ok((groups, super::roles::with_permissions(store, roles).await?))
}

/// Group GUIDs, or group names when the first entry is not an id (the extension's rule).
/// Unknown entries are skipped; the user must exist (memberships refer to the users table).
pub async fn add_groups(ed: &Editor<'_>, user_id: &str, refs: &[String]) -> Result<()> {
    non_empty("groups", refs)?;
    let tx = ed.begin().await?;
    find(tx.as_ref(), user_id).await?;
    let by_id = is_id(&refs[0]);
    let all = tx.list_groups(PageRequest::ALL).await?.items;
    let chosen: Vec<&Group> = all
        .iter()
        .filter(|g| {
            refs.iter().any(|r| {
                if by_id {
                    *r == g.guid || *r == g.id
                } else {
                    r.to_lowercase() == g.name.to_lowercase()
                }
            })
        })
        .collect();
    let ids: Vec<String> = chosen.iter().map(|g| g.id.clone()).collect();
    tx.add_user_to_groups(user_id, &ids).await?;
    let change = ExtensionChange::AddUserToGroups {
        user_id: user_id.to_string(),
        groups: chosen.iter().map(|g| g.guid.clone()).collect(),
    };
    ed.commit(tx, [change]).await?;
    Ok(())
}

/// Direct roles only.
pub async fn roles(store: &dyn Store, user_id: &str) -> Result<Vec<Role>> {
    Ok(store
        .list_user_roles(user_id, PageRequest::ALL)
        .await?
        .items)
}

/// Direct roles plus the roles of direct groups and their ancestors, for every application.
pub async fn calculated_roles(store: &dyn Store, user_id: &str) -> Result<Vec<Role>> {
    Ok(store.calculated_user_roles(user_id).await?)
}

/// Role GUIDs, or role names when the first entry is not an id; a name matches the role of
/// that name in every application. Unknown entries are skipped, as in the extension.
pub async fn add_roles(ed: &Editor<'_>, user_id: &str, refs: &[String]) -> Result<()> {
    non_empty("roles", refs)?;
    let tx = ed.begin().await?;
    find(tx.as_ref(), user_id).await?;
    let by_id = is_id(&refs[0]);
    let all = tx.list_roles(None, PageRequest::ALL).await?.items;
    let chosen: Vec<&Role> = all
        .iter()
        .filter(|role| {
            refs.iter().any(|r| {
                if by_id {
                    *r == role.guid || *r == role.id
                } else {
                    r.to_lowercase() == role.name.to_lowercase()
                }
            })
        })
        .collect();
    let ids: Vec<String> = chosen.iter().map(|r| r.id.clone()).collect();
    tx.assign_user_roles(user_id, &ids).await?;
    let change = ExtensionChange::AssignUserRoles {
        user_id: user_id.to_string(),
        roles: chosen.iter().map(|r| r.guid.clone()).collect(),
    };
    ed.commit(tx, [change]).await?;
    Ok(())
}

/// Role GUIDs only; an unknown role is a 404 and nothing is removed.
pub async fn remove_roles(ed: &Editor<'_>, user_id: &str, refs: &[String]) -> Result<()> {
    non_empty("roles", refs)?;
    let tx = ed.begin().await?;
    find(tx.as_ref(), user_id).await?;
    let mut roles = Vec::with_capacity(refs.len());
    for r in refs {
        roles.push(super::roles::find(tx.as_ref(), r).await?);
    }
    let ids: Vec<String> = roles.iter().map(|r| r.id.clone()).collect();
    tx.remove_user_roles(user_id, &ids).await?;
    let change = ExtensionChange::RemoveUserRoles {
        user_id: user_id.to_string(),
        roles: roles.into_iter().map(|r| r.guid).collect(),
    };
    ed.commit(tx, [change]).await?;
    Ok(())
}
