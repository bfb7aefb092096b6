//! Roles, their permissions and who holds them directly.

use castellan_core::model::{Permission, Role, User};
use castellan_core::paging::{Page, PageRequest};
use castellan_core::store::{RoleStore, StoreError, StoreResult};

use super::handle::{Handle, Source};
use super::query::{
    delete_one, each, for_each_in_tx, for_each_permission, found, limit, one_by_key, page_by_key,
};
use super::users::{USER_COLUMNS, UserRow};
use crate::errors::{conflict_as, map};

/// A `roles` row as stored: a role of no application has an empty `application_id`.
#[derive(sqlx::FromRow)]
pub(super) struct RoleRow {
    id: String,
    guid: String,
    name: String,
    description: String,
    application_id: String,
    application_type: Option<String>,
    created_at: i64,
}

impl TryFrom<RoleRow> for Role {
    type Error = StoreError;

    fn try_from(row: RoleRow) -> StoreResult<Role> {
        Ok(Role {
            id: row.id,
            guid: row.guid,
            name: row.name,
            description: row.description,
            application_id: (!row.application_id.is_empty()).then_some(row.application_id),
            application_type: row.application_type,
            created_at: row.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct PermissionRow {
    resource_server_identifier: String,
    permission_name: String,
}

impl TryFrom<PermissionRow> for Permission {
    type Error = StoreError;

    fn try_from(row: PermissionRow) -> StoreResult<Permission> {
        Ok(Permission {
            resource_server_identifier: row.resource_server_identifier,
            permission_name: row.permission_name,
        })
    }
}

pub(super) const ROLE_COLUMNS: &str =
    "id, guid, name, description, application_id, application_type, created_at";
/// The same columns of `roles` aliased as `r`.
pub(super) const ROLE_COLUMNS_R: &str =
    "r.id, r.guid, r.name, r.description, r.application_id, r.application_type, r.created_at";

#[async_trait::async_trait]
impl<S: Source> RoleStore for Handle<S> {
    async fn create_role(&self, r: &Role) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        sqlx::query(
            "INSERT INTO roles (id, guid, name, name_lower, description, application_id, application_type, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&r.id)
        .bind(&r.guid)
        .bind(&r.name)
        .bind(r.name.to_lowercase())
        .bind(&r.description)
        .bind(r.application_id.as_deref().unwrap_or(""))
        .bind(&r.application_type)
        .bind(r.created_at)
        .execute(&mut *conn)
        .await
        .map_err(conflict_as("A role with this name already exists"))?;
        Ok(())
    }

    async fn find_role(&self, id_or_guid: &str) -> StoreResult<Option<Role>> {
        let sql = format!("SELECT {ROLE_COLUMNS} FROM roles WHERE id = $1 OR guid = $1");
        one_by_key::<RoleRow, _>(&mut *self.hold().await?, sql, id_or_guid).await
    }

    async fn list_roles(
        &self,
        name_filter: Option<&str>,
        page: PageRequest,
    ) -> StoreResult<Page<Role>> {
        let mut conn = self.hold().await?;
        let (lim, off) = limit(page);
        let pattern =
            name_filter.map(|f| format!("%{}%", f.to_lowercase().replace(['%', '_'], "")));
        let sql = format!(
            "SELECT {ROLE_COLUMNS} FROM roles WHERE ($1 IS NULL OR name_lower LIKE $1) ORDER BY name_lower, id LIMIT $2 OFFSET $3"
        );
        let rows = sqlx::query_as::<_, RoleRow>(sqlx::AssertSqlSafe(sql))
            .bind(&pattern)
            .bind(lim)
            .bind(off)
            .fetch_all(&mut *conn)
            .await
            .map_err(map)?;
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM roles WHERE ($1 IS NULL OR name_lower LIKE $1)",
        )
        .bind(&pattern)
        .fetch_one(&mut *conn)
        .await
        .map_err(map)?;
        Ok(Page {
            items: each(rows)?,
            total: total as u64,
        })
    }

    async fn update_role(&self, r: &Role) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        let done = sqlx::query(
            "UPDATE roles SET name = $2, name_lower = $3, description = $4 WHERE id = $1",
        )
        .bind(&r.id)
        .bind(&r.name)
        .bind(r.name.to_lowercase())
        .bind(&r.description)
        .execute(&mut *conn)
        .await
        .map_err(conflict_as("A role with this name already exists"))?;
        found(done.rows_affected())
    }

    async fn delete_role(&self, id: &str) -> StoreResult<bool> {
        delete_one(
            &mut *self.hold().await?,
            "DELETE FROM roles WHERE id = $1",
            id,
        )
        .await
    }

    async fn add_role_permissions(
        &self,
        role_id: &str,
        permissions: &[Permission],
    ) -> StoreResult<()> {
        let sql = "INSERT INTO role_permissions (role_id, resource_server_identifier, permission_name) \
                 VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
        for_each_permission(&mut self.hold().await?, sql, role_id, permissions).await
    }

    async fn remove_role_permissions(
        &self,
        role_id: &str,
        permissions: &[Permission],
    ) -> StoreResult<()> {
        let sql = "DELETE FROM role_permissions WHERE role_id = $1 AND resource_server_identifier = $2 \
                 AND permission_name = $3";
        for_each_permission(&mut self.hold().await?, sql, role_id, permissions).await
    }

    async fn list_role_permissions(
        &self,
        role_id: &str,
        page: PageRequest,
    ) -> StoreResult<Page<Permission>> {
        page_by_key::<PermissionRow, _>(&mut *self.hold().await?, "SELECT resource_server_identifier, permission_name FROM role_permissions WHERE role_id = $1 \
             ORDER BY resource_server_identifier, permission_name LIMIT $2 OFFSET $3"
                .into(),
            "SELECT COUNT(*) FROM role_permissions WHERE role_id = $1",
            role_id,
            page)
        .await
    }

    async fn assign_user_roles(&self, user_id: &str, role_ids: &[String]) -> StoreResult<()> {
        for_each_in_tx(
            &mut self.hold().await?,
            "INSERT INTO user_roles (user_id, role_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            user_id,
            role_ids,
        )
        .await
    }

    async fn remove_user_roles(&self, user_id: &str, role_ids: &[String]) -> StoreResult<()> {
        for_each_in_tx(
            &mut self.hold().await?,
            "DELETE FROM user_roles WHERE user_id = $1 AND role_id = $2",
            user_id,
            role_ids,
        )
        .await
    }

    async fn list_user_roles(&self, user_id: &str, page: PageRequest) -> StoreResult<Page<Role>> {
        page_by_key::<RoleRow, _>(&mut *self.hold().await?, format!(
                "SELECT {ROLE_COLUMNS_R} FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = $1 \
                 ORDER BY r.name_lower, r.id LIMIT $2 OFFSET $3"
            ),
            "SELECT COUNT(*) FROM user_roles WHERE user_id = $1",
            user_id,
            page)
        .await
    }

    async fn list_role_users(&self, role_id: &str, page: PageRequest) -> StoreResult<Page<User>> {
        let columns = USER_COLUMNS
            .split(", ")
            .map(|c| format!("u.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        page_by_key::<UserRow, _>(&mut *self.hold().await?, format!(
                "SELECT {columns} FROM user_roles ur JOIN users u ON u.user_id = ur.user_id WHERE ur.role_id = $1 \
                 ORDER BY u.user_id LIMIT $2 OFFSET $3"
            ),
            "SELECT COUNT(*) FROM user_roles WHERE role_id = $1",
            role_id,
            page)
        .await
    }

    async fn add_role_users(&self, role_id: &str, user_ids: &[String]) -> StoreResult<()> {
        for_each_in_tx(
            &mut self.hold().await?,
            "INSERT INTO user_roles (user_id, role_id) VALUES ($2, $1) ON CONFLICT DO NOTHING",
            role_id,
            user_ids,
        )
        .await
    }
}
