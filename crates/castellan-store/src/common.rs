// Shared body of the SQLite and PostgreSQL stores: included by `sqlite.rs` and
// `postgres.rs`, each of which defines `Db` (the sqlx database type) first.

use std::collections::BTreeMap;

use castellan_core::model::{
    AuthorizationCode, Client, ClientGrant, Connection, DefaultAssignments, LogEvent, Mail, Named, Permission, RefreshToken,
    ResourceServer, Role, Session, SigningAlg, SigningKeyRecord, Ticket, TicketKind, User,
};
use castellan_core::paging::{Page, PageRequest};
use castellan_core::store::{
    AuthorizationCodeStore, CodeRedemption, DefaultGrant, ClientGrantFilter, ClientGrantStore, ClientStore, ConnectionStore, LogStore,
    LogField, LogQuery, LoginFailureStore, OutboxStore, RefreshTokenStore, ResourceServerStore, RoleStore, SessionStore,
    Promotion, SigningKeyStore, Store, StoreError, StoreResult, TicketStore, UserField, UserQuery, UserStore, NewPassword,
};
use sqlx::{Pool, Row};

use crate::errors::{conflict_as, from_json, json_text, map, metadata_text};

type DbRow = <Db as sqlx::Database>::Row;

/// The SQL store for this backend.
#[derive(Clone)]
pub struct SqlStore {
    pool: Pool<Db>,
    logs: tokio::sync::mpsc::Sender<LogCommand>,
    permissions: std::sync::Arc<PermissionCache>,
}

/// Log events are written by one task in batches, one transaction each, so that a busy
/// token endpoint pays for a channel send per event instead of a database write.
enum LogCommand {
    Append(Box<LogEvent>),
    /// Answered once everything queued before it is written.
    Flush(tokio::sync::oneshot::Sender<()>),
}

const MIGRATION_ATTEMPTS: u64 = 8;
const LOG_QUEUE: usize = 10_000;
const LOG_BATCH: usize = 500;
/// Pauses between tries of a batch the store did not take: doubling, and never longer
/// than the last, so that the log catches up within seconds of the store's return.
const LOG_RETRY_PAUSES: (std::time::Duration, std::time::Duration) =
    (std::time::Duration::from_millis(50), std::time::Duration::from_secs(5));
/// A batch refused for another cause than an unreachable or full store (a lock held too
/// long, an event the database will not take) is tried this often, then event by event.
const LOG_BATCH_TRIES: u32 = 3;
/// How long a reader of the log waits for this node's queued events; past it (the store
/// is not taking writes) it reads what is written.
const LOG_FLUSH_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

async fn write_logs(pool: Pool<Db>, mut queue: tokio::sync::mpsc::Receiver<LogCommand>) {
    metrics::gauge!("castellan_log_queue_capacity").set(LOG_QUEUE as f64);
    metrics::counter!("castellan_log_events_dropped_total", "reason" => "queue_full").increment(0);
    metrics::counter!("castellan_log_events_dropped_total", "reason" => "refused").increment(0);
    metrics::counter!("castellan_log_batch_retries_total").increment(0);
    while let Some(first) = queue.recv().await {
        let mut batch = Vec::new();
        let mut flushes = Vec::new();
        let mut next = Some(first);
        while let Some(command) = next.take() {
            match command {
                LogCommand::Append(event) => batch.push(event),
                LogCommand::Flush(done) => flushes.push(done),
            }
            if batch.len() < LOG_BATCH {
                next = queue.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            write_batch(&pool, &batch, &queue).await;
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

/// Writes a batch, trying again while the store cannot take it: events are dropped only
/// when the database refuses them one by one.
async fn write_batch(pool: &Pool<Db>, batch: &[Box<LogEvent>], queue: &tokio::sync::mpsc::Receiver<LogCommand>) {
    let (mut pause, longest) = LOG_RETRY_PAUSES;
    let mut refusals = 0;
    loop {
        metrics::gauge!("castellan_log_queue_events").set((queue.len() + batch.len()) as f64);
        let cause = match insert_logs(pool, batch).await {
            Ok(()) => return,
            Err(StoreError::Unavailable(cause)) => cause,
            Err(other) => {
                refusals += 1;
                if refusals >= LOG_BATCH_TRIES {
                    return write_one_by_one(pool, batch).await;
                }
                other.to_string()
            }
        };
        tracing::warn!(cause, events = batch.len(), retry_in = ?pause, "could not write log events yet");
        metrics::counter!("castellan_log_batch_retries_total").increment(1);
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(longest);
    }
}

async fn write_one_by_one(pool: &Pool<Db>, batch: &[Box<LogEvent>]) {
    for event in batch {
        if let Err(e) = insert_logs(pool, std::slice::from_ref(event)).await {
            tracing::error!(cause = %e, log_id = event.log_id, "log event refused by the database; dropped");
            metrics::counter!("castellan_log_events_dropped_total", "reason" => "refused").increment(1);
        }
    }
}

async fn insert_logs(pool: &Pool<Db>, batch: &[Box<LogEvent>]) -> StoreResult<()> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await.map_err(map)?;
    for e in batch {
        sqlx::query(
            "INSERT INTO logs (log_id, date, type, description, client_id, client_name, connection, user_id, \
             user_name, ip, user_agent, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&e.log_id)
        .bind(e.date)
        .bind(&e.event_type)
        .bind(&e.description)
        .bind(&e.client_id)
        .bind(&e.client_name)
        .bind(&e.connection)
        .bind(&e.user_id)
        .bind(&e.user_name)
        .bind(&e.ip)
        .bind(&e.user_agent)
        .bind(json_text(&e.details))
        .execute(&mut *tx)
        .await
        .map_err(map)?;
    }
    tx.commit().await.map_err(map)
}

impl SqlStore {
    pub fn pool(&self) -> &Pool<Db> {
        &self.pool
    }

    async fn migrated(pool: Pool<Db>, migrations: &[crate::migrations::Embedded]) -> Result<Self, crate::OpenError> {
        let failed = |e: sqlx::Error| crate::OpenError::Migration(e.to_string());
        let mut conn = pool.acquire().await.map_err(|e| crate::OpenError::Unreachable(e.to_string()))?;
        if let Some((lift, _)) = MIGRATION_SESSION {
            sqlx::raw_sql(lift).execute(&mut *conn).await.map_err(failed)?;
        }
        let migrator = crate::migrations::migrator(migrations);
        // sqlx locks out other migrators on PostgreSQL only: nodes starting together on an
        // empty SQLite database apply the same migration, and the loser's "already exists"
        // means the winner applied it, with its record, in one transaction. Running again
        // skips what is recorded; a failure of the migration itself fails every time.
        let mut attempt = 0;
        while let Err(e) = migrator.run(&mut *conn).await {
            attempt += 1;
            if attempt == MIGRATION_ATTEMPTS {
                return Err(crate::OpenError::Migration(e.to_string()));
            }
            tokio::time::sleep(std::time::Duration::from_millis(50 * attempt)).await;
        }
        if let Some((_, restore)) = MIGRATION_SESSION {
            sqlx::raw_sql(restore).execute(&mut *conn).await.map_err(failed)?;
        }
        drop(conn);
        let (logs, queue) = tokio::sync::mpsc::channel(LOG_QUEUE);
        tokio::spawn(write_logs(pool.clone(), queue));
        Ok(Self { pool, logs, permissions: Default::default() })
    }

    /// A transaction that will write. On SQLite it takes the write lock at `BEGIN`: a
    /// deferred transaction that reads and then writes fails at once, without waiting,
    /// when another connection committed in between.
    async fn write_tx(&self) -> StoreResult<sqlx::Transaction<'static, Db>> {
        self.pool.begin_with(BEGIN_WRITE).await.map_err(map)
    }

    /// Deletes the row whose key `sql` binds as `$1`; false if there was none.
    async fn delete_one(&self, sql: &'static str, key: &str) -> StoreResult<bool> {
        let done = sqlx::query(sql).bind(key).execute(&self.pool).await.map_err(map)?;
        Ok(done.rows_affected() > 0)
    }

    /// One page of `sql` (which takes `LIMIT $1 OFFSET $2`) and the total `count_sql` gives.
    async fn page_of<T>(
        &self,
        sql: String,
        count_sql: &'static str,
        page: PageRequest,
        row: fn(&DbRow) -> StoreResult<T>,
    ) -> StoreResult<Page<T>> {
        let (lim, off) = limit(page);
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(lim)
            .bind(off)
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        Ok(Page {
            items: rows.iter().map(row).collect::<StoreResult<_>>()?,
            total: self.total(count_sql).await?,
        })
    }

    async fn total(&self, sql: &'static str) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar(sql).fetch_one(&self.pool).await.map_err(map)?;
        Ok(n as u64)
    }

    /// One page of `sql` (which takes the key as `$1` and `LIMIT $2 OFFSET $3`) and the
    /// total `count_sql` gives for that key.
    async fn page_by_key<T>(
        &self,
        sql: String,
        count_sql: &'static str,
        key: &str,
        page: PageRequest,
        row: fn(&DbRow) -> StoreResult<T>,
    ) -> StoreResult<Page<T>> {
        let (lim, off) = limit(page);
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(key)
            .bind(lim)
            .bind(off)
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        Ok(Page {
            items: rows.iter().map(row).collect::<StoreResult<_>>()?,
            total: self.count(count_sql, key).await?,
        })
    }

    async fn count(&self, sql: &'static str, key: &str) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar(sql).bind(key).fetch_one(&self.pool).await.map_err(map)?;
        Ok(n as u64)
    }

    /// Runs `sql` (binding `$1` = `key`, `$2` = each of `values`) once per value, in one
    /// transaction.
    async fn for_each_in_tx(&self, sql: &'static str, key: &str, values: &[String]) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        for value in values {
            sqlx::query(sql).bind(key).bind(value).execute(&mut *tx).await.map_err(map)?;
        }
        tx.commit().await.map_err(map)
    }
}

/// An update that touched no row names a record that does not exist.
fn found(rows_affected: u64) -> StoreResult<()> {
    if rows_affected == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

fn limit(page: PageRequest) -> (i64, i64) {
    (
        page.limit.min(i64::MAX as u64) as i64,
        page.offset.min(i64::MAX as u64) as i64,
    )
}

fn parse_named<T: Named>(column: &str, text: &str) -> StoreResult<T> {
    T::parse(text).ok_or_else(|| StoreError::Other(format!("column {column}: unknown value {text}")))
}

fn client_from_row(row: &DbRow) -> StoreResult<Client> {
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
        client_metadata: from_json::<BTreeMap<String, String>>("client_metadata", &get("client_metadata")?)?,
        secret_hash: row.try_get("secret_hash").map_err(map)?,
        created_at: row.try_get("created_at").map_err(map)?,
        updated_at: row.try_get("updated_at").map_err(map)?,
    })
}

const CLIENT_COLUMNS: &str = "client_id, name, description, app_type, is_first_party, grant_types, callbacks, \
     allowed_logout_urls, web_origins, token_endpoint_auth_method, client_metadata, secret_hash, created_at, updated_at";

type DbQuery<'q> = sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments>;

/// Binds `$1` (the id) to `$13` (`updated_at`), the order both the insert and the update use.
fn bind_client<'q>(query: DbQuery<'q>, c: &'q Client) -> DbQuery<'q> {
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
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients ORDER BY created_at, client_id LIMIT $1 OFFSET $2");
        self.page_of(sql, "SELECT COUNT(*) FROM clients", page, client_from_row).await
    }

    async fn update_client(&self, c: &Client) -> StoreResult<()> {
        let update = sqlx::query(
            "UPDATE clients SET name = $2, description = $3, app_type = $4, is_first_party = $5, grant_types = $6, \
             callbacks = $7, allowed_logout_urls = $8, web_origins = $9, token_endpoint_auth_method = $10, \
             client_metadata = $11, secret_hash = $12, updated_at = $13 WHERE client_id = $1",
        );
        let done = bind_client(update, c).execute(&self.pool).await.map_err(map)?;
        found(done.rows_affected())
    }

    async fn delete_client(&self, client_id: &str) -> StoreResult<bool> {
        self.delete_one("DELETE FROM clients WHERE client_id = $1", client_id).await
    }

    async fn count_clients(&self) -> StoreResult<u64> {
        self.total("SELECT COUNT(*) FROM clients").await
    }
}

