//! Effective authorization and default assignments.

use std::collections::BTreeSet;

use castellan_core::model::{Permission, PermissionSource, Role};
use castellan_core::store::{
    AuthorizationStore, DefaultGrant, ScriptChanges, StoreError, StoreResult,
};

use super::handle::{Conn, Handle, Source};
use super::permission_cache::{Counters, PermissionCache};
use super::query::{each, found};
use super::roles::{PermissionRow, ROLE_COLUMNS, RoleRow};
use crate::errors::{map, metadata_text};

/// A permission a user holds and what it comes from: a role (`ROLE`) or the user (`DIRECT`).
#[derive(sqlx::FromRow)]
struct PermissionSourceRow {
    #[sqlx(flatten)]
    permission: PermissionRow,
    source_type: String,
    source_id: String,
    source_name: String,
}

impl TryFrom<PermissionSourceRow> for (Permission, PermissionSource) {
    type Error = StoreError;

    fn try_from(row: PermissionSourceRow) -> StoreResult<(Permission, PermissionSource)> {
        let source = PermissionSource {
            source_type: row.source_type,
            source_id: row.source_id,
            source_name: row.source_name,
        };
        Ok((row.permission.try_into()?, source))
    }
}

/// `member_of`: the groups the user (`$1`) is in: groups they are a member of, groups mapped
/// to one of those by name for the user's connection, and every ancestor of either through
/// nesting. `held_roles` adds to it the ids of the user's roles, direct and through those
/// groups.
///
/// `CROSS JOIN` fixes SQLite's join order (PostgreSQL plans it freely): from the user's few
/// groups into `group_roles` by key, instead of scanning every group's roles. `held_roles` may
/// list a role twice (`UNION ALL`): callers only test membership, and skipping the
/// de-duplication halves the cost for a user with thousands of roles.
const MEMBER_OF: &str = "WITH RECURSIVE \
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
        UNION SELECT n.parent_id FROM group_nesting n JOIN member_of c ON n.child_id = c.group_id)";

const HELD_ROLES: &str = "held_roles(role_id) AS ( \
        SELECT role_id FROM user_roles WHERE user_id = $1 \
        UNION ALL SELECT gr.role_id FROM member_of m CROSS JOIN group_roles gr WHERE gr.group_id = m.group_id)";

/// The names of the permissions on API `$2` that the roles of `roles` (a CTE) grant.
/// `rp.role_id || ''` keeps SQLite from looking up each role in `role_permissions`: it reads
/// the API's rows instead and tests each against the roles, so thousands of roles cost about
/// what the API's permission rows cost, not thousands of lookups.
fn granted_by(roles: &str) -> String {
    format!(
        "SELECT rp.permission_name FROM role_permissions rp \
         WHERE rp.resource_server_identifier = $2 AND rp.role_id || '' IN (SELECT role_id FROM {roles}) \
         UNION SELECT p.name FROM role_extension_permissions x \
         JOIN extension_permissions p ON p.guid = x.permission_guid \
         WHERE p.application_type = 'resource_server' AND p.application_id = $2 \
         AND x.role_id IN (SELECT role_id FROM {roles})"
    )
}

