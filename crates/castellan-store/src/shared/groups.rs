//! Groups: members, roles, nested groups and connection mappings.

use std::collections::HashMap;

use castellan_core::model::{
    GrantedRole, Group, GroupMapping, GroupRecord, NestedMember, Role, User,
};
use castellan_core::paging::{Page, PageRequest};
use castellan_core::store::{GroupStore, StoreError, StoreResult};

use super::Db;
use super::handle::{Conn, Handle, Held, Source};
use super::query::{
    all_by_key, delete_one, each, for_each_in_tx, found, limit, page_by_key, page_of,
};
use super::roles::{ROLE_COLUMNS_R, RoleRow};
use super::users::{USER_COLUMNS, UserRow};
use crate::errors::{conflict_as, map};

const GROUP_COLUMNS: &str = "g.id, g.guid, g.name, g.description, g.created_at";

#[derive(sqlx::FromRow)]
struct GroupRow {
    id: String,
    guid: String,
    name: String,
    description: String,
    created_at: i64,
}

impl TryFrom<GroupRow> for Group {
    type Error = StoreError;

    fn try_from(row: GroupRow) -> StoreResult<Group> {
        Ok(Group {
            id: row.id,
            guid: row.guid,
            name: row.name,
            description: row.description,
            created_at: row.created_at,
        })
    }
}

/// The same group columns named `g_{column}`, for rows that join a group to something
/// else.
#[derive(sqlx::FromRow)]
struct PrefixedGroupRow {
    g_id: String,
    g_guid: String,
    g_name: String,
    g_description: String,
    g_created_at: i64,
}

impl From<PrefixedGroupRow> for Group {
    fn from(row: PrefixedGroupRow) -> Group {
        Group {
            id: row.g_id,
            guid: row.g_guid,
            name: row.g_name,
            description: row.g_description,
            created_at: row.g_created_at,
        }
    }
}

/// A member of a group or of a group nested in it, with that group.
#[derive(sqlx::FromRow)]
struct NestedMemberRow {
    #[sqlx(flatten)]
    user: UserRow,
    #[sqlx(flatten)]
    group: PrefixedGroupRow,
}

impl TryFrom<NestedMemberRow> for NestedMember {
    type Error = StoreError;

    fn try_from(row: NestedMemberRow) -> StoreResult<NestedMember> {
        Ok(NestedMember {
            user: row.user.try_into()?,
            group: row.group.into(),
        })
    }
}

/// A role and the group (the one asked about or an ancestor) that grants it.
#[derive(sqlx::FromRow)]
struct GrantedRoleRow {
    #[sqlx(flatten)]
    role: RoleRow,
    #[sqlx(flatten)]
    group: PrefixedGroupRow,
}

impl TryFrom<GrantedRoleRow> for GrantedRole {
    type Error = StoreError;

    fn try_from(row: GrantedRoleRow) -> StoreResult<GrantedRole> {
        Ok(GrantedRole {
            role: row.role.try_into()?,
            group: row.group.into(),
        })
    }
}

#[derive(sqlx::FromRow)]
struct GroupMappingRow {
    id: String,
    group_id: String,
    group_name: String,
    connection_name: String,
}

impl TryFrom<GroupMappingRow> for GroupMapping {
    type Error = StoreError;

    fn try_from(row: GroupMappingRow) -> StoreResult<GroupMapping> {
        Ok(GroupMapping {
            id: row.id,
            group_name: row.group_name,
            connection_name: row.connection_name,
        })
    }
}

/// The ancestors of the groups `seed` selects (a query giving `group_id`), the groups
/// themselves included, as the CTE `lineage(group_id)`.
fn lineage(seed: &str) -> String {
    format!(
        "WITH RECURSIVE lineage(group_id) AS ({seed} \
         UNION SELECT n.parent_id FROM group_nesting n JOIN lineage l ON n.child_id = l.group_id) "
    )
}

/// The (id, value) pairs `sql` lists, for putting a collection together.
async fn pairs(conn: &mut Conn, sql: &'static str) -> StoreResult<Vec<(String, String)>> {
    sqlx::query_as(sql).fetch_all(&mut *conn).await.map_err(map)
}

