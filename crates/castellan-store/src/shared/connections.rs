//! Connections, the applications enabled on each and their default assignments.

use super::*;

pub(super) fn default_assignments_to_json(d: &DefaultAssignments) -> String {
    serde_json::json!({"roles": d.roles, "groups": d.groups, "on": d.on.name()}).to_string()
}

pub(super) fn default_assignments_from_json(text: &str) -> StoreResult<DefaultAssignments> {
    let value: serde_json::Value = from_json("default_assignments", text)?;
    let names = |key: &str| -> Vec<String> {
        value[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(String::from))
            .collect()
    };
    Ok(DefaultAssignments {
        roles: names("roles"),
        groups: names("groups"),
        on: parse_named(
            "default_assignments.on",
            value["on"].as_str().unwrap_or_default(),
        )?,
    })
}

impl SqlStore {
    async fn connection_from_row(&self, row: &DbRow) -> StoreResult<Connection> {
        let get = |c: &str| row.try_get::<String, _>(c).map_err(map);
        let id = get("id")?;
        let enabled_clients = sqlx::query_scalar(
            "SELECT client_id FROM connection_clients WHERE connection_id = $1 ORDER BY client_id",
        )
        .bind(&id)
        .fetch_all(&self.pool)
        .await
        .map_err(map)?;
        Ok(Connection {
            id,
            name: get("name")?,
            strategy: get("strategy")?,
            options: from_json("options", &get("options")?)?,
            enabled_clients,
            default_assignments: row
                .try_get::<Option<String>, _>("default_assignments")
                .map_err(map)?
                .map(|text| default_assignments_from_json(&text))
                .transpose()?,
        })
    }

    async fn find_connection_where(
        &self,
        column: &'static str,
        value: &str,
    ) -> StoreResult<Option<Connection>> {
        let sql = format!(
            "SELECT id, name, strategy, options, default_assignments FROM connections WHERE {column} = $1"
        );
        match sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(value)
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?
        {
            Some(row) => Ok(Some(self.connection_from_row(&row).await?)),
            None => Ok(None),
        }
    }

    async fn replace_enabled_clients(
        tx: &mut sqlx::Transaction<'_, Db>,
        connection: &Connection,
    ) -> StoreResult<()> {
        sqlx::query("DELETE FROM connection_clients WHERE connection_id = $1")
            .bind(&connection.id)
            .execute(&mut **tx)
            .await
            .map_err(map)?;
        for client_id in &connection.enabled_clients {
            sqlx::query(
                "INSERT INTO connection_clients (connection_id, client_id) VALUES ($1, $2)",
            )
            .bind(&connection.id)
            .bind(client_id)
            .execute(&mut **tx)
            .await
            .map_err(|e| match map(e) {
                StoreError::Conflict(_) => {
                    StoreError::Conflict(format!("enabled_clients: unknown client {client_id}"))
                }
                other => other,
            })?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl ConnectionStore for SqlStore {
    async fn create_connection(&self, c: &Connection) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("INSERT INTO connections (id, name, strategy, options, default_assignments, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&c.id)
            .bind(&c.name)
            .bind(&c.strategy)
            .bind(json_text(&c.options))
            .bind(c.default_assignments.as_ref().map(default_assignments_to_json))
            .bind(now())
            .execute(&mut *tx)
            .await
            .map_err(conflict_as("a connection with this name already exists"))?;
        Self::replace_enabled_clients(&mut tx, c).await?;
        tx.commit().await.map_err(map)
    }

    async fn find_connection(&self, id: &str) -> StoreResult<Option<Connection>> {
        self.find_connection_where("id", id).await
    }

    async fn find_connection_by_name(&self, name: &str) -> StoreResult<Option<Connection>> {
        self.find_connection_where("name", name).await
    }

    async fn list_connections(&self, page: PageRequest) -> StoreResult<Page<Connection>> {
        let (lim, off) = limit(page);
        let rows = sqlx::query("SELECT id, name, strategy, options, default_assignments FROM connections ORDER BY created_at, id LIMIT $1 OFFSET $2")
            .bind(lim)
            .bind(off)
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        let mut items = Vec::with_capacity(rows.len());
        for row in &rows {
            items.push(self.connection_from_row(row).await?);
        }
        Ok(Page {
            items,
            total: self.total("SELECT COUNT(*) FROM connections").await?,
        })
    }

    async fn update_connection(&self, c: &Connection) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE connections SET options = $2, default_assignments = $3 WHERE id = $1",
        )
        .bind(&c.id)
        .bind(json_text(&c.options))
        .bind(
            c.default_assignments
                .as_ref()
                .map(default_assignments_to_json),
        )
        .execute(&mut *tx)
        .await
        .map_err(map)?;
        found(done.rows_affected())?;
        Self::replace_enabled_clients(&mut tx, c).await?;
        tx.commit().await.map_err(map)
    }

    async fn delete_connection(&self, id: &str) -> StoreResult<bool> {
        self.delete_one("DELETE FROM connections WHERE id = $1", id)
            .await
    }
}
