//! The Authorization Extension's own records, its policy query and its import.

use std::collections::{HashMap, HashSet};

use castellan_core::model::{
    ExtensionConfiguration, ExtensionData, ExtensionPermission, Policy, Role, RoleRecord, User,
};
use castellan_core::paging::{Page, PageRequest};
use castellan_core::store::{ExtensionStore, StoreError, StoreResult};

use super::handle::{Conn, Handle, Source};
use super::query::{all_by_key, delete_one, each, found, limit, one_by_key};
use super::roles::{ROLE_COLUMNS_R, RoleRow};
use super::users::{USER_COLUMNS, UserRow};
use crate::errors::{conflict_as, from_json, json_text, map};

const PERMISSION_COLUMNS: &str =
    "p.guid, p.name, p.description, p.application_type, p.application_id, p.created_at";
/// The one row of `extension_configuration`: the extension keeps a single record, `v1`.
const CONFIGURATION_ID: &str = "v1";

#[derive(sqlx::FromRow)]
struct ExtensionPermissionRow {
    guid: String,
    name: String,
    description: String,
    application_type: String,
    application_id: String,
    created_at: i64,
}

impl TryFrom<ExtensionPermissionRow> for ExtensionPermission {
    type Error = StoreError;

    fn try_from(row: ExtensionPermissionRow) -> StoreResult<ExtensionPermission> {
        Ok(ExtensionPermission {
            guid: row.guid,
            name: row.name,
            description: row.description,
            application_type: row.application_type,
            application_id: row.application_id,
            created_at: row.created_at,
        })
    }
}

async fn find_permission(conn: &mut Conn, guid: &str) -> StoreResult<Option<ExtensionPermission>> {
    let sql = format!("SELECT {PERMISSION_COLUMNS} FROM extension_permissions p WHERE p.guid = $1");
    one_by_key::<ExtensionPermissionRow, _>(conn, sql, guid).await
}

async fn insert_permission(tx: &mut Conn, p: &ExtensionPermission) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO extension_permissions (guid, name, name_lower, description, application_type, application_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&p.guid)
    .bind(&p.name)
    .bind(p.name.to_lowercase())
    .bind(&p.description)
    .bind(&p.application_type)
    .bind(&p.application_id)
    .bind(p.created_at)
    .execute(&mut *tx)
    .await
    .map_err(conflict_as("A permission with this name already exists for this application"))?;
    Ok(())
}

