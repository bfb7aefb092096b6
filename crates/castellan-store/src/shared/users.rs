//! Users: records, passwords, log-ins and search.

use castellan_core::model::{Named, TicketKind, User};
use castellan_core::paging::{Page, PageRequest};
use castellan_core::store::{
    DefaultGrant, NewPassword, StoreError, StoreResult, UserField, UserQuery, UserStore,
};
use sqlx::Row;

use super::authorization::{apply_default_grant, apply_default_grant_once};
use super::handle::{Conn, Handle, Source};
use super::query::{delete_one, each_row, found, limit};
use super::{Where, json_text_at};
use crate::errors::{conflict_as, from_json, map, metadata_text};

/// A `users` row as stored (without the password hash, which is read on its own).
#[derive(sqlx::FromRow)]
pub(super) struct UserRow {
    user_id: String,
    connection: String,
    email: Option<String>,
    email_verified: bool,
    username: Option<String>,
    name: Option<String>,
    nickname: Option<String>,
    picture: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    app_metadata: String,
    user_metadata: String,
    created_at: i64,
    updated_at: i64,
    last_login: Option<i64>,
    last_ip: Option<String>,
    logins_count: i64,
    blocked: bool,
    last_password_reset: Option<i64>,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(row: UserRow) -> StoreResult<User> {
        Ok(User {
            user_id: row.user_id,
            connection: row.connection,
            email: row.email,
            email_verified: row.email_verified,
            username: row.username,
            name: row.name,
            nickname: row.nickname,
            picture: row.picture,
            given_name: row.given_name,
            family_name: row.family_name,
            app_metadata: from_json("app_metadata", &row.app_metadata)?,
            user_metadata: from_json("user_metadata", &row.user_metadata)?,
            created_at: row.created_at,
            updated_at: row.updated_at,
            last_login: row.last_login,
            last_ip: row.last_ip,
            logins_count: row.logins_count,
            blocked: row.blocked,
            last_password_reset: row.last_password_reset,
        })
    }
}

pub(super) const USER_COLUMNS: &str = "user_id, connection, email, email_verified, username, name, nickname, picture, \
     given_name, family_name, app_metadata, user_metadata, created_at, updated_at, last_login, last_ip, \
     logins_count, blocked, last_password_reset";

async fn find_user_where(
    conn: &mut Conn,
    condition: &'static str,
    a: &str,
    b: Option<&str>,
) -> StoreResult<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {condition}");
    let mut query = sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql)).bind(a.to_string());
    if let Some(b) = b {
        query = query.bind(b.to_string());
    }
    query
        .fetch_optional(&mut *conn)
        .await
        .map_err(map)?
        .map(User::try_from)
        .transpose()
}

