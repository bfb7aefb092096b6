//! The embedded default: one SQLite file in WAL mode, created with its folder on first start.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::OpenError;

type Db = sqlx::Sqlite;

include!("common.rs");
include!("sql/authorization.rs");
include!("sql/groups.rs");
include!("sql/extension.rs");
include!("sql/rules.rs");

impl SqlStore {
    /// `sqlite://PATH` (relative or absolute).
    pub async fn open(url: &str) -> Result<Self, OpenError> {
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .filter(|p| !p.is_empty())
            .ok_or_else(|| OpenError::UnsupportedUrl(url.to_string()))?;
        if let Some(parent) = Path::new(path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(|cause| OpenError::DataFolder {
                path: parent.display().to_string(),
                cause,
            })?;
        }
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
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(|e| OpenError::Unreachable(e.to_string()))?;
        Self::migrated(pool, crate::migrations::SQLITE).await
    }
}