fn resource_server_from_row(row: &DbRow) -> StoreResult<ResourceServer> {
    resource_server_from_prefixed_row(row, "")
}

/// Columns named `{prefix}{column}`, for joins where names would clash.
fn resource_server_from_prefixed_row(row: &DbRow, prefix: &str) -> StoreResult<ResourceServer> {
    let column = |c: &str| format!("{prefix}{c}");
    let get = |c: &str| row.try_get::<String, _>(column(c).as_str()).map_err(map);
    let flag = |c: &str| row.try_get::<bool, _>(column(c).as_str()).map_err(map);
    Ok(ResourceServer {
        id: get("id")?,
        name: get("name")?,
        identifier: get("identifier")?,
        scopes: from_json("scopes", &get("scopes")?)?,
        token_lifetime: row.try_get(column("token_lifetime").as_str()).map_err(map)?,
        signing_alg: parse_named("signing_alg", &get("signing_alg")?)?,
        enforce_policies: flag("enforce_policies")?,
        token_dialect: parse_named("token_dialect", &get("token_dialect")?)?,
        allow_offline_access: flag("allow_offline_access")?,
        skip_consent_for_verifiable_first_party_clients: flag("skip_consent")?,
        is_system: flag("is_system")?,
    })
}

const RESOURCE_SERVER_COLUMNS: &str = "id, name, identifier, scopes, token_lifetime, signing_alg, enforce_policies, \
     token_dialect, allow_offline_access, skip_consent, is_system";

