//! Rules and their configuration values.

use castellan_core::model::Rule;
use castellan_core::paging::{Page, PageRequest};
use castellan_core::store::{RuleStore, StoreError, StoreResult};

use super::handle::{Handle, Source};
use super::query::{delete_one, each, found, limit};
use crate::errors::map;

#[derive(sqlx::FromRow)]
struct RuleRow {
    id: String,
    name: String,
    script: String,
    rule_order: i64,
    enabled: bool,
    stage: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<RuleRow> for Rule {
    type Error = StoreError;

    fn try_from(row: RuleRow) -> StoreResult<Rule> {
        Ok(Rule {
            id: row.id,
            name: row.name,
            script: row.script,
            order: row.rule_order,
            enabled: row.enabled,
            stage: row.stage,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

const RULE_COLUMNS: &str = "id, name, script, rule_order, enabled, stage, created_at, updated_at";

#[async_trait::async_trait]
impl<S: Source> RuleStore for Handle<S> {
    async fn create_rule(&self, r: &Rule) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        sqlx::query(
            "INSERT INTO rules (id, name, script, rule_order, enabled, stage, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&r.id)
        .bind(&r.name)
        .bind(&r.script)
        .bind(r.order)
        .bind(r.enabled)
        .bind(&r.stage)
        .bind(r.created_at)
        .bind(r.updated_at)
        .execute(&mut *conn)
        .await
        .map_err(map)?;
        Ok(())
    }

    async fn next_rule_order(&self) -> StoreResult<i64> {
        let mut conn = self.hold().await?;
        let highest: Option<i64> = sqlx::query_scalar("SELECT MAX(rule_order) FROM rules")
            .fetch_one(&mut *conn)
            .await
            .map_err(map)?;
        Ok(highest.map_or(1, |h| h + 1))
    }

    async fn find_rule(&self, id: &str) -> StoreResult<Option<Rule>> {
        let mut conn = self.hold().await?;
        let sql = format!("SELECT {RULE_COLUMNS} FROM rules WHERE id = $1");
        sqlx::query_as::<_, RuleRow>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(map)?
            .map(Rule::try_from)
            .transpose()
    }

    async fn list_rules(
        &self,
        enabled: Option<bool>,
        page: PageRequest,
    ) -> StoreResult<Page<Rule>> {
        let mut conn = self.hold().await?;
        let (lim, off) = limit(page);
        let sql = format!(
            "SELECT {RULE_COLUMNS} FROM rules WHERE ($1 IS NULL OR enabled = $1) ORDER BY rule_order LIMIT $2 OFFSET $3"
        );
        let rows = sqlx::query_as::<_, RuleRow>(sqlx::AssertSqlSafe(sql))
            .bind(enabled)
            .bind(lim)
            .bind(off)
            .fetch_all(&mut *conn)
            .await
            .map_err(map)?;
        let total: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM rules WHERE ($1 IS NULL OR enabled = $1)")
                .bind(enabled)
                .fetch_one(&mut *conn)
                .await
                .map_err(map)?;
        Ok(Page {
            items: each(rows)?,
            total: total as u64,
        })
    }

    async fn update_rule(&self, r: &Rule) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        let done = sqlx::query(
            "UPDATE rules SET name = $2, script = $3, rule_order = $4, enabled = $5, updated_at = $6 WHERE id = $1",
        )
        .bind(&r.id)
        .bind(&r.name)
        .bind(&r.script)
        .bind(r.order)
        .bind(r.enabled)
        .bind(r.updated_at)
        .execute(&mut *conn)
        .await
        .map_err(map)?;
        found(done.rows_affected())
    }

    async fn delete_rule(&self, id: &str) -> StoreResult<bool> {
        delete_one(
            &mut *self.hold().await?,
            "DELETE FROM rules WHERE id = $1",
            id,
        )
        .await
    }

    async fn set_rules_config(&self, key: &str, sealed_value: &str, now: i64) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        sqlx::query(
            "INSERT INTO rules_configs (config_key, sealed_value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (config_key) DO UPDATE SET sealed_value = excluded.sealed_value, updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(sealed_value)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map_err(map)?;
        Ok(())
    }

    async fn list_rules_config_keys(&self) -> StoreResult<Vec<String>> {
        let mut conn = self.hold().await?;
        sqlx::query_scalar("SELECT config_key FROM rules_configs ORDER BY config_key")
            .fetch_all(&mut *conn)
            .await
            .map_err(map)
    }

    async fn sealed_rules_configs(&self) -> StoreResult<Vec<(String, String)>> {
        let mut conn = self.hold().await?;
        sqlx::query_as("SELECT config_key, sealed_value FROM rules_configs ORDER BY config_key")
            .fetch_all(&mut *conn)
            .await
            .map_err(map)
    }

    async fn script_generation(&self) -> StoreResult<i64> {
        let mut conn = self.hold().await?;
        sqlx::query_scalar("SELECT generation FROM script_generation WHERE id = 1")
            .fetch_one(&mut *conn)
            .await
            .map_err(map)
    }

    async fn delete_rules_config(&self, key: &str) -> StoreResult<bool> {
        delete_one(
            &mut *self.hold().await?,
            "DELETE FROM rules_configs WHERE config_key = $1",
            key,
        )
        .await
    }
}
