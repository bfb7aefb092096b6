//! The store, written once for both backends: `sqlite.rs` and `postgres.rs` each compile
//! this module tree after defining `Db` (the sqlx database type) and their few backend
//! constants, which the modules here reach through `super`. One file per aggregate; each
//! implements its store trait once, for `Handle<S>` (see `handle.rs`), so the store and a
//! transaction run the same SQL.

mod actions;
mod authenticators;
mod authorization;
mod authorization_codes;
mod client_grants;
mod clients;
mod connections;
mod device_codes;
mod extension;
mod filters;
mod groups;
mod handle;
mod housekeeping;
mod log_queue;
mod login_failures;
mod logs;
mod outbox;
mod permission_cache;
mod query;
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

use castellan_core::model::LogEvent;
use castellan_core::store::{Store, StoreResult, Transaction};
use sqlx::Pool;

pub(super) use self::filters::{Bind, Where};
use self::handle::{Handle, InTransaction, OnPool};
use self::log_queue::{LOG_QUEUE, insert_log, write_logs};
use self::query::now;
use super::{BEGIN_WRITE, Db, LOCK_USER, MIGRATION_SESSION, json_text_at};
use crate::errors::map;

/// The SQL store for this backend.
pub type SqlStore = Handle<OnPool>;

const MIGRATION_ATTEMPTS: u64 = 8;

impl SqlStore {
    pub fn pool(&self) -> &Pool<Db> {
        &self.source.pool
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
        Ok(Handle {
            source: OnPool {
                pool,
                logs,
                permissions: Default::default(),
            },
        })
    }
}

#[async_trait::async_trait]
impl Store for SqlStore {
    /// A write, committed like any other: a store that answers but cannot write (a full
    /// disk, a read-only replica, a held lock) is not ready.
    async fn ping(&self) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        let mut tx = conn.write().await?;
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

    /// Begun with `BEGIN_WRITE`: on SQLite the transaction holds the write lock from the
    /// start, so a second one waits for it (up to the busy timeout) instead of failing
    /// when it first writes.
    async fn transaction(&self) -> StoreResult<Box<dyn Transaction>> {
        let tx = self
            .source
            .pool
            .begin_with(BEGIN_WRITE)
            .await
            .map_err(map)?;
        Ok(Box::new(Handle {
            source: InTransaction(tokio::sync::Mutex::new(tx)),
        }))
    }
}

#[async_trait::async_trait]
impl Transaction for Handle<InTransaction> {
    async fn record(&self, event: &LogEvent) -> StoreResult<()> {
        insert_log(&mut *self.hold().await?, event).await
    }

    async fn commit(self: Box<Self>) -> StoreResult<()> {
        self.source.0.into_inner().commit().await.map_err(map)
    }
}