#[async_trait::async_trait]
impl<S: Source> UserStore for Handle<S> {
    async fn create_user(
        &self,
        u: &User,
        password_hash: Option<&str>,
        defaults: Option<&DefaultGrant>,
    ) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        let mut tx = conn.write().await?;
        sqlx::query(
            "INSERT INTO users (user_id, connection, email, email_verified, username, username_lower, name, nickname, \
             picture, given_name, family_name, app_metadata, user_metadata, password_hash, created_at, updated_at, \
             last_login, last_ip, logins_count, blocked, last_password_reset) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
        )
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
        .bind(u.last_password_reset)
        .execute(&mut *tx)
        .await
        .map_err(conflict_as("The user already exists."))?;
        if let Some(grant) = defaults {
            apply_default_grant(&mut tx, &u.user_id, grant).await?;
        }
        tx.commit().await.map_err(map)
    }

    async fn find_user(&self, user_id: &str) -> StoreResult<Option<User>> {
        find_user_where(&mut *self.hold().await?, "user_id = $1", user_id, None).await
    }

    async fn find_user_by_email(&self, connection: &str, email: &str) -> StoreResult<Option<User>> {
        find_user_where(
            &mut *self.hold().await?,
            "connection = $1 AND email = $2",
            connection,
            Some(email),
        )
        .await
    }

    async fn find_user_by_username(
        &self,
        connection: &str,
        username: &str,
    ) -> StoreResult<Option<User>> {
        find_user_where(
            &mut *self.hold().await?,
            "connection = $1 AND username_lower = $2",
            connection,
            Some(&username.to_lowercase()),
        )
        .await
    }

    async fn find_password_hash(&self, user_id: &str) -> StoreResult<Option<String>> {
        let mut conn = self.hold().await?;
        let hash: Option<Option<String>> =
            sqlx::query_scalar("SELECT password_hash FROM users WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(&mut *conn)
                .await
                .map_err(map)?;
        Ok(hash.flatten())
    }

    async fn set_password_hash(&self, user_id: &str, hash: &str, now: i64) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        let done =
            sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE user_id = $1")
                .bind(user_id)
                .bind(hash)
                .bind(now)
                .execute(&mut *conn)
                .await
                .map_err(map)?;
        found(done.rows_affected())
    }

    async fn reset_password(
        &self,
        user_id: &str,
        password: &NewPassword,
        now: i64,
    ) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        let mut tx = conn.write().await?;
        let done = sqlx::query(
            "UPDATE users SET password_hash = $2, last_password_reset = $3, updated_at = $3 WHERE user_id = $1",
        )
        .bind(user_id)
        .bind(&password.hash)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(map)?;
        found(done.rows_affected())?;
        end_what_the_old_password_opened(&mut tx, user_id, password).await?;
        tx.commit().await.map_err(map)
    }

    async fn set_email_verified(
        &self,
        user_id: &str,
        now: i64,
        defaults: Option<&DefaultGrant>,
    ) -> StoreResult<bool> {
        let mut conn = self.hold().await?;
        let mut tx = conn.write().await?;
        let done = sqlx::query(
            "UPDATE users SET email_verified = TRUE, updated_at = $2 WHERE user_id = $1",
        )
        .bind(user_id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(map)?;
        found(done.rows_affected())?;
        let applied = match defaults {
            Some(grant) => apply_default_grant_once(&mut tx, user_id, grant).await?,
            None => false,
        };
        tx.commit().await.map_err(map)?;
        Ok(applied)
    }

    async fn record_login(
        &self,
        user_id: &str,
        ip: &str,
        now: i64,
        defaults: Option<&DefaultGrant>,
    ) -> StoreResult<(User, bool)> {
        let mut conn = self.hold().await?;
        let mut tx = conn.write().await?;
        // The row lock this update takes orders concurrent first log-ins of one user: only
        // the one that moves the count from 0 to 1 sees `logins_count = 1`.
        let sql = format!(
            "UPDATE users SET logins_count = logins_count + 1, last_login = $2, last_ip = $3, updated_at = $2 \
             WHERE user_id = $1 RETURNING {USER_COLUMNS}"
        );
        let user = sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .bind(now)
            .bind(ip)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map)?
            .map(User::try_from)
            .transpose()?
            .ok_or(StoreError::NotFound)?;
        let applied = match defaults {
            Some(grant) if user.logins_count == 1 => {
                apply_default_grant_once(&mut tx, user_id, grant).await?
            }
            _ => false,
        };
        tx.commit().await.map_err(map)?;
        Ok((user, applied))
    }

    async fn search_users(&self, q: &UserQuery, page: PageRequest) -> StoreResult<Page<User>> {
        let mut conn = self.hold().await?;
        let mut w = Where::new();
        let condition = match &q.filter {
            Some(filter) => w.filter(filter, &user_column),
            None => "TRUE".to_string(),
        };
        let order = match &q.sort {
            Some((field, ascending)) => {
                let col = user_column(field, &mut Where::new());
                // NULLs last on both backends (they disagree on the default).
                format!(
                    "({col} IS NULL), {col} {}, user_id",
                    if *ascending { "ASC" } else { "DESC" }
                )
            }
            None => "created_at, user_id".to_string(),
        };
        let count = format!("SELECT COUNT(*) FROM users WHERE {condition}");
        let total: i64 = w
            .bind_to(sqlx::query(sqlx::AssertSqlSafe(count)))
            .fetch_one(&mut *conn)
            .await
            .map_err(map)?
            .try_get(0)
            .map_err(map)?;
        let (lim, off) = limit(page);
        let n = w.binds.len();
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE {condition} ORDER BY {order} LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let rows = w
            .bind_to(sqlx::query(sqlx::AssertSqlSafe(sql)))
            .bind(lim)
            .bind(off)
            .fetch_all(&mut *conn)
            .await
            .map_err(map)?;
        Ok(Page {
            items: each_row::<UserRow, _>(&rows)?,
            total: total as u64,
        })
    }

    async fn update_user(&self, u: &User, password: Option<&NewPassword>) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        let mut tx = conn.write().await?;
        let done = sqlx::query(
            "UPDATE users SET email = $2, email_verified = $3, username = $4, username_lower = $5, name = $6, \
             nickname = $7, picture = $8, given_name = $9, family_name = $10, app_metadata = $11, user_metadata = $12, \
             blocked = $13, updated_at = $14, last_password_reset = $15, password_hash = COALESCE($16, password_hash) \
             WHERE user_id = $1",
        )
        .bind(&u.user_id)
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
        .bind(u.blocked)
        .bind(u.updated_at)
        .bind(u.last_password_reset)
        .bind(password.map(|p| p.hash.as_str()))
        .execute(&mut *tx)
        .await
        .map_err(conflict_as("The specified new email or username already exists"))?;
        found(done.rows_affected())?;
        if let Some(password) = password {
            end_what_the_old_password_opened(&mut tx, &u.user_id, password).await?;
        }
        tx.commit().await.map_err(map)
    }

    async fn delete_user(&self, user_id: &str) -> StoreResult<bool> {
        // Roles, groups, permissions, sessions, tokens and tickets go with it (ON DELETE CASCADE).
        delete_one(
            &mut *self.hold().await?,
            "DELETE FROM users WHERE user_id = $1",
            user_id,
        )
        .await
    }
}

