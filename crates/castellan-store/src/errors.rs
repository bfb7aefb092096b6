//! Driver errors become `StoreError` here and nowhere else. A database that cannot be
//! reached is `Unavailable` (503, retried by clients); it is never mistaken for "not found".

use castellan_core::store::StoreError;

pub fn map(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(format!(
            "already exists ({})",
            db.constraint().unwrap_or("unique")
        )),
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StoreError::Conflict("refers to a record that does not exist".into())
        }
        // SQLite reports an `ON DELETE RESTRICT` refusal as SQLITE_CONSTRAINT_TRIGGER (1811),
        // which sqlx does not count as a foreign-key violation: the record is still used.
        sqlx::Error::Database(db) if db.code().as_deref() == Some("1811") => {
            StoreError::Conflict("is still referred to by another record".into())
        }
        // PostgreSQL cannot hold NUL in text (22021) nor `\u0000` in jsonb (22P05): the input
        // is at fault, not the server. The boundary refuses NUL first; this keeps a path it
        // missed a 400.
        sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("22021" | "22P05")) => {
            StoreError::Invalid(castellan_core::text::nul_refused("a text value"))
        }
        // PostgreSQL classes 08 (connection), 53 (insufficient resources: disk full, out
        // of memory, too many connections) and 57 (operator intervention: shutdown, a
        // statement timeout).
        sqlx::Error::Database(db)
            if db.code().is_some_and(|c| {
                c.starts_with("08") || c.starts_with("53") || c.starts_with("57")
            }) =>
        {
            StoreError::Unavailable(e.to_string())
        }
        // A full disk passes once space is freed; SQLite has rolled the transaction back.
        sqlx::Error::Database(db) if sqlite_primary_code(db.as_ref()) == Some(SQLITE_FULL) => {
            StoreError::Unavailable(e.to_string())
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => StoreError::Unavailable(e.to_string()),
        _ => StoreError::Other(e.to_string()),
    }
}

const SQLITE_FULL: i32 = 13;

/// SQLite's primary result code: the low byte of the extended code sqlx reports.
fn sqlite_primary_code(db: &dyn sqlx::error::DatabaseError) -> Option<i32> {
    let sqlite = db.try_downcast_ref::<sqlx::sqlite::SqliteError>()?;
    sqlx::error::DatabaseError::code(sqlite)?
        .parse::<i32>()
        .ok()
        .map(|code| code & 0xff)
}

/// Like `map`, but a uniqueness conflict gets the caller's words.
pub fn conflict_as(what: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| match map(e) {
        StoreError::Conflict(_) => StoreError::Conflict(what.to_string()),
        other => other,
    }
}

pub fn json_text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("serialising plain data to JSON")
}

/// Metadata as JSON text, refused on both backends when it holds NUL: PostgreSQL keeps the
/// `\u0000` escape in a text column, and every search that casts the column to jsonb would
/// fail from then on.
pub fn metadata_text(
    field: &str,
    metadata: &serde_json::Map<String, serde_json::Value>,
) -> Result<String, StoreError> {
    match castellan_core::text::nul_in_object(field, metadata) {
        Some(at) => Err(StoreError::Invalid(castellan_core::text::nul_refused(&at))),
        None => Ok(json_text(metadata)),
    }
}

pub fn from_json<T: serde::de::DeserializeOwned>(
    column: &str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Other(format!("column {column}: {e}")))
}
