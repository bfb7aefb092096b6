//! Actions, their deployed versions and their bindings to triggers.

use castellan_core::model::{
    Action, ActionBinding, ActionSecret, ActionVersion, DeployedAction, Named, Trigger,
};
use castellan_core::paging::{Page, PageRequest};
use castellan_core::store::{ActionFilter, ActionStore, StoreError, StoreResult};

use super::handle::{Conn, Handle, Source};
use super::query::{each, found, limit, parse_named};
use crate::errors::{conflict_as, from_json, json_text, map};

/// The action's columns (`a`) and those of its latest version (`v`, NULL if never deployed).
const ACTION_SELECT: &str = "SELECT a.id, a.name, a.trigger_id, a.code, a.runtime, a.secrets, a.all_changes_deployed, \
     a.created_at, a.updated_at, v.id AS version_id, v.number AS version_number, v.code AS version_code, \
     v.runtime AS version_runtime, v.secrets AS version_secrets, v.created_at AS version_created_at \
     FROM actions a LEFT JOIN action_versions v ON v.action_id = a.id \
     AND v.number = (SELECT MAX(m.number) FROM action_versions m WHERE m.action_id = a.id)";

/// Binds `$1` trigger, `$2` name, `$3` deployed; each NULL keeps all.
const ACTION_FILTER: &str = "($1 IS NULL OR a.trigger_id = $1) AND ($2 IS NULL OR a.name = $2) \
     AND ($3 IS NULL OR EXISTS (SELECT 1 FROM action_versions d WHERE d.action_id = a.id) = $3)";

fn secrets_from(column: &str, text: &str) -> StoreResult<Vec<ActionSecret>> {
    from_json(column, text)
}

/// An action row joined with its latest version's columns (all NULL if never deployed).
#[derive(sqlx::FromRow)]
struct ActionRow {
    id: String,
    name: String,
    trigger_id: String,
    code: String,
    runtime: String,
    secrets: String,
    all_changes_deployed: bool,
    created_at: i64,
    updated_at: i64,
    version_id: Option<String>,
    version_number: Option<i64>,
    version_code: Option<String>,
    version_runtime: Option<String>,
    version_secrets: Option<String>,
    version_created_at: Option<i64>,
}

impl TryFrom<ActionRow> for Action {
    type Error = StoreError;

