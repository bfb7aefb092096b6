//! Roles, their permissions and who holds them directly.

use super::*;

pub(super) fn role_from_row(row: &DbRow) -> StoreResult<Role> {
    let application_id: String = row.try_get("application_id").map_err(map)?;
    Ok(Role {
        id: row.try_get("id").map_err(map)?,
        guid: row.try_get("guid").map_err(map)?,
        name: row.try_get("name").map_err(map)?,
        description: row.try_get("description").map_err(map)?,
        application_id: (!application_id.is_empty()).then_some(application_id),
        application_type: row.try_get("application_type").map_err(map)?,
        created_at: row.try_get("created_at").map_err(map)?,
    })
}

pub(super) fn permission_from_row(row: &DbRow) -> StoreResult<Permission> {
    Ok(Permission {
        resource_server_identifier: row.try_get("resource_server_identifier").map_err(map)?,
        permission_name: row.try_get("permission_name").map_err(map)?,
    })
}

pub(super) const ROLE_COLUMNS: &str =
    "id, guid, name, description, application_id, application_type, created_at";
/// The same columns of `roles` aliased as `r`.
pub(super) const ROLE_COLUMNS_R: &str =
    "r.id, r.guid, r.name, r.description, r.application_id, r.application_type, r.created_at";

#[async_trait::async_trait]
impl RoleStore for SqlStore {
    async fn create_role(&self, r: &Role) -> StoreResult<()> {
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
        .execute(&self.pool)
        .await
        .map_err(conflict_as("A role with this name already exists"))?;
        Ok(())
    }

    async fn find_role(&self, id_or_guid: &str) -> StoreResult<Option<Role>> {
        let sql = format!("SELECT {ROLE_COLUMNS} FROM roles WHERE id = $1 OR guid = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id_or_guid)
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?
            .as_ref()
            .map(role_from_row)
            .transpose()
    }

    async fn list_roles(
        &self,
        name_filter: Option<&str>,
        page: PageRequest,
    ) -> StoreResult<Page<Role>> {
        let (lim, off) = limit(page);
        let pattern =
            name_filter.map(|f| format!("%{}%", f.to_lowercase().replace(['%', '_'], "")));
        let sql = format!(
            "SELECT {ROLE_COLUMNS} FROM roles WHERE ($1 IS NULL OR name_lower LIKE $1) ORDER BY name_lower, id LIMIT $2 OFFSET $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&pattern)
            .bind(lim)
            .bind(off)
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM roles WHERE ($1 IS NULL OR name_lower LIKE $1)",
        )
        .bind(&pattern)
        .fetch_one(&self.pool)
        .await
        .map_err(map)?;
        Ok(Page {
            items: rows.iter().map(role_from_row).collect::<StoreResult<_>>()?,
            total: total as u64,
        })
    }

    async fn update_role(&self, r: &Role) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE roles SET name = $2, name_lower = $3, description = $4 WHERE id = $1",
        )
        .bind(&r.id)
        .bind(&r.name)
        .bind(r.name.to_lowercase())
        .bind(&r.description)
        .execute(&self.pool)
        .await
        .map_err(conflict_as("A role with this name already exists"))?;
        found(done.rows_affected())
    }

    async fn delete_role(&self, id: &str) -> StoreResult<bool> {
        self.delete_one("DELETE FROM roles WHERE id = $1", id).await
    }

    async fn add_role_permissions(
        &self,
        role_id: &str,
        permissions: &[Permission],
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        for p in permissions {
            sqlx::query(
                "INSERT INTO role_permissions (role_id, resource_server_identifier, permission_name) \
                 VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(role_id)
            .bind(&p.resource_server_identifier)
            .bind(&p.permission_name)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        }
        tx.commit().await.map_err(map)
    }

    async fn remove_role_permissions(
        &self,
        role_id: &str,
        permissions: &[Permission],
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        for p in permissions {
            sqlx::query(
                "DELETE FROM role_permissions WHERE role_id = $1 AND resource_server_identifier = $2 \
                 AND permission_name = $3",
            )
            .bind(role_id)
            .bind(&p.resource_server_identifier)
            .bind(&p.permission_name)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        }
        tx.commit().await.map_err(map)
    }

    async fn list_role_permissions(
        &self,
        role_id: &str,
        page: PageRequest,
    ) -> StoreResult<Page<Permission>> {
        self.page_by_key(
            "SELECT resource_server_identifier, permission_name FROM role_permissions WHERE role_id = $1 \
             ORDER BY resource_server_identifier, permission_name LIMIT $2 OFFSET $3"
                .into(),
            "SELECT COUNT(*) FROM role_permissions WHERE role_id = $1",
            role_id,
            page,
            permission_from_row,
        )
        .await
    }

    async fn assign_user_roles(&self, user_id: &str, role_ids: &[String]) -> StoreResult<()> {
        self.for_each_in_tx(
            "INSERT INTO user_roles (user_id, role_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            user_id,
            role_ids,
        )
        .await
    }

    async fn remove_user_roles(&self, user_id: &str, role_ids: &[String]) -> StoreResult<()> {
        self.for_each_in_tx(
            "DELETE FROM user_roles WHERE user_id = $1 AND role_id = $2",
            user_id,
            role_ids,
        )
        .await
    }

    async fn list_user_roles(&self, user_id: &str, page: PageRequest) -> StoreResult<Page<Role>> {
        self.page_by_key(
            format!(
                "SELECT {ROLE_COLUMNS_R} FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = $1 \
                 ORDER BY r.name_lower, r.id LIMIT $2 OFFSET $3"
            ),
            "SELECT COUNT(*) FROM user_roles WHERE user_id = $1",
            user_id,
            page,
            role_from_row,
        )
        .await
    }

    async fn list_role_users(&self, role_id: &str, page: PageRequest) -> StoreResult<Page<User>> {
        let columns = USER_COLUMNS
            .split(", ")
            .map(|c| format!("u.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        self.page_by_key(
            format!(
                "SELECT {columns} FROM user_roles ur JOIN users u ON u.user_id = ur.user_id WHERE ur.role_id = $1 \
                 ORDER BY u.user_id LIMIT $2 OFFSET $3"
            ),
            "SELECT COUNT(*) FROM user_roles WHERE role_id = $1",
            role_id,
            page,
            user_from_row,
        )
        .await
    }

    async fn add_role_users(&self, role_id: &str, user_ids: &[String]) -> StoreResult<()> {
        self.for_each_in_tx(
            "INSERT INTO user_roles (user_id, role_id) VALUES ($2, $1) ON CONFLICT DO NOTHING",
            role_id,
            user_ids,
        )
        .await
    }
}
