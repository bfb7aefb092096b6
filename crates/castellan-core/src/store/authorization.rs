use crate::model::{Permission, PermissionSource, Role};

use super::StoreResult;

/// Resolved default assignments of a connection: stored ids, applied in the transaction of
/// the event that triggers them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DefaultGrant {
    pub role_ids: Vec<String>,
    pub group_ids: Vec<String>,
}

impl DefaultGrant {
    pub fn is_empty(&self) -> bool {
        self.role_ids.is_empty() && self.group_ids.is_empty()
    }
}

/// What one log-in script changed for the logging-in user: new metadata (already merged)
/// and role and group changes by stored id. Applied in one transaction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScriptChanges {
    pub app_metadata: Option<serde_json::Map<String, serde_json::Value>>,
    pub user_metadata: Option<serde_json::Map<String, serde_json::Value>>,
    pub assign_role_ids: Vec<String>,
    pub remove_role_ids: Vec<String>,
    pub add_group_ids: Vec<String>,
    pub remove_group_ids: Vec<String>,
}

impl ScriptChanges {
    pub fn is_empty(&self) -> bool {
        *self == ScriptChanges::default()
    }

    pub fn changes_authorization(&self) -> bool {
        !(self.assign_role_ids.is_empty()
            && self.remove_role_ids.is_empty()
            && self.add_group_ids.is_empty()
            && self.remove_group_ids.is_empty())
    }
}

/// What a user holds, computed from direct roles, groups (direct, dynamic through the
/// connection's mappings, and every ancestor through nesting) and direct permissions. Each
/// answer is one query, whatever the number of roles and groups.
#[async_trait::async_trait]
pub trait AuthorizationStore: Send + Sync {
    /// The names of the permissions on one API the user holds, sorted.
    async fn effective_permissions(
        &self,
        user_id: &str,
        api_identifier: &str,
    ) -> StoreResult<Vec<String>>;
    /// Every permission the user holds on any API, once per source, ordered by API, name
    /// and source.
    async fn effective_permission_sources(
        &self,
        user_id: &str,
    ) -> StoreResult<Vec<(Permission, PermissionSource)>>;
    /// Every role the user holds, directly or through a group, ordered by name.
    async fn effective_roles(&self, user_id: &str) -> StoreResult<Vec<Role>>;
    /// For each of `refs` (a role's `rol_…` id, GUID or name) its id, or `None`.
    /// Applies what a log-in script changed, all or nothing. Roles and groups deleted
    /// since they were resolved are skipped.
    async fn apply_script_changes(
        &self,
        user_id: &str,
        changes: &ScriptChanges,
        now: i64,
    ) -> StoreResult<()>;
    async fn resolve_role_refs(&self, refs: &[String]) -> StoreResult<Vec<Option<String>>>;
    /// For each of `refs` (a group's `grp_…` id, GUID or name) its id, or `None`.
    async fn resolve_group_refs(&self, refs: &[String]) -> StoreResult<Vec<Option<String>>>;
}
