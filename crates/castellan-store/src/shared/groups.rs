//! Groups: members, roles, nested groups and connection mappings.

use super::*;
use castellan_core::model::{GrantedRole, Group, GroupMapping, GroupRecord, NestedMember};
use castellan_core::store::GroupStore;

pub(super) const GROUP_COLUMNS: &str = "g.id, g.guid, g.name, g.description, g.created_at";

pub(super) fn group_from_row(row: &DbRow) -> StoreResult<Group> {
    Ok(Group {
        id: row.try_get("id").map_err(map)?,
        guid: row.try_get("guid").map_err(map)?,
        name: row.try_get("name").map_err(map)?,
        description: row.try_get("description").map_err(map)?,
        created_at: row.try_get("created_at").map_err(map)?,
    })
}

/// The same group columns under a prefix, for rows that join a group to something else.
pub(super) fn group_from_prefixed_row(row: &DbRow, prefix: &str) -> StoreResult<Group> {
    let col = |c: &str| format!("{prefix}{c}");
    Ok(Group {
        id: row.try_get(col("id").as_str()).map_err(map)?,
        guid: row.try_get(col("guid").as_str()).map_err(map)?,
        name: row.try_get(col("name").as_str()).map_err(map)?,
        description: row.try_get(col("description").as_str()).map_err(map)?,
        created_at: row.try_get(col("created_at").as_str()).map_err(map)?,
    })
}

pub(super) fn mapping_from_row(row: &DbRow) -> StoreResult<GroupMapping> {
    Ok(GroupMapping {
        id: row.try_get("id").map_err(map)?,
        group_name: row.try_get("group_name").map_err(map)?,
        connection_name: row.try_get("connection_name").map_err(map)?,
    })
}

/// The ancestors of the groups `seed` selects (a query giving `group_id`), the groups
/// themselves included, as the CTE `lineage(group_id)`.
pub(super) fn lineage(seed: &str) -> String {
    format!(
        "WITH RECURSIVE lineage(group_id) AS ({seed} \
         UNION SELECT n.parent_id FROM group_nesting n JOIN lineage l ON n.child_id = l.group_id) "
    )
}

impl SqlStore {
    async fn groups_where(&self, sql: String, key: &str) -> StoreResult<Vec<Group>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(key)
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        rows.iter().map(group_from_row).collect()
    }

    pub(super) async fn roles_where(&self, sql: String, key: &str) -> StoreResult<Vec<Role>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(key)
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        rows.iter().map(role_from_row).collect()
    }
}

/// Refuses nesting `child_id` in `parent_id` when the parent is the child or one of its
/// descendants. Runs inside the inserting transaction, after the lock that orders nesting
/// changes, so two concurrent changes cannot close a cycle between them.
pub(super) async fn refuse_cycle(
    tx: &mut sqlx::Transaction<'_, Db>,
    parent_id: &str,
    child_id: &str,
) -> StoreResult<()> {
    let closes: Option<String> = sqlx::query_scalar(
        "WITH RECURSIVE below(group_id) AS (SELECT CAST($1 AS TEXT) \
         UNION SELECT n.child_id FROM group_nesting n JOIN below b ON n.parent_id = b.group_id) \
         SELECT group_id FROM below WHERE group_id = $2 LIMIT 1",
    )
    .bind(child_id)
    .bind(parent_id)
    .fetch_optional(&mut **tx)
    .await
    .map_err(map)?;
    if closes.is_none() {
        return Ok(());
    }
    let parent = group_name(tx, parent_id).await?;
    let child = group_name(tx, child_id).await?;
    Err(StoreError::Conflict(format!(
        "Nesting group \"{child}\" in \"{parent}\" would create a cycle: \"{parent}\" is already nested in \"{child}\""
    )))
}

