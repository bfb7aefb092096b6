//! Applications (clients).

use std::collections::BTreeMap;

use castellan_core::model::{Client, Named};
use castellan_core::paging::{Page, PageRequest};
use castellan_core::store::{ClientStore, StoreError, StoreResult};

use super::handle::{Handle, Source};
use super::query::{DbQuery, delete_one, found, one_by_key, page_of, parse_named, total};
use crate::errors::{conflict_as, from_json, json_text, map};

/// A `clients` row as stored; lists are JSON text, kinds their names.
#[derive(sqlx::FromRow)]
pub(super) struct ClientRow {
    client_id: String,
    name: String,
    description: String,
    app_type: String,
    is_first_party: bool,
    grant_types: String,
    callbacks: String,
    allowed_logout_urls: String,
    web_origins: String,
    allowed_origins: String,
    token_endpoint_auth_method: String,
    refresh_token: String,
    client_metadata: String,
    secret_hash: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<ClientRow> for Client {
    type Error = StoreError;

    fn try_from(row: ClientRow) -> StoreResult<Client> {
        Ok(Client {
            client_id: row.client_id,
            name: row.name,
            description: row.description,
            app_type: parse_named("app_type", &row.app_type)?,
            is_first_party: row.is_first_party,
            grant_types: from_json("grant_types", &row.grant_types)?,
            callbacks: from_json("callbacks", &row.callbacks)?,
            allowed_logout_urls: from_json("allowed_logout_urls", &row.allowed_logout_urls)?,
            web_origins: from_json("web_origins", &row.web_origins)?,
            allowed_origins: from_json("allowed_origins", &row.allowed_origins)?,
            token_endpoint_auth_method: parse_named(
                "token_endpoint_auth_method",
                &row.token_endpoint_auth_method,
            )?,
            refresh_token: from_json("refresh_token", &row.refresh_token)?,
            client_metadata: from_json::<BTreeMap<String, String>>(
                "client_metadata",
                &row.client_metadata,
            )?,
            secret_hash: row.secret_hash,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

pub(super) const CLIENT_COLUMNS: &str = "client_id, name, description, app_type, is_first_party, grant_types, callbacks, \
     allowed_logout_urls, web_origins, allowed_origins, token_endpoint_auth_method, refresh_token, client_metadata, secret_hash, \
     created_at, updated_at";

/// Binds `$1` (the id) to `$15` (`updated_at`), the order both the insert and the update use.
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
        .bind(json_text(&c.allowed_origins))
        .bind(c.token_endpoint_auth_method.name())
        .bind(json_text(&c.refresh_token))
        .bind(json_text(&c.client_metadata))
        .bind(&c.secret_hash)
        .bind(c.updated_at)
}

#[async_trait::async_trait]
impl<S: Source> ClientStore for Handle<S> {
    async fn create_client(&self, c: &Client) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        let mut tx = conn.write().await?;
        let insert = sqlx::query(
            "INSERT INTO clients (client_id, name, description, app_type, is_first_party, grant_types, callbacks, \
             allowed_logout_urls, web_origins, allowed_origins, token_endpoint_auth_method, refresh_token, client_metadata, \
             secret_hash, updated_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
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
        one_by_key::<ClientRow, _>(&mut *self.hold().await?, sql, client_id).await
    }

    async fn list_clients(&self, page: PageRequest) -> StoreResult<Page<Client>> {
        let sql = format!(
            "SELECT {CLIENT_COLUMNS} FROM clients ORDER BY created_at, client_id LIMIT $1 OFFSET $2"
        );
        page_of::<ClientRow, _>(
            &mut *self.hold().await?,
            sql,
            "SELECT COUNT(*) FROM clients",
            page,
        )
        .await
    }

    async fn update_client(&self, c: &Client) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        let update = sqlx::query(
            "UPDATE clients SET name = $2, description = $3, app_type = $4, is_first_party = $5, grant_types = $6, \
             callbacks = $7, allowed_logout_urls = $8, web_origins = $9, allowed_origins = $10, \
             token_endpoint_auth_method = $11, refresh_token = $12, client_metadata = $13, secret_hash = $14, \
             updated_at = $15 \
             WHERE client_id = $1",
        );
        let done = bind_client(update, c)
            .execute(&mut *conn)
            .await
            .map_err(map)?;
        found(done.rows_affected())
    }

    async fn delete_client(&self, client_id: &str) -> StoreResult<bool> {
        delete_one(
            &mut *self.hold().await?,
            "DELETE FROM clients WHERE client_id = $1",
            client_id,
        )
        .await
    }

    async fn count_clients(&self) -> StoreResult<u64> {
        total(&mut *self.hold().await?, "SELECT COUNT(*) FROM clients").await
    }
}