impl SqlStore {
    async fn find_resource_server_where(&self, column: &'static str, value: &str) -> StoreResult<Option<ResourceServer>> {
        let sql = format!("SELECT {RESOURCE_SERVER_COLUMNS} FROM resource_servers WHERE {column} = $1");
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
fn bind_resource_server<'q>(query: DbQuery<'q>, api: &'q ResourceServer) -> DbQuery<'q> {
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
            .map_err(conflict_as("a resource server with this identifier already exists"))?;
        Ok(())
    }

    async fn find_resource_server(&self, id: &str) -> StoreResult<Option<ResourceServer>> {
        self.find_resource_server_where("id", id).await
    }

    async fn find_resource_server_by_identifier(&self, identifier: &str) -> StoreResult<Option<ResourceServer>> {
        self.find_resource_server_where("identifier", identifier).await
    }

    async fn list_resource_servers(&self, page: PageRequest) -> StoreResult<Page<ResourceServer>> {
        let sql = format!(
            "SELECT {RESOURCE_SERVER_COLUMNS} FROM resource_servers ORDER BY is_system DESC, created_at, id LIMIT $1 OFFSET $2"
        );
        self.page_of(sql, "SELECT COUNT(*) FROM resource_servers", page, resource_server_from_row).await
    }

    async fn update_resource_server(&self, api: &ResourceServer) -> StoreResult<()> {
        let update = sqlx::query(
            "UPDATE resource_servers SET name = $2, scopes = $3, token_lifetime = $4, signing_alg = $5, \
             enforce_policies = $6, token_dialect = $7, allow_offline_access = $8, skip_consent = $9, is_system = $10 \
             WHERE id = $1",
        );
        let done = bind_resource_server(update, api).execute(&self.pool).await.map_err(map)?;
        found(done.rows_affected())
    }

    async fn signing_algs_in_use(&self) -> StoreResult<Vec<SigningAlg>> {
        let names: Vec<String> = sqlx::query_scalar("SELECT DISTINCT signing_alg FROM resource_servers")
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        names.iter().map(|n| parse_named("signing_alg", n)).collect()
    }

    async fn delete_resource_server(&self, id: &str) -> StoreResult<bool> {
        self.delete_one("DELETE FROM resource_servers WHERE id = $1", id).await
    }
}

fn client_grant_from_row(row: &DbRow) -> StoreResult<ClientGrant> {
    let get = |c: &str| row.try_get::<String, _>(c).map_err(map);
    Ok(ClientGrant {
        id: get("id")?,
        client_id: get("client_id")?,
        audience: get("audience")?,
        scope: from_json("scope", &get("scope")?)?,
    })
}

#[async_trait::async_trait]
impl ClientGrantStore for SqlStore {
    async fn create_client_grant(&self, g: &ClientGrant) -> StoreResult<()> {
        sqlx::query("INSERT INTO client_grants (id, client_id, audience, scope, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&g.id)
            .bind(&g.client_id)
            .bind(&g.audience)
            .bind(json_text(&g.scope))
            .bind(now())
            .execute(&self.pool)
            .await
            .map_err(conflict_as("the client already has a grant for this audience"))?;
        Ok(())
    }

    async fn find_client_grant(&self, id: &str) -> StoreResult<Option<ClientGrant>> {
        sqlx::query("SELECT id, client_id, audience, scope FROM client_grants WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?
            .as_ref()
            .map(client_grant_from_row)
            .transpose()
    }

    async fn find_client_grant_for(&self, client_id: &str, audience: &str) -> StoreResult<Option<ClientGrant>> {
        sqlx::query("SELECT id, client_id, audience, scope FROM client_grants WHERE client_id = $1 AND audience = $2")
            .bind(client_id)
            .bind(audience)
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?
            .as_ref()
            .map(client_grant_from_row)
            .transpose()
    }

    async fn find_client_with_grant(
        &self,
        client_id: &str,
        identifier: &str,
    ) -> StoreResult<Option<(Client, ResourceServer, ClientGrant)>> {
        let row = sqlx::query(
            "SELECT c.client_id, c.name, c.description, c.app_type, c.is_first_party, c.grant_types, c.callbacks, \
             c.allowed_logout_urls, c.web_origins, c.token_endpoint_auth_method, c.client_metadata, c.secret_hash, \
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
        .fetch_optional(&self.pool)
        .await
        .map_err(map)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let client = client_from_row(&row)?;
        let api = resource_server_from_prefixed_row(&row, "rs_")?;
        let grant = ClientGrant {
            id: row.try_get("grant_id").map_err(map)?,
            client_id: client.client_id.clone(),
            audience: api.identifier.clone(),
            scope: from_json("grant_scope", &row.try_get::<String, _>("grant_scope").map_err(map)?)?,
        };
        Ok(Some((client, api, grant)))
    }

    async fn list_client_grants(&self, filter: &ClientGrantFilter, page: PageRequest) -> StoreResult<Page<ClientGrant>> {
        let (lim, off) = limit(page);
        let rows = sqlx::query(
            "SELECT id, client_id, audience, scope FROM client_grants \
             WHERE ($1 IS NULL OR client_id = $1) AND ($2 IS NULL OR audience = $2) \
             ORDER BY created_at, id LIMIT $3 OFFSET $4",
        )
        .bind(&filter.client_id)
        .bind(&filter.audience)
        .bind(lim)
        .bind(off)
        .fetch_all(&self.pool)
        .await
        .map_err(map)?;
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM client_grants WHERE ($1 IS NULL OR client_id = $1) AND ($2 IS NULL OR audience = $2)",
        )
        .bind(&filter.client_id)
        .bind(&filter.audience)
        .fetch_one(&self.pool)
        .await
        .map_err(map)?;
        Ok(Page {
            items: rows.iter().map(client_grant_from_row).collect::<StoreResult<_>>()?,
            total: total as u64,
        })
    }

    async fn update_client_grant(&self, g: &ClientGrant) -> StoreResult<()> {
        let done = sqlx::query("UPDATE client_grants SET scope = $2 WHERE id = $1")
            .bind(&g.id)
            .bind(json_text(&g.scope))
            .execute(&self.pool)
            .await
            .map_err(map)?;
        found(done.rows_affected())
    }

    async fn delete_client_grant(&self, id: &str) -> StoreResult<bool> {
        self.delete_one("DELETE FROM client_grants WHERE id = $1", id).await
    }
}

fn default_assignments_to_json(d: &DefaultAssignments) -> String {
    serde_json::json!({"roles": d.roles, "groups": d.groups, "on": d.on.name()}).to_string()
}

fn default_assignments_from_json(text: &str) -> StoreResult<DefaultAssignments> {
    let value: serde_json::Value = from_json("default_assignments", text)?;
    let names = |key: &str| -> Vec<String> {
        value[key].as_array().into_iter().flatten().filter_map(|v| v.as_str().map(String::from)).collect()
    };
    Ok(DefaultAssignments {
        roles: names("roles"),
        groups: names("groups"),
        on: parse_named("default_assignments.on", value["on"].as_str().unwrap_or_default())?,
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

    async fn find_connection_where(&self, column: &'static str, value: &str) -> StoreResult<Option<Connection>> {
        let sql = format!("SELECT id, name, strategy, options, default_assignments FROM connections WHERE {column} = $1");
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
            sqlx::query("INSERT INTO connection_clients (connection_id, client_id) VALUES ($1, $2)")
                .bind(&connection.id)
                .bind(client_id)
                .execute(&mut **tx)
                .await
                .map_err(|e| match map(e) {
                    StoreError::Conflict(_) => StoreError::Conflict(format!("enabled_clients: unknown client {client_id}")),
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
        let done = sqlx::query("UPDATE connections SET options = $2, default_assignments = $3 WHERE id = $1")
            .bind(&c.id)
            .bind(json_text(&c.options))
            .bind(c.default_assignments.as_ref().map(default_assignments_to_json))
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        found(done.rows_affected())?;
        Self::replace_enabled_clients(&mut tx, c).await?;
        tx.commit().await.map_err(map)
    }

    async fn delete_connection(&self, id: &str) -> StoreResult<bool> {
        self.delete_one("DELETE FROM connections WHERE id = $1", id).await
    }
}

fn signing_key_from_row(row: &DbRow) -> StoreResult<SigningKeyRecord> {
    let get = |c: &str| row.try_get::<String, _>(c).map_err(map);
    let at = |c: &str| row.try_get::<Option<i64>, _>(c).map_err(map);
    Ok(SigningKeyRecord {
        kid: get("kid")?,
        alg: parse_named::<SigningAlg>("alg", &get("alg")?)?,
        public_jwk: from_json("public_jwk", &get("public_jwk")?)?,
        sealed_private_key: get("sealed_private_key")?,
        created_at: row.try_get("created_at").map_err(map)?,
        current_since: at("current_since")?,
        retired_at: at("retired_at")?,
        revoked_at: at("revoked_at")?,
    })
}

impl SqlStore {
    async fn insert_signing_key<'e, E>(executor: E, k: &SigningKeyRecord, on_conflict: &'static str) -> StoreResult<u64>
    where
        E: sqlx::Executor<'e, Database = Db>,
    {
        let sql = format!(
            "INSERT INTO signing_keys (kid, alg, public_jwk, sealed_private_key, created_at, current_since, retired_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) {on_conflict}"
        );
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&k.kid)
            .bind(k.alg.name())
            .bind(json_text(&k.public_jwk))
            .bind(&k.sealed_private_key)
            .bind(k.created_at)
            .bind(k.current_since)
            .bind(k.retired_at)
            .bind(k.revoked_at)
            .execute(executor)
            .await
            .map_err(map)?;
        Ok(done.rows_affected())
    }
}

#[async_trait::async_trait]
impl SigningKeyStore for SqlStore {
    async fn list_signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>> {
        let rows = sqlx::query(
            "SELECT kid, alg, public_jwk, sealed_private_key, created_at, current_since, retired_at, revoked_at \
             FROM signing_keys ORDER BY created_at DESC, kid",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(map)?;
        rows.iter().map(signing_key_from_row).collect()
    }

    async fn add_signing_key_if_vacant(&self, k: &SigningKeyRecord) -> StoreResult<bool> {
        Ok(Self::insert_signing_key(&self.pool, k, "ON CONFLICT DO NOTHING").await? > 0)
    }

    async fn rotate_signing_key(&self, new_next: &SigningKeyRecord, now: i64, lead: i64) -> StoreResult<Promotion> {
        let alg = new_next.alg.name();
        let mut tx = self.write_tx().await?;
        let next = sqlx::query("SELECT kid, created_at FROM signing_keys WHERE alg = $1 AND current_since IS NULL")
            .bind(alg)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map)?
            .ok_or(StoreError::NotFound)?;
        let kid: String = next.try_get("kid").map_err(map)?;
        let published_at: i64 = next.try_get("created_at").map_err(map)?;
        let current_since: Option<i64> = sqlx::query_scalar(
            "SELECT current_since FROM signing_keys WHERE alg = $1 AND retired_at IS NULL AND current_since IS NOT NULL",
        )
        .bind(alg)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map)?;
        let switch_at = now.max(published_at + lead).max(current_since.unwrap_or(i64::MIN));
        sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE alg = $2 AND retired_at IS NULL AND current_since IS NOT NULL")
            .bind(switch_at)
            .bind(alg)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        // Guarded: under PostgreSQL's read committed, a rotation that committed meanwhile
        // has already scheduled this key, and this one must not move it.
        let promoted = sqlx::query("UPDATE signing_keys SET current_since = $1 WHERE kid = $2 AND current_since IS NULL")
            .bind(switch_at)
            .bind(&kid)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        if promoted.rows_affected() != 1 {
            return Err(StoreError::Conflict("another rotation of this algorithm came first".into()));
        }
        Self::insert_signing_key(&mut *tx, new_next, "").await?;
        tx.commit().await.map_err(map)?;
        Ok(Promotion { kid, current_since: switch_at })
    }

    async fn revoke_signing_key(&self, kid: &str, now: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE signing_keys SET revoked_at = $1 \
             WHERE kid = $2 AND retired_at IS NOT NULL AND retired_at <= $1 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(kid)
        .execute(&self.pool)
        .await
        .map_err(map)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_signing_keys_retired_before(&self, alg: SigningAlg, cutoff: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM signing_keys WHERE alg = $1 AND retired_at IS NOT NULL AND retired_at < $2")
            .bind(alg.name())
            .bind(cutoff)
            .execute(&self.pool)
            .await
            .map_err(map)?;
        Ok(done.rows_affected())
    }
}

fn user_from_row(row: &DbRow) -> StoreResult<User> {
    let get = |c: &str| row.try_get::<Option<String>, _>(c).map_err(map);
    let int = |c: &str| row.try_get::<Option<i64>, _>(c).map_err(map);
    Ok(User {
        user_id: row.try_get("user_id").map_err(map)?,
        connection: row.try_get("connection").map_err(map)?,
        email: get("email")?,
        email_verified: row.try_get("email_verified").map_err(map)?,
        username: get("username")?,
        name: get("name")?,
        nickname: get("nickname")?,
        picture: get("picture")?,
        given_name: get("given_name")?,
        family_name: get("family_name")?,
        app_metadata: from_json("app_metadata", &row.try_get::<String, _>("app_metadata").map_err(map)?)?,
        user_metadata: from_json("user_metadata", &row.try_get::<String, _>("user_metadata").map_err(map)?)?,
        created_at: row.try_get("created_at").map_err(map)?,
        updated_at: row.try_get("updated_at").map_err(map)?,
        last_login: int("last_login")?,
        last_ip: get("last_ip")?,
        logins_count: row.try_get("logins_count").map_err(map)?,
        blocked: row.try_get("blocked").map_err(map)?,
        last_password_reset: int("last_password_reset")?,
    })
}

const USER_COLUMNS: &str = "user_id, connection, email, email_verified, username, name, nickname, picture, \
     given_name, family_name, app_metadata, user_metadata, created_at, updated_at, last_login, last_ip, \
     logins_count, blocked, last_password_reset";

impl SqlStore {
    async fn find_user_where(&self, condition: &'static str, a: &str, b: Option<&str>) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {condition}");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(a.to_string());
        if let Some(b) = b {
            query = query.bind(b.to_string());
        }
        query
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }
}

#[async_trait::async_trait]
impl UserStore for SqlStore {
    async fn create_user(&self, u: &User, password_hash: Option<&str>, defaults: Option<&DefaultGrant>) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO users (user_id, connection, email, email_verified, username, username_lower, name, nickname, \
             picture, given_name, family_name, app_metadata, user_metadata, password_hash, created_at, updated_at, \
             last_login, last_ip, logins_count, blocked, last_password_reset) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
        )
        .bind(&u.user_id)
        .bind(&u.connection)
        .bind(&u.email)
        .bind(u.email_verified)
        .bind(&u.username)
        .bind(u.username.as_ref().map(|n| n.to_lowercase()))
        .bind(&u.name)
        .bind(&u.nickname)
        .bind(&u.picture)
        .bind(&u.given_name)
        .bind(&u.family_name)
        .bind(metadata_text("app_metadata", &u.app_metadata)?)
        .bind(metadata_text("user_metadata", &u.user_metadata)?)
        .bind(password_hash)
        .bind(u.created_at)
        .bind(u.updated_at)
        .bind(u.last_login)
        .bind(&u.last_ip)
        .bind(u.logins_count)
        .bind(u.blocked)
        .bind(u.last_password_reset)
        .execute(&mut *tx)
        .await
        .map_err(conflict_as("The user already exists."))?;
        if let Some(grant) = defaults {
            apply_default_grant(&mut tx, &u.user_id, grant).await?;
        }
        tx.commit().await.map_err(map)
    }

    async fn find_user(&self, user_id: &str) -> StoreResult<Option<User>> {
        self.find_user_where("user_id = $1", user_id, None).await
    }

    async fn find_user_by_email(&self, connection: &str, email: &str) -> StoreResult<Option<User>> {
        self.find_user_where("connection = $1 AND email = $2", connection, Some(email)).await
    }

    async fn find_user_by_username(&self, connection: &str, username: &str) -> StoreResult<Option<User>> {
        self.find_user_where("connection = $1 AND username_lower = $2", connection, Some(&username.to_lowercase()))
            .await
    }

    async fn find_password_hash(&self, user_id: &str) -> StoreResult<Option<String>> {
        let hash: Option<Option<String>> = sqlx::query_scalar("SELECT password_hash FROM users WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?;
        Ok(hash.flatten())
    }

    async fn set_password_hash(&self, user_id: &str, hash: &str, now: i64) -> StoreResult<()> {
        let done = sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE user_id = $1")
            .bind(user_id)
            .bind(hash)
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(map)?;
        found(done.rows_affected())
    }

    async fn reset_password(&self, user_id: &str, password: &NewPassword, now: i64) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE users SET password_hash = $2, last_password_reset = $3, updated_at = $3 WHERE user_id = $1",
        )
        .bind(user_id)
        .bind(&password.hash)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(map)?;
        found(done.rows_affected())?;
        end_what_the_old_password_opened(&mut tx, user_id, password).await?;
        tx.commit().await.map_err(map)
    }

    async fn set_email_verified(&self, user_id: &str, now: i64, defaults: Option<&DefaultGrant>) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("UPDATE users SET email_verified = TRUE, updated_at = $2 WHERE user_id = $1")
            .bind(user_id)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        found(done.rows_affected())?;
        let applied = match defaults {
            Some(grant) => apply_default_grant_once(&mut tx, user_id, grant).await?,
            None => false,
        };
        tx.commit().await.map_err(map)?;
        Ok(applied)
    }

