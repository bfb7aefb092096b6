//! What an audit entry says of a change: each kind of change is a variant, rendered in one
//! place into the entry's stable `action` name, its sentence, its target and its values,
//! so that every front end making the same change writes the same entry.

use serde_json::{Value, json};

use crate::model::Permission;

mod applications;
mod extension;
mod mfa;
mod scripts;
mod users;

pub use applications::ApplicationChange;
pub use extension::{ExtensionChange, GroupRef, RoleRef};
pub use mfa::MfaChange;
pub use scripts::ScriptChange;
pub use users::UserChange;

/// A change to the tenant.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    CreateRole {
        role_id: String,
        name: String,
        description: String,
    },
    /// The role as the update left it.
    UpdateRole {
        role_id: String,
        name: String,
        description: String,
    },
    DeleteRole {
        role_id: String,
        name: String,
    },
    AddRolePermissions {
        role_id: String,
        role_name: String,
        permissions: Vec<Permission>,
    },
    RemoveRolePermissions {
        role_id: String,
        role_name: String,
        permissions: Vec<Permission>,
    },
    /// Roles given to one user, by their stored ids.
    AssignUserRoles {
        user_id: String,
        role_ids: Vec<String>,
    },
    RemoveUserRoles {
        user_id: String,
        role_ids: Vec<String>,
    },
    /// A role given to one user from the role's side: one entry per user, so that each
    /// shows in that user's log.
    GiveRoleToUser {
        role_id: String,
        role_name: String,
        user_id: String,
    },
    AddUserPermissions {
        user_id: String,
        permissions: Vec<Permission>,
    },
    RemoveUserPermissions {
        user_id: String,
        permissions: Vec<Permission>,
    },
    /// Rules configuration: a key's value is sealed and never shown, so only the key.
    SetRulesConfig {
        key: String,
    },
    DeleteRulesConfig {
        key: String,
    },
    /// How many there were.
    EndUserSessions {
        user_id: String,
        sessions: u64,
    },
    RevokeUserRefreshTokens {
        user_id: String,
        refresh_tokens: u64,
    },
    User(UserChange),
    Application(ApplicationChange),
    Script(ScriptChange),
    Extension(ExtensionChange),
    Mfa(MfaChange),
}

/// An audit entry's parts: `action` is a stable machine name (`assign_user_roles`),
/// `description` the human sentence, `target` what it touched (`{"user_id": …}`,
/// `{"role_id": …}`), `changes` the values added or removed.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub action: &'static str,
    pub description: String,
    pub target: Value,
    pub changes: Value,
}

/// Permissions as entries name them: `https://api.example.com read:reports`.
fn permission_names(permissions: &[Permission]) -> Vec<String> {
    permissions
        .iter()
        .map(|p| format!("{} {}", p.resource_server_identifier, p.permission_name))
        .collect()
}

impl Entry {
    pub fn new(action: &'static str, description: String, target: Value, changes: Value) -> Self {
        Entry {
            action,
            description,
            target,
            changes,
        }
    }
}

impl Change {
    /// A second log type the change is also recorded under (Auth0's `gd_*` codes for MFA
    /// changes), besides `sapi`.
    pub fn also_logged_as(&self) -> Option<&'static str> {
        match self {
            Change::Mfa(change) => change.guardian_type(),
            _ => None,
        }
    }

    pub fn entry(self) -> Entry {
        match self {
            Change::CreateRole {
                role_id,
                name,
                description,
            } => Entry::new(
                "create_role",
                format!("Create the role {name}"),
                json!({"role_id": role_id}),
                json!({"name": name, "description": description}),
            ),
            Change::UpdateRole {
                role_id,
                name,
                description,
            } => Entry::new(
                "update_role",
                format!("Update the role {name}"),
                json!({"role_id": role_id}),
                json!({"name": name, "description": description}),
            ),
            Change::DeleteRole { role_id, name } => Entry::new(
                "delete_role",
                format!("Delete the role {name}"),
                json!({"role_id": role_id}),
                json!({"name": name}),
            ),
            Change::AddRolePermissions {
                role_id,
                role_name,
                permissions,
            } => Entry::new(
                "add_role_permissions",
                format!("Add permissions to the role {role_name}"),
                json!({"role_id": role_id}),
                json!({"added": permission_names(&permissions)}),
            ),
            Change::RemoveRolePermissions {
                role_id,
                role_name,
                permissions,
            } => Entry::new(
                "remove_role_permissions",
                format!("Remove permissions from the role {role_name}"),
                json!({"role_id": role_id}),
                json!({"removed": permission_names(&permissions)}),
            ),
            Change::AssignUserRoles { user_id, role_ids } => Entry::new(
                "assign_user_roles",
                "Assign roles to a user".into(),
                json!({"user_id": user_id}),
                json!({"added": role_ids}),
            ),
            Change::RemoveUserRoles { user_id, role_ids } => Entry::new(
                "remove_user_roles",
                "Remove roles from a user".into(),
                json!({"user_id": user_id}),
                json!({"removed": role_ids}),
            ),
            Change::GiveRoleToUser {
                role_id,
                role_name,
                user_id,
            } => Entry::new(
                "assign_user_roles",
                format!("Give the role {role_name} to a user"),
                json!({"user_id": user_id, "role_id": role_id}),
                json!({"added": [role_id]}),
            ),
            Change::AddUserPermissions {
                user_id,
                permissions,
            } => Entry::new(
                "add_user_permissions",
                "Give permissions to a user".into(),
                json!({"user_id": user_id}),
                json!({"added": permission_names(&permissions)}),
            ),
            Change::RemoveUserPermissions {
                user_id,
                permissions,
            } => Entry::new(
                "remove_user_permissions",
                "Take permissions from a user".into(),
                json!({"user_id": user_id}),
                json!({"removed": permission_names(&permissions)}),
            ),
            Change::SetRulesConfig { key } => Entry::new(
                "set_rules_config",
                format!("Set the rules configuration key {key}"),
                json!({"key": key}),
                json!({}),
            ),
            Change::DeleteRulesConfig { key } => Entry::new(
                "delete_rules_config",
                format!("Delete the rules configuration key {key}"),
                json!({"key": key}),
                json!({}),
            ),
            Change::EndUserSessions { user_id, sessions } => Entry::new(
                "delete_user_sessions",
                "End all sessions of a user".into(),
                json!({"user_id": user_id}),
                json!({"sessions": sessions}),
            ),
            Change::RevokeUserRefreshTokens {
                user_id,
                refresh_tokens,
            } => Entry::new(
                "delete_user_refresh_tokens",
                "Revoke all refresh tokens of a user".into(),
                json!({"user_id": user_id}),
                json!({"refresh_tokens": refresh_tokens}),
            ),
            Change::User(change) => change.entry(),
            Change::Application(change) => change.entry(),
            Change::Script(change) => change.entry(),
            Change::Extension(change) => change.entry(),
            Change::Mfa(change) => change.entry(),
        }
    }
}