pub(super) async fn group_name(
    tx: &mut sqlx::Transaction<'_, Db>,
    id: &str,
) -> StoreResult<String> {
    let name: Option<String> =
        sqlx::query_scalar("SELECT name FROM directory_groups WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await
            .map_err(map)?;
    Ok(name.unwrap_or_else(|| id.to_string()))
}

impl SqlStore {
    /// A transaction for changing nesting, which reads (the cycle check) before it writes.
    /// PostgreSQL checks under READ COMMITTED, so two transactions could each nest one way
    /// and close a cycle together: a table lock orders nesting changes. SQLite (WAL) refuses
    /// a read transaction's upgrade to writing once another writer (the log writer, say) has
    /// committed; `BEGIN IMMEDIATE` takes the write lock first, waiting its turn.
    async fn begin_nesting(&self) -> StoreResult<sqlx::Transaction<'static, Db>> {
        if <Db as sqlx::Database>::NAME == "PostgreSQL" {
            let mut tx = self.write_tx().await?;
            sqlx::query("LOCK TABLE group_nesting IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await
                .map_err(map)?;
            Ok(tx)
        } else {
            self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(map)
        }
    }
}

#[async_trait::async_trait]
impl GroupStore for SqlStore {
    async fn create_group(&self, g: &Group) -> StoreResult<()> {
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
        .execute(&self.pool)
        .await
        .map_err(conflict_as("A group with this name already exists"))?;
        Ok(())
    }

    async fn find_group(&self, id_or_guid: &str) -> StoreResult<Option<Group>> {
        let sql = format!(
            "SELECT {GROUP_COLUMNS} FROM directory_groups g WHERE g.id = $1 OR g.guid = $1"
        );
        Ok(self.groups_where(sql, id_or_guid).await?.into_iter().next())
    }

    async fn list_groups(&self, page: PageRequest) -> StoreResult<Page<Group>> {
        self.page_of(
            format!("SELECT {GROUP_COLUMNS} FROM directory_groups g ORDER BY g.name_lower, g.id LIMIT $1 OFFSET $2"),
            "SELECT COUNT(*) FROM directory_groups",
            page,
            group_from_row,
        )
        .await
    }

    async fn update_group(&self, g: &Group) -> StoreResult<()> {
        let done = sqlx::query("UPDATE directory_groups SET name = $2, name_lower = $3, description = $4 WHERE id = $1")
            .bind(&g.id)
            .bind(&g.name)
            .bind(g.name.to_lowercase())
            .bind(&g.description)
            .execute(&self.pool)
            .await
            .map_err(conflict_as("A group with this name already exists"))?;
        found(done.rows_affected())
    }

    async fn delete_group(&self, id: &str) -> StoreResult<bool> {
        self.delete_one("DELETE FROM directory_groups WHERE id = $1", id)
            .await
    }

    async fn group_records(&self) -> StoreResult<Vec<GroupRecord>> {
        // Five queries for the whole collection, however many groups there are.
        let sql =
            format!("SELECT {GROUP_COLUMNS} FROM directory_groups g ORDER BY g.name_lower, g.id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        let groups = rows
            .iter()
            .map(group_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let pairs = |sql: &'static str| async move {
            sqlx::query_as::<_, (String, String)>(sql)
                .fetch_all(&self.pool)
                .await
                .map_err(map)
        };
        let members = pairs("SELECT group_id, user_id FROM group_members ORDER BY user_id").await?;
        let roles = pairs(
            "SELECT gr.group_id, r.guid FROM group_roles gr JOIN roles r ON r.id = gr.role_id ORDER BY r.name_lower, r.guid",
        )
        .await?;
        let nested = pairs(
            "SELECT n.parent_id, c.guid FROM group_nesting n JOIN directory_groups c ON c.id = n.child_id \
             ORDER BY c.name_lower, c.guid",
        )
        .await?;
        let mappings = sqlx::query("SELECT id, group_id, group_name, connection_name FROM group_mappings ORDER BY group_name, id")
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        let mut records: Vec<GroupRecord> = groups
            .into_iter()
            .map(|group| GroupRecord {
                group,
                members: vec![],
                roles: vec![],
                nested: vec![],
                mappings: vec![],
            })
            .collect();
        let index: std::collections::HashMap<String, usize> = records
            .iter()
            .enumerate()
            .map(|(i, r)| (r.group.id.clone(), i))
            .collect();
        for (group_id, user_id) in members {
            if let Some(&i) = index.get(&group_id) {
                records[i].members.push(user_id);
            }
        }
        for (group_id, guid) in roles {
            if let Some(&i) = index.get(&group_id) {
                records[i].roles.push(guid);
            }
        }
        for (group_id, guid) in nested {
            if let Some(&i) = index.get(&group_id) {
                records[i].nested.push(guid);
            }
        }
        for row in &mappings {
            let group_id: String = row.try_get("group_id").map_err(map)?;
            if let Some(&i) = index.get(&group_id) {
                records[i].mappings.push(mapping_from_row(row)?);
            }
        }
        Ok(records)
    }

    async fn group_parents(&self, id: &str) -> StoreResult<Vec<Group>> {
        self.groups_where(
            format!(
                "SELECT {GROUP_COLUMNS} FROM directory_groups g JOIN group_nesting n ON n.parent_id = g.id \
                 WHERE n.child_id = $1 ORDER BY g.name_lower, g.id"
            ),
            id,
        )
        .await
    }

    async fn add_group_members(
        &self,
        group_id: &str,
        user_ids: &[String],
    ) -> StoreResult<Vec<String>> {
        let mut tx = self.write_tx().await?;
        let mut added = Vec::new();
        for user_id in user_ids {
            // The foreign key needs an existing user; ids of users that do not exist are skipped.
            let done = sqlx::query(
                "INSERT INTO group_members (group_id, user_id) SELECT $1, user_id FROM users WHERE user_id = $2 \
                 ON CONFLICT DO NOTHING",
            )
            .bind(group_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
            if done.rows_affected() > 0 {
                added.push(user_id.clone());
            }
        }
        tx.commit().await.map_err(map)?;
        Ok(added)
    }

    async fn remove_group_members(&self, group_id: &str, user_ids: &[String]) -> StoreResult<()> {
        self.for_each_in_tx(
            "DELETE FROM group_members WHERE group_id = $1 AND user_id = $2",
            group_id,
            user_ids,
        )
        .await
    }

    async fn list_group_members(
        &self,
        group_id: &str,
        page: PageRequest,
    ) -> StoreResult<Page<User>> {
        let columns = USER_COLUMNS
            .split(", ")
            .map(|c| format!("u.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        self.page_by_key(
            format!(
                "SELECT {columns} FROM users u JOIN group_members m ON m.user_id = u.user_id WHERE m.group_id = $1 \
                 ORDER BY u.user_id LIMIT $2 OFFSET $3"
            ),
            "SELECT COUNT(*) FROM group_members WHERE group_id = $1",
            group_id,
            page,
            user_from_row,
        )
        .await
    }

    async fn list_nested_group_members(
        &self,
        group_id: &str,
        page: PageRequest,
    ) -> StoreResult<Page<NestedMember>> {
        let (lim, off) = limit(page);
        let below = "WITH RECURSIVE below(group_id) AS (SELECT CAST($1 AS TEXT) \
                     UNION SELECT n.child_id FROM group_nesting n JOIN below b ON n.parent_id = b.group_id) ";
        let columns = USER_COLUMNS
            .split(", ")
            .map(|c| format!("u.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "{below} SELECT {columns}, g.id AS g_id, g.guid AS g_guid, g.name AS g_name, g.description AS g_description, \
             g.created_at AS g_created_at FROM below b JOIN group_members m ON m.group_id = b.group_id \
             JOIN users u ON u.user_id = m.user_id JOIN directory_groups g ON g.id = m.group_id \
             ORDER BY COALESCE(u.name, ''), u.user_id, g.name_lower LIMIT $2 OFFSET $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(group_id)
            .bind(lim)
            .bind(off)
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        let count = format!(
            "{below} SELECT COUNT(*) FROM below b JOIN group_members m ON m.group_id = b.group_id"
        );
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count))
            .bind(group_id)
            .fetch_one(&self.pool)
            .await
            .map_err(map)?;
        let items = rows
            .iter()
            .map(|row| {
                Ok(NestedMember {
                    user: user_from_row(row)?,
                    group: group_from_prefixed_row(row, "g_")?,
                })
            })
            .collect::<StoreResult<_>>()?;
        Ok(Page {
            items,
            total: total as u64,
        })
    }

    async fn add_group_roles(&self, group_id: &str, role_ids: &[String]) -> StoreResult<()> {
        self.for_each_in_tx(
            "INSERT INTO group_roles (group_id, role_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            group_id,
            role_ids,
        )
        .await
    }

    async fn remove_group_roles(&self, group_id: &str, role_ids: &[String]) -> StoreResult<()> {
        self.for_each_in_tx(
            "DELETE FROM group_roles WHERE group_id = $1 AND role_id = $2",
            group_id,
            role_ids,
        )
        .await
    }

    async fn list_group_roles(&self, group_id: &str, page: PageRequest) -> StoreResult<Page<Role>> {
        self.page_by_key(
            format!(
                "SELECT {ROLE_COLUMNS_R} FROM roles r JOIN group_roles gr ON gr.role_id = r.id WHERE gr.group_id = $1 \
                 ORDER BY r.name_lower, r.id LIMIT $2 OFFSET $3"
            ),
            "SELECT COUNT(*) FROM group_roles WHERE group_id = $1",
            group_id,
            page,
            role_from_row,
        )
        .await
    }

    async fn roles_of_group_and_ancestors(&self, group_id: &str) -> StoreResult<Vec<GrantedRole>> {
        let sql = format!(
            "{} SELECT {ROLE_COLUMNS_R}, g.id AS g_id, g.guid AS g_guid, g.name AS g_name, \
             g.description AS g_description, g.created_at AS g_created_at \
             FROM lineage l JOIN group_roles gr ON gr.group_id = l.group_id JOIN roles r ON r.id = gr.role_id \
             JOIN directory_groups g ON g.id = l.group_id ORDER BY r.name_lower, r.id, g.name_lower",
            lineage("SELECT CAST($1 AS TEXT)")
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(group_id)
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        rows.iter()
            .map(|row| {
                Ok(GrantedRole {
                    role: role_from_row(row)?,
                    group: group_from_prefixed_row(row, "g_")?,
                })
            })
            .collect()
    }

    async fn groups_using_role(&self, role_id: &str) -> StoreResult<Vec<Group>> {
        self.groups_where(
            format!(
                "SELECT {GROUP_COLUMNS} FROM directory_groups g JOIN group_roles gr ON gr.group_id = g.id \
                 WHERE gr.role_id = $1 ORDER BY g.name_lower, g.id"
            ),
            role_id,
        )
        .await
    }

    async fn add_nested_groups(&self, parent_id: &str, child_ids: &[String]) -> StoreResult<()> {
        let mut tx = self.begin_nesting().await?;
        for child_id in child_ids {
            refuse_cycle(&mut tx, parent_id, child_id).await?;
            sqlx::query("INSERT INTO group_nesting (parent_id, child_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(parent_id)
                .bind(child_id)
                .execute(&mut *tx)
                .await
                .map_err(map)?;
        }
        tx.commit().await.map_err(map)
    }

    async fn remove_nested_groups(&self, parent_id: &str, child_ids: &[String]) -> StoreResult<()> {
        self.for_each_in_tx(
            "DELETE FROM group_nesting WHERE parent_id = $1 AND child_id = $2",
            parent_id,
            child_ids,
        )
        .await
    }

    async fn list_nested_groups(&self, parent_id: &str) -> StoreResult<Vec<Group>> {
        self.groups_where(
            format!(
                "SELECT {GROUP_COLUMNS} FROM directory_groups g JOIN group_nesting n ON n.child_id = g.id \
                 WHERE n.parent_id = $1 ORDER BY g.name_lower, g.id"
            ),
            parent_id,
        )
        .await
    }

    async fn add_group_mappings(
        &self,
        group_id: &str,
        mappings: &[GroupMapping],
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        for m in mappings {
            sqlx::query("INSERT INTO group_mappings (id, group_id, group_name, connection_name) VALUES ($1, $2, $3, $4)")
                .bind(&m.id)
                .bind(group_id)
                .bind(&m.group_name)
                .bind(&m.connection_name)
                .execute(&mut *tx)
                .await
                .map_err(map)?;
        }
        tx.commit().await.map_err(map)
    }

    async fn remove_group_mappings(
        &self,
        group_id: &str,
        mapping_ids: &[String],
    ) -> StoreResult<()> {
        self.for_each_in_tx(
            "DELETE FROM group_mappings WHERE group_id = $1 AND id = $2",
            group_id,
            mapping_ids,
        )
        .await
    }

    async fn list_group_mappings(&self, group_id: &str) -> StoreResult<Vec<GroupMapping>> {
        let rows = sqlx::query(
            "SELECT id, group_name, connection_name FROM group_mappings WHERE group_id = $1 ORDER BY group_name, id",
        )
        .bind(group_id)
        .fetch_all(&self.pool)
        .await
        .map_err(map)?;
        rows.iter().map(mapping_from_row).collect()
    }

    async fn list_user_groups(&self, user_id: &str, page: PageRequest) -> StoreResult<Page<Group>> {
        self.page_by_key(
            format!(
                "SELECT {GROUP_COLUMNS} FROM directory_groups g JOIN group_members m ON m.group_id = g.id \
                 WHERE m.user_id = $1 ORDER BY g.name_lower, g.id LIMIT $2 OFFSET $3"
            ),
            "SELECT COUNT(*) FROM group_members WHERE user_id = $1",
            user_id,
            page,
            group_from_row,
        )
        .await
    }

    async fn user_groups_with_ancestors(&self, user_id: &str) -> StoreResult<Vec<Group>> {
        let sql = format!(
            "{} SELECT {GROUP_COLUMNS} FROM directory_groups g JOIN lineage l ON l.group_id = g.id \
             ORDER BY g.name_lower, g.id",
            lineage("SELECT group_id FROM group_members WHERE user_id = $1")
        );
        self.groups_where(sql, user_id).await
    }

    async fn add_user_to_groups(&self, user_id: &str, group_ids: &[String]) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        for group_id in group_ids {
            sqlx::query("INSERT INTO group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(group_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await
                .map_err(map)?;
        }
        tx.commit().await.map_err(map)
    }

    async fn calculated_user_roles(&self, user_id: &str) -> StoreResult<Vec<Role>> {
        let sql = format!(
            "{} SELECT {ROLE_COLUMNS_R} FROM roles r WHERE r.id IN ( \
             SELECT role_id FROM user_roles WHERE user_id = $1 \
             UNION SELECT gr.role_id FROM group_roles gr JOIN lineage l ON gr.group_id = l.group_id) \
             ORDER BY r.name_lower, r.id",
            lineage("SELECT group_id FROM group_members WHERE user_id = $1")
        );
        self.roles_where(sql, user_id).await
    }
}
