//! Audit entries of changes to the Authorization Extension: its groups, roles, permissions,
//! memberships and configuration. Records are named as the extension names them, by GUID,
//! since that is what its clients send and read back.

use serde_json::{Map, Value, json};

use super::{Change, Entry};
use crate::model::GroupMapping;

/// A group as its entries name it.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRef {
    pub guid: String,
    pub name: String,
}

/// An extension role as its entries name it: by stored id and GUID.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleRef {
    pub id: String,
    pub guid: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExtensionChange {
    CreateGroup {
        group: GroupRef,
        description: String,
    },
    /// The group as the update left it.
    UpdateGroup {
        group: GroupRef,
        description: String,
    },
    DeleteGroup {
        group: GroupRef,
    },
    /// The nested groups' GUIDs.
    AddNestedGroups {
        group: GroupRef,
        children: Vec<String>,
    },
    RemoveNestedGroups {
        group: GroupRef,
        children: Vec<String>,
    },
    /// The user ids that became members (unknown users are skipped).
    AddGroupMembers {
        group: GroupRef,
        user_ids: Vec<String>,
    },
    RemoveGroupMembers {
        group: GroupRef,
        user_ids: Vec<String>,
    },
    /// The roles' GUIDs.
    AddGroupRoles {
        group: GroupRef,
        roles: Vec<String>,
    },
    RemoveGroupRoles {
        group: GroupRef,
        roles: Vec<String>,
    },
    AddGroupMappings {
        group: GroupRef,
        mappings: Vec<GroupMapping>,
    },
    RemoveGroupMappings {
        group: GroupRef,
        mapping_ids: Vec<String>,
    },
    /// The permissions by GUID.
    CreateRole {
        role: RoleRef,
        application_id: Option<String>,
        permissions: Vec<String>,
    },
    UpdateRole {
        role: RoleRef,
        description: String,
        permissions: Vec<String>,
    },
    DeleteRole {
        role: RoleRef,
    },
    CreatePermission {
        guid: String,
        name: String,
        application_type: String,
        application_id: String,
    },
    UpdatePermission {
        guid: String,
        name: String,
        description: String,
    },
    DeletePermission {
        guid: String,
        name: String,
    },
    /// The groups' GUIDs.
    AddUserToGroups {
        user_id: String,
        groups: Vec<String>,
    },
    /// The roles' GUIDs.
    AssignUserRoles {
        user_id: String,
        roles: Vec<String>,
    },
    RemoveUserRoles {
        user_id: String,
        roles: Vec<String>,
    },
    /// The settings changed, with their new values.
    UpdateSettings {
        changes: Map<String, Value>,
    },
    /// The key itself is shown once to the caller and never recorded.
    RotateApiKey,
    /// How many records the document held.
    Import {
        groups: usize,
        roles: usize,
        permissions: usize,
    },
    UpdateApiTokenLifetime {
        identifier: String,
        seconds: i64,
    },
}

fn group_target(group: &GroupRef) -> Value {
    json!({"group_id": group.guid})
}

fn role_target(role: &RoleRef) -> Value {
    json!({"role_id": role.id, "guid": role.guid})
}

fn configuration() -> Value {
    json!({"configuration": "v1"})
}

