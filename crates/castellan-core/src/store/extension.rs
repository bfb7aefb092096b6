use crate::model::{
    ExtensionConfiguration, ExtensionData, ExtensionPermission, Policy, Role, RoleRecord, User,
};
use crate::paging::{Page, PageRequest};

use super::StoreResult;

/// The Authorization Extension's own records: its permissions, the permissions of roles,
/// its configuration, the policy a log-in asks for, and the import that replaces them all.
#[async_trait::async_trait]
pub trait ExtensionStore: Send + Sync {
    /// `Conflict` when the name is taken for that application (case-insensitively).
    async fn create_permission(&self, permission: &ExtensionPermission) -> StoreResult<()>;
    async fn find_permission(&self, guid: &str) -> StoreResult<Option<ExtensionPermission>>;
    /// Ordered by name.
    async fn list_permissions(&self) -> StoreResult<Vec<ExtensionPermission>>;
    /// `NotFound` if it is gone; `Conflict` while a role uses it (checked in the same
    /// statement) or on a taken name.
    async fn update_permission(&self, permission: &ExtensionPermission) -> StoreResult<()>;
    /// False if there was none; `Conflict` while a role uses it (the schema's RESTRICT).
    async fn delete_permission(&self, guid: &str) -> StoreResult<bool>;
    /// Roles holding the permission, ordered by name.
    async fn roles_using_permission(&self, guid: &str) -> StoreResult<Vec<Role>>;

    /// Creates the role with its permissions, in one transaction.
    async fn create_extension_role(
        &self,
        role: &Role,
        permission_guids: &[String],
    ) -> StoreResult<()>;
    /// Name, description and application type, and replaces its permissions, in one
    /// transaction. `NotFound` if the role is gone.
    async fn update_extension_role(
        &self,
        role: &Role,
        permission_guids: &[String],
    ) -> StoreResult<()>;
    /// Every role with its permission GUIDs and direct users, ordered by name.
    async fn role_records(&self) -> StoreResult<Vec<RoleRecord>>;
    /// The extension permissions of each role in `role_ids`, as (role id, permission).
    async fn permissions_of_roles(
        &self,
        role_ids: &[String],
    ) -> StoreResult<Vec<(String, ExtensionPermission)>>;

    /// Users whose `field` (or, without one, email, name, nickname or user id) contains
    /// `q` case-insensitively; all users without `q`. Ordered by user id.
    async fn find_users_containing(
        &self,
        field: Option<&str>,
        q: Option<&str>,
        page: PageRequest,
    ) -> StoreResult<Page<User>>;

    async fn configuration(&self) -> StoreResult<Option<ExtensionConfiguration>>;
    async fn save_settings(
        &self,
        settings: &serde_json::Map<String, serde_json::Value>,
        now: i64,
    ) -> StoreResult<()>;
    async fn save_api_key_digest(&self, digest: &str, now: i64) -> StoreResult<()>;

    /// The user's groups (direct, mapped through `connection_name` from `idp_groups` and the
    /// direct groups' names, and all their ancestors), the roles of those groups and the
    /// user's direct roles bound to `client_id`, and those roles' permissions. One query.
    async fn policy(
        &self,
        user_id: &str,
        client_id: &str,
        connection_name: &str,
        idp_groups: &[String],
    ) -> StoreResult<Policy>;

    /// Replaces groups, extension permissions and extension-bound roles with `data`, in one
    /// transaction: roles are matched by GUID (kept ids, so Management API links survive),
    /// bound roles missing from `data` are deleted, roles without an application are kept.
    /// Members and role users that do not exist are skipped. `Conflict` on a nesting cycle
    /// or a taken name. `now` stamps the settings.
    async fn replace_extension_data(&self, data: &ExtensionData, now: i64) -> StoreResult<()>;
}
