//! APIs (resource servers).

use super::*;

pub(super) fn resource_server_from_row(row: &DbRow) -> StoreResult<ResourceServer> {
    resource_server_from_prefixed_row(row, "")
}

/// Columns named `{prefix}{column}`, for joins where names would clash.
pub(super) fn resource_server_from_prefixed_row(
    row: &DbRow,
    prefix: &str,
) -> StoreResult<ResourceServer> {
    let column = |c: &str| format!("{prefix}{c}");
    let get = |c: &str| row.try_get::<String, _>(column(c).as_str()).map_err(map);
    let flag = |c: &str| row.try_get::<bool, _>(column(c).as_str()).map_err(map);
    Ok(ResourceServer {
        id: get("id")?,
        name: get("name")?,
        identifier: get("identifier")?,
        scopes: from_json("scopes", &get("scopes")?)?,
        token_lifetime: row
            .try_get(column("token_lifetime").as_str())
            .map_err(map)?,
        signing_alg: parse_named("signing_alg", &get("signing_alg")?)?,
        enforce_policies: flag("enforce_policies")?,
        token_dialect: parse_named("token_dialect", &get("token_dialect")?)?,
        allow_offline_access: flag("allow_offline_access")?,
        skip_consent_for_verifiable_first_party_clients: flag("skip_consent")?,
        is_system: flag("is_system")?,
    })
}

pub(super) const RESOURCE_SERVER_COLUMNS: &str = "id, name, identifier, scopes, token_lifetime, signing_alg, enforce_policies, \
     token_dialect, allow_offline_access, skip_consent, is_system";

impl SqlStore {
    async fn find_resource_server_where(
        &self,
        column: &'static str,
        value: &str,
    ) -> StoreResult<Option<ResourceServer>> {
        let sql =
            format!("SELECT {RESOURCE_SERVER_COLUMNS} FROM resource_servers WHERE {column} = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(value)
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?
            .as_ref()
            .map(resource_server_from_row)
            .transpose()
    }
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
impl ResourceServerStore for SqlStore {
    async fn create_resource_server(&self, api: &ResourceServer) -> StoreResult<()> {
        let insert = sqlx::query(
            "INSERT INTO resource_servers (id, name, scopes, token_lifetime, signing_alg, enforce_policies, \
             token_dialect, allow_offline_access, skip_consent, is_system, identifier, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        );
        bind_resource_server(insert, api)
            .bind(&api.identifier)
            .bind(now())
            .execute(&self.pool)
            .await
            .map_err(conflict_as(
                "a resource server with this identifier already exists",
            ))?;
        Ok(())
    }

    async fn find_resource_server(&self, id: &str) -> StoreResult<Option<ResourceServer>> {
        self.find_resource_server_where("id", id).await
    }

    async fn find_resource_server_by_identifier(
        &self,
        identifier: &str,
    ) -> StoreResult<Option<ResourceServer>> {
        self.find_resource_server_where("identifier", identifier)
            .await
    }

    async fn list_resource_servers(&self, page: PageRequest) -> StoreResult<Page<ResourceServer>> {
        let sql = format!(
            "SELECT {RESOURCE_SERVER_COLUMNS} FROM resource_servers ORDER BY is_system DESC, created_at, id LIMIT $1 OFFSET $2"
        );
        self.page_of(
            sql,
            "SELECT COUNT(*) FROM resource_servers",
            page,
            resource_server_from_row,
        )
        .await
    }

    async fn update_resource_server(&self, api: &ResourceServer) -> StoreResult<()> {
        let update = sqlx::query(
            "UPDATE resource_servers SET name = $2, scopes = $3, token_lifetime = $4, signing_alg = $5, \
             enforce_policies = $6, token_dialect = $7, allow_offline_access = $8, skip_consent = $9, is_system = $10 \
             WHERE id = $1",
        );
        let done = bind_resource_server(update, api)
            .execute(&self.pool)
            .await
            .map_err(map)?;
        found(done.rows_affected())
    }

    async fn signing_algs_in_use(&self) -> StoreResult<Vec<SigningAlg>> {
        let names: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT signing_alg FROM resource_servers")
                .fetch_all(&self.pool)
                .await
                .map_err(map)?;
        names
            .iter()
            .map(|n| parse_named("signing_alg", n))
            .collect()
    }

    async fn delete_resource_server(&self, id: &str) -> StoreResult<bool> {
        self.delete_one("DELETE FROM resource_servers WHERE id = $1", id)
            .await
    }
}
