// Effective authorization and default assignments; included by `sqlite.rs` and `postgres.rs`
// after `common.rs`.

use castellan_core::model::PermissionSource;
use castellan_core::store::AuthorizationStore;

/// The ids of the user's roles, direct and through groups: groups the user is a member of,
/// groups mapped to one of those by name for the user's connection, and every ancestor of
/// either through nesting. Expects the user id as `$1`.
///
/// `CROSS JOIN` fixes SQLite's join order (PostgreSQL plans it freely): from the user's few
/// groups into `group_roles` by key, instead of scanning every group's roles. `held_roles` may
/// list a role twice (`UNION ALL`): callers only test membership, and skipping the
/// de-duplication halves the cost for a user with thousands of roles.
const EFFECTIVE_ROLES: &str = "WITH RECURSIVE \
    direct_groups(group_id) AS (SELECT group_id FROM group_members WHERE user_id = $1), \
    mapped_groups(group_id) AS ( \
        SELECT m.group_id FROM users u \
        JOIN group_mappings m ON m.connection_name = u.connection \
        JOIN directory_groups g ON g.name = m.group_name \
        JOIN direct_groups d ON d.group_id = g.id \
        WHERE u.user_id = $1), \
    member_of(group_id) AS ( \
        SELECT group_id FROM direct_groups \
        UNION SELECT group_id FROM mapped_groups \
        UNION SELECT n.parent_id FROM group_nesting n JOIN member_of c ON n.child_id = c.group_id), \
    held_roles(role_id) AS ( \
        SELECT role_id FROM user_roles WHERE user_id = $1 \
        UNION ALL SELECT gr.role_id FROM member_of m CROSS JOIN group_roles gr WHERE gr.group_id = m.group_id) ";

/// Inserts the grant's roles and groups (skipping any deleted since they were resolved) and
/// marks the user's defaults as applied.
async fn apply_default_grant(
    tx: &mut sqlx::Transaction<'_, Db>,
    user_id: &str,
    grant: &DefaultGrant,
) -> StoreResult<()> {
    for role_id in &grant.role_ids {
        sqlx::query(
            "INSERT INTO user_roles (user_id, role_id) SELECT $1, id FROM roles WHERE id = $2 ON CONFLICT DO NOTHING",
        )
        .bind(user_id)
        .bind(role_id)
        .execute(&mut **tx)
        .await
        .map_err(map)?;
    }
    for group_id in &grant.group_ids {
        sqlx::query(
            "INSERT INTO group_members (group_id, user_id) SELECT id, $1 FROM directory_groups WHERE id = $2 \
             ON CONFLICT DO NOTHING",
        )
        .bind(user_id)
        .bind(group_id)
        .execute(&mut **tx)
        .await
        .map_err(map)?;
    }
    sqlx::query("UPDATE users SET defaults_applied = TRUE WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await
        .map_err(map)?;
    Ok(())
}

/// Applies the grant unless the user's defaults were applied before; the conditional update
/// decides, so of two concurrent transactions only one applies them.
async fn apply_default_grant_once(
    tx: &mut sqlx::Transaction<'_, Db>,
    user_id: &str,
    grant: &DefaultGrant,
) -> StoreResult<bool> {
    let claimed = sqlx::query("UPDATE users SET defaults_applied = TRUE WHERE user_id = $1 AND defaults_applied = FALSE")
        .bind(user_id)
        .execute(&mut **tx)
        .await
        .map_err(map)?
        .rows_affected();
    if claimed == 0 {
        return Ok(false);
    }
    apply_default_grant(tx, user_id, grant).await?;
    Ok(true)
}

/// Effective permissions per user and API, computed at an authorization generation and
/// good while that generation is current: the one-row read that checks it costs the same
/// for a user with one role and one with 10,000, where computing them does not.
#[derive(Default)]
struct PermissionCache {
    entries: std::sync::Mutex<std::collections::HashMap<UserAndApi, (i64, Vec<String>)>>,
}

type UserAndApi = (String, String);

/// Beyond this many (user, API) pairs the cache starts over rather than track recency.
const PERMISSION_CACHE_ENTRIES: usize = 100_000;

impl PermissionCache {
    fn knows(&self, user_id: &str, api: &str) -> bool {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.contains_key(&(user_id.to_string(), api.to_string()))
    }

    fn get(&self, user_id: &str, api: &str, generation: i64) -> Option<Vec<String>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(&(user_id.to_string(), api.to_string()))
            .filter(|(at, _)| *at == generation)
            .map(|(_, permissions)| permissions.clone())
    }

    fn put(&self, user_id: &str, api: &str, generation: i64, permissions: &[String]) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= PERMISSION_CACHE_ENTRIES {
            entries.clear();
        }
        entries.insert((user_id.to_string(), api.to_string()), (generation, permissions.to_vec()));
    }
}

impl SqlStore {
    /// For each reference its id: `sql` takes the reference as `$1` and its lower-cased form
    /// as `$2`.
    async fn resolve_refs(&self, sql: &'static str, refs: &[String]) -> StoreResult<Vec<Option<String>>> {
        let mut ids = Vec::with_capacity(refs.len());
        for r in refs {
            let id: Option<String> = sqlx::query_scalar(sql)
                .bind(r)
                .bind(r.to_lowercase())
                .fetch_optional(&self.pool)
                .await
                .map_err(map)?;
            ids.push(id);
        }
        Ok(ids)
    }
}

