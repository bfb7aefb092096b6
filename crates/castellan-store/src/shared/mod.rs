//! The store, written once for both backends: `sqlite.rs` and `postgres.rs` each compile
//! this module tree after defining `Db` (the sqlx database type) and their few backend
//! constants.

mod actions;
mod authorization;
mod authorization_codes;
mod client_grants;
mod clients;
mod connections;
mod extension;
mod filters;
mod groups;
mod housekeeping;
mod log_queue;
mod login_failures;
mod logs;
mod outbox;
mod permission_cache;
mod refresh_tokens;
mod resource_servers;
mod roles;
mod rules;
mod sessions;
mod signing_keys;
mod tickets;
mod user_import;
mod user_permissions;
mod users;

use self::authorization::*;
use self::clients::*;
pub(super) use self::filters::{Bind, Where};
use self::log_queue::*;
use self::permission_cache::*;
use self::resource_servers::*;
use self::roles::*;
use self::users::*;
use super::{BEGIN_WRITE, Db, LOCK_USER, MIGRATION_SESSION, json_text_at};
use std::collections::BTreeMap;

use castellan_core::model::{
    AuthorizationCode, Client, ClientGrant, Connection, DefaultAssignments, LogEvent, Mail, Named,
    Permission, RefreshToken, ResourceServer, Role, Session, SigningAlg, SigningKeyRecord, Ticket,
    TicketKind, User,
};
use castellan_core::paging::{Page, PageRequest};
use castellan_core::store::{
    AuthorizationCodeStore, ClientGrantFilter, ClientGrantStore, ClientStore, CodeRedemption,
    ConnectionStore, DefaultGrant, LogField, LogQuery, LogStore, LoginFailureStore, NewPassword,
    OutboxStore, Promotion, RefreshTokenStore, ResourceServerStore, RoleStore, SessionStore,
    SigningKeyStore, Store, StoreError, StoreResult, TicketStore, UserField, UserQuery, UserStore,
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

const MIGRATION_ATTEMPTS: u64 = 8;

impl SqlStore {
    pub fn pool(&self) -> &Pool<Db> {
        &self.pool
    }

    pub(super) async fn migrated(
        pool: Pool<Db>,
        migrations: &[crate::migrations::Embedded],
    ) -> Result<Self, crate::OpenError> {
        let failed = |e: sqlx::Error| crate::OpenError::Migration(e.to_string());
        let mut conn = pool
            .acquire()
            .await
            .map_err(|e| crate::OpenError::Unreachable(e.to_string()))?;
        if let Some((lift, _)) = MIGRATION_SESSION {
            sqlx::raw_sql(lift)
                .execute(&mut *conn)
                .await
                .map_err(failed)?;
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
            sqlx::raw_sql(restore)
                .execute(&mut *conn)
                .await
                .map_err(failed)?;
        }
        drop(conn);
        let (logs, queue) = tokio::sync::mpsc::channel(LOG_QUEUE);
        tokio::spawn(write_logs(pool.clone(), queue));
        Ok(Self {
            pool,
            logs,
            permissions: Default::default(),
        })
    }

    /// A transaction that will write. On SQLite it takes the write lock at `BEGIN`: a
    /// deferred transaction that reads and then writes fails at once, without waiting,
    /// when another connection committed in between.
    async fn write_tx(&self) -> StoreResult<sqlx::Transaction<'static, Db>> {
        self.pool.begin_with(BEGIN_WRITE).await.map_err(map)
    }

    /// Deletes the row whose key `sql` binds as `$1`; false if there was none.
    async fn delete_one(&self, sql: &'static str, key: &str) -> StoreResult<bool> {
        let done = sqlx::query(sql)
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(map)?;
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
        let n: i64 = sqlx::query_scalar(sql)
            .fetch_one(&self.pool)
            .await
            .map_err(map)?;
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
        let n: i64 = sqlx::query_scalar(sql)
            .bind(key)
            .fetch_one(&self.pool)
            .await
            .map_err(map)?;
        Ok(n as u64)
    }

    /// Runs `sql` (binding `$1` = `key`, `$2` = each of `values`) once per value, in one
    /// transaction.
    async fn for_each_in_tx(
        &self,
        sql: &'static str,
        key: &str,
        values: &[String],
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        for value in values {
            sqlx::query(sql)
                .bind(key)
                .bind(value)
                .execute(&mut *tx)
                .await
                .map_err(map)?;
        }
        tx.commit().await.map_err(map)
    }
}

/// An update that touched no row names a record that does not exist.
fn found(rows_affected: u64) -> StoreResult<()> {
    if rows_affected == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

fn limit(page: PageRequest) -> (i64, i64) {
    (
        page.limit.min(i64::MAX as u64) as i64,
        page.offset.min(i64::MAX as u64) as i64,
    )
}

fn parse_named<T: Named>(column: &str, text: &str) -> StoreResult<T> {
    T::parse(text)
        .ok_or_else(|| StoreError::Other(format!("column {column}: unknown value {text}")))
}

type DbQuery<'q> = sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments>;

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

    async fn transaction(&self) -> StoreResult<Box<dyn castellan_core::store::Transaction>> {
        Err(StoreError::Unavailable(
            "store transactions are not implemented yet".into(),
        ))
    }
}

/// Creation time for ordering lists; not an expiry decision, so not the injected clock.
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}
