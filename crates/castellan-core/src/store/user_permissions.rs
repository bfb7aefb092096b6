use crate::model::Permission;

use super::StoreResult;

/// Permissions given to a user directly, besides those of their roles and groups.
#[async_trait::async_trait]
pub trait UserPermissionStore: Send + Sync {
    /// Adds all or none; ones the user already has are kept once.
    async fn add_user_permissions(
        &self,
        user_id: &str,
        permissions: &[Permission],
    ) -> StoreResult<()>;
    async fn remove_user_permissions(
        &self,
        user_id: &str,
        permissions: &[Permission],
    ) -> StoreResult<()>;
}