/// Inserts the grant's roles and groups (skipping any deleted since they were resolved) and
/// marks the user's defaults as applied.
pub(super) async fn apply_default_grant(
    tx: &mut Conn,
    user_id: &str,
    grant: &DefaultGrant,
) -> StoreResult<()> {
    for role_id in &grant.role_ids {
        sqlx::query(
            "INSERT INTO user_roles (user_id, role_id) SELECT $1, id FROM roles WHERE id = $2 ON CONFLICT DO NOTHING",
        )
        .bind(user_id)
        .bind(role_id)
        .execute(&mut *tx)
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
        .execute(&mut *tx)
        .await
        .map_err(map)?;
    }
    sqlx::query("UPDATE users SET defaults_applied = TRUE WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await
        .map_err(map)?;
    Ok(())
}

/// Applies the grant unless the user's defaults were applied before; the conditional update
/// decides, so of two concurrent transactions only one applies them.
pub(super) async fn apply_default_grant_once(
    tx: &mut Conn,
    user_id: &str,
    grant: &DefaultGrant,
) -> StoreResult<bool> {
    let claimed = sqlx::query(
        "UPDATE users SET defaults_applied = TRUE WHERE user_id = $1 AND defaults_applied = FALSE",
    )
    .bind(user_id)
    .execute(&mut *tx)
    .await
    .map_err(map)?
    .rows_affected();
    if claimed == 0 {
        return Ok(false);
    }
    apply_default_grant(tx, user_id, grant).await?;
    Ok(true)
}

/// The items of a space-joined list (`string_agg(…, ' ')`; NULL when there are none).
fn words(list: Option<String>) -> impl Iterator<Item = String> {
    list.unwrap_or_default()
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect::<Vec<_>>()
        .into_iter()
}

async fn authorization_counters(conn: &mut Conn) -> StoreResult<Counters> {
    let (generation, membership): (i64, i64) =
        sqlx::query_as("SELECT generation, membership FROM authorization_generation WHERE id = 1")
            .fetch_one(&mut *conn)
            .await
            .map_err(map)?;
    Ok(Counters {
        generation,
        membership,
    })
}

/// In one statement and one row: the counters, the permissions on the API the user holds
/// directly or through direct roles, and the groups the user is in. Lists come joined by
/// spaces, which neither scope names nor group ids contain: one row instead of one per
/// item saves the SQLite worker a hand-off per item.
async fn own_permissions_and_groups(
    conn: &mut Conn,
    user_id: &str,
    api: &str,
) -> StoreResult<(Counters, BTreeSet<String>, Vec<String>)> {
    let sql = format!(
        "{MEMBER_OF}, direct_roles(role_id) AS (SELECT role_id FROM user_roles WHERE user_id = $1), \
         own(name) AS ({} UNION SELECT permission_name FROM user_permissions \
             WHERE user_id = $1 AND resource_server_identifier = $2) \
         SELECT c.generation, c.membership, (SELECT string_agg(name, ' ') FROM own), \
         (SELECT string_agg(group_id, ' ') FROM member_of) FROM authorization_generation c WHERE c.id = 1",
        granted_by("direct_roles")
    );
    let (generation, membership, names, groups): (i64, i64, Option<String>, Option<String>) =
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .bind(api)
            .fetch_one(&mut *conn)
            .await
            .map_err(map)?;
    Ok((
        Counters {
            generation,
            membership,
        },
        words(names).collect(),
        words(groups).collect(),
    ))
}

/// What a group's own roles grant on the API, with the `generation` it was read at.
async fn granted_by_group(
    conn: &mut Conn,
    group_id: &str,
    api: &str,
) -> StoreResult<(i64, Vec<String>)> {
    let sql = format!(
        "WITH own_roles(role_id) AS (SELECT role_id FROM group_roles WHERE group_id = $1), \
         granted(name) AS ({}) \
         SELECT c.generation, (SELECT string_agg(name, ' ') FROM granted) FROM authorization_generation c \
         WHERE c.id = 1",
        granted_by("own_roles")
    );
    let (generation, names): (i64, Option<String>) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(group_id)
        .bind(api)
        .fetch_one(&mut *conn)
        .await
        .map_err(map)?;
    Ok((generation, words(names).collect()))
}

/// Everything in one query, kept nowhere: for when the counters moved mid-computation.
async fn computed_permissions(
    conn: &mut Conn,
    user_id: &str,
    api: &str,
) -> StoreResult<Vec<String>> {
    let sql = format!(
        "{MEMBER_OF}, {HELD_ROLES} {} \
         UNION SELECT permission_name FROM user_permissions WHERE user_id = $1 AND resource_server_identifier = $2 \
         ORDER BY 1",
        granted_by("held_roles")
    );
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(api)
        .fetch_all(&mut *conn)
        .await
        .map_err(map)
}

/// For each reference its id: `sql` takes the reference as `$1` and its lower-cased form
/// as `$2`.
async fn resolve_refs(
    conn: &mut Conn,
    sql: &'static str,
    refs: &[String],
) -> StoreResult<Vec<Option<String>>> {
    let mut ids = Vec::with_capacity(refs.len());
    for r in refs {
        let id: Option<String> = sqlx::query_scalar(sql)
            .bind(r)
            .bind(r.to_lowercase())
            .fetch_optional(&mut *conn)
            .await
            .map_err(map)?;
        ids.push(id);
    }
    Ok(ids)
}

/// The user's permissions on the API from what `cache` keeps where it still holds, and
/// kept there.
async fn cached_permissions(
    conn: &mut Conn,
    cache: &PermissionCache,
    user_id: &str,
    api_identifier: &str,
) -> StoreResult<Vec<String>> {
    let key = (user_id.to_string(), api_identifier.to_string());
    // A user seen before costs one read of the counters; anyone else goes straight to
    // the computation, which reads them in the same statement (one snapshot).
    if cache.users.contains(&key) {
        let counters = authorization_counters(conn).await?;
        if let Some(permissions) = cache.users.get(&key, counters) {
            return Ok(permissions);
        }
    }
    let (counters, mut names, groups) =
        own_permissions_and_groups(conn, user_id, api_identifier).await?;
    for group_id in groups {
        let group_key = (group_id, api_identifier.to_string());
        let granted = match cache.groups.get(&group_key, counters.generation) {
            Some(granted) => granted,
            None => {
                let (generation, granted) =
                    granted_by_group(conn, &group_key.0, api_identifier).await?;
                if generation != counters.generation {
                    // What groups grant changed under us: compute it all at once instead.
                    return computed_permissions(conn, user_id, api_identifier).await;
                }
                cache.groups.put(group_key, generation, granted.clone());
                granted
            }
        };
        names.extend(granted);
    }
    let permissions: Vec<String> = names.into_iter().collect();
    cache.users.put(key, counters, permissions.clone());
    Ok(permissions)
}

#[async_trait::async_trait]
impl<S: Source> AuthorizationStore for Handle<S> {
    /// `rp.role_id || ''` keeps SQLite from looking up each held role in `role_permissions`:
    /// it reads the API's rows instead and tests each against the held roles, so a user with
    /// 10,000 roles costs about what the API's permission rows cost, not 10,000 lookups.
    async fn effective_permissions(
        &self,
        user_id: &str,
        api_identifier: &str,
    ) -> StoreResult<Vec<String>> {
        let mut conn = self.hold().await?;
        match self.source.permission_cache() {
            Some(cache) => cached_permissions(&mut conn, cache, user_id, api_identifier).await,
            None => computed_permissions(&mut conn, user_id, api_identifier).await,
        }
    }

    async fn effective_permission_sources(
        &self,
        user_id: &str,
    ) -> StoreResult<Vec<(Permission, PermissionSource)>> {
        let mut conn = self.hold().await?;
        let sql = format!(
            "{MEMBER_OF}, {HELD_ROLES} \
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
        let rows = sqlx::query_as::<_, PermissionSourceRow>(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .fetch_all(&mut *conn)
            .await
            .map_err(map)?;
        each(rows)
    }

    async fn effective_roles(&self, user_id: &str) -> StoreResult<Vec<Role>> {
        let mut conn = self.hold().await?;
        let sql = format!(
            "{MEMBER_OF}, {HELD_ROLES} SELECT {ROLE_COLUMNS} FROM roles WHERE id IN (SELECT role_id FROM held_roles) \
             ORDER BY name_lower, id"
        );
        let rows = sqlx::query_as::<_, RoleRow>(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .fetch_all(&mut *conn)
            .await
            .map_err(map)?;
        each(rows)
    }

    async fn apply_script_changes(
        &self,
        user_id: &str,
        changes: &ScriptChanges,
        now: i64,
    ) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        let mut tx = conn.write().await?;
        let metadata = [
            ("app_metadata", &changes.app_metadata),
            ("user_metadata", &changes.user_metadata),
        ];
        for (column, value) in metadata {
            if let Some(value) = value {
                let sql =
                    format!("UPDATE users SET {column} = $2, updated_at = $3 WHERE user_id = $1");
                let done = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(user_id)
                    .bind(metadata_text(column, value)?)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(map)?;
                found(done.rows_affected())?;
            }
        }
        let statements: [(&str, &[String]); 4] = [
            (
                "INSERT INTO user_roles (user_id, role_id) SELECT $1, id FROM roles WHERE id = $2 ON CONFLICT DO NOTHING",
                &changes.assign_role_ids,
            ),
            (
                "DELETE FROM user_roles WHERE user_id = $1 AND role_id = $2",
                &changes.remove_role_ids,
            ),
            (
                "INSERT INTO group_members (group_id, user_id) SELECT id, $1 FROM directory_groups WHERE id = $2 \
                 ON CONFLICT DO NOTHING",
                &changes.add_group_ids,
            ),
            (
                "DELETE FROM group_members WHERE user_id = $1 AND group_id = $2",
                &changes.remove_group_ids,
            ),
        ];
        for (sql, ids) in statements {
            for id in ids {
                sqlx::query(sql)
                    .bind(user_id)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(map)?;
            }
        }
        tx.commit().await.map_err(map)
    }

    async fn resolve_role_refs(&self, refs: &[String]) -> StoreResult<Vec<Option<String>>> {
        resolve_refs(&mut *self.hold().await?,
            "SELECT id FROM roles WHERE id = $1 OR guid = $1 OR (name_lower = $2 AND application_id = '') \
             ORDER BY CASE WHEN id = $1 OR guid = $1 THEN 0 ELSE 1 END LIMIT 1",
            refs,
        )
        .await
    }

    async fn resolve_group_refs(&self, refs: &[String]) -> StoreResult<Vec<Option<String>>> {
        resolve_refs(
            &mut *self.hold().await?,
            "SELECT id FROM directory_groups WHERE id = $1 OR guid = $1 OR name_lower = $2 \
             ORDER BY CASE WHEN id = $1 OR guid = $1 THEN 0 ELSE 1 END LIMIT 1",
            refs,
        )
        .await
    }
}