/// Replaces the role's extension permissions with `guids` (unknown GUIDs are a `Conflict`
/// from the foreign key).
async fn replace_role_permissions(
    tx: &mut Conn,
    role_id: &str,
    guids: &[String],
) -> StoreResult<()> {
    sqlx::query("DELETE FROM role_extension_permissions WHERE role_id = $1")
        .bind(role_id)
        .execute(&mut *tx)
        .await
        .map_err(map)?;
    for guid in guids {
        sqlx::query("INSERT INTO role_extension_permissions (role_id, permission_guid) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(role_id)
            .bind(guid)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
    }
    Ok(())
}

async fn upsert_settings(
    tx: &mut Conn,
    settings: &serde_json::Map<String, serde_json::Value>,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO extension_configuration (id, settings, api_key_digest, updated_at) VALUES ($1, $2, NULL, $3) \
         ON CONFLICT (id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at",
    )
    .bind(CONFIGURATION_ID)
    .bind(json_text(settings))
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(map)?;
    Ok(())
}

/// The role's stored id after inserting it, or updating the role that has its GUID.
async fn upsert_role_by_guid(tx: &mut Conn, r: &Role) -> StoreResult<String> {
    sqlx::query(
        "INSERT INTO roles (id, guid, name, name_lower, description, application_id, application_type, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (guid) DO UPDATE SET name = excluded.name, \
         name_lower = excluded.name_lower, description = excluded.description, application_id = excluded.application_id, \
         application_type = excluded.application_type",
    )
    .bind(&r.id)
    .bind(&r.guid)
    .bind(&r.name)
    .bind(r.name.to_lowercase())
    .bind(&r.description)
    .bind(r.application_id.as_deref().unwrap_or(""))
    .bind(&r.application_type)
    .bind(r.created_at)
    .execute(&mut *tx)
    .await
    .map_err(conflict_as("Two roles of one application have the same name"))?;
    sqlx::query_scalar("SELECT id FROM roles WHERE guid = $1")
        .bind(&r.guid)
        .fetch_one(&mut *tx)
        .await
        .map_err(map)
}

/// A nesting cycle anywhere, as the names of one group on it; for imported documents, which
/// are checked as a whole after insertion.
async fn any_cycle(tx: &mut Conn) -> StoreResult<Option<String>> {
    sqlx::query_scalar(
        "WITH RECURSIVE reach(start_id, group_id) AS (SELECT parent_id, child_id FROM group_nesting \
         UNION SELECT r.start_id, n.child_id FROM reach r JOIN group_nesting n ON n.parent_id = r.group_id) \
         SELECT g.name FROM reach r JOIN directory_groups g ON g.id = r.start_id WHERE r.start_id = r.group_id \
         ORDER BY g.name LIMIT 1",
    )
    .fetch_optional(&mut *tx)
    .await
    .map_err(map)
}

#[async_trait::async_trait]
impl<S: Source> ExtensionStore for Handle<S> {
    async fn create_permission(&self, p: &ExtensionPermission) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        let mut tx = conn.write().await?;
        insert_permission(&mut tx, p).await?;
        tx.commit().await.map_err(map)
    }

    async fn find_permission(&self, guid: &str) -> StoreResult<Option<ExtensionPermission>> {
        find_permission(&mut *self.hold().await?, guid).await
    }

    async fn list_permissions(&self) -> StoreResult<Vec<ExtensionPermission>> {
        let mut conn = self.hold().await?;
        let sql = format!(
            "SELECT {PERMISSION_COLUMNS} FROM extension_permissions p ORDER BY p.name_lower, p.guid"
        );
        let rows = sqlx::query_as::<_, ExtensionPermissionRow>(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut *conn)
            .await
            .map_err(map)?;
        each(rows)
    }

    async fn update_permission(&self, p: &ExtensionPermission) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        // The extension refuses to change a permission a role uses; the condition sits in the
        // statement so no role can start using it in between.
        let done = sqlx::query(
            "UPDATE extension_permissions SET name = $2, name_lower = $3, description = $4, application_type = $5, \
             application_id = $6 WHERE guid = $1 \
             AND NOT EXISTS (SELECT 1 FROM role_extension_permissions x WHERE x.permission_guid = $1)",
        )
        .bind(&p.guid)
        .bind(&p.name)
        .bind(p.name.to_lowercase())
        .bind(&p.description)
        .bind(&p.application_type)
        .bind(&p.application_id)
        .execute(&mut *conn)
        .await
        .map_err(conflict_as("A permission with this name already exists for this application"))?;
        if done.rows_affected() > 0 {
            return Ok(());
        }
        match find_permission(&mut conn, &p.guid).await? {
            None => Err(StoreError::NotFound),
            Some(_) => Err(StoreError::Conflict(
                "the permission is used by a role".into(),
            )),
        }
    }

    async fn delete_permission(&self, guid: &str) -> StoreResult<bool> {
        delete_one(
            &mut *self.hold().await?,
            "DELETE FROM extension_permissions WHERE guid = $1",
            guid,
        )
        .await
    }

    async fn roles_using_permission(&self, guid: &str) -> StoreResult<Vec<Role>> {
        all_by_key::<RoleRow, _>(&mut *self.hold().await?,
            format!(
                "SELECT {ROLE_COLUMNS_R} FROM roles r JOIN role_extension_permissions x ON x.role_id = r.id \
                 WHERE x.permission_guid = $1 ORDER BY r.name_lower, r.id"
            ),
            guid,
        )
        .await
    }

    async fn create_extension_role(
        &self,
        r: &Role,
        permission_guids: &[String],
    ) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        let mut tx = conn.write().await?;
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
        .execute(&mut *tx)
        .await
        .map_err(conflict_as("A role with this name already exists for this application"))?;
        replace_role_permissions(&mut tx, &r.id, permission_guids).await?;
        tx.commit().await.map_err(map)
    }

    async fn update_extension_role(
        &self,
        r: &Role,
        permission_guids: &[String],
    ) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        let mut tx = conn.write().await?;
        let done = sqlx::query(
            "UPDATE roles SET name = $2, name_lower = $3, description = $4, application_type = $5 WHERE id = $1",
        )
        .bind(&r.id)
        .bind(&r.name)
        .bind(r.name.to_lowercase())
        .bind(&r.description)
        .bind(&r.application_type)
        .execute(&mut *tx)
        .await
        .map_err(conflict_as("A role with this name already exists for this application"))?;
        found(done.rows_affected())?;
        replace_role_permissions(&mut tx, &r.id, permission_guids).await?;
        tx.commit().await.map_err(map)
    }

    async fn role_records(&self) -> StoreResult<Vec<RoleRecord>> {
        let mut conn = self.hold().await?;
        let sql = format!("SELECT {ROLE_COLUMNS_R} FROM roles r ORDER BY r.name_lower, r.id");
        let rows = sqlx::query_as::<_, RoleRow>(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut *conn)
            .await
            .map_err(map)?;
        let roles: Vec<Role> = each(rows)?;
        let mut records: Vec<RoleRecord> = roles
            .into_iter()
            .map(|role| RoleRecord {
                role,
                permissions: vec![],
                users: vec![],
            })
            .collect();
        let index: HashMap<String, usize> = records
            .iter()
            .enumerate()
            .map(|(i, r)| (r.role.id.clone(), i))
            .collect();
        let permissions: Vec<(String, String)> = sqlx::query_as(
            "SELECT x.role_id, x.permission_guid FROM role_extension_permissions x \
             JOIN extension_permissions p ON p.guid = x.permission_guid ORDER BY p.name_lower, p.guid",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(map)?;
        for (role_id, guid) in permissions {
            if let Some(&i) = index.get(&role_id) {
                records[i].permissions.push(guid);
            }
        }
        let users: Vec<(String, String)> =
            sqlx::query_as("SELECT role_id, user_id FROM user_roles ORDER BY user_id")
                .fetch_all(&mut *conn)
                .await
                .map_err(map)?;
        for (role_id, user_id) in users {
            if let Some(&i) = index.get(&role_id) {
                records[i].users.push(user_id);
            }
        }
        Ok(records)
    }

    async fn permissions_of_roles(
        &self,
        role_ids: &[String],
    ) -> StoreResult<Vec<(String, ExtensionPermission)>> {
        let mut conn = self.hold().await?;
        let mut out = Vec::new();
        let sql = format!(
            "SELECT x.role_id, {PERMISSION_COLUMNS} FROM role_extension_permissions x \
             JOIN extension_permissions p ON p.guid = x.permission_guid WHERE x.role_id = $1 ORDER BY p.name_lower, p.guid"
        );
        for role_id in role_ids {
            let permissions: Vec<ExtensionPermission> =
                all_by_key::<ExtensionPermissionRow, _>(&mut conn, sql.clone(), role_id).await?;
            out.extend(permissions.into_iter().map(|p| (role_id.clone(), p)));
        }
        Ok(out)
    }

    async fn find_users_containing(
        &self,
        field: Option<&str>,
        q: Option<&str>,
        page: PageRequest,
    ) -> StoreResult<Page<User>> {
        let mut conn = self.hold().await?;
        // Only known columns are ever put into the SQL text; the value is bound.
        let columns: &[&str] = match field {
            Some("email") => &["email"],
            Some("name") => &["name"],
            Some("nickname") => &["nickname"],
            Some("username") => &["username"],
            Some("user_id") => &["user_id"],
            Some("connection") => &["connection"],
            _ => &["email", "name", "nickname", "user_id"],
        };
        let condition = columns
            .iter()
            .map(|c| format!("LOWER(COALESCE({c}, '')) LIKE $1"))
            .collect::<Vec<_>>()
            .join(" OR ");
        let pattern = format!(
            "%{}%",
            q.unwrap_or_default().to_lowercase().replace(['%', '_'], "")
        );
        let (lim, off) = limit(page);
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE {condition} ORDER BY user_id LIMIT $2 OFFSET $3"
        );
        let rows = sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql))
            .bind(&pattern)
            .bind(lim)
            .bind(off)
            .fetch_all(&mut *conn)
            .await
            .map_err(map)?;
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM users WHERE {condition}"
        )))
        .bind(&pattern)
        .fetch_one(&mut *conn)
        .await
        .map_err(map)?;
        Ok(Page {
            items: each(rows)?,
            total: total as u64,
        })
    }

    async fn configuration(&self) -> StoreResult<Option<ExtensionConfiguration>> {
        let mut conn = self.hold().await?;
        let row: Option<(String, Option<String>)> = sqlx::query_as(
            "SELECT settings, api_key_digest FROM extension_configuration WHERE id = $1",
        )
        .bind(CONFIGURATION_ID)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map)?;
        row.map(|(settings, api_key_digest)| {
            Ok(ExtensionConfiguration {
                settings: from_json("settings", &settings)?,
                api_key_digest,
            })
        })
        .transpose()
    }

    async fn save_settings(
        &self,
        settings: &serde_json::Map<String, serde_json::Value>,
        now: i64,
    ) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        let mut tx = conn.write().await?;
        upsert_settings(&mut tx, settings, now).await?;
        tx.commit().await.map_err(map)
    }

    async fn save_api_key_digest(&self, digest: &str, now: i64) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        sqlx::query(
            "INSERT INTO extension_configuration (id, settings, api_key_digest, updated_at) VALUES ($1, '{}', $2, $3) \
             ON CONFLICT (id) DO UPDATE SET api_key_digest = excluded.api_key_digest, updated_at = excluded.updated_at",
        )
        .bind(CONFIGURATION_ID)
        .bind(digest)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map_err(map)?;
        Ok(())
    }

    async fn policy(
        &self,
        user_id: &str,
        client_id: &str,
        connection_name: &str,
        idp_groups: &[String],
    ) -> StoreResult<Policy> {
        let mut conn = self.hold().await?;
        // The names the identity provider gave come in as one placeholder each ($4, $5, ...).
        let idp_names = (0..idp_groups.len())
            .map(|i| format!(" UNION SELECT CAST(${} AS TEXT)", i + 4))
            .collect::<String>();
        let sql = format!(
            "WITH RECURSIVE \
             direct_groups(group_id) AS (SELECT group_id FROM group_members WHERE user_id = $1), \
             known_names(name) AS (SELECT g.name FROM directory_groups g JOIN direct_groups d ON d.group_id = g.id{idp_names}), \
             mapped_groups(group_id) AS (SELECT m.group_id FROM group_mappings m JOIN known_names k ON k.name = m.group_name \
                 WHERE m.connection_name = $3), \
             member_of(group_id) AS ( \
                 SELECT group_id FROM direct_groups \
                 UNION SELECT group_id FROM mapped_groups \
                 UNION SELECT n.parent_id FROM group_nesting n JOIN member_of c ON n.child_id = c.group_id), \
             held_roles(role_id) AS ( \
                 SELECT r.id FROM roles r WHERE r.application_id = $2 AND r.id IN ( \
                     SELECT role_id FROM user_roles WHERE user_id = $1 \
                     UNION SELECT gr.role_id FROM group_roles gr JOIN member_of m ON gr.group_id = m.group_id)) \
             SELECT 'g' AS kind, g.name AS name FROM directory_groups g JOIN member_of m ON m.group_id = g.id \
             UNION SELECT 'r', r.name FROM roles r JOIN held_roles h ON h.role_id = r.id \
             UNION SELECT 'p', p.name FROM role_extension_permissions x JOIN held_roles h ON h.role_id = x.role_id \
                 JOIN extension_permissions p ON p.guid = x.permission_guid \
             ORDER BY 1, 2"
        );
        let mut query = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .bind(client_id)
            .bind(connection_name);
        for name in idp_groups {
            query = query.bind(name);
        }
        let rows = query.fetch_all(&mut *conn).await.map_err(map)?;
        let mut policy = Policy::default();
        for (kind, name) in rows {
            match kind.as_str() {
                "g" => policy.groups.push(name),
                "r" => policy.roles.push(name),
                _ => policy.permissions.push(name),
            }
        }
        Ok(policy)
    }

    async fn replace_extension_data(&self, data: &ExtensionData, now: i64) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        let mut tx = conn.write().await?;
        // Children's nesting first: the RESTRICT on `child_id` would refuse deleting a child
        // before its parent's rows are gone.
        for sql in [
            "DELETE FROM group_nesting",
            "DELETE FROM directory_groups",
            "DELETE FROM role_extension_permissions",
            "DELETE FROM extension_permissions",
        ] {
            sqlx::query(sql).execute(&mut *tx).await.map_err(map)?;
        }
        let keep: HashSet<&str> = data.roles.iter().map(|r| r.role.guid.as_str()).collect();
        let bound: Vec<(String, String)> =
            sqlx::query_as("SELECT id, guid FROM roles WHERE application_id <> ''")
                .fetch_all(&mut *tx)
                .await
                .map_err(map)?;
        for (id, guid) in bound {
            if !keep.contains(guid.as_str()) {
                sqlx::query("DELETE FROM roles WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(map)?;
            }
        }
        for p in &data.permissions {
            insert_permission(&mut tx, p).await?;
        }
        let mut role_ids = HashMap::new();
        for record in &data.roles {
            let id = upsert_role_by_guid(&mut tx, &record.role).await?;
            // Permissions the document does not define are skipped, like users that do not exist.
            let known: Vec<String> = record
                .permissions
                .iter()
                .filter(|g| data.permissions.iter().any(|p| &p.guid == *g))
                .cloned()
                .collect();
            replace_role_permissions(&mut tx, &id, &known).await?;
            sqlx::query("DELETE FROM user_roles WHERE role_id = $1")
                .bind(&id)
                .execute(&mut *tx)
                .await
                .map_err(map)?;
            for user_id in &record.users {
                sqlx::query(
                    "INSERT INTO user_roles (user_id, role_id) SELECT user_id, $2 FROM users WHERE user_id = $1 \
                     ON CONFLICT DO NOTHING",
                )
                .bind(user_id)
                .bind(&id)
                .execute(&mut *tx)
                .await
                .map_err(map)?;
            }
            role_ids.insert(record.role.guid.clone(), id);
        }
        let mut group_ids = HashMap::new();
        for record in &data.groups {
            let g = &record.group;
            sqlx::query(
                "INSERT INTO directory_groups (id, guid, name, name_lower, description, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&g.id)
            .bind(&g.guid)
            .bind(&g.name)
            .bind(g.name.to_lowercase())
            .bind(&g.description)
            .bind(g.created_at)
            .execute(&mut *tx)
            .await
            .map_err(conflict_as("Two groups have the same name"))?;
            group_ids.insert(g.guid.clone(), g.id.clone());
        }
        for record in &data.groups {
            let id = &record.group.id;
            for user_id in &record.members {
                sqlx::query(
                    "INSERT INTO group_members (group_id, user_id) SELECT $1, user_id FROM users WHERE user_id = $2 \
                     ON CONFLICT DO NOTHING",
                )
                .bind(id)
                .bind(user_id)
                .execute(&mut *tx)
                .await
                .map_err(map)?;
            }
            for role_id in record.roles.iter().filter_map(|guid| role_ids.get(guid)) {
                sqlx::query("INSERT INTO group_roles (group_id, role_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(id)
                    .bind(role_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(map)?;
            }
            for child_id in record
                .nested
                .iter()
                .filter_map(|guid| group_ids.get(guid))
                .filter(|c| *c != id)
            {
                sqlx::query("INSERT INTO group_nesting (parent_id, child_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(id)
                    .bind(child_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(map)?;
            }
            for m in &record.mappings {
                sqlx::query("INSERT INTO group_mappings (id, group_id, group_name, connection_name) VALUES ($1, $2, $3, $4)")
                    .bind(&m.id)
                    .bind(id)
                    .bind(&m.group_name)
                    .bind(&m.connection_name)
                    .execute(&mut *tx)
                    .await
                    .map_err(conflict_as("Two mappings have the same id"))?;
            }
        }
        if let Some(name) = any_cycle(&mut tx).await? {
            return Err(StoreError::Conflict(format!(
                "The nested groups form a cycle through group \"{name}\""
            )));
        }
        if let Some(settings) = &data.settings {
            upsert_settings(&mut tx, settings, now).await?;
        }
        tx.commit().await.map_err(map)
    }
}
