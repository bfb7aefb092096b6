//! Groups through the extension: CRUD, nested groups, members, roles and mappings.

use super::{Editor, Result, in_use, non_empty, not_found, text};
use crate::audit::{ExtensionChange, GroupRef};
use crate::model::{
    Connection, ExtensionPermission, GrantedRole, Group, GroupMapping, GroupRecord, NestedMember,
    Role, RoleRecord, User,
};
use crate::paging::{Page, PageRequest};
use crate::store::{GroupStore, RoleStore, Store, StoreError};

/// By GUID (or `grp_…` id); 404 in the extension's words otherwise.
pub async fn find<S: GroupStore + ?Sized>(store: &S, id: &str) -> Result<Group> {
    store
        .find_group(id)
        .await?
        .ok_or_else(|| not_found("groups", id))
}

pub async fn records(store: &dyn Store) -> Result<Vec<GroupRecord>> {
    Ok(store.group_records().await?)
}

fn named(group: &Group) -> GroupRef {
    GroupRef {
        guid: group.guid.clone(),
        name: group.name.clone(),
    }
}

pub async fn create(ed: &Editor<'_>, name: &str, description: &str) -> Result<Group> {
    text("name", name, 50)?;
    text("description", description, 500)?;
    let group = Group {
        id: format!("grp_{}", crate::ids::alphanumeric(16)),
        guid: crate::ids::guid(),
        name: name.to_string(),
        description: description.to_string(),
        created_at: ed.clock.now(),
    };
    let tx = ed.begin().await?;
    tx.create_group(&group).await?;
    let change = ExtensionChange::CreateGroup {
        group: named(&group),
        description: group.description.clone(),
    };
    ed.commit(tx, [change]).await?;
    Ok(group)
}

pub async fn update(ed: &Editor<'_>, id: &str, name: &str, description: &str) -> Result<Group> {
    text("name", name, 50)?;
    text("description", description, 500)?;
    let tx = ed.begin().await?;
    let mut group = find(tx.as_ref(), id).await?;
    group.name = name.to_string();
    group.description = description.to_string();
    tx.update_group(&group).await?;
    let change = ExtensionChange::UpdateGroup {
        group: named(&group),
        description: group.description.clone(),
    };
    ed.commit(tx, [change]).await?;
    Ok(group)
}