    async fn record_login(
        &self,
        user_id: &str,
        ip: &str,
        now: i64,
        defaults: Option<&DefaultGrant>,
    ) -> StoreResult<(User, bool)> {
        let mut tx = self.write_tx().await?;
        // The row lock this update takes orders concurrent first log-ins of one user: only
        // the one that moves the count from 0 to 1 sees `logins_count = 1`.
        let sql = format!(
            "UPDATE users SET logins_count = logins_count + 1, last_login = $2, last_ip = $3, updated_at = $2 \
             WHERE user_id = $1 RETURNING {USER_COLUMNS}"
        );
        let user = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .bind(now)
            .bind(ip)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map)?
            .as_ref()
            .map(user_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)?;
        let applied = match defaults {
            Some(grant) if user.logins_count == 1 => apply_default_grant_once(&mut tx, user_id, grant).await?,
            _ => false,
        };
        tx.commit().await.map_err(map)?;
        Ok((user, applied))
    }

    async fn search_users(&self, q: &UserQuery, page: PageRequest) -> StoreResult<Page<User>> {
        let mut w = Where::new();
        let condition = match &q.filter {
            Some(filter) => w.filter(filter, &user_column),
            None => "TRUE".to_string(),
        };
        let order = match &q.sort {
            Some((field, ascending)) => {
                let col = user_column(field, &mut Where::new());
                // NULLs last on both backends (they disagree on the default).
                format!("({col} IS NULL), {col} {}, user_id", if *ascending { "ASC" } else { "DESC" })
            }
            None => "created_at, user_id".to_string(),
        };
        let count = format!("SELECT COUNT(*) FROM users WHERE {condition}");
        let total: i64 = w
            .bind_to(sqlx::query(sqlx::AssertSqlSafe(count)))
            .fetch_one(&self.pool)
            .await
            .map_err(map)?
            .try_get(0)
            .map_err(map)?;
        let (lim, off) = limit(page);
        let n = w.binds.len();
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE {condition} ORDER BY {order} LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let rows = w
            .bind_to(sqlx::query(sqlx::AssertSqlSafe(sql)))
            .bind(lim)
            .bind(off)
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        Ok(Page { items: rows.iter().map(user_from_row).collect::<StoreResult<_>>()?, total: total as u64 })
    }

