//! APIs (resource servers).

use castellan_core::model::{Named, ResourceServer, SigningAlg};
use castellan_core::paging::{Page, PageRequest};
use castellan_core::store::{ResourceServerStore, StoreError, StoreResult};

use super::handle::{Conn, Handle, Source};
use super::query::{DbQuery, delete_one, found, now, one_by_key, page_of, parse_named};
use crate::errors::{conflict_as, from_json, json_text, map};

/// A `resource_servers` row as stored.
#[derive(sqlx::FromRow)]
pub(super) struct ResourceServerRow {
    id: String,
    name: String,
    identifier: String,
    scopes: String,
    token_lifetime: i64,
    signing_alg: String,
    enforce_policies: bool,
    token_dialect: String,
    allow_offline_access: bool,
    skip_consent: bool,
    is_system: bool,
}

/// The same columns named `rs_{column}`, for joins where names would clash.
#[derive(sqlx::FromRow)]
pub(super) struct PrefixedResourceServerRow {
    rs_id: String,
    rs_name: String,
    rs_identifier: String,
    rs_scopes: String,
    rs_token_lifetime: i64,
    rs_signing_alg: String,
    rs_enforce_policies: bool,
    rs_token_dialect: String,
    rs_allow_offline_access: bool,
    rs_skip_consent: bool,
    rs_is_system: bool,
}

impl From<PrefixedResourceServerRow> for ResourceServerRow {
    fn from(row: PrefixedResourceServerRow) -> Self {
        ResourceServerRow {
            id: row.rs_id,
            name: row.rs_name,
            identifier: row.rs_identifier,
            scopes: row.rs_scopes,
            token_lifetime: row.rs_token_lifetime,
            signing_alg: row.rs_signing_alg,
            enforce_policies: row.rs_enforce_policies,
            token_dialect: row.rs_token_dialect,
            allow_offline_access: row.rs_allow_offline_access,
            skip_consent: row.rs_skip_consent,
            is_system: row.rs_is_system,
        }
    }
}

impl TryFrom<ResourceServerRow> for ResourceServer {
    type Error = StoreError;

    fn try_from(row: ResourceServerRow) -> StoreResult<ResourceServer> {
        Ok(ResourceServer {
            id: row.id,
            name: row.name,
            identifier: row.identifier,
            scopes: from_json("scopes", &row.scopes)?,
            token_lifetime: row.token_lifetime,
            signing_alg: parse_named("signing_alg", &row.signing_alg)?,
            enforce_policies: row.enforce_policies,
            token_dialect: parse_named("token_dialect", &row.token_dialect)?,
            allow_offline_access: row.allow_offline_access,
            skip_consent_for_verifiable_first_party_clients: row.skip_consent,
            is_system: row.is_system,
        })
    }
}

pub(super) const RESOURCE_SERVER_COLUMNS: &str = "id, name, identifier, scopes, token_lifetime, signing_alg, enforce_policies, \
     token_dialect, allow_offline_access, skip_consent, is_system";

async fn find_resource_server_where(
    conn: &mut Conn,
    column: &'static str,
    value: &str,
) -> StoreResult<Option<ResourceServer>> {
    let sql = format!("SELECT {RESOURCE_SERVER_COLUMNS} FROM resource_servers WHERE {column} = $1");
    one_by_key::<ResourceServerRow, _>(conn, sql, value).await
}

/// Binds `$1` (the id) to `$10` (`is_system`), the order both the insert and the update use.
pub(super) fn bind_resource_server<'q>(query: DbQuery<'q>, api: &'q ResourceServer) -> DbQuery<'q> {
    query
        .bind(&api.id)
        .bind(&api.name)
        .bind(json_text(&api.scopes))
        .bind(api.token_lifetime)
        .bind(api.signing_alg.name())
        .bind(api.enforce_policies)
        .bind(api.token_dialect.name())
        .bind(api.allow_offline_access)
        .bind(api.skip_consent_for_verifiable_first_party_clients)
        .bind(api.is_system)
}

#[async_trait::async_trait]
impl<S: Source> ResourceServerStore for Handle<S> {
    async fn create_resource_server(&self, api: &ResourceServer) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        let insert = sqlx::query(
            "INSERT INTO resource_servers (id, name, scopes, token_lifetime, signing_alg, enforce_policies, \
             token_dialect, allow_offline_access, skip_consent, is_system, identifier, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        );
        bind_resource_server(insert, api)
            .bind(&api.identifier)
            .bind(now())
            .execute(&mut *conn)
            .await
            .map_err(conflict_as(
                "a resource server with this identifier already exists",
            ))?;
        Ok(())
    }

    async fn find_resource_server(&self, id: &str) -> StoreResult<Option<ResourceServer>> {
        find_resource_server_where(&mut *self.hold().await?, "id", id).await
    }

    async fn find_resource_server_by_identifier(
        &self,
        identifier: &str,
    ) -> StoreResult<Option<ResourceServer>> {
        find_resource_server_where(&mut *self.hold().await?, "identifier", identifier).await
    }

    async fn list_resource_servers(&self, page: PageRequest) -> StoreResult<Page<ResourceServer>> {
        let sql = format!(
            "SELECT {RESOURCE_SERVER_COLUMNS} FROM resource_servers ORDER BY is_system DESC, created_at, id LIMIT $1 OFFSET $2"
        );
        let count = "SELECT COUNT(*) FROM resource_servers";
        page_of::<ResourceServerRow, _>(&mut *self.hold().await?, sql, count, page).await
    }

    async fn update_resource_server(&self, api: &ResourceServer) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        let update = sqlx::query(
            "UPDATE resource_servers SET name = $2, scopes = $3, token_lifetime = $4, signing_alg = $5, \
             enforce_policies = $6, token_dialect = $7, allow_offline_access = $8, skip_consent = $9, is_system = $10 \
             WHERE id = $1",
        );
        let done = bind_resource_server(update, api)
            .execute(&mut *conn)
            .await
            .map_err(map)?;
        found(done.rows_affected())
    }

    async fn signing_algs_in_use(&self) -> StoreResult<Vec<SigningAlg>> {
        let mut conn = self.hold().await?;
        let names: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT signing_alg FROM resource_servers")
                .fetch_all(&mut *conn)
                .await
                .map_err(map)?;
        names
            .iter()
            .map(|n| parse_named("signing_alg", n))
            .collect()
    }

    async fn delete_resource_server(&self, id: &str) -> StoreResult<bool> {
        delete_one(
            &mut *self.hold().await?,
            "DELETE FROM resource_servers WHERE id = $1",
            id,
        )
        .await
    }
}
