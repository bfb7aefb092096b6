//! Users written many at a time, for migrations.

use std::collections::HashSet;

use castellan_core::store::{ImportedUser, StoreResult, TakenUserKeys, UserImportStore};

use super::handle::{Conn, Handle, Source};
use crate::errors::{conflict_as, map, metadata_text};

/// Rows per multi-row INSERT. Few enough: SQLite finds each `$n` among the statement's
/// parameter names by a linear walk, so binding costs grow with the square of the values per
/// statement (at 500 rows of 21 values an import spent most of its time there, at 50 still
/// 40 %). Many enough to keep the round trips to the database few.
const IMPORT_BATCH: usize = 20;

/// Keys per `IN (...)` lookup, for the same reason.
const LOOKUP_BATCH: usize = 200;

const IMPORT_COLUMNS: &str = "user_id, connection, email, email_verified, username, username_lower, name, nickname, \
     picture, given_name, family_name, app_metadata, user_metadata, password_hash, created_at, updated_at, \
     last_login, last_ip, logins_count, blocked, last_password_reset";
const IMPORT_COLUMN_COUNT: usize = 21;

/// `($1, ..., $21), ($22, ...)` for `rows` rows.
fn value_rows(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| {
            let row: Vec<String> = (1..=columns)
                .map(|c| format!("${}", r * columns + c))
                .collect();
            format!("({})", row.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `$first, $first+1, ...` for `count` values.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The values of `column` among `keys`, looked up in chunks; `connection` narrows the
/// lookup when given.
async fn existing(
    conn: &mut Conn,
    column: &'static str,
    connection: Option<&str>,
    keys: &[String],
) -> StoreResult<HashSet<String>> {
    let mut found = HashSet::new();
    for chunk in keys.chunks(LOOKUP_BATCH) {
        let (condition, first) = match connection {
            Some(_) => ("connection = $1 AND ", 2),
            None => ("", 1),
        };
        let sql = format!(
            "SELECT {column} FROM users WHERE {condition}{column} IN ({})",
            placeholders(first, chunk.len())
        );
        let mut query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
        if let Some(connection) = connection {
            query = query.bind(connection);
        }
        for key in chunk {
            query = query.bind(key);
        }
        found.extend(query.fetch_all(&mut *conn).await.map_err(map)?);
    }
    Ok(found)
}

#[async_trait::async_trait]
impl<S: Source> UserImportStore for Handle<S> {
    async fn taken_user_keys(
        &self,
        connection: &str,
        user_ids: &[String],
        emails: &[String],
        usernames: &[String],
    ) -> StoreResult<TakenUserKeys> {
        let mut conn = self.hold().await?;
        let lowered: Vec<String> = usernames.iter().map(|u| u.to_lowercase()).collect();
        Ok(TakenUserKeys {
            user_ids: existing(&mut conn, "user_id", None, user_ids).await?,
            emails: existing(&mut conn, "email", Some(connection), emails).await?,
            usernames: existing(&mut conn, "username_lower", Some(connection), &lowered).await?,
        })
    }

    async fn insert_users(
        &self,
        users: &[ImportedUser],
        written: &(dyn Fn(usize) + Send + Sync),
    ) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        let mut tx = conn.write().await?;
        let mut done = 0;
        for batch in users.chunks(IMPORT_BATCH) {
            let sql = format!(
                "INSERT INTO users ({IMPORT_COLUMNS}) VALUES {}",
                value_rows(batch.len(), IMPORT_COLUMN_COUNT)
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for ImportedUser {
                user: u,
                password_hash,
            } in batch
            {
                query = query
                    .bind(&u.user_id)
                    .bind(&u.connection)
                    .bind(&u.email)
                    .bind(u.email_verified)
                    .bind(&u.username)
                    .bind(u.username.as_ref().map(|n| n.to_lowercase()))
                    .bind(&u.name)
                    .bind(&u.nickname)
                    .bind(&u.picture)
                    .bind(&u.given_name)
                    .bind(&u.family_name)
                    .bind(metadata_text("app_metadata", &u.app_metadata)?)
                    .bind(metadata_text("user_metadata", &u.user_metadata)?)
                    .bind(password_hash)
                    .bind(u.created_at)
                    .bind(u.updated_at)
                    .bind(u.last_login)
                    .bind(&u.last_ip)
                    .bind(u.logins_count)
                    .bind(u.blocked)
                    .bind(u.last_password_reset);
            }
            query.execute(&mut *tx).await.map_err(conflict_as(
                "A user with this id, email or username already exists.",
            ))?;
            done += batch.len();
            written(done);
        }
        tx.commit().await.map_err(map)
    }
}
