//! Client grants: which client may ask for which API, with which scopes.

use castellan_core::model::{Client, ClientGrant, ResourceServer};
use castellan_core::paging::{Page, PageRequest};
use castellan_core::store::{ClientGrantFilter, ClientGrantStore, StoreError, StoreResult};

use super::clients::ClientRow;
use super::handle::{Handle, Source};
use super::query::{delete_one, each, found, limit, now};
use super::resource_servers::{PrefixedResourceServerRow, ResourceServerRow};
use crate::errors::{conflict_as, from_json, json_text, map};

/// A `client_grants` row as stored; the scope is JSON text.
#[derive(sqlx::FromRow)]
struct ClientGrantRow {
    id: String,
    client_id: String,
    audience: String,
    scope: String,
}

impl TryFrom<ClientGrantRow> for ClientGrant {
    type Error = StoreError;

    fn try_from(row: ClientGrantRow) -> StoreResult<ClientGrant> {
        Ok(ClientGrant {
            id: row.id,
            client_id: row.client_id,
            audience: row.audience,
            scope: from_json("scope", &row.scope)?,
        })
    }
}

/// A client, the API it has a grant for and the grant, joined.
#[derive(sqlx::FromRow)]
struct ClientWithGrantRow {
    #[sqlx(flatten)]
    client: ClientRow,
    #[sqlx(flatten)]
    api: PrefixedResourceServerRow,
    grant_id: String,
    grant_scope: String,
}

#[async_trait::async_trait]
impl<S: Source> ClientGrantStore for Handle<S> {
    async fn create_client_grant(&self, g: &ClientGrant) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        sqlx::query("INSERT INTO client_grants (id, client_id, audience, scope, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&g.id)
            .bind(&g.client_id)
            .bind(&g.audience)
            .bind(json_text(&g.scope))
            .bind(now())
            .execute(&mut *conn)
            .await
            .map_err(conflict_as("the client already has a grant for this audience"))?;
        Ok(())
    }

    async fn find_client_grant(&self, id: &str) -> StoreResult<Option<ClientGrant>> {
        let mut conn = self.hold().await?;
        sqlx::query_as::<_, ClientGrantRow>(
            "SELECT id, client_id, audience, scope FROM client_grants WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map)?
        .map(ClientGrant::try_from)
        .transpose()
    }

    async fn find_client_grant_for(
        &self,
        client_id: &str,
        audience: &str,
    ) -> StoreResult<Option<ClientGrant>> {
        let mut conn = self.hold().await?;
        sqlx::query_as::<_, ClientGrantRow>("SELECT id, client_id, audience, scope FROM client_grants WHERE client_id = $1 AND audience = $2")
            .bind(client_id)
            .bind(audience)
            .fetch_optional(&mut *conn)
            .await
            .map_err(map)?
            .map(ClientGrant::try_from)
            .transpose()
    }

    async fn find_client_with_grant(
        &self,
        client_id: &str,
        identifier: &str,
    ) -> StoreResult<Option<(Client, ResourceServer, ClientGrant)>> {
        let mut conn = self.hold().await?;
        let row = sqlx::query_as::<_, ClientWithGrantRow>(
            "SELECT c.client_id, c.name, c.description, c.app_type, c.is_first_party, c.grant_types, c.callbacks, \
             c.allowed_logout_urls, c.web_origins, c.allowed_origins, c.token_endpoint_auth_method, c.refresh_token, \
             c.client_metadata, c.secret_hash, \
             c.created_at, c.updated_at, \
             r.id AS rs_id, r.name AS rs_name, r.identifier AS rs_identifier, r.scopes AS rs_scopes, \
             r.token_lifetime AS rs_token_lifetime, r.signing_alg AS rs_signing_alg, \
             r.enforce_policies AS rs_enforce_policies, r.token_dialect AS rs_token_dialect, \
             r.allow_offline_access AS rs_allow_offline_access, r.skip_consent AS rs_skip_consent, \
             r.is_system AS rs_is_system, g.id AS grant_id, g.scope AS grant_scope \
             FROM client_grants g \
             JOIN clients c ON c.client_id = g.client_id \
             JOIN resource_servers r ON r.identifier = g.audience \
             WHERE g.client_id = $1 AND g.audience = $2",
        )
        .bind(client_id)
        .bind(identifier)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let client = Client::try_from(row.client)?;
        let api = ResourceServer::try_from(ResourceServerRow::from(row.api))?;
        let grant = ClientGrant {
            id: row.grant_id,
            client_id: client.client_id.clone(),
            audience: api.identifier.clone(),
            scope: from_json("grant_scope", &row.grant_scope)?,
        };
        Ok(Some((client, api, grant)))
    }

    async fn list_client_grants(
        &self,
        filter: &ClientGrantFilter,
        page: PageRequest,
    ) -> StoreResult<Page<ClientGrant>> {
        let mut conn = self.hold().await?;
        let (lim, off) = limit(page);
        let rows = sqlx::query_as::<_, ClientGrantRow>(
            "SELECT id, client_id, audience, scope FROM client_grants \
             WHERE ($1 IS NULL OR client_id = $1) AND ($2 IS NULL OR audience = $2) \
             ORDER BY created_at, id LIMIT $3 OFFSET $4",
        )
        .bind(&filter.client_id)
        .bind(&filter.audience)
        .bind(lim)
        .bind(off)
        .fetch_all(&mut *conn)
        .await
        .map_err(map)?;
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM client_grants WHERE ($1 IS NULL OR client_id = $1) AND ($2 IS NULL OR audience = $2)",
        )
        .bind(&filter.client_id)
        .bind(&filter.audience)
        .fetch_one(&mut *conn)
        .await
        .map_err(map)?;
        Ok(Page {
            items: each(rows)?,
            total: total as u64,
        })
    }

    async fn update_client_grant(&self, g: &ClientGrant) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        let done = sqlx::query("UPDATE client_grants SET scope = $2 WHERE id = $1")
            .bind(&g.id)
            .bind(json_text(&g.scope))
            .execute(&mut *conn)
            .await
            .map_err(map)?;
        found(done.rows_affected())
    }

    async fn delete_client_grant(&self, id: &str) -> StoreResult<bool> {
        delete_one(
            &mut *self.hold().await?,
            "DELETE FROM client_grants WHERE id = $1",
            id,
        )
        .await
    }
}
