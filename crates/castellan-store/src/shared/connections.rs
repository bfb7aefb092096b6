//! Connections, the applications enabled on each and their default assignments.

use castellan_core::model::{Connection, DefaultAssignments, Named};
use castellan_core::paging::{Page, PageRequest};
use castellan_core::store::{ConnectionStore, StoreError, StoreResult};

use super::handle::{Conn, Handle, Source};
use super::query::{delete_one, found, limit, now, parse_named, total};
use crate::errors::{conflict_as, from_json, json_text, map};

/// A `connections` row as stored; the enabled applications are rows of their own.
#[derive(sqlx::FromRow)]
struct ConnectionRow {
    id: String,
    name: String,
    strategy: String,
    options: String,
    default_assignments: Option<String>,
}

const CONNECTION_COLUMNS: &str = "id, name, strategy, options, default_assignments";

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

/// The connection with the applications enabled on it.
async fn connection_from_row(conn: &mut Conn, row: ConnectionRow) -> StoreResult<Connection> {
    let enabled_clients = sqlx::query_scalar(
        "SELECT client_id FROM connection_clients WHERE connection_id = $1 ORDER BY client_id",
    )
    .bind(&row.id)
    .fetch_all(&mut *conn)
    .await
    .map_err(map)?;
    Ok(Connection {
        id: row.id,
        name: row.name,
        strategy: row.strategy,
        options: from_json("options", &row.options)?,
        enabled_clients,
        default_assignments: row
            .default_assignments
            .map(|text| default_assignments_from_json(&text))
            .transpose()?,
    })
}

async fn find_connection_where(
    conn: &mut Conn,
    column: &'static str,
    value: &str,
) -> StoreResult<Option<Connection>> {
    let sql = format!("SELECT {CONNECTION_COLUMNS} FROM connections WHERE {column} = $1");
    match sqlx::query_as::<_, ConnectionRow>(sqlx::AssertSqlSafe(sql))
        .bind(value)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map)?
    {
        Some(row) => Ok(Some(connection_from_row(conn, row).await?)),
        None => Ok(None),
    }
}

async fn replace_enabled_clients(tx: &mut Conn, connection: &Connection) -> StoreResult<()> {
    sqlx::query("DELETE FROM connection_clients WHERE connection_id = $1")
        .bind(&connection.id)
        .execute(&mut *tx)
        .await
        .map_err(map)?;
    for client_id in &connection.enabled_clients {
        sqlx::query("INSERT INTO connection_clients (connection_id, client_id) VALUES ($1, $2)")
            .bind(&connection.id)
            .bind(client_id)
            .execute(&mut *tx)
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

#[async_trait::async_trait]
impl<S: Source> ConnectionStore for Handle<S> {
    async fn create_connection(&self, c: &Connection) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        let mut tx = conn.write().await?;
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
        replace_enabled_clients(&mut tx, c).await?;
        tx.commit().await.map_err(map)
    }

    async fn find_connection(&self, id: &str) -> StoreResult<Option<Connection>> {
        find_connection_where(&mut *self.hold().await?, "id", id).await
    }

    async fn find_connection_by_name(&self, name: &str) -> StoreResult<Option<Connection>> {
        find_connection_where(&mut *self.hold().await?, "name", name).await
    }

    async fn list_connections(&self, page: PageRequest) -> StoreResult<Page<Connection>> {
        let mut conn = self.hold().await?;
        let (lim, off) = limit(page);
        let sql = format!(
            "SELECT {CONNECTION_COLUMNS} FROM connections ORDER BY created_at, id LIMIT $1 OFFSET $2"
        );
        let rows = sqlx::query_as::<_, ConnectionRow>(sqlx::AssertSqlSafe(sql))
            .bind(lim)
            .bind(off)
            .fetch_all(&mut *conn)
            .await
            .map_err(map)?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            items.push(connection_from_row(&mut conn, row).await?);
        }
        Ok(Page {
            items,
            total: total(&mut conn, "SELECT COUNT(*) FROM connections").await?,
        })
    }

    async fn update_connection(&self, c: &Connection) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        let mut tx = conn.write().await?;
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
        replace_enabled_clients(&mut tx, c).await?;
        tx.commit().await.map_err(map)
    }

    async fn delete_connection(&self, id: &str) -> StoreResult<bool> {
        delete_one(
            &mut *self.hold().await?,
            "DELETE FROM connections WHERE id = $1",
            id,
        )
        .await
    }
}