    async fn update_user(&self, u: &User, password: Option<&NewPassword>) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE users SET email = $2, email_verified = $3, username = $4, username_lower = $5, name = $6, \
             nickname = $7, picture = $8, given_name = $9, family_name = $10, app_metadata = $11, user_metadata = $12, \
             blocked = $13, updated_at = $14, last_password_reset = $15, password_hash = COALESCE($16, password_hash) \
             WHERE user_id = $1",
        )
        .bind(&u.user_id)
        .bind(&u.email)
        .bind(u.email_verified)
        .bind(&u.username)
        .bind(u.username.as_ref().map(|n| n.to_lowercase()))
        .bind(&u.name)
        .bind(&u.nickname)
        .bind(&u.picture)
        .bind(&u.given_name)
        .bind(&u.family_name)
        .bind(metadata_text("app_metadata", &u.app_metadata)?)
        .bind(metadata_text("user_metadata", &u.user_metadata)?)
        .bind(u.blocked)
        .bind(u.updated_at)
        .bind(u.last_password_reset)
        .bind(password.map(|p| p.hash.as_str()))
        .execute(&mut *tx)
        .await
        .map_err(conflict_as("The specified new email or username already exists"))?;
        found(done.rows_affected())?;
        if let Some(password) = password {
            end_what_the_old_password_opened(&mut tx, &u.user_id, password).await?;
        }
        tx.commit().await.map_err(map)
    }

    async fn delete_user(&self, user_id: &str) -> StoreResult<bool> {
        // Roles, groups, permissions, sessions, tokens and tickets go with it (ON DELETE CASCADE).
        self.delete_one("DELETE FROM users WHERE user_id = $1", user_id).await
    }
}

/// What a new password ends, in the transaction that writes it (see `NewPassword`): the
/// user's outstanding reset links always; their refresh tokens, sessions and unredeemed
/// authorization codes unless the server keeps sessions across password changes.
async fn end_what_the_old_password_opened(
    tx: &mut sqlx::Transaction<'_, Db>,
    user_id: &str,
    password: &NewPassword,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM tickets WHERE user_id = $1 AND kind = $2")
        .bind(user_id)
        .bind(TicketKind::ResetPassword.name())
        .execute(&mut **tx)
        .await
        .map_err(map)?;
    if !password.end_sessions {
        return Ok(());
    }
    for sql in [
        "UPDATE refresh_tokens SET revoked = TRUE WHERE user_id = $1 AND revoked = FALSE",
        "DELETE FROM sessions WHERE user_id = $1",
        "DELETE FROM authorization_codes WHERE user_id = $1",
    ] {
        sqlx::query(sql).bind(user_id).execute(&mut **tx).await.map_err(map)?;
    }
    Ok(())
}

/// The SQL expression of a searchable user field. Names are compared lower-cased; email
/// and username are stored lower-cased already.
fn user_column(field: &UserField, w: &mut Where) -> String {
    match field {
        UserField::UserId => "user_id".into(),
        UserField::Email => "email".into(),
        UserField::Username => "username_lower".into(),
        UserField::Name => "LOWER(name)".into(),
        UserField::Nickname => "LOWER(nickname)".into(),
        UserField::GivenName => "LOWER(given_name)".into(),
        UserField::FamilyName => "LOWER(family_name)".into(),
        UserField::Connection => "connection".into(),
        UserField::EmailVerified => "email_verified".into(),
        UserField::Blocked => "blocked".into(),
        UserField::LoginsCount => "logins_count".into(),
        UserField::CreatedAt => "created_at".into(),
        UserField::UpdatedAt => "updated_at".into(),
        UserField::LastLogin => "last_login".into(),
        UserField::LastIp => "last_ip".into(),
        UserField::AppMetadata(path) => json_text_at("app_metadata", path, w),
        UserField::UserMetadata(path) => json_text_at("user_metadata", path, w),
    }
}

#[async_trait::async_trait]
impl LoginFailureStore for SqlStore {
    async fn is_login_blocked(&self, user_id: &str, ip: &str, blocked_since: i64) -> StoreResult<bool> {
        let blocked: Option<Option<i64>> =
            sqlx::query_scalar("SELECT blocked_at FROM login_failures WHERE user_id = $1 AND ip = $2")
                .bind(user_id)
                .bind(ip)
                .fetch_optional(&self.pool)
                .await
                .map_err(map)?;
        Ok(blocked.flatten().is_some_and(|at| at >= blocked_since))
    }

    async fn count_login_blocks(&self, user_id: &str, blocked_since: i64) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE user_id = $1 AND blocked_at >= $2")
            .bind(user_id)
            .bind(blocked_since)
            .fetch_one(&self.pool)
            .await
            .map_err(map)
    }

    async fn record_login_failure(
        &self,
        user_id: &str,
        ip: &str,
        threshold: i64,
        now: i64,
        blocked_since: i64,
    ) -> StoreResult<bool> {
        // One statement, so concurrent failures all count. The SET expressions read the
        // row as it was; a block older than `blocked_since` has run out and starts over.
        let blocked_at: Option<i64> = sqlx::query_scalar(
            "INSERT INTO login_failures (user_id, ip, failures, blocked_at, last_failed_at) \
             VALUES ($1, $2, 1, CASE WHEN $3 <= 1 THEN $4 END, $4) \
             ON CONFLICT (user_id, ip) DO UPDATE SET \
             last_failed_at = $4, \
             failures = CASE WHEN login_failures.blocked_at < $5 THEN 1 \
                             ELSE login_failures.failures + 1 END, \
             blocked_at = CASE WHEN login_failures.blocked_at < $5 \
                                    THEN CASE WHEN $3 <= 1 THEN $4 END \
                               WHEN login_failures.failures + 1 >= $3 \
                                    THEN COALESCE(login_failures.blocked_at, $4) END \
             RETURNING blocked_at",
        )
        .bind(user_id)
        .bind(ip)
        .bind(threshold)
        .bind(now)
        .bind(blocked_since)
        .fetch_one(&self.pool)
        .await
        .map_err(map)?;
        Ok(blocked_at.is_some())
    }

    async fn clear_login_failures(&self, user_id: &str, ip: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM login_failures WHERE user_id = $1 AND ip = $2 AND blocked_at IS NULL")
            .bind(user_id)
            .bind(ip)
            .execute(&self.pool)
            .await
            .map_err(map)?;
        Ok(())
    }

    async fn unblock_user_logins(&self, user_id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM login_failures WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(map)?;
        Ok(())
    }
}

fn log_from_row(row: &DbRow) -> StoreResult<LogEvent> {
    let get = |c: &str| row.try_get::<Option<String>, _>(c).map_err(map);
    Ok(LogEvent {
        log_id: row.try_get("log_id").map_err(map)?,
        date: row.try_get("date").map_err(map)?,
        event_type: row.try_get("type").map_err(map)?,
        description: row.try_get("description").map_err(map)?,
        client_id: get("client_id")?,
        client_name: get("client_name")?,
        connection: get("connection")?,
        user_id: get("user_id")?,
        user_name: get("user_name")?,
        ip: get("ip")?,
        user_agent: get("user_agent")?,
        details: from_json("details", &row.try_get::<String, _>("details").map_err(map)?)?,
    })
}

