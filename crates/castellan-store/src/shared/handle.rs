//! Where a store method runs: on the pool (`OnPool`, the store itself) or inside a
//! caller's transaction (`InTransaction`). Every store trait is implemented once, for
//! `Handle<S>`, and the source decides what "a connection" and "a write" mean.

use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use castellan_core::store::StoreResult;
use sqlx::pool::PoolConnection;
use sqlx::{Connection, Pool};

use super::log_queue::LogCommand;
use super::permission_cache::PermissionCache;
use super::{BEGIN_WRITE, Db};
use crate::errors::map;

/// A connection of this backend; the statements of every method body run on one.
pub type Conn = <Db as sqlx::Database>::Connection;

/// A store trait implementation over a source of connections.
pub struct Handle<S> {
    pub(super) source: S,
}

/// Where a method's statements run.
pub trait Source: Send + Sync {
    /// The connection a method holds while it runs. Everything the method does, helpers
    /// included, goes through it: a method never waits for a second connection, nor for
    /// the lock of a transaction it already holds.
    fn hold(&self) -> impl Future<Output = StoreResult<Held<'_>>> + Send;

    /// Kept permissions, on the pool only: a transaction's uncommitted changes must
    /// neither fill the cache nor be answered from it.
    fn permission_cache(&self) -> Option<&PermissionCache>;
}

impl<S: Source> Handle<S> {
    pub(super) async fn hold(&self) -> StoreResult<Held<'_>> {
        self.source.hold().await
    }
}

/// The store itself: reads on pooled connections, each multi-statement write its own
/// transaction.
#[derive(Clone)]
pub struct OnPool {
    pub(super) pool: Pool<Db>,
    pub(super) logs: tokio::sync::mpsc::Sender<LogCommand>,
    pub(super) permissions: Arc<PermissionCache>,
}

impl Source for OnPool {
    async fn hold(&self) -> StoreResult<Held<'_>> {
        Ok(Held::Pooled(self.pool.acquire().await.map_err(map)?))
    }

    fn permission_cache(&self) -> Option<&PermissionCache> {
        Some(&self.permissions)
    }
}

/// One transaction, begun with the backend's write statement, that every method of the
/// handle reads and writes through; only `commit` ends it, and dropping it rolls back.
/// The lock is held for a whole method, never twice by one call chain: method bodies take
/// the held connection and call free functions with it, never another method.
pub struct InTransaction(pub(super) tokio::sync::Mutex<sqlx::Transaction<'static, Db>>);

impl Source for InTransaction {
    async fn hold(&self) -> StoreResult<Held<'_>> {
        Ok(Held::InTransaction(self.0.lock().await))
    }

    fn permission_cache(&self) -> Option<&PermissionCache> {
        None
    }
}

/// A connection a method holds: pooled, or the caller's transaction.
pub enum Held<'a> {
    Pooled(PoolConnection<Db>),
    InTransaction(tokio::sync::MutexGuard<'a, sqlx::Transaction<'static, Db>>),
}

impl Held<'_> {
    /// Statements that stand or fall together. On the pool, a transaction of their own,
    /// begun with `BEGIN_WRITE`: on SQLite it takes the write lock at `BEGIN`, since a
    /// deferred transaction that reads and then writes fails at once, without waiting,
    /// when another connection committed in between. Inside a transaction, a savepoint:
    /// the method's statements are undone together if it fails, and whether the rest is
    /// kept is the outer transaction's `commit`.
    pub(super) async fn write(&mut self) -> StoreResult<sqlx::Transaction<'_, Db>> {
        match self {
            Held::Pooled(conn) => conn.begin_with(BEGIN_WRITE).await,
            Held::InTransaction(tx) => tx.begin().await,
        }
        .map_err(map)
    }
}

impl Deref for Held<'_> {
    type Target = Conn;

    fn deref(&self) -> &Conn {
        match self {
            Held::Pooled(conn) => conn,
            Held::InTransaction(tx) => tx,
        }
    }
}

impl DerefMut for Held<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        match self {
            Held::Pooled(conn) => conn,
            Held::InTransaction(tx) => tx,
        }
    }
}