    fn try_from(row: ActionRow) -> StoreResult<Action> {
        let deployed = match row.version_id {
            None => None,
            Some(version_id) => Some(ActionVersion {
                id: version_id,
                action_id: row.id.clone(),
                number: of_version("version_number", row.version_number)?,
                code: of_version("version_code", row.version_code)?,
                runtime: of_version("version_runtime", row.version_runtime)?,
                secrets: secrets_from(
                    "version_secrets",
                    &of_version("version_secrets", row.version_secrets)?,
                )?,
                created_at: of_version("version_created_at", row.version_created_at)?,
            }),
        };
        Ok(Action {
            id: row.id,
            name: row.name,
            trigger: parse_named("trigger_id", &row.trigger_id)?,
            code: row.code,
            runtime: row.runtime,
            secrets: secrets_from("secrets", &row.secrets)?,
            all_changes_deployed: row.all_changes_deployed,
            deployed,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// A column of the joined version, NULL only when there is no version.
fn of_version<T>(column: &str, value: Option<T>) -> StoreResult<T> {
    value.ok_or_else(|| StoreError::Other(format!("column {column}: NULL beside a version id")))
}

#[derive(sqlx::FromRow)]
struct ActionBindingRow {
    id: String,
    trigger_id: String,
    action_id: String,
    display_name: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<ActionBindingRow> for ActionBinding {
    type Error = StoreError;

    fn try_from(row: ActionBindingRow) -> StoreResult<ActionBinding> {
        Ok(ActionBinding {
            id: row.id,
            trigger: parse_named("trigger_id", &row.trigger_id)?,
            action_id: row.action_id,
            display_name: row.display_name,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// A bound action's deployed code, for running it.
#[derive(sqlx::FromRow)]
struct DeployedActionRow {
    id: String,
    name: String,
    code: String,
    secrets: String,
}

impl TryFrom<DeployedActionRow> for DeployedAction {
    type Error = StoreError;

    fn try_from(row: DeployedActionRow) -> StoreResult<DeployedAction> {
        let secrets = secrets_from("secrets", &row.secrets)?;
        Ok(DeployedAction {
            id: row.id,
            name: row.name,
            code: row.code,
            secrets: secrets
                .into_iter()
                .map(|s| (s.name, s.sealed_value))
                .collect(),
        })
    }
}

async fn find_action_where(
    conn: &mut Conn,
    condition: &'static str,
    key: &str,
) -> StoreResult<Option<Action>> {
    let sql = format!("{ACTION_SELECT} WHERE {condition}");
    sqlx::query_as::<_, ActionRow>(sqlx::AssertSqlSafe(sql))
        .bind(key)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map)?
        .map(Action::try_from)
        .transpose()
}

#[async_trait::async_trait]
impl<S: Source> ActionStore for Handle<S> {
    async fn create_action(&self, a: &Action) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        sqlx::query(
            "INSERT INTO actions (id, name, trigger_id, code, runtime, secrets, all_changes_deployed, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&a.id)
        .bind(&a.name)
        .bind(a.trigger.name())
        .bind(&a.code)
        .bind(&a.runtime)
        .bind(json_text(&a.secrets))
        .bind(a.all_changes_deployed)
        .bind(a.created_at)
        .bind(a.updated_at)
        .execute(&mut *conn)
        .await
        .map_err(map)?;
        Ok(())
    }

    async fn find_action(&self, id: &str) -> StoreResult<Option<Action>> {
        find_action_where(&mut *self.hold().await?, "a.id = $1", id).await
    }

    async fn find_action_by_name(&self, name: &str) -> StoreResult<Option<Action>> {
        find_action_where(&mut *self.hold().await?, "a.name = $1", name).await
    }

    async fn list_actions(
        &self,
        filter: &ActionFilter,
        page: PageRequest,
    ) -> StoreResult<Page<Action>> {
        let mut conn = self.hold().await?;
        let (lim, off) = limit(page);
        let trigger = filter.trigger.map(|t| t.name());
        let sql =
            format!("{ACTION_SELECT} WHERE {ACTION_FILTER} ORDER BY a.name LIMIT $4 OFFSET $5");
        let rows = sqlx::query_as::<_, ActionRow>(sqlx::AssertSqlSafe(sql))
            .bind(trigger)
            .bind(&filter.name)
            .bind(filter.deployed)
            .bind(lim)
            .bind(off)
            .fetch_all(&mut *conn)
            .await
            .map_err(map)?;
        let count = format!("SELECT COUNT(*) FROM actions a WHERE {ACTION_FILTER}");
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count))
            .bind(trigger)
            .bind(&filter.name)
            .bind(filter.deployed)
            .fetch_one(&mut *conn)
            .await
            .map_err(map)?;
        Ok(Page {
            items: each(rows)?,
            total: total as u64,
        })
    }

    async fn update_action(&self, a: &Action) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        let done = sqlx::query(
            "UPDATE actions SET name = $2, trigger_id = $3, code = $4, runtime = $5, secrets = $6, \
             all_changes_deployed = $7, updated_at = $8 WHERE id = $1",
        )
        .bind(&a.id)
        .bind(&a.name)
        .bind(a.trigger.name())
        .bind(&a.code)
        .bind(&a.runtime)
        .bind(json_text(&a.secrets))
        .bind(a.all_changes_deployed)
        .bind(a.updated_at)
        .execute(&mut *conn)
        .await
        .map_err(map)?;
        found(done.rows_affected())
    }

    async fn delete_action(&self, id: &str, force: bool) -> StoreResult<bool> {
        let mut conn = self.hold().await?;
        let mut tx = conn.write().await?;
        if force {
            sqlx::query("DELETE FROM action_bindings WHERE action_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(map)?;
        } else {
            let bound: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM action_bindings WHERE action_id = $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(map)?;
            if bound > 0 {
                return Err(StoreError::Conflict(
                    "the action is bound to a trigger".into(),
                ));
            }
        }
        // Without `force`, a binding made meanwhile makes the foreign key refuse this.
        let done = sqlx::query("DELETE FROM actions WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        tx.commit().await.map_err(map)?;
        Ok(done.rows_affected() > 0)
    }

    async fn deploy_action(&self, v: &ActionVersion) -> StoreResult<ActionVersion> {
        let mut conn = self.hold().await?;
        let secrets = json_text(&v.secrets);
        let mut tx = conn.write().await?;
        // Locks the action's row (PostgreSQL), so deployments of one action take turns.
        let done = sqlx::query(
            "UPDATE actions SET all_changes_deployed = (code = $2 AND runtime = $3 AND secrets = $4) WHERE id = $1",
        )
        .bind(&v.action_id)
        .bind(&v.code)
        .bind(&v.runtime)
        .bind(&secrets)
        .execute(&mut *tx)
        .await
        .map_err(map)?;
        found(done.rows_affected())?;
        let number: i64 = sqlx::query_scalar(
            "INSERT INTO action_versions (id, action_id, number, code, runtime, secrets, created_at) \
             VALUES ($1, $2, (SELECT COALESCE(MAX(m.number), 0) + 1 FROM action_versions m WHERE m.action_id = $2), \
             $3, $4, $5, $6) RETURNING number",
        )
        .bind(&v.id)
        .bind(&v.action_id)
        .bind(&v.code)
        .bind(&v.runtime)
        .bind(&secrets)
        .bind(v.created_at)
        .fetch_one(&mut *tx)
        .await
        .map_err(map)?;
        tx.commit().await.map_err(map)?;
        Ok(ActionVersion {
            number,
            ..v.clone()
        })
    }

    async fn action_triggers_bound(&self, action_id: &str) -> StoreResult<Vec<Trigger>> {
        let mut conn = self.hold().await?;
        let names: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT trigger_id FROM action_bindings WHERE action_id = $1 ORDER BY trigger_id")
                .bind(action_id)
                .fetch_all(&mut *conn)
                .await
                .map_err(map)?;
        names.iter().map(|n| parse_named("trigger_id", n)).collect()
    }

    async fn list_action_bindings(&self, trigger: Trigger) -> StoreResult<Vec<ActionBinding>> {
        let mut conn = self.hold().await?;
        let rows = sqlx::query_as::<_, ActionBindingRow>(
            "SELECT id, trigger_id, action_id, display_name, created_at, updated_at FROM action_bindings \
             WHERE trigger_id = $1 ORDER BY position",
        )
        .bind(trigger.name())
        .fetch_all(&mut *conn)
        .await
        .map_err(map)?;
        each(rows)
    }

    async fn replace_action_bindings(
        &self,
        trigger: Trigger,
        bindings: &[ActionBinding],
    ) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        let mut tx = conn.write().await?;
        sqlx::query("DELETE FROM action_bindings WHERE trigger_id = $1")
            .bind(trigger.name())
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        for (position, b) in bindings.iter().enumerate() {
            // Inserts only an action that exists, supports the trigger and was deployed.
            let done = sqlx::query(
                "INSERT INTO action_bindings (id, trigger_id, position, action_id, display_name, created_at, updated_at) \
                 SELECT $1, $2, $3, a.id, $5, $6, $7 FROM actions a WHERE a.id = $4 AND a.trigger_id = $2 \
                 AND EXISTS (SELECT 1 FROM action_versions v WHERE v.action_id = a.id)",
            )
            .bind(&b.id)
            .bind(trigger.name())
            .bind(position as i64)
            .bind(&b.action_id)
            .bind(&b.display_name)
            .bind(b.created_at)
            .bind(b.updated_at)
            .execute(&mut *tx)
            .await
            .map_err(conflict_as("an action is bound twice"))?;
            if done.rows_affected() != 1 {
                return Err(StoreError::Conflict(format!(
                    "action {} does not exist, does not support {} or was never deployed",
                    b.action_id,
                    trigger.name()
                )));
            }
        }
        tx.commit().await.map_err(map)
    }

    async fn bound_actions(&self, trigger: Trigger) -> StoreResult<Vec<DeployedAction>> {
        let mut conn = self.hold().await?;
        let rows = sqlx::query_as::<_, DeployedActionRow>(
            "SELECT a.id, a.name, v.code, v.secrets FROM action_bindings b \
             JOIN actions a ON a.id = b.action_id \
             JOIN action_versions v ON v.action_id = a.id \
             AND v.number = (SELECT MAX(m.number) FROM action_versions m WHERE m.action_id = a.id) \
             WHERE b.trigger_id = $1 ORDER BY b.position",
        )
        .bind(trigger.name())
        .fetch_all(&mut *conn)
        .await
        .map_err(map)?;
        each(rows)
    }
}
