//! Applications (clients).

use super::*;

pub(super) fn client_from_row(row: &DbRow) -> StoreResult<Client> {
    let get = |c: &str| row.try_get::<String, _>(c).map_err(map);
    Ok(Client {
        client_id: get("client_id")?,
        name: get("name")?,
        description: get("description")?,
        app_type: parse_named("app_type", &get("app_type")?)?,
        is_first_party: row.try_get("is_first_party").map_err(map)?,
        grant_types: from_json("grant_types", &get("grant_types")?)?,
        callbacks: from_json("callbacks", &get("callbacks")?)?,
        allowed_logout_urls: from_json("allowed_logout_urls", &get("allowed_logout_urls")?)?,
        web_origins: from_json("web_origins", &get("web_origins")?)?,
        token_endpoint_auth_method: parse_named(
            "token_endpoint_auth_method",
            &get("token_endpoint_auth_method")?,
        )?,
        client_metadata: from_json::<BTreeMap<String, String>>(
            "client_metadata",
            &get("client_metadata")?,
        )?,
        secret_hash: row.try_get("secret_hash").map_err(map)?,
        created_at: row.try_get("created_at").map_err(map)?,
        updated_at: row.try_get("updated_at").map_err(map)?,
    })
}

pub(super) const CLIENT_COLUMNS: &str = "client_id, name, description, app_type, is_first_party, grant_types, callbacks, \
     allowed_logout_urls, web_origins, token_endpoint_auth_method, client_metadata, secret_hash, created_at, updated_at";

/// Binds `$1` (the id) to `$13` (`updated_at`), the order both the insert and the update use.
pub(super) fn bind_client<'q>(query: DbQuery<'q>, c: &'q Client) -> DbQuery<'q> {
    query
        .bind(&c.client_id)
        .bind(&c.name)
        .bind(&c.description)
        .bind(c.app_type.name())
        .bind(c.is_first_party)
        .bind(json_text(&c.grant_types))
        .bind(json_text(&c.callbacks))
        .bind(json_text(&c.allowed_logout_urls))
        .bind(json_text(&c.web_origins))
        .bind(c.token_endpoint_auth_method.name())
        .bind(json_text(&c.client_metadata))
        .bind(&c.secret_hash)
        .bind(c.updated_at)
}

#[async_trait::async_trait]
impl ClientStore for SqlStore {
    async fn create_client(&self, c: &Client) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let insert = sqlx::query(
            "INSERT INTO clients (client_id, name, description, app_type, is_first_party, grant_types, callbacks, \
             allowed_logout_urls, web_origins, token_endpoint_auth_method, client_metadata, secret_hash, updated_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        );
        bind_client(insert, c)
            .bind(c.created_at)
            .execute(&mut *tx)
            .await
            .map_err(conflict_as("a client with this client_id already exists"))?;
        // A new application may use every existing connection, as in Auth0.
        sqlx::query("INSERT INTO connection_clients (connection_id, client_id) SELECT id, $1 FROM connections")
            .bind(&c.client_id)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        tx.commit().await.map_err(map)
    }

    async fn find_client(&self, client_id: &str) -> StoreResult<Option<Client>> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE client_id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?
            .as_ref()
            .map(client_from_row)
            .transpose()
    }

    async fn list_clients(&self, page: PageRequest) -> StoreResult<Page<Client>> {
        let sql = format!(
            "SELECT {CLIENT_COLUMNS} FROM clients ORDER BY created_at, client_id LIMIT $1 OFFSET $2"
        );
        self.page_of(sql, "SELECT COUNT(*) FROM clients", page, client_from_row)
            .await
    }

    async fn update_client(&self, c: &Client) -> StoreResult<()> {
        let update = sqlx::query(
            "UPDATE clients SET name = $2, description = $3, app_type = $4, is_first_party = $5, grant_types = $6, \
             callbacks = $7, allowed_logout_urls = $8, web_origins = $9, token_endpoint_auth_method = $10, \
             client_metadata = $11, secret_hash = $12, updated_at = $13 WHERE client_id = $1",
        );
        let done = bind_client(update, c)
            .execute(&self.pool)
            .await
            .map_err(map)?;
        found(done.rows_affected())
    }

    async fn delete_client(&self, client_id: &str) -> StoreResult<bool> {
        self.delete_one("DELETE FROM clients WHERE client_id = $1", client_id)
            .await
    }

    async fn count_clients(&self) -> StoreResult<u64> {
        self.total("SELECT COUNT(*) FROM clients").await
    }
}
