//! The only crate that speaks SQL. One implementation of core's storage traits, compiled
//! once for SQLite and once for PostgreSQL from the same source (the SQL is portable:
//! `$n` placeholders, `ON CONFLICT`, partial indexes), and migrations kept in lockstep.

#![forbid(unsafe_code)]

use std::sync::Arc;

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

/// Opens the store a URL names and brings its schema up to date.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, OpenError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqlStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::SqlStore::open(url).await?))
    } else {
        Err(OpenError::UnsupportedUrl(url.to_string()))
    }
}

/// A new, empty PostgreSQL database next to the one `admin_url` names; returns its URL.
/// For tests: each run gets its own database.
pub async fn create_scratch_postgres_database(admin_url: &str) -> Result<String, OpenError> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(admin_url)
        .await
        .map_err(|e| OpenError::Unreachable(e.to_string()))?;
    let name = format!(
        "castellan_test_{}",
        castellan_core::ids::alphanumeric(12).to_lowercase()
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .map_err(|e| OpenError::Unreachable(e.to_string()))?;
    let base = admin_url.split('?').next().unwrap_or(admin_url);
    let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
    Ok(format!("{server}/{name}"))
}