impl ExtensionChange {
    pub(super) fn entry(self) -> Entry {
        use ExtensionChange as C;
        match self {
            C::CreateGroup { group, description } => Entry::new(
                "create_group",
                format!("Created group {}", group.name),
                group_target(&group),
                json!({"name": group.name, "description": description}),
            ),
            C::UpdateGroup { group, description } => Entry::new(
                "update_group",
                format!("Updated group {}", group.name),
                group_target(&group),
                json!({"name": group.name, "description": description}),
            ),
            C::DeleteGroup { group } => Entry::new(
                "delete_group",
                format!("Deleted group {}", group.name),
                group_target(&group),
                json!({"name": group.name}),
            ),
            C::AddNestedGroups { group, children } => Entry::new(
                "add_nested_groups",
                format!("Nested groups in {}", group.name),
                group_target(&group),
                json!({"added": children}),
            ),
            C::RemoveNestedGroups { group, children } => Entry::new(
                "remove_nested_groups",
                format!("Removed nested groups from {}", group.name),
                group_target(&group),
                json!({"removed": children}),
            ),
            C::AddGroupMembers { group, user_ids } => Entry::new(
                "add_group_members",
                format!("Added members to group {}", group.name),
                group_target(&group),
                json!({"added": user_ids}),
            ),
            C::RemoveGroupMembers { group, user_ids } => Entry::new(
                "remove_group_members",
                format!("Removed members from group {}", group.name),
                group_target(&group),
                json!({"removed": user_ids}),
            ),
            C::AddGroupRoles { group, roles } => Entry::new(
                "add_group_roles",
                format!("Added roles to group {}", group.name),
                group_target(&group),
                json!({"added": roles}),
            ),
            C::RemoveGroupRoles { group, roles } => Entry::new(
                "remove_group_roles",
                format!("Removed roles from group {}", group.name),
                group_target(&group),
                json!({"removed": roles}),
            ),
            C::AddGroupMappings { group, mappings } => {
                let added: Vec<Value> = mappings
                    .iter()
                    .map(|m| json!({"_id": m.id, "groupName": m.group_name, "connectionName": m.connection_name}))
                    .collect();
                Entry::new(
                    "add_group_mappings",
                    format!("Added mappings to group {}", group.name),
                    group_target(&group),
                    json!({ "added": added }),
                )
            }
            C::RemoveGroupMappings { group, mapping_ids } => Entry::new(
                "remove_group_mappings",
                format!("Removed mappings from group {}", group.name),
                group_target(&group),
                json!({"removed": mapping_ids}),
            ),
            C::CreateRole {
                role,
                application_id,
                permissions,
            } => Entry::new(
                "create_role",
                format!("Created role {}", role.name),
                role_target(&role),
                json!({"name": role.name, "applicationId": application_id, "permissions": permissions}),
            ),
            C::UpdateRole {
                role,
                description,
                permissions,
            } => Entry::new(
                "update_role",
                format!("Updated role {}", role.name),
                role_target(&role),
                json!({"name": role.name, "description": description, "permissions": permissions}),
            ),
            C::DeleteRole { role } => Entry::new(
                "delete_role",
                format!("Deleted role {}", role.name),
                role_target(&role),
                json!({"name": role.name}),
            ),
            C::CreatePermission {
                guid,
                name,
                application_type,
                application_id,
            } => Entry::new(
                "create_permission",
                format!("Created permission {name}"),
                json!({"permission_id": guid}),
                json!({"name": name, "applicationType": application_type, "applicationId": application_id}),
            ),
            C::UpdatePermission {
                guid,
                name,
                description,
            } => Entry::new(
                "update_permission",
                format!("Updated permission {name}"),
                json!({"permission_id": guid}),
                json!({"name": name, "description": description}),
            ),
            C::DeletePermission { guid, name } => Entry::new(
                "delete_permission",
                format!("Deleted permission {name}"),
                json!({"permission_id": guid}),
                json!({"name": name}),
            ),
            C::AddUserToGroups { user_id, groups } => Entry::new(
                "add_user_groups",
                format!("Added user {user_id} to groups"),
                json!({"user_id": user_id}),
                json!({"added": groups}),
            ),
            C::AssignUserRoles { user_id, roles } => Entry::new(
                "assign_user_roles",
                format!("Assigned roles to user {user_id}"),
                json!({"user_id": user_id}),
                json!({"added": roles}),
            ),
            C::RemoveUserRoles { user_id, roles } => Entry::new(
                "remove_user_roles",
                format!("Removed roles from user {user_id}"),
                json!({"user_id": user_id}),
                json!({"removed": roles}),
            ),
            C::UpdateSettings { changes } => Entry::new(
                "update_extension_configuration",
                "Updated the Authorization Extension configuration".into(),
                configuration(),
                Value::Object(changes),
            ),
            C::RotateApiKey => Entry::new(
                "rotate_extension_api_key",
                "Rotated the Authorization Extension API key".into(),
                configuration(),
                json!({}),
            ),
            C::Import {
                groups,
                roles,
                permissions,
            } => Entry::new(
                "import_extension_data",
                "Imported the Authorization Extension data".into(),
                configuration(),
                json!({"groups": groups, "roles": roles, "permissions": permissions}),
            ),
            C::UpdateApiTokenLifetime {
                identifier,
                seconds,
            } => Entry::new(
                "update_extension_api",
                "Changed the token lifetime of the Authorization Extension API".into(),
                json!({"resource_server": identifier}),
                json!({"token_lifetime": seconds}),
            ),
        }
    }
}

impl From<ExtensionChange> for Change {
    fn from(change: ExtensionChange) -> Self {
        Change::Extension(change)
    }
}
