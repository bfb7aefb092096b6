//! The embedded default: one SQLite file in WAL mode, created with its folder on first start.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::OpenError;

/// SQLite takes the write lock at the start of a transaction that will write (see `write_tx`).
const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";
/// The write lock taken at `BEGIN` already holds every row.
const LOCK_USER: &str = "SELECT 1 FROM users WHERE user_id = $1";
/// SQLite has no statement timeout to lift for migrations.
const MIGRATION_SESSION: Option<(&str, &str)> = None;

type Db = sqlx::Sqlite;

// The same module tree as the other backend's, on purpose: one SQL text for both.
#[allow(clippy::duplicate_mod)]
#[path = "shared/mod.rs"]
mod shared;

pub use shared::SqlStore;
use shared::{Bind, Where};

/// The JSON scalar at `path` (keys of letters, digits, `_`, `-`) in a metadata column, as
/// text: `gold`, `12`, `true`; NULL for objects, arrays and missing keys. PostgreSQL's
/// `#>>` gives the same text.
fn json_text_at(column: &str, path: &[String], w: &mut Where) -> String {
    let json_path: String = std::iter::once("$".to_string())
        .chain(path.iter().map(|k| format!(".\"{k}\"")))
        .collect();
    let kind = w.param(Bind::Text(json_path.clone()));
    let value = w.param(Bind::Text(json_path));
    format!(
        "(CASE json_type({column}, {kind}) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' \
         WHEN 'object' THEN NULL WHEN 'array' THEN NULL ELSE CAST(json_extract({column}, {value}) AS TEXT) END)"
    )
}

/// Makes the database file, and the folders it needs, readable by this user only before
/// SQLite opens it: the file holds password hashes, sealed secrets and, without SMTP, the
/// outbox's links. SQLite gives its `-wal` and `-shm` files the database file's mode. An
/// existing file or folder is left as its owner set it.
fn create_private(path: &Path) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        crate::create_private_folder(parent)?;
    }
    let mut file = std::fs::OpenOptions::new();
    file.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut file, 0o600);
    match file.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Whether a connection given back to the pool can serve the next request. When a write
/// fails for want of space (or I/O), SQLite rolls the transaction back itself; the
/// `ROLLBACK` sqlx then sends fails, and sqlx keeps counting the transaction as open, so
/// every later `BEGIN` on that connection would be refused. Such a connection is closed and
/// the pool opens a fresh one. The ping first waits for the rollback sqlx queued when the
/// transaction was dropped, so a healthy connection is not mistaken for a broken one.
async fn still_usable(conn: &mut sqlx::SqliteConnection) -> Result<bool, sqlx::Error> {
    use sqlx::Connection;
    conn.ping().await?;
    let usable = !conn.is_in_transaction();
    if !usable {
        tracing::warn!("closing a database connection whose transaction SQLite ended");
    }
    Ok(usable)
}

impl SqlStore {
    /// `sqlite://PATH` (relative or absolute).
    pub async fn open(url: &str, store: &crate::StoreOptions) -> Result<Self, OpenError> {
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .filter(|p| !p.is_empty())
            .ok_or_else(|| OpenError::UnsupportedUrl(url.to_string()))?;
        create_private(Path::new(path)).map_err(|cause| OpenError::DataFolder {
            path: path.to_string(),
            cause,
        })?;
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))
            .map_err(|e| OpenError::UnsupportedUrl(format!("{url}: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            // A local file does not drop connections; pinging before each use would cost a
            // round trip to the connection's worker thread per query.
            .test_before_acquire(false)
            .after_release(|conn, _| Box::pin(still_usable(conn)))
            .acquire_timeout(store.acquire_timeout.unwrap_or(Duration::from_secs(5)))
            .connect_with(options)
            .await
            .map_err(|e| OpenError::Unreachable(e.to_string()))?;
        Self::migrated(pool, crate::migrations::SQLITE).await
    }
}