#[async_trait::async_trait]
impl LogStore for SqlStore {
    /// Queued; written within moments by the log writer (see `LogCommand`). A full queue
    /// (the store has not taken writes for a while) drops the event rather than hold up
    /// the request that caused it; `castellan_log_events_dropped_total` counts them.
    async fn append_log(&self, e: &LogEvent) -> StoreResult<()> {
        use tokio::sync::mpsc::error::TrySendError;
        match self.logs.try_send(LogCommand::Append(Box::new(e.clone()))) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => {
                tracing::warn!(log_id = e.log_id, "the log queue is full; event dropped");
                metrics::counter!("castellan_log_events_dropped_total", "reason" => "queue_full").increment(1);
                Ok(())
            }
            Err(TrySendError::Closed(_)) => Err(StoreError::Unavailable("the log writer has stopped".into())),
        }
    }

    async fn list_logs(&self, user_id: Option<&str>, limit: u64) -> StoreResult<Vec<LogEvent>> {
        self.flush_logs().await;
        let rows = sqlx::query(
            "SELECT log_id, date, type, description, client_id, client_name, connection, user_id, user_name, ip, \
             user_agent, details FROM logs WHERE ($1 IS NULL OR user_id = $1) ORDER BY log_id DESC LIMIT $2",
        )
        .bind(user_id)
        .bind(limit.min(i64::MAX as u64) as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(map)?;
        rows.iter().map(log_from_row).collect()
    }

    async fn query_logs(&self, q: &LogQuery, page: PageRequest) -> StoreResult<Page<LogEvent>> {
        self.flush_logs().await;
        let mut w = Where::new();
        let condition = match &q.filter {
            Some(filter) => w.filter(filter, &|field, _| log_column(*field).to_string()),
            None => "TRUE".to_string(),
        };
        let count = format!("SELECT COUNT(*) FROM logs WHERE {condition}");
        let total: i64 = w
            .bind_to(sqlx::query(sqlx::AssertSqlSafe(count)))
            .fetch_one(&self.pool)
            .await
            .map_err(map)?
            .try_get(0)
            .map_err(map)?;
        let (lim, off) = limit(page);
        let n = w.binds.len();
        let sql = format!(
            "SELECT {LOG_COLUMNS} FROM logs WHERE {condition} ORDER BY log_id {} LIMIT ${} OFFSET ${}",
            if q.oldest_first { "ASC" } else { "DESC" },
            n + 1,
            n + 2
        );
        let rows = w
            .bind_to(sqlx::query(sqlx::AssertSqlSafe(sql)))
            .bind(lim)
            .bind(off)
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        Ok(Page { items: rows.iter().map(log_from_row).collect::<StoreResult<_>>()?, total: total as u64 })
    }

    async fn find_log(&self, log_id: &str) -> StoreResult<Option<LogEvent>> {
        self.flush_logs().await;
        let sql = format!("SELECT {LOG_COLUMNS} FROM logs WHERE log_id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(log_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?
            .as_ref()
            .map(log_from_row)
            .transpose()
    }

    async fn flush_log_queue(&self) {
        self.flush_logs().await;
    }
}

const LOG_COLUMNS: &str =
    "log_id, date, type, description, client_id, client_name, connection, user_id, user_name, ip, user_agent, details";

fn log_column(field: LogField) -> &'static str {
    match field {
        LogField::LogId => "log_id",
        LogField::Type => "type",
        LogField::Description => "LOWER(description)",
        LogField::UserId => "user_id",
        LogField::UserName => "LOWER(user_name)",
        LogField::ClientId => "client_id",
        LogField::ClientName => "LOWER(client_name)",
        LogField::Connection => "connection",
        LogField::Ip => "ip",
        LogField::Date => "date",
    }
}

impl SqlStore {
    /// What this node has queued is visible to its own readers, unless the store has not
    /// taken it within `LOG_FLUSH_WAIT`.
    async fn flush_logs(&self) {
        let (done, written) = tokio::sync::oneshot::channel();
        let flushed = async {
            if self.logs.send(LogCommand::Flush(done)).await.is_ok() {
                let _ = written.await;
            }
        };
        if tokio::time::timeout(LOG_FLUSH_WAIT, flushed).await.is_err() {
            tracing::warn!("log events are still queued: the store has not taken them yet");
        }
    }
}

#[async_trait::async_trait]
impl SessionStore for SqlStore {
    async fn create_session(&self, session: &Session) -> StoreResult<()> {
        sqlx::query("INSERT INTO sessions (id_hash, user_id, auth_time, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(&session.id_hash)
            .bind(&session.user_id)
            .bind(session.auth_time)
            .bind(session.expires_at)
            .execute(&self.pool)
            .await
            .map_err(map)?;
        Ok(())
    }

    async fn find_session(&self, id_hash: &str) -> StoreResult<Option<Session>> {
        let row = sqlx::query("SELECT id_hash, user_id, auth_time, expires_at FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?;
        row.as_ref().map(session_from_row).transpose()
    }

    async fn delete_session(&self, id_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await
            .map_err(map)?;
        Ok(())
    }

    async fn list_user_sessions(&self, user_id: &str, now: i64, page: PageRequest) -> StoreResult<Page<Session>> {
        let (lim, off) = limit(page);
        let rows = sqlx::query(
            "SELECT id_hash, user_id, auth_time, expires_at FROM sessions WHERE user_id = $1 AND expires_at > $2 \
             ORDER BY auth_time, id_hash LIMIT $3 OFFSET $4",
        )
        .bind(user_id)
        .bind(now)
        .bind(lim)
        .bind(off)
        .fetch_all(&self.pool)
        .await
        .map_err(map)?;
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE user_id = $1 AND expires_at > $2")
            .bind(user_id)
            .bind(now)
            .fetch_one(&self.pool)
            .await
            .map_err(map)?;
        Ok(Page { items: rows.iter().map(session_from_row).collect::<StoreResult<_>>()?, total: total as u64 })
    }

    async fn delete_user_sessions(&self, user_id: &str) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(map)?;
        Ok(done.rows_affected())
    }
}

fn session_from_row(row: &DbRow) -> StoreResult<Session> {
    Ok(Session {
        id_hash: row.try_get("id_hash").map_err(map)?,
        user_id: row.try_get("user_id").map_err(map)?,
        auth_time: row.try_get("auth_time").map_err(map)?,
        expires_at: row.try_get("expires_at").map_err(map)?,
    })
}

#[async_trait::async_trait]
impl AuthorizationCodeStore for SqlStore {
    async fn create_authorization_code(&self, c: &AuthorizationCode) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO authorization_codes (code_hash, client_id, user_id, redirect_uri, scope, audience, nonce, \
             code_challenge, auth_time, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&c.code_hash)
        .bind(&c.client_id)
        .bind(&c.user_id)
        .bind(&c.redirect_uri)
        .bind(json_text(&c.scope))
        .bind(&c.audience)
        .bind(&c.nonce)
        .bind(&c.code_challenge)
        .bind(c.auth_time)
        .bind(c.expires_at)
        .execute(&self.pool)
        .await
        .map_err(map)?;
        Ok(())
    }

