//! The only crate that speaks SQL. One implementation of core's storage traits, compiled
//! once for SQLite and once for PostgreSQL from the same source (the SQL is portable:
//! `$n` placeholders, `ON CONFLICT`, partial indexes), and migrations kept in lockstep.

#![forbid(unsafe_code)]

use std::sync::Arc;
use std::time::Duration;

use castellan_core::store::Store;

mod errors;
pub mod migrations;
pub mod postgres;
pub mod sqlite;

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("unsupported database URL \"{0}\": use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    #[error("cannot create the data folder {path}: {cause}")]
    DataFolder { path: String, cause: std::io::Error },
    #[error("cannot reach the database: {0}")]
    Unreachable(String),
    #[error("cannot migrate the database: {0}")]
    Migration(String),
}

/// Creates `folder` and its missing parents readable by this user only (0700): the data
/// folder holds the database and the secret key. An existing folder is left as it is.
pub fn create_private_folder(folder: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(folder)
}

/// How long the store lets a request wait (`[store]` settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOptions {
    /// How long a request waits for a pooled connection before it is answered 503; `None`
    /// is the backend's default (3 s on PostgreSQL, 5 s on SQLite, whose connections are
    /// held while they wait for its single writer).
    pub acquire_timeout: Option<Duration>,
    /// PostgreSQL's `statement_timeout` for every connection; zero leaves the server's.
    /// SQLite has no such setting: its `busy_timeout` (5 s) bounds the wait for the lock.
    pub statement_timeout: Duration,
}

pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            acquire_timeout: None,
            statement_timeout: DEFAULT_STATEMENT_TIMEOUT,
        }
    }
}

/// Opens the store a URL names and brings its schema up to date.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, OpenError> {
    open_with(url, &StoreOptions::default()).await
}

/// `open`, with these timeouts.
pub async fn open_with(url: &str, options: &StoreOptions) -> Result<Arc<dyn Store>, OpenError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqlStore::open(url, options).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::SqlStore::open(url, options).await?))
    } else {
        Err(OpenError::UnsupportedUrl(url.to_string()))
    }
}

const SCRATCH_PREFIX: &str = "castellan_test_";

/// Best effort: a database another run is still creating or using is left alone.
async fn drop_stale_scratch_databases(conn: &mut sqlx::PgConnection, now: u64) {
    let idle: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database d WHERE starts_with(datname, $1)
           AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)",
    )
    .bind(SCRATCH_PREFIX)
    .fetch_all(&mut *conn)
    .await
    .unwrap_or_default();
    for name in idle {
        let created = name[SCRATCH_PREFIX.len()..]
            .split('_')
            .next()
            .and_then(|secs| secs.parse::<u64>().ok());
        if created.is_some_and(|created| now.saturating_sub(created) > 3600) {
            let drop = format!("DROP DATABASE IF EXISTS \"{name}\"");
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
                .execute(&mut *conn)
                .await;
        }
    }
}

/// A new, empty PostgreSQL database next to the one `admin_url` names; returns its URL.
/// For tests: each run gets its own database. Tests do not drop theirs (their pools live
/// until the process ends), so the name carries its creation time and each call first drops
/// the scratch databases that are over an hour old and that nobody is connected to.
pub async fn create_scratch_postgres_database(admin_url: &str) -> Result<String, OpenError> {
    use sqlx::Connection;
    let unreachable = |e: sqlx::Error| OpenError::Unreachable(e.to_string());
    let mut conn = sqlx::PgConnection::connect(admin_url)
        .await
        .map_err(unreachable)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    drop_stale_scratch_databases(&mut conn, now).await;
    let name = format!(
        "{SCRATCH_PREFIX}{now}_{}",
        castellan_core::ids::alphanumeric(8).to_lowercase()
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .map_err(unreachable)?;
    let base = admin_url.split('?').next().unwrap_or(admin_url);
    let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
    Ok(format!("{server}/{name}"))
}