#[async_trait::async_trait]
impl AuthorizationStore for SqlStore {
    /// `rp.role_id || ''` keeps SQLite from looking up each held role in `role_permissions`:
    /// it reads the API's rows instead and tests each against the held roles, so a user with
    /// 10,000 roles costs about what the API's permission rows cost, not 10,000 lookups.
    async fn effective_permissions(&self, user_id: &str, api_identifier: &str) -> StoreResult<Vec<String>> {
        // A user seen before costs one read of the generation; anyone else goes straight to
        // the computation, which reads the generation in the same statement (one snapshot).
        if self.permissions.knows(user_id, api_identifier) {
            let generation: i64 = sqlx::query_scalar("SELECT generation FROM authorization_generation WHERE id = 1")
                .fetch_one(&self.pool)
                .await
                .map_err(map)?;
            if let Some(permissions) = self.permissions.get(user_id, api_identifier, generation) {
                return Ok(permissions);
            }
        }
        let sql = format!(
            "{EFFECTIVE_ROLES}, \
             held_permissions(name) AS ( \
                 SELECT rp.permission_name FROM role_permissions rp \
                 WHERE rp.resource_server_identifier = $2 AND rp.role_id || '' IN (SELECT role_id FROM held_roles) \
                 UNION SELECT permission_name FROM user_permissions WHERE user_id = $1 AND resource_server_identifier = $2 \
                 UNION SELECT p.name FROM role_extension_permissions x \
                 JOIN extension_permissions p ON p.guid = x.permission_guid \
                 WHERE p.application_type = 'resource_server' AND p.application_id = $2 \
                 AND x.role_id IN (SELECT role_id FROM held_roles)) \
             SELECT g.generation, h.name FROM authorization_generation g LEFT JOIN held_permissions h ON TRUE \
             WHERE g.id = 1 ORDER BY h.name"
        );
        let rows: Vec<(i64, Option<String>)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .bind(api_identifier)
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        let generation = rows.first().map_or(0, |(g, _)| *g);
        let permissions: Vec<String> = rows.into_iter().filter_map(|(_, name)| name).collect();
        self.permissions.put(user_id, api_identifier, generation, &permissions);
        Ok(permissions)
    }

    async fn effective_permission_sources(&self, user_id: &str) -> StoreResult<Vec<(Permission, PermissionSource)>> {
        let sql = format!(
            "{EFFECTIVE_ROLES} \
             SELECT rp.resource_server_identifier, rp.permission_name, 'ROLE' AS source_type, r.id AS source_id, \
             r.name AS source_name FROM role_permissions rp JOIN roles r ON r.id = rp.role_id \
             WHERE rp.role_id IN (SELECT role_id FROM held_roles) \
             UNION SELECT resource_server_identifier, permission_name, 'DIRECT', '', '' FROM user_permissions \
             WHERE user_id = $1 \
             UNION SELECT p.application_id, p.name, 'ROLE', r.id, r.name FROM role_extension_permissions x \
             JOIN extension_permissions p ON p.guid = x.permission_guid \
             JOIN resource_servers api ON api.identifier = p.application_id \
             JOIN roles r ON r.id = x.role_id \
             WHERE p.application_type = 'resource_server' AND x.role_id IN (SELECT role_id FROM held_roles) \
             ORDER BY 1, 2, 3, 5, 4"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(user_id).fetch_all(&self.pool).await.map_err(map)?;
        rows.iter()
            .map(|row| {
                let source = PermissionSource {
                    source_type: row.try_get("source_type").map_err(map)?,
                    source_id: row.try_get("source_id").map_err(map)?,
                    source_name: row.try_get("source_name").map_err(map)?,
                };
                Ok((permission_from_row(row)?, source))
            })
            .collect()
    }

    async fn effective_roles(&self, user_id: &str) -> StoreResult<Vec<Role>> {
        let sql = format!(
            "{EFFECTIVE_ROLES} SELECT {ROLE_COLUMNS} FROM roles WHERE id IN (SELECT role_id FROM held_roles) \
             ORDER BY name_lower, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(user_id).fetch_all(&self.pool).await.map_err(map)?;
        rows.iter().map(role_from_row).collect()
    }

    async fn resolve_role_refs(&self, refs: &[String]) -> StoreResult<Vec<Option<String>>> {
        self.resolve_refs(
            "SELECT id FROM roles WHERE id = $1 OR guid = $1 OR (name_lower = $2 AND application_id = '') \
             ORDER BY CASE WHEN id = $1 OR guid = $1 THEN 0 ELSE 1 END LIMIT 1",
            refs,
        )
        .await
    }

    async fn resolve_group_refs(&self, refs: &[String]) -> StoreResult<Vec<Option<String>>> {
        self.resolve_refs(
            "SELECT id FROM directory_groups WHERE id = $1 OR guid = $1 OR name_lower = $2 \
             ORDER BY CASE WHEN id = $1 OR guid = $1 THEN 0 ELSE 1 END LIMIT 1",
            refs,
        )
        .await
    }
}