    async fn take_authorization_code(&self, code_hash: &str) -> StoreResult<Option<AuthorizationCode>> {
        let row = sqlx::query(
            "DELETE FROM authorization_codes WHERE code_hash = $1 AND redeemed_at IS NULL RETURNING code_hash, \
             client_id, user_id, redirect_uri, scope, audience, nonce, code_challenge, auth_time, expires_at",
        )
        .bind(code_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(map)?;
        row.as_ref().map(authorization_code_from_row).transpose()
    }

    async fn redeem_authorization_code(
        &self,
        code_hash: &str,
        refresh_family: &str,
        now: i64,
    ) -> StoreResult<CodeRedemption> {
        // Redeemed codes are kept until they expire; codes live a minute, so clearing the
        // expired ones at each redemption keeps the table small.
        sqlx::query("DELETE FROM authorization_codes WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(map)?;
        let row = sqlx::query(
            "UPDATE authorization_codes SET redeemed_at = $2, refresh_family = $3 \
             WHERE code_hash = $1 AND redeemed_at IS NULL RETURNING code_hash, client_id, user_id, redirect_uri, \
             scope, audience, nonce, code_challenge, auth_time, expires_at",
        )
        .bind(code_hash)
        .bind(now)
        .bind(refresh_family)
        .fetch_optional(&self.pool)
        .await
        .map_err(map)?;
        if let Some(row) = row {
            return Ok(CodeRedemption::Redeemed(authorization_code_from_row(&row)?));
        }
        let before: Option<Option<String>> = sqlx::query_scalar(
            "UPDATE authorization_codes SET replayed_at = $2 WHERE code_hash = $1 RETURNING refresh_family",
        )
        .bind(code_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(map)?;
        Ok(match before {
            Some(refresh_family) => CodeRedemption::Replayed { refresh_family },
            None => CodeRedemption::Unknown,
        })
    }

    async fn authorization_code_replayed(&self, code_hash: &str) -> StoreResult<bool> {
        let replayed: Option<bool> =
            sqlx::query_scalar("SELECT replayed_at IS NOT NULL FROM authorization_codes WHERE code_hash = $1")
                .bind(code_hash)
                .fetch_optional(&self.pool)
                .await
                .map_err(map)?;
        Ok(replayed.unwrap_or(false))
    }
}

fn authorization_code_from_row(row: &DbRow) -> StoreResult<AuthorizationCode> {
    let get = |c: &str| row.try_get::<Option<String>, _>(c).map_err(map);
    Ok(AuthorizationCode {
        code_hash: row.try_get("code_hash").map_err(map)?,
        client_id: row.try_get("client_id").map_err(map)?,
        user_id: row.try_get("user_id").map_err(map)?,
        redirect_uri: row.try_get("redirect_uri").map_err(map)?,
        scope: from_json("scope", &row.try_get::<String, _>("scope").map_err(map)?)?,
        audience: get("audience")?,
        nonce: get("nonce")?,
        code_challenge: get("code_challenge")?,
        auth_time: row.try_get("auth_time").map_err(map)?,
        expires_at: row.try_get("expires_at").map_err(map)?,
    })
}

#[async_trait::async_trait]
impl RefreshTokenStore for SqlStore {
    async fn create_refresh_token(&self, t: &RefreshToken) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, audience, scope, auth_time, \
             created_at, expires_at, used_at, revoked) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&t.token_hash)
        .bind(&t.family_id)
        .bind(&t.client_id)
        .bind(&t.user_id)
        .bind(&t.audience)
        .bind(json_text(&t.scope))
        .bind(t.auth_time)
        .bind(t.created_at)
        .bind(t.expires_at)
        .bind(t.used_at)
        .bind(t.revoked)
        .execute(&self.pool)
        .await
        .map_err(map)?;
        Ok(())
    }

    async fn find_refresh_token(&self, token_hash: &str) -> StoreResult<Option<RefreshToken>> {
        let row = sqlx::query(
            "SELECT token_hash, family_id, client_id, user_id, audience, scope, auth_time, created_at, expires_at, \
             used_at, revoked FROM refresh_tokens WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(map)?;
        row.as_ref().map(refresh_token_from_row).transpose()
    }

    async fn use_refresh_token(&self, token_hash: &str, now: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND revoked = FALSE",
        )
        .bind(token_hash)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(map)?;
        Ok(done.rows_affected() == 1)
    }

    async fn revoke_refresh_family(&self, family_id: &str) -> StoreResult<()> {
        sqlx::query("UPDATE refresh_tokens SET revoked = TRUE WHERE family_id = $1")
            .bind(family_id)
            .execute(&self.pool)
            .await
            .map_err(map)?;
        Ok(())
    }

    async fn list_user_refresh_tokens(&self, user_id: &str, now: i64, page: PageRequest) -> StoreResult<Page<RefreshToken>> {
        // A family's newest member is its only one not used yet.
        const LIVE: &str = "user_id = $1 AND revoked = FALSE AND used_at IS NULL AND expires_at > $2";
        let (lim, off) = limit(page);
        let sql = format!(
            "SELECT token_hash, family_id, client_id, user_id, audience, scope, auth_time, created_at, expires_at, \
             used_at, revoked FROM refresh_tokens WHERE {LIVE} ORDER BY auth_time, family_id LIMIT $3 OFFSET $4"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .bind(now)
            .bind(lim)
            .bind(off)
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        let count = format!("SELECT COUNT(*) FROM refresh_tokens WHERE {LIVE}");
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count))
            .bind(user_id)
            .bind(now)
            .fetch_one(&self.pool)
            .await
            .map_err(map)?;
        Ok(Page { items: rows.iter().map(refresh_token_from_row).collect::<StoreResult<_>>()?, total: total as u64 })
    }

    async fn revoke_user_refresh_tokens(&self, user_id: &str, now: i64) -> StoreResult<u64> {
        let mut tx = self.write_tx().await?;
        let live: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM refresh_tokens WHERE user_id = $1 AND revoked = FALSE AND used_at IS NULL \
             AND expires_at > $2",
        )
        .bind(user_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(map)?;
        sqlx::query("UPDATE refresh_tokens SET revoked = TRUE WHERE user_id = $1 AND revoked = FALSE")
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        tx.commit().await.map_err(map)?;
        Ok(live as u64)
    }
}

fn refresh_token_from_row(row: &DbRow) -> StoreResult<RefreshToken> {
    Ok(RefreshToken {
        token_hash: row.try_get("token_hash").map_err(map)?,
        family_id: row.try_get("family_id").map_err(map)?,
        client_id: row.try_get("client_id").map_err(map)?,
        user_id: row.try_get("user_id").map_err(map)?,
        audience: row.try_get("audience").map_err(map)?,
        scope: from_json("scope", &row.try_get::<String, _>("scope").map_err(map)?)?,
        auth_time: row.try_get("auth_time").map_err(map)?,
        created_at: row.try_get("created_at").map_err(map)?,
        expires_at: row.try_get("expires_at").map_err(map)?,
        used_at: row.try_get("used_at").map_err(map)?,
        revoked: row.try_get("revoked").map_err(map)?,
    })
}

impl SqlStore {
    async fn ticket_query(&self, sql: &'static str, ticket_hash: &str) -> StoreResult<Option<Ticket>> {
        let row = sqlx::query(sql)
            .bind(ticket_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?;
        row.map(|row| {
            Ok(Ticket {
                ticket_hash: row.try_get("ticket_hash").map_err(map)?,
                kind: parse_named::<TicketKind>("kind", &row.try_get::<String, _>("kind").map_err(map)?)?,
                user_id: row.try_get("user_id").map_err(map)?,
                client_id: row.try_get("client_id").map_err(map)?,
                expires_at: row.try_get("expires_at").map_err(map)?,
            })
        })
        .transpose()
    }
}

fn insert_ticket(t: &Ticket) -> sqlx::query::Query<'_, Db, <Db as sqlx::Database>::Arguments> {
    sqlx::query("INSERT INTO tickets (ticket_hash, kind, user_id, client_id, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&t.ticket_hash)
        .bind(t.kind.name())
        .bind(&t.user_id)
        .bind(&t.client_id)
        .bind(t.expires_at)
}

#[async_trait::async_trait]
impl TicketStore for SqlStore {
    async fn create_ticket(&self, t: &Ticket) -> StoreResult<()> {
        insert_ticket(t).execute(&self.pool).await.map_err(map)?;
        Ok(())
    }

    async fn find_ticket(&self, ticket_hash: &str) -> StoreResult<Option<Ticket>> {
        self.ticket_query("SELECT ticket_hash, kind, user_id, client_id, expires_at FROM tickets WHERE ticket_hash = $1", ticket_hash)
            .await
    }

    async fn take_ticket(&self, ticket_hash: &str) -> StoreResult<Option<Ticket>> {
        self.ticket_query(
            "DELETE FROM tickets WHERE ticket_hash = $1 RETURNING ticket_hash, kind, user_id, client_id, expires_at",
            ticket_hash,
        )
        .await
    }
    async fn create_ticket_within(&self, t: &Ticket, expiring_after: i64, max: u64) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        sqlx::query(LOCK_USER).bind(&t.user_id).execute(&mut *tx).await.map_err(map)?;
        let count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM tickets WHERE user_id = $1 AND kind = $2 AND expires_at > $3",
        )
        .bind(&t.user_id)
        .bind(t.kind.name())
        .bind(expiring_after)
        .fetch_one(&mut *tx)
        .await
        .map_err(map)?;
        if count.max(0) as u64 >= max {
            return Ok(false);
        }
        insert_ticket(t).execute(&mut *tx).await.map_err(map)?;
        tx.commit().await.map_err(map)?;
        Ok(true)
    }
}