/// Refused while the group is nested in another (the schema's RESTRICT decides; the parents
/// are read afterwards, once the refused transaction is given up, only to name them).
pub async fn delete(ed: &Editor<'_>, id: &str) -> Result<()> {
    let tx = ed.begin().await?;
    let group = find(tx.as_ref(), id).await?;
    match tx.delete_group(&group.id).await {
        Ok(_) => {}
        Err(StoreError::Conflict(_)) => {
            drop(tx);
            let parents = ed.store.group_parents(&group.id).await?;
            return Err(in_use(
                "nested",
                "groups",
                &parents.into_iter().map(|g| g.name).collect::<Vec<_>>(),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    let change = ExtensionChange::DeleteGroup {
        group: named(&group),
    };
    ed.commit(tx, [change]).await?;
    Ok(())
}

/// The full records of the group's direct children, sorted by name.
pub async fn nested(store: &dyn Store, id: &str) -> Result<Vec<GroupRecord>> {
    let group = find(store, id).await?;
    let children: Vec<String> = store
        .list_nested_groups(&group.id)
        .await?
        .into_iter()
        .map(|g| g.id)
        .collect();
    Ok(records(store)
        .await?
        .into_iter()
        .filter(|r| children.contains(&r.group.id))
        .collect())
}

/// Resolves references to existing groups; the first unknown one is a 404.
async fn resolve_all<S: GroupStore + ?Sized>(store: &S, refs: &[String]) -> Result<Vec<Group>> {
    let mut groups = Vec::with_capacity(refs.len());
    for r in refs {
        groups.push(find(store, r).await?);
    }
    Ok(groups)
}

/// Nests the groups in `id`. The group itself and duplicates are ignored (as the extension
/// does); a child that would close a cycle is refused, naming the groups.
pub async fn add_nested(ed: &Editor<'_>, id: &str, child_refs: &[String]) -> Result<()> {
    non_empty("nested", child_refs)?;
    let tx = ed.begin().await?;
    let parent = find(tx.as_ref(), id).await?;
    let mut children = resolve_all(tx.as_ref(), child_refs).await?;
    let mut seen = std::collections::HashSet::new();
    children.retain(|c| c.id != parent.id && seen.insert(c.id.clone()));
    let ids: Vec<String> = children.iter().map(|c| c.id.clone()).collect();
    tx.add_nested_groups(&parent.id, &ids).await?;
    let change = ExtensionChange::AddNestedGroups {
        group: named(&parent),
        children: children.iter().map(|c| c.guid.clone()).collect(),
    };
    ed.commit(tx, [change]).await?;
    Ok(())
}

pub async fn remove_nested(ed: &Editor<'_>, id: &str, child_refs: &[String]) -> Result<()> {
    non_empty("nested", child_refs)?;
    let tx = ed.begin().await?;
    let parent = find(tx.as_ref(), id).await?;
    let children = known(tx.as_ref(), child_refs).await?;
    let ids: Vec<String> = children.iter().map(|c| c.id.clone()).collect();
    tx.remove_nested_groups(&parent.id, &ids).await?;
    let change = ExtensionChange::RemoveNestedGroups {
        group: named(&parent),
        children: children.iter().map(|c| c.guid.clone()).collect(),
    };
    ed.commit(tx, [change]).await?;
    Ok(())
}

/// The groups among `refs` that exist; removing something that is not there is no error.
async fn known<S: GroupStore + ?Sized>(store: &S, refs: &[String]) -> Result<Vec<Group>> {
    let mut groups = Vec::new();
    for r in refs {
        if let Some(g) = store.find_group(r).await? {
            groups.push(g);
        }
    }
    Ok(groups)
}

/// The extension's member paging: `page` is effectively 1-based (0 and 1 both give the first).
pub fn member_page(page: u64, per_page: u64) -> PageRequest {
    PageRequest {
        offset: page.saturating_sub(1).saturating_mul(per_page),
        limit: per_page,
    }
}

pub async fn members(store: &dyn Store, id: &str, page: PageRequest) -> Result<Page<User>> {
    let group = find(store, id).await?;
    Ok(store.list_group_members(&group.id, page).await?)
}

pub async fn nested_members(
    store: &dyn Store,
    id: &str,
    page: PageRequest,
) -> Result<Page<NestedMember>> {
    let group = find(store, id).await?;
    Ok(store.list_nested_group_members(&group.id, page).await?)
}

/// Adds users to the group. User ids that do not exist in Castellan are skipped: membership
/// refers to the users table.
pub async fn add_members(ed: &Editor<'_>, id: &str, user_ids: &[String]) -> Result<()> {
    non_empty("members", user_ids)?;
    let tx = ed.begin().await?;
    let group = find(tx.as_ref(), id).await?;
    let added = tx.add_group_members(&group.id, user_ids).await?;
    let change = ExtensionChange::AddGroupMembers {
        group: named(&group),
        user_ids: added,
    };
    ed.commit(tx, [change]).await?;
    Ok(())
}

pub async fn remove_members(ed: &Editor<'_>, id: &str, user_ids: &[String]) -> Result<()> {
    non_empty("members", user_ids)?;
    let tx = ed.begin().await?;
    let group = find(tx.as_ref(), id).await?;
    tx.remove_group_members(&group.id, user_ids).await?;
    let change = ExtensionChange::RemoveGroupMembers {
        group: named(&group),
        user_ids: user_ids.to_vec(),
    };
    ed.commit(tx, [change]).await?;
    Ok(())
}

/// The full records of the roles on the group itself.
pub async fn roles(store: &dyn Store, id: &str) -> Result<Vec<RoleRecord>> {
    let group = find(store, id).await?;
    let on_group: Vec<String> = store
        .list_group_roles(&group.id, PageRequest::ALL)
        .await?
        .items
        .into_iter()
        .map(|r| r.id)
        .collect();
    Ok(store
        .role_records()
        .await?
        .into_iter()
        .filter(|r| on_group.contains(&r.role.id))
        .collect())
}

/// Roles of the group and its ancestors, each with the group granting it.
pub async fn nested_roles(store: &dyn Store, id: &str) -> Result<Vec<GrantedRole>> {
    let group = find(store, id).await?;
    Ok(store.roles_of_group_and_ancestors(&group.id).await?)
}

/// `?expand`: the roles of the group and its ancestors (once each), with their permissions.
pub async fn expanded_roles(
    store: &dyn Store,
    id: &str,
) -> Result<Vec<(Role, Vec<ExtensionPermission>)>> {
    let mut roles: Vec<Role> = nested_roles(store, id)
        .await?
        .into_iter()
        .map(|g| g.role)
        .collect();
    let mut seen = std::collections::HashSet::new();
    roles.retain(|r| seen.insert(r.id.clone()));
    super::roles::with_permissions(store, roles).await
}

async fn resolve_roles<S: RoleStore + ?Sized>(store: &S, refs: &[String]) -> Result<Vec<Role>> {
    let mut roles = Vec::with_capacity(refs.len());
    for r in refs {
        roles.push(super::roles::find(store, r).await?);
    }
    Ok(roles)
}

pub async fn add_roles(ed: &Editor<'_>, id: &str, role_refs: &[String]) -> Result<()> {
    non_empty("roles", role_refs)?;
    let tx = ed.begin().await?;
    let group = find(tx.as_ref(), id).await?;
    let roles = resolve_roles(tx.as_ref(), role_refs).await?;
    let ids: Vec<String> = roles.iter().map(|r| r.id.clone()).collect();
    tx.add_group_roles(&group.id, &ids).await?;
    let change = ExtensionChange::AddGroupRoles {
        group: named(&group),
        roles: roles.iter().map(|r| r.guid.clone()).collect(),
    };
    ed.commit(tx, [change]).await?;
    Ok(())
}

pub async fn remove_roles(ed: &Editor<'_>, id: &str, role_refs: &[String]) -> Result<()> {
    non_empty("roles", role_refs)?;
    let tx = ed.begin().await?;
    let group = find(tx.as_ref(), id).await?;
    let mut roles = Vec::new();
    for r in role_refs {
        if let Some(role) = tx.find_role(r).await? {
            roles.push(role);
        }
    }
    let ids: Vec<String> = roles.iter().map(|r| r.id.clone()).collect();
    tx.remove_group_roles(&group.id, &ids).await?;
    let change = ExtensionChange::RemoveGroupRoles {
        group: named(&group),
        roles: roles.iter().map(|r| r.guid.clone()).collect(),
    };
    ed.commit(tx, [change]).await?;
    Ok(())
}

/// Mappings whose connection still exists, with that connection (the extension shows
/// `"<name> (<strategy>)"`).
pub async fn mappings(store: &dyn Store, id: &str) -> Result<Vec<(GroupMapping, Connection)>> {
    let group = find(store, id).await?;
    let mut out = Vec::new();
    for m in store.list_group_mappings(&group.id).await? {
        if let Some(c) = store.find_connection_by_name(&m.connection_name).await? {
            out.push((m, c));
        }
    }
    Ok(out)
}

/// Each entry is (IdP group name, connection name) and gets a fresh id.
pub async fn add_mappings(ed: &Editor<'_>, id: &str, entries: &[(String, String)]) -> Result<()> {
    non_empty("mappings", entries)?;
    for (group_name, connection_name) in entries {
        text("groupName", group_name, 50)?;
        text("connectionName", connection_name, 50)?;
    }
    let tx = ed.begin().await?;
    let group = find(tx.as_ref(), id).await?;
    let mappings: Vec<GroupMapping> = entries
        .iter()
        .map(|(group_name, connection_name)| GroupMapping {
            id: crate::ids::guid(),
            group_name: group_name.clone(),
            connection_name: connection_name.clone(),
        })
        .collect();
    tx.add_group_mappings(&group.id, &mappings).await?;
    let change = ExtensionChange::AddGroupMappings {
        group: named(&group),
        mappings,
    };
    ed.commit(tx, [change]).await?;
    Ok(())
}

pub async fn remove_mappings(ed: &Editor<'_>, id: &str, mapping_ids: &[String]) -> Result<()> {
    non_empty("mappings", mapping_ids)?;
    let tx = ed.begin().await?;
    let group = find(tx.as_ref(), id).await?;
    tx.remove_group_mappings(&group.id, mapping_ids).await?;
    let change = ExtensionChange::RemoveGroupMappings {
        group: named(&group),
        mapping_ids: mapping_ids.to_vec(),
    };
    ed.commit(tx, [change]).await?;
    Ok(())
}
