use crate::model::{Permission, Role, User};
use crate::paging::{Page, PageRequest};

use super::StoreResult;

#[async_trait::async_trait]
pub trait RoleStore: Send + Sync {
    /// `Conflict` when the name is taken (case-insensitively, per application).
    async fn create_role(&self, role: &Role) -> StoreResult<()>;
    /// By `rol_…` id or by GUID.
    async fn find_role(&self, id_or_guid: &str) -> StoreResult<Option<Role>>;
    /// Ordered by name; `name_filter` matches part of the name, case-insensitively.
    async fn list_roles(
        &self,
        name_filter: Option<&str>,
        page: PageRequest,
    ) -> StoreResult<Page<Role>>;
    async fn update_role(&self, role: &Role) -> StoreResult<()>;
    async fn delete_role(&self, id: &str) -> StoreResult<bool>;
    /// Adds all or none; ones the role already has are kept once.
    async fn add_role_permissions(
        &self,
        role_id: &str,
        permissions: &[Permission],
    ) -> StoreResult<()>;
    async fn remove_role_permissions(
        &self,
        role_id: &str,
        permissions: &[Permission],
    ) -> StoreResult<()>;
    async fn list_role_permissions(
        &self,
        role_id: &str,
        page: PageRequest,
    ) -> StoreResult<Page<Permission>>;
    /// Assigns all or none; roles the user already has are kept once.
    async fn assign_user_roles(&self, user_id: &str, role_ids: &[String]) -> StoreResult<()>;
    async fn remove_user_roles(&self, user_id: &str, role_ids: &[String]) -> StoreResult<()>;
    async fn list_user_roles(&self, user_id: &str, page: PageRequest) -> StoreResult<Page<Role>>;
    /// The users holding the role directly, ordered by user id.
    async fn list_role_users(&self, role_id: &str, page: PageRequest) -> StoreResult<Page<User>>;
    /// Gives the role to every user, all or none; users who hold it already keep it once.
    async fn add_role_users(&self, role_id: &str, user_ids: &[String]) -> StoreResult<()>;
}