/// What a new password ends, in the transaction that writes it (see `NewPassword`): the
/// user's outstanding reset links always; their refresh tokens, sessions and unredeemed
/// authorization codes unless the server keeps sessions across password changes.
pub(super) async fn end_what_the_old_password_opened(
    tx: &mut Conn,
    user_id: &str,
    password: &NewPassword,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM tickets WHERE user_id = $1 AND kind = $2")
        .bind(user_id)
        .bind(TicketKind::ResetPassword.name())
        .execute(&mut *tx)
        .await
        .map_err(map)?;
    if !password.end_sessions {
        return Ok(());
    }
    for sql in [
        "UPDATE refresh_tokens SET revoked = TRUE WHERE user_id = $1 AND revoked = FALSE",
        "DELETE FROM sessions WHERE user_id = $1",
        "DELETE FROM authorization_codes WHERE user_id = $1",
        "DELETE FROM device_codes WHERE user_id = $1",
    ] {
        sqlx::query(sql)
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
    }
    Ok(())
}

/// The SQL expression of a searchable user field. Names are compared lower-cased; email
/// and username are stored lower-cased already.
pub(super) fn user_column(field: &UserField, w: &mut Where) -> String {
    match field {
        UserField::UserId => "user_id".into(),
        UserField::Email => "email".into(),
        UserField::Username => "username_lower".into(),
        UserField::Name => "LOWER(name)".into(),
        UserField::Nickname => "LOWER(nickname)".into(),
        UserField::GivenName => "LOWER(given_name)".into(),
        UserField::FamilyName => "LOWER(family_name)".into(),
        UserField::Connection => "connection".into(),
        UserField::EmailVerified => "email_verified".into(),
        UserField::Blocked => "blocked".into(),
        UserField::LoginsCount => "logins_count".into(),
        UserField::CreatedAt => "created_at".into(),
        UserField::UpdatedAt => "updated_at".into(),
        UserField::LastLogin => "last_login".into(),
        UserField::LastIp => "last_ip".into(),
        UserField::AppMetadata(path) => json_text_at("app_metadata", path, w),
        UserField::UserMetadata(path) => json_text_at("user_metadata", path, w),
    }
}
