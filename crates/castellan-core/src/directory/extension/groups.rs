//! Groups through the extension: CRUD, nested groups, members, roles and mappings.

use serde_json::json;

use super::{Editor, Result, in_use, non_empty, not_found, text};
use crate::model::{
    Connection, ExtensionPermission, GrantedRole, Group, GroupMapping, GroupRecord, NestedMember,
    Role, RoleRecord, User,
};
use crate::paging::{Page, PageRequest};
use crate::store::{Store, StoreError};

/// By GUID (or `grp_…` id); 404 in the extension's words otherwise.
pub async fn find(store: &dyn Store, id: &str) -> Result<Group> {
    store
        .find_group(id)
        .await?
        .ok_or_else(|| not_found("groups", id))
}

pub async fn records(store: &dyn Store) -> Result<Vec<GroupRecord>> {
    Ok(store.group_records().await?)
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
    ed.store.create_group(&group).await?;
    ed.audit(
        "create_group",
        format!("Created group {}", group.name),
        json!({"group_id": group.guid}),
        json!({"name": group.name, "description": group.description}),
    )
    .await;
    Ok(group)
}

pub async fn update(ed: &Editor<'_>, id: &str, name: &str, description: &str) -> Result<Group> {
    text("name", name, 50)?;
    text("description", description, 500)?;
    let mut group = find(ed.store, id).await?;
    group.name = name.to_string();
    group.description = description.to_string();
    ed.store.update_group(&group).await?;
    ed.audit(
        "update_group",
        format!("Updated group {}", group.name),
        json!({"group_id": group.guid}),
        json!({"name": group.name, "description": group.description}),
    )
    .await;
    Ok(group)
}