#[async_trait::async_trait]
impl OutboxStore for SqlStore {
    async fn push_mail(&self, m: &Mail) -> StoreResult<()> {
        sqlx::query("INSERT INTO outbox (id, recipient, subject, body, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&m.id)
            .bind(&m.recipient)
            .bind(&m.subject)
            .bind(&m.body)
            .bind(m.created_at)
            .execute(&self.pool)
            .await
            .map_err(map)?;
        Ok(())
    }

    async fn list_mail(&self) -> StoreResult<Vec<Mail>> {
        let rows = sqlx::query("SELECT id, recipient, subject, body, created_at FROM outbox ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        rows.iter()
            .map(|row| {
                Ok(Mail {
                    id: row.try_get("id").map_err(map)?,
                    recipient: row.try_get("recipient").map_err(map)?,
                    subject: row.try_get("subject").map_err(map)?,
                    body: row.try_get("body").map_err(map)?,
                    created_at: row.try_get("created_at").map_err(map)?,
                })
            })
            .collect()
    }
}

fn role_from_row(row: &DbRow) -> StoreResult<Role> {
    let application_id: String = row.try_get("application_id").map_err(map)?;
    Ok(Role {
        id: row.try_get("id").map_err(map)?,
        guid: row.try_get("guid").map_err(map)?,
        name: row.try_get("name").map_err(map)?,
        description: row.try_get("description").map_err(map)?,
        application_id: (!application_id.is_empty()).then_some(application_id),
        application_type: row.try_get("application_type").map_err(map)?,
        created_at: row.try_get("created_at").map_err(map)?,
    })
}

fn permission_from_row(row: &DbRow) -> StoreResult<Permission> {
    Ok(Permission {
        resource_server_identifier: row.try_get("resource_server_identifier").map_err(map)?,
        permission_name: row.try_get("permission_name").map_err(map)?,
    })
}

const ROLE_COLUMNS: &str = "id, guid, name, description, application_id, application_type, created_at";
/// The same columns of `roles` aliased as `r`.
const ROLE_COLUMNS_R: &str = "r.id, r.guid, r.name, r.description, r.application_id, r.application_type, r.created_at";

#[async_trait::async_trait]
impl RoleStore for SqlStore {
    async fn create_role(&self, r: &Role) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO roles (id, guid, name, name_lower, description, application_id, application_type, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&r.id)
        .bind(&r.guid)
        .bind(&r.name)
        .bind(r.name.to_lowercase())
        .bind(&r.description)
        .bind(r.application_id.as_deref().unwrap_or(""))
        .bind(&r.application_type)
        .bind(r.created_at)
        .execute(&self.pool)
        .await
        .map_err(conflict_as("A role with this name already exists"))?;
        Ok(())
    }

    async fn find_role(&self, id_or_guid: &str) -> StoreResult<Option<Role>> {
        let sql = format!("SELECT {ROLE_COLUMNS} FROM roles WHERE id = $1 OR guid = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id_or_guid)
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?
            .as_ref()
            .map(role_from_row)
            .transpose()
    }

    async fn list_roles(&self, name_filter: Option<&str>, page: PageRequest) -> StoreResult<Page<Role>> {
        let (lim, off) = limit(page);
        let pattern = name_filter.map(|f| format!("%{}%", f.to_lowercase().replace(['%', '_'], "")));
        let sql = format!(
            "SELECT {ROLE_COLUMNS} FROM roles WHERE ($1 IS NULL OR name_lower LIKE $1) ORDER BY name_lower, id LIMIT $2 OFFSET $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&pattern)
            .bind(lim)
            .bind(off)
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM roles WHERE ($1 IS NULL OR name_lower LIKE $1)")
            .bind(&pattern)
            .fetch_one(&self.pool)
            .await
            .map_err(map)?;
        Ok(Page { items: rows.iter().map(role_from_row).collect::<StoreResult<_>>()?, total: total as u64 })
    }

    async fn update_role(&self, r: &Role) -> StoreResult<()> {
        let done = sqlx::query("UPDATE roles SET name = $2, name_lower = $3, description = $4 WHERE id = $1")
            .bind(&r.id)
            .bind(&r.name)
            .bind(r.name.to_lowercase())
            .bind(&r.description)
            .execute(&self.pool)
            .await
            .map_err(conflict_as("A role with this name already exists"))?;
        found(done.rows_affected())
    }

    async fn delete_role(&self, id: &str) -> StoreResult<bool> {
        self.delete_one("DELETE FROM roles WHERE id = $1", id).await
    }

    async fn add_role_permissions(&self, role_id: &str, permissions: &[Permission]) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        for p in permissions {
            sqlx::query(
                "INSERT INTO role_permissions (role_id, resource_server_identifier, permission_name) \
                 VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(role_id)
            .bind(&p.resource_server_identifier)
            .bind(&p.permission_name)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        }
        tx.commit().await.map_err(map)
    }

    async fn remove_role_permissions(&self, role_id: &str, permissions: &[Permission]) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        for p in permissions {
            sqlx::query(
                "DELETE FROM role_permissions WHERE role_id = $1 AND resource_server_identifier = $2 \
                 AND permission_name = $3",
            )
            .bind(role_id)
            .bind(&p.resource_server_identifier)
            .bind(&p.permission_name)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        }
        tx.commit().await.map_err(map)
    }

    async fn list_role_permissions(&self, role_id: &str, page: PageRequest) -> StoreResult<Page<Permission>> {
        self.page_by_key(
            "SELECT resource_server_identifier, permission_name FROM role_permissions WHERE role_id = $1 \
             ORDER BY resource_server_identifier, permission_name LIMIT $2 OFFSET $3"
                .into(),
            "SELECT COUNT(*) FROM role_permissions WHERE role_id = $1",
            role_id,
            page,
            permission_from_row,
        )
        .await
    }

    async fn assign_user_roles(&self, user_id: &str, role_ids: &[String]) -> StoreResult<()> {
        self.for_each_in_tx(
            "INSERT INTO user_roles (user_id, role_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            user_id,
            role_ids,
        )
        .await
    }

    async fn remove_user_roles(&self, user_id: &str, role_ids: &[String]) -> StoreResult<()> {
        self.for_each_in_tx("DELETE FROM user_roles WHERE user_id = $1 AND role_id = $2", user_id, role_ids).await
    }

    async fn list_user_roles(&self, user_id: &str, page: PageRequest) -> StoreResult<Page<Role>> {
        self.page_by_key(
            format!(
                "SELECT {ROLE_COLUMNS_R} FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = $1 \
                 ORDER BY r.name_lower, r.id LIMIT $2 OFFSET $3"
            ),
            "SELECT COUNT(*) FROM user_roles WHERE user_id = $1",
            user_id,
            page,
            role_from_row,
        )
        .await
    }

    async fn list_role_users(&self, role_id: &str, page: PageRequest) -> StoreResult<Page<User>> {
        let columns = USER_COLUMNS.split(", ").map(|c| format!("u.{}", c.trim())).collect::<Vec<_>>().join(", ");
        self.page_by_key(
            format!(
                "SELECT {columns} FROM user_roles ur JOIN users u ON u.user_id = ur.user_id WHERE ur.role_id = $1 \
                 ORDER BY u.user_id LIMIT $2 OFFSET $3"
            ),
            "SELECT COUNT(*) FROM user_roles WHERE role_id = $1",
            role_id,
            page,
            user_from_row,
        )
        .await
    }

    async fn add_role_users(&self, role_id: &str, user_ids: &[String]) -> StoreResult<()> {
        self.for_each_in_tx(
            "INSERT INTO user_roles (user_id, role_id) VALUES ($2, $1) ON CONFLICT DO NOTHING",
            role_id,
            user_ids,
        )
        .await
    }
}

#[async_trait::async_trait]
impl Store for SqlStore {
    /// A write, committed like any other: a store that answers but cannot write (a full
    /// disk, a read-only replica, a held lock) is not ready.
    async fn ping(&self) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO readiness (id, checked_at) VALUES (1, $1) \
             ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
        )
        .bind(now())
        .execute(&mut *tx)
        .await
        .map_err(map)?;
        tx.commit().await.map_err(map)
    }
}

/// Creation time for ordering lists; not an expiry decision, so not the injected clock.
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}
