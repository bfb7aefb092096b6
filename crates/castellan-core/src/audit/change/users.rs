//! Audit entries of changes to users: create, update, delete, block and unblock, passwords, imports.

use serde_json::json;

use super::{Change, Entry};

#[derive(Debug, Clone, PartialEq)]
pub enum UserChange {
    Create {
        user_id: String,
        connection: String,
    },
    /// The attributes the change named, by name only: their values may be secrets (a
    /// password) or personal data. Blocking, unblocking and a new password are updates of
    /// `blocked` and `password`, as through `PATCH /api/v2/users/{id}`.
    Update {
        user_id: String,
        attributes: Vec<&'static str>,
    },
    Delete {
        user_id: String,
    },
    /// The blocks that repeated failed log-ins put on the user, lifted.
    UnblockLogins {
        user_id: String,
    },
    /// A link to choose a new password, mailed to the user.
    SendPasswordReset {
        user_id: String,
    },
    /// A connection's default roles and groups, given to the user by the event `on`
    /// (`signup`, `first_login`, `email_verified`).
    ApplyDefaultAssignments {
        user_id: String,
        on: &'static str,
        role_ids: Vec<String>,
        group_ids: Vec<String>,
    },
    /// Roles and groups a rule or action gave or took at log-in, by their stored ids.
    ScriptAuthorization {
        user_id: String,
        script: String,
        assigned_roles: Vec<String>,
        removed_roles: Vec<String>,
        added_groups: Vec<String>,
        removed_groups: Vec<String>,
    },
    /// Users brought over at once: how many, never their hashes.
    Import {
        connection: String,
        users: usize,
        with_password_hash: usize,
    },
}

impl UserChange {
    pub(super) fn entry(self) -> Entry {
        match self {
            UserChange::Create {
                user_id,
                connection,
            } => Entry::new(
                "create_user",
                "Create a user".into(),
                json!({"user_id": user_id}),
                json!({"connection": connection}),
            ),
            UserChange::Update {
                user_id,
                attributes,
            } => Entry::new(
                "update_user",
                "Update a user".into(),
                json!({"user_id": user_id}),
                json!({"attributes": attributes}),
            ),
            UserChange::Delete { user_id } => Entry::new(
                "delete_user",
                "Delete a user".into(),
                json!({"user_id": user_id}),
                json!({}),
            ),
            UserChange::UnblockLogins { user_id } => Entry::new(
                "unblock_user_logins",
                "Lift a user's blocks after failed log-ins".into(),
                json!({"user_id": user_id}),
                json!({}),
            ),
            UserChange::SendPasswordReset { user_id } => Entry::new(
                "send_password_reset",
                "Send a password reset link".into(),
                json!({"user_id": user_id}),
                json!({}),
            ),
            UserChange::ApplyDefaultAssignments {
                user_id,
                on,
                role_ids,
                group_ids,
            } => Entry::new(
                "apply_default_assignments",
                format!("Default assignments applied on {on}"),
                json!({"user_id": user_id}),
                json!({"roles": role_ids, "groups": group_ids}),
            ),
            UserChange::ScriptAuthorization {
                user_id,
                script,
                assigned_roles,
                removed_roles,
                added_groups,
                removed_groups,
            } => Entry::new(
                "script_authorization",
                format!("Roles or groups changed by '{script}' at log-in"),
                json!({"user_id": user_id}),
                json!({
                    "assigned_roles": assigned_roles,
                    "removed_roles": removed_roles,
                    "added_groups": added_groups,
                    "removed_groups": removed_groups,
                }),
            ),
            UserChange::Import {
                connection,
                users,
                with_password_hash,
            } => Entry::new(
                "import_users",
                format!("Imported {users} users into {connection}"),
                json!({"connection": connection}),
                json!({"users": users, "with_password_hash": with_password_hash}),
            ),
        }
    }
}

impl From<UserChange> for Change {
    fn from(change: UserChange) -> Self {
        Change::User(change)
    }
}