/// Refuses nesting `child_id` in `parent_id` when the parent is the child or one of its
/// descendants. Runs inside the inserting transaction, after the lock that orders nesting
/// changes, so two concurrent changes cannot close a cycle between them.
async fn refuse_cycle(tx: &mut Conn, parent_id: &str, child_id: &str) -> StoreResult<()> {
    let closes: Option<String> = sqlx::query_scalar(
        "WITH RECURSIVE below(group_id) AS (SELECT CAST($1 AS TEXT) \
         UNION SELECT n.child_id FROM group_nesting n JOIN below b ON n.parent_id = b.group_id) \
         SELECT group_id FROM below WHERE group_id = $2 LIMIT 1",
    )
    .bind(child_id)
    .bind(parent_id)
    .fetch_optional(&mut *tx)
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

async fn group_name(tx: &mut Conn, id: &str) -> StoreResult<String> {
    let name: Option<String> =
        sqlx::query_scalar("SELECT name FROM directory_groups WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map)?;
    Ok(name.unwrap_or_else(|| id.to_string()))
}

/// Begins changing nesting, which reads (the cycle check) before it writes. PostgreSQL
/// checks under READ COMMITTED, so two transactions could each nest one way and close a
/// cycle together: a table lock orders nesting changes. SQLite (WAL) refuses a read
/// transaction's upgrade to writing once another writer (the log writer, say) has
/// committed; `write` begins with `BEGIN IMMEDIATE`, which takes the write lock first,
/// waiting its turn.
async fn begin_nesting<'c>(conn: &'c mut Held<'_>) -> StoreResult<sqlx::Transaction<'c, Db>> {
    let mut tx = conn.write().await?;
    if <Db as sqlx::Database>::NAME == "PostgreSQL" {
        sqlx::query("LOCK TABLE group_nesting IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await
            .map_err(map)?;
    }
    Ok(tx)
}

#[async_trait::async_trait]
impl<S: Source> GroupStore for Handle<S> {
    async fn create_group(&self, g: &Group) -> StoreResult<()> {
        let mut conn = self.hold().await?;
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
        .execute(&mut *conn)
        .await
        .map_err(conflict_as("A group with this name already exists"))?;
        Ok(())
    }

    async fn find_group(&self, id_or_guid: &str) -> StoreResult<Option<Group>> {
        let sql = format!(
            "SELECT {GROUP_COLUMNS} FROM directory_groups g WHERE g.id = $1 OR g.guid = $1"
        );
        Ok(
            all_by_key::<GroupRow, Group>(&mut *self.hold().await?, sql, id_or_guid)
                .await?
                .into_iter()
                .next(),
        )
    }

    async fn list_groups(&self, page: PageRequest) -> StoreResult<Page<Group>> {
        page_of::<GroupRow, _>(&mut *self.hold().await?, format!("SELECT {GROUP_COLUMNS} FROM directory_groups g ORDER BY g.name_lower, g.id LIMIT $1 OFFSET $2"),
            "SELECT COUNT(*) FROM directory_groups",
            page)
        .await
    }

    async fn update_group(&self, g: &Group) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        let done = sqlx::query("UPDATE directory_groups SET name = $2, name_lower = $3, description = $4 WHERE id = $1")
            .bind(&g.id)
            .bind(&g.name)
            .bind(g.name.to_lowercase())
            .bind(&g.description)
            .execute(&mut *conn)
            .await
            .map_err(conflict_as("A group with this name already exists"))?;
        found(done.rows_affected())
    }

    async fn delete_group(&self, id: &str) -> StoreResult<bool> {
        delete_one(
            &mut *self.hold().await?,
            "DELETE FROM directory_groups WHERE id = $1",
            id,
        )
        .await
    }

    async fn group_records(&self) -> StoreResult<Vec<GroupRecord>> {
        let mut conn = self.hold().await?;
        // Five queries for the whole collection, however many groups there are.
        let sql =
            format!("SELECT {GROUP_COLUMNS} FROM directory_groups g ORDER BY g.name_lower, g.id");
        let rows = sqlx::query_as::<_, GroupRow>(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut *conn)
            .await
            .map_err(map)?;
        let groups: Vec<Group> = each(rows)?;
        let members = pairs(
            &mut conn,
            "SELECT group_id, user_id FROM group_members ORDER BY user_id",
        )
        .await?;
        let roles = pairs(
            &mut conn,
            "SELECT gr.group_id, r.guid FROM group_roles gr JOIN roles r ON r.id = gr.role_id ORDER BY r.name_lower, r.guid",
        )
        .await?;
        let nested = pairs(
            &mut conn,
            "SELECT n.parent_id, c.guid FROM group_nesting n JOIN directory_groups c ON c.id = n.child_id \
             ORDER BY c.name_lower, c.guid",
        )
        .await?;
        let mappings = sqlx::query_as::<_, GroupMappingRow>("SELECT id, group_id, group_name, connection_name FROM group_mappings ORDER BY group_name, id")
            .fetch_all(&mut *conn)
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
        let index: HashMap<String, usize> = records
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
        for row in mappings {
            if let Some(&i) = index.get(&row.group_id) {
                records[i].mappings.push(row.try_into()?);
            }
        }
        Ok(records)
    }

    async fn group_parents(&self, id: &str) -> StoreResult<Vec<Group>> {
        all_by_key::<GroupRow, _>(&mut *self.hold().await?,
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
        let mut conn = self.hold().await?;
        let mut tx = conn.write().await?;
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
        for_each_in_tx(
            &mut self.hold().await?,
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
        page_by_key::<UserRow, _>(&mut *self.hold().await?, format!(
                "SELECT {columns} FROM users u JOIN group_members m ON m.user_id = u.user_id WHERE m.group_id = $1 \
                 ORDER BY u.user_id LIMIT $2 OFFSET $3"
            ),
            "SELECT COUNT(*) FROM group_members WHERE group_id = $1",
            group_id,
            page)
        .await
    }

    async fn list_nested_group_members(
        &self,
        group_id: &str,
        page: PageRequest,
    ) -> StoreResult<Page<NestedMember>> {
        let mut conn = self.hold().await?;
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
        let rows = sqlx::query_as::<_, NestedMemberRow>(sqlx::AssertSqlSafe(sql))
            .bind(group_id)
            .bind(lim)
            .bind(off)
            .fetch_all(&mut *conn)
            .await
            .map_err(map)?;
        let count = format!(
            "{below} SELECT COUNT(*) FROM below b JOIN group_members m ON m.group_id = b.group_id"
        );
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count))
            .bind(group_id)
            .fetch_one(&mut *conn)
            .await
            .map_err(map)?;
        let items = each(rows)?;
        Ok(Page {
            items,
            total: total as u64,
        })
    }

    async fn add_group_roles(&self, group_id: &str, role_ids: &[String]) -> StoreResult<()> {
        for_each_in_tx(
            &mut self.hold().await?,
            "INSERT INTO group_roles (group_id, role_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            group_id,
            role_ids,
        )
        .await
    }

    async fn remove_group_roles(&self, group_id: &str, role_ids: &[String]) -> StoreResult<()> {
        for_each_in_tx(
            &mut self.hold().await?,
            "DELETE FROM group_roles WHERE group_id = $1 AND role_id = $2",
            group_id,
            role_ids,
        )
        .await
    }

    async fn list_group_roles(&self, group_id: &str, page: PageRequest) -> StoreResult<Page<Role>> {
        page_by_key::<RoleRow, _>(&mut *self.hold().await?, format!(
                "SELECT {ROLE_COLUMNS_R} FROM roles r JOIN group_roles gr ON gr.role_id = r.id WHERE gr.group_id = $1 \
                 ORDER BY r.name_lower, r.id LIMIT $2 OFFSET $3"
            ),
            "SELECT COUNT(*) FROM group_roles WHERE group_id = $1",
            group_id,
            page)
        .await
    }

    async fn roles_of_group_and_ancestors(&self, group_id: &str) -> StoreResult<Vec<GrantedRole>> {
        let mut conn = self.hold().await?;
        let sql = format!(
            "{} SELECT {ROLE_COLUMNS_R}, g.id AS g_id, g.guid AS g_guid, g.name AS g_name, \
             g.description AS g_description, g.created_at AS g_created_at \
             FROM lineage l JOIN group_roles gr ON gr.group_id = l.group_id JOIN roles r ON r.id = gr.role_id \
             JOIN directory_groups g ON g.id = l.group_id ORDER BY r.name_lower, r.id, g.name_lower",
            lineage("SELECT CAST($1 AS TEXT)")
        );
        let rows = sqlx::query_as::<_, GrantedRoleRow>(sqlx::AssertSqlSafe(sql))
            .bind(group_id)
            .fetch_all(&mut *conn)
            .await
            .map_err(map)?;
        each(rows)
    }

    async fn groups_using_role(&self, role_id: &str) -> StoreResult<Vec<Group>> {
        all_by_key::<GroupRow, _>(&mut *self.hold().await?,
            format!(
                "SELECT {GROUP_COLUMNS} FROM directory_groups g JOIN group_roles gr ON gr.group_id = g.id \
                 WHERE gr.role_id = $1 ORDER BY g.name_lower, g.id"
            ),
            role_id,
        )
        .await
    }

    async fn add_nested_groups(&self, parent_id: &str, child_ids: &[String]) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        let mut tx = begin_nesting(&mut conn).await?;
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
        for_each_in_tx(
            &mut self.hold().await?,
            "DELETE FROM group_nesting WHERE parent_id = $1 AND child_id = $2",
            parent_id,
            child_ids,
        )
        .await
    }

    async fn list_nested_groups(&self, parent_id: &str) -> StoreResult<Vec<Group>> {
        all_by_key::<GroupRow, _>(&mut *self.hold().await?,
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
        let mut conn = self.hold().await?;
        let mut tx = conn.write().await?;
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
        for_each_in_tx(
            &mut self.hold().await?,
            "DELETE FROM group_mappings WHERE group_id = $1 AND id = $2",
            group_id,
            mapping_ids,
        )
        .await
    }

    async fn list_group_mappings(&self, group_id: &str) -> StoreResult<Vec<GroupMapping>> {
        let mut conn = self.hold().await?;
        let rows = sqlx::query_as::<_, GroupMappingRow>(
            "SELECT id, group_id, group_name, connection_name FROM group_mappings WHERE group_id = $1 ORDER BY group_name, id",
        )
        .bind(group_id)
        .fetch_all(&mut *conn)
        .await
        .map_err(map)?;
        each(rows)
    }

    async fn list_user_groups(&self, user_id: &str, page: PageRequest) -> StoreResult<Page<Group>> {
        page_by_key::<GroupRow, _>(&mut *self.hold().await?, format!(
                "SELECT {GROUP_COLUMNS} FROM directory_groups g JOIN group_members m ON m.group_id = g.id \
                 WHERE m.user_id = $1 ORDER BY g.name_lower, g.id LIMIT $2 OFFSET $3"
            ),
            "SELECT COUNT(*) FROM group_members WHERE user_id = $1",
            user_id,
            page)
        .await
    }

    async fn user_groups_with_ancestors(&self, user_id: &str) -> StoreResult<Vec<Group>> {
        let sql = format!(
            "{} SELECT {GROUP_COLUMNS} FROM directory_groups g JOIN lineage l ON l.group_id = g.id \
             ORDER BY g.name_lower, g.id",
            lineage("SELECT group_id FROM group_members WHERE user_id = $1")
        );
        all_by_key::<GroupRow, _>(&mut *self.hold().await?, sql, user_id).await
    }

    async fn add_user_to_groups(&self, user_id: &str, group_ids: &[String]) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        let mut tx = conn.write().await?;
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
        all_by_key::<RoleRow, _>(&mut *self.hold().await?, sql, user_id).await
    }
}
