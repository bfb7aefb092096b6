//! Permissions given to a user directly.

use castellan_core::model::Permission;
use castellan_core::store::{StoreResult, UserPermissionStore};

use super::handle::{Handle, Source};
use super::query::for_each_permission;

#[async_trait::async_trait]
impl<S: Source> UserPermissionStore for Handle<S> {
    async fn add_user_permissions(
        &self,
        user_id: &str,
        permissions: &[Permission],
    ) -> StoreResult<()> {
        let sql = "INSERT INTO user_permissions (user_id, resource_server_identifier, permission_name) \
                 VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
        for_each_permission(&mut self.hold().await?, sql, user_id, permissions).await
    }

    async fn remove_user_permissions(
        &self,
        user_id: &str,
        permissions: &[Permission],
    ) -> StoreResult<()> {
        let sql = "DELETE FROM user_permissions WHERE user_id = $1 AND resource_server_identifier = $2 \
                 AND permission_name = $3";
        for_each_permission(&mut self.hold().await?, sql, user_id, permissions).await
    }
}
