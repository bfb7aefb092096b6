//! Rules and their configuration values.

use super::*;
use castellan_core::model::Rule;
use castellan_core::store::RuleStore;

pub(super) fn rule_from_row(row: &DbRow) -> StoreResult<Rule> {
    Ok(Rule {
        id: row.try_get("id").map_err(map)?,
        name: row.try_get("name").map_err(map)?,
        script: row.try_get("script").map_err(map)?,
        order: row.try_get("rule_order").map_err(map)?,
        enabled: row.try_get("enabled").map_err(map)?,
        stage: row.try_get("stage").map_err(map)?,
        created_at: row.try_get("created_at").map_err(map)?,
        updated_at: row.try_get("updated_at").map_err(map)?,
    })
}

pub(super) const RULE_COLUMNS: &str =
    "id, name, script, rule_order, enabled, stage, created_at, updated_at";

#[async_trait::async_trait]
impl RuleStore for SqlStore {
    async fn create_rule(&self, r: &Rule) -> StoreResult<()> {
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
        .execute(&self.pool)
        .await
        .map_err(map)?;
        Ok(())
    }

    async fn next_rule_order(&self) -> StoreResult<i64> {
        let highest: Option<i64> = sqlx::query_scalar("SELECT MAX(rule_order) FROM rules")
            .fetch_one(&self.pool)
            .await
            .map_err(map)?;
        Ok(highest.map_or(1, |h| h + 1))
    }

    async fn find_rule(&self, id: &str) -> StoreResult<Option<Rule>> {
        let sql = format!("SELECT {RULE_COLUMNS} FROM rules WHERE id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?
            .as_ref()
            .map(rule_from_row)
            .transpose()
    }

    async fn list_rules(
        &self,
        enabled: Option<bool>,
        page: PageRequest,
    ) -> StoreResult<Page<Rule>> {
        let (lim, off) = limit(page);
        let sql = format!(
            "SELECT {RULE_COLUMNS} FROM rules WHERE ($1 IS NULL OR enabled = $1) ORDER BY rule_order LIMIT $2 OFFSET $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(enabled)
            .bind(lim)
            .bind(off)
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        let total: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM rules WHERE ($1 IS NULL OR enabled = $1)")
                .bind(enabled)
                .fetch_one(&self.pool)
                .await
                .map_err(map)?;
        Ok(Page {
            items: rows.iter().map(rule_from_row).collect::<StoreResult<_>>()?,
            total: total as u64,
        })
    }

    async fn update_rule(&self, r: &Rule) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE rules SET name = $2, script = $3, rule_order = $4, enabled = $5, updated_at = $6 WHERE id = $1",
        )
        .bind(&r.id)
        .bind(&r.name)
        .bind(&r.script)
        .bind(r.order)
        .bind(r.enabled)
        .bind(r.updated_at)
        .execute(&self.pool)
        .await
        .map_err(map)?;
        found(done.rows_affected())
    }

    async fn delete_rule(&self, id: &str) -> StoreResult<bool> {
        self.delete_one("DELETE FROM rules WHERE id = $1", id).await
    }

    async fn set_rules_config(&self, key: &str, sealed_value: &str, now: i64) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO rules_configs (config_key, sealed_value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (config_key) DO UPDATE SET sealed_value = excluded.sealed_value, updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(sealed_value)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(map)?;
        Ok(())
    }

    async fn list_rules_config_keys(&self) -> StoreResult<Vec<String>> {
        sqlx::query_scalar("SELECT config_key FROM rules_configs ORDER BY config_key")
            .fetch_all(&self.pool)
            .await
            .map_err(map)
    }

    async fn sealed_rules_configs(&self) -> StoreResult<Vec<(String, String)>> {
        let rows =
            sqlx::query("SELECT config_key, sealed_value FROM rules_configs ORDER BY config_key")
                .fetch_all(&self.pool)
                .await
                .map_err(map)?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("config_key").map_err(map)?,
                    row.try_get("sealed_value").map_err(map)?,
                ))
            })
            .collect()
    }

    async fn script_generation(&self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT generation FROM script_generation WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(map)
    }

    async fn delete_rules_config(&self, key: &str) -> StoreResult<bool> {
        self.delete_one("DELETE FROM rules_configs WHERE config_key = $1", key)
            .await
    }
}
