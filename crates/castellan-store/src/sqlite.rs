//! The embedded default: one SQLite file in WAL mode, created with its folder on first start.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::OpenError;

/// SQLite takes the write lock at the start of a transaction that will write (see `write_tx`).
const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

type Db = sqlx::Sqlite;

include!("common.rs");
include!("sql/authorization.rs");
include!("sql/permission_cache.rs");
include!("sql/groups.rs");
include!("sql/extension.rs");
include!("sql/rules.rs");
include!("sql/actions.rs");
include!("sql/filters.rs");
include!("sql/user_permissions.rs");
include!("sql/user_import.rs");

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