/// Refused while the group is nested in another (the schema's RESTRICT decides; the parents
/// are read afterwards only to name them).
pub async fn delete(ed: &Editor<'_>, id: &str) -> Result<()> {
    let group = find(ed.store, id).await?;
    match ed.store.delete_group(&group.id).await {
        Ok(_) => {}
        Err(StoreError::Conflict(_)) => {
            let parents = ed.store.group_parents(&group.id).await?;
            return Err(in_use(
                "nested",
                "groups",
                &parents.into_iter().map(|g| g.name).collect::<Vec<_>>(),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    ed.audit(
        "delete_group",
        format!("Deleted group {}", group.name),
        json!({"group_id": group.guid}),
        json!({"name": group.name}),
    )
    .await;
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
async fn resolve_all(store: &dyn Store, refs: &[String]) -> Result<Vec<Group>> {
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
    let parent = find(ed.store, id).await?;
    let mut children = resolve_all(ed.store, child_refs).await?;
    let mut seen = std::collections::HashSet::new();
    children.retain(|c| c.id != parent.id && seen.insert(c.id.clone()));
    let ids: Vec<String> = children.iter().map(|c| c.id.clone()).collect();
    ed.store.add_nested_groups(&parent.id, &ids).await?;
    ed.audit(
        "add_nested_groups",
        format!("Nested groups in {}", parent.name),
        json!({"group_id": parent.guid}),
        json!({"added": children.iter().map(|c| &c.guid).collect::<Vec<_>>()}),
    )
    .await;
    Ok(())
}

pub async fn remove_nested(ed: &Editor<'_>, id: &str, child_refs: &[String]) -> Result<()> {
    non_empty("nested", child_refs)?;
    let parent = find(ed.store, id).await?;
    let children = known(ed.store, child_refs).await?;
    let ids: Vec<String> = children.iter().map(|c| c.id.clone()).collect();
    ed.store.remove_nested_groups(&parent.id, &ids).await?;
    ed.audit(
        "remove_nested_groups",
        format!("Removed nested groups from {}", parent.name),
        json!({"group_id": parent.guid}),
        json!({"removed": children.iter().map(|c| &c.guid).collect::<Vec<_>>()}),
    )
    .await;
    Ok(())
}

/// The groups among `refs` that exist; removing something that is not there is no error.
async fn known(store: &dyn Store, refs: &[String]) -> Result<Vec<Group>> {
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
    let group = find(ed.store, id).await?;
    let added = ed.store.add_group_members(&group.id, user_ids).await?;
    ed.audit(
        "add_group_members",
        format!("Added members to group {}", group.name),
        json!({"group_id": group.guid}),
        json!({"added": added}),
    )
    .await;
    Ok(())
}

pub async fn remove_members(ed: &Editor<'_>, id: &str, user_ids: &[String]) -> Result<()> {
    non_empty("members", user_ids)?;
    let group = find(ed.store, id).await?;
    ed.store.remove_group_members(&group.id, user_ids).await?;
    ed.audit(
        "remove_group_members",
        format!("Removed members from group {}", group.name),
        json!({"group_id": group.guid}),
        json!({"removed": user_ids}),
    )
    .await;
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

async fn resolve_roles(store: &dyn Store, refs: &[String]) -> Result<Vec<Role>> {
    let mut roles = Vec::with_capacity(refs.len());
    for r in refs {
        roles.push(super::roles::find(store, r).await?);
    }
    Ok(roles)
}

pub async fn add_roles(ed: &Editor<'_>, id: &str, role_refs: &[String]) -> Result<()> {
    non_empty("roles", role_refs)?;
    let group = find(ed.store, id).await?;
    let roles = resolve_roles(ed.store, role_refs).await?;
    let ids: Vec<String> = roles.iter().map(|r| r.id.clone()).collect();
    ed.store.add_group_roles(&group.id, &ids).await?;
    ed.audit(
        "add_group_roles",
        format!("Added roles to group {}", group.name),
        json!({"group_id": group.guid}),
        json!({"added": roles.iter().map(|r| &r.guid).collect::<Vec<_>>()}),
    )
    .await;
    Ok(())
}

pub async fn remove_roles(ed: &Editor<'_>, id: &str, role_refs: &[String]) -> Result<()> {
    non_empty("roles", role_refs)?;
    let group = find(ed.store, id).await?;
    let mut roles = Vec::new();
    for r in role_refs {
        if let Some(role) = ed.store.find_role(r).await? {
            roles.push(role);
        }
    }
    let ids: Vec<String> = roles.iter().map(|r| r.id.clone()).collect();
    ed.store.remove_group_roles(&group.id, &ids).await?;
    ed.audit(
        "remove_group_roles",
        format!("Removed roles from group {}", group.name),
        json!({"group_id": group.guid}),
        json!({"removed": roles.iter().map(|r| &r.guid).collect::<Vec<_>>()}),
    )
    .await;
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
    let group = find(ed.store, id).await?;
    let mappings: Vec<GroupMapping> = entries
        .iter()
        .map(|(group_name, connection_name)| GroupMapping {
            id: crate::ids::guid(),
            group_name: group_name.clone(),
            connection_name: connection_name.clone(),
        })
        .collect();
    ed.store.add_group_mappings(&group.id, &mappings).await?;
    ed.audit(
        "add_group_mappings",
        format!("Added mappings to group {}", group.name),
        json!({"group_id": group.guid}),
        json!({"added": mappings.iter().map(|m| json!({"_id": m.id, "groupName": m.group_name, "connectionName": m.connection_name})).collect::<Vec<_>>()}),
    )
    .await;
    Ok(())
}

pub async fn remove_mappings(ed: &Editor<'_>, id: &str, mapping_ids: &[String]) -> Result<()> {
    non_empty("mappings", mapping_ids)?;
    let group = find(ed.store, id).await?;
    ed.store
        .remove_group_mappings(&group.id, mapping_ids)
        .await?;
    ed.audit(
        "remove_group_mappings",
        format!("Removed mappings from group {}", group.name),
        json!({"group_id": group.guid}),
        json!({"removed": mapping_ids}),
    )
    .await;
    Ok(())
}
