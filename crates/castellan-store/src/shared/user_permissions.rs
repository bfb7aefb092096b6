//! Permissions given to a user directly.

use castellan_core::model::Permission;
use castellan_core::store::{StoreResult, UserPermissionStore};

use super::handle::{Handle, Source};
use crate::errors::map;

#[async_trait::async_trait]
impl<S: Source> UserPermissionStore for Handle<S> {
    async fn add_user_permissions(
        &self,
        user_id: &str,
        permissions: &[Permission],
    ) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        let mut tx = conn.write().await?;
        for p in permissions {
            sqlx::query(
                "INSERT INTO user_permissions (user_id, resource_server_identifier, permission_name) \
                 VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(user_id)
            .bind(&p.resource_server_identifier)
            .bind(&p.permission_name)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        }
        tx.commit().await.map_err(map)
    }

    async fn remove_user_permissions(
        &self,
        user_id: &str,
        permissions: &[Permission],
    ) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        let mut tx = conn.write().await?;
        for p in permissions {
            sqlx::query(
                "DELETE FROM user_permissions WHERE user_id = $1 AND resource_server_identifier = $2 \
                 AND permission_name = $3",
            )
            .bind(user_id)
            .bind(&p.resource_server_identifier)
            .bind(&p.permission_name)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        }
        tx.commit().await.map_err(map)
    }
}
