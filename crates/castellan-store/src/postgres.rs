//! The scale-out store: several nodes on one PostgreSQL serve the same tenant.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::OpenError;

/// PostgreSQL locks rows as they are written; a plain `BEGIN` is right.
const BEGIN_WRITE: &str = "BEGIN";
/// Holds a user's row until the transaction ends, so that counting what the user has and
/// adding to it is one step for concurrent writers.
const LOCK_USER: &str = "SELECT 1 FROM users WHERE user_id = $1 FOR UPDATE";
/// Migrations may rewrite a large table or build an index over it: no statement timeout
/// for them. `RESET` gives the connection its startup value back before the pool reuses it.
const MIGRATION_SESSION: Option<(&str, &str)> =
    Some(("SET statement_timeout = 0", "RESET statement_timeout"));

type Db = sqlx::Postgres;

// The same module tree as the other backend's, on purpose: one SQL text for both.
#[allow(clippy::duplicate_mod)]
#[path = "shared/mod.rs"]
mod shared;

pub use shared::SqlStore;
use shared::{Bind, Where};

/// The JSON scalar at `path` (keys of letters, digits, `_`, `-`) in a metadata column, as
/// text: `gold`, `12`, `true`; NULL for missing keys. SQLite's version gives the same text.
fn json_text_at(column: &str, path: &[String], w: &mut Where) -> String {
    let path = w.param(Bind::Text(format!("{{{}}}", path.join(","))));
    format!(
        "(CASE WHEN jsonb_typeof(CAST({column} AS jsonb) #> CAST({path} AS text[])) IN ('object', 'array') THEN NULL \
             ELSE CAST({column} AS jsonb) #>> CAST({path} AS text[]) END)"
    )
}

impl SqlStore {
    pub async fn open(url: &str, store: &crate::StoreOptions) -> Result<Self, OpenError> {
        let mut options = PgConnectOptions::from_str(url)
            .map_err(|e| OpenError::UnsupportedUrl(format!("{url}: {e}")))?;
        // A statement stuck behind a lock or gone astray ends with an error (57014, 503)
        // instead of holding a connection and its request. Sent as a startup option; a
        // URL that sets its own (`?options=-c statement_timeout=...`) keeps it.
        let from_url = options
            .get_options()
            .is_some_and(|o| o.contains("statement_timeout"));
        if !store.statement_timeout.is_zero() && !from_url {
            options = options.options([("statement_timeout", store.statement_timeout.as_millis())]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(16)
            // Short, so that requests turn into 503 quickly while the database is away.
            .acquire_timeout(store.acquire_timeout.unwrap_or(Duration::from_secs(3)))
            .connect_with(options)
            .await
            .map_err(|e| OpenError::Unreachable(e.to_string()))?;
        Self::migrated(pool, crate::migrations::POSTGRES).await
    }
}
