//! Refresh tokens, their rotation families and revocation.

use castellan_core::model::RefreshToken;
use castellan_core::paging::{Page, PageRequest};
use castellan_core::store::{RefreshTokenStore, StoreError, StoreResult};

use super::handle::{Handle, Source};
use super::query::{each, limit};
use crate::errors::{from_json, json_text, map};

const COLUMNS: &str = "token_hash, family_id, client_id, user_id, audience, scope, auth_time, created_at, \
     family_expires_at, idle_expires_at, rotating, used_at, revoked, mfa";

/// Neither end of the token is past `$2` (a null end is never).
const UNEXPIRED: &str = "(family_expires_at IS NULL OR family_expires_at > $2) \
     AND (idle_expires_at IS NULL OR idle_expires_at > $2)";

/// A `refresh_tokens` row as stored; the scope is JSON text.
#[derive(sqlx::FromRow)]
struct RefreshTokenRow {
    token_hash: String,
    family_id: String,
    client_id: String,
    user_id: String,
    audience: Option<String>,
    scope: String,
    auth_time: i64,
    created_at: i64,
    family_expires_at: Option<i64>,
    idle_expires_at: Option<i64>,
    rotating: bool,
    used_at: Option<i64>,
    revoked: bool,
    mfa: bool,
}

impl TryFrom<RefreshTokenRow> for RefreshToken {
    type Error = StoreError;

    fn try_from(row: RefreshTokenRow) -> StoreResult<RefreshToken> {
        Ok(RefreshToken {
            token_hash: row.token_hash,
            family_id: row.family_id,
            client_id: row.client_id,
            user_id: row.user_id,
            audience: row.audience,
            scope: from_json("scope", &row.scope)?,
            auth_time: row.auth_time,
            created_at: row.created_at,
            family_expires_at: row.family_expires_at,
            idle_expires_at: row.idle_expires_at,
            rotating: row.rotating,
            used_at: row.used_at,
            revoked: row.revoked,
            mfa: row.mfa,
        })
    }
}

#[async_trait::async_trait]
impl<S: Source> RefreshTokenStore for Handle<S> {
    async fn create_refresh_token(&self, t: &RefreshToken) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, audience, scope, auth_time, \
             created_at, family_expires_at, idle_expires_at, rotating, used_at, revoked, mfa) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(&t.token_hash)
        .bind(&t.family_id)
        .bind(&t.client_id)
        .bind(&t.user_id)
        .bind(&t.audience)
        .bind(json_text(&t.scope))
        .bind(t.auth_time)
        .bind(t.created_at)
        .bind(t.family_expires_at)
        .bind(t.idle_expires_at)
        .bind(t.rotating)
        .bind(t.used_at)
        .bind(t.revoked)
        .bind(t.mfa)
        .execute(&mut *conn)
        .await
        .map_err(map)?;
        Ok(())
    }

    async fn find_refresh_token(&self, token_hash: &str) -> StoreResult<Option<RefreshToken>> {
        let mut conn = self.hold().await?;
        let sql = format!("SELECT {COLUMNS} FROM refresh_tokens WHERE token_hash = $1");
        let row = sqlx::query_as::<_, RefreshTokenRow>(sqlx::AssertSqlSafe(sql))
            .bind(token_hash)
            .fetch_optional(&mut *conn)
            .await
            .map_err(map)?;
        row.map(RefreshToken::try_from).transpose()
    }

    async fn use_refresh_token(&self, token_hash: &str, now: i64) -> StoreResult<bool> {
        let mut conn = self.hold().await?;
        let done = sqlx::query(
            "UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND revoked = FALSE",
        )
        .bind(token_hash)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map_err(map)?;
        Ok(done.rows_affected() == 1)
    }

    async fn renew_refresh_token(
        &self,
        token_hash: &str,
        idle_expires_at: Option<i64>,
    ) -> StoreResult<bool> {
        let mut conn = self.hold().await?;
        let done = sqlx::query(
            "UPDATE refresh_tokens SET idle_expires_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND revoked = FALSE",
        )
        .bind(token_hash)
        .bind(idle_expires_at)
        .execute(&mut *conn)
        .await
        .map_err(map)?;
        Ok(done.rows_affected() == 1)
    }

    async fn revoke_refresh_family(&self, family_id: &str) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        sqlx::query("UPDATE refresh_tokens SET revoked = TRUE WHERE family_id = $1")
            .bind(family_id)
            .execute(&mut *conn)
            .await
            .map_err(map)?;
        Ok(())
    }

    async fn list_user_refresh_tokens(
        &self,
        user_id: &str,
        now: i64,
        page: PageRequest,
    ) -> StoreResult<Page<RefreshToken>> {
        let mut conn = self.hold().await?;
        // A family's newest member is its only one not used yet.
        let live = format!("user_id = $1 AND revoked = FALSE AND used_at IS NULL AND {UNEXPIRED}");
        let (lim, off) = limit(page);
        let sql = format!(
            "SELECT {COLUMNS} FROM refresh_tokens WHERE {live} ORDER BY auth_time, family_id LIMIT $3 OFFSET $4"
        );
        let rows = sqlx::query_as::<_, RefreshTokenRow>(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .bind(now)
            .bind(lim)
            .bind(off)
            .fetch_all(&mut *conn)
            .await
            .map_err(map)?;
        let count = format!("SELECT COUNT(*) FROM refresh_tokens WHERE {live}");
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count))
            .bind(user_id)
            .bind(now)
            .fetch_one(&mut *conn)
            .await
            .map_err(map)?;
        Ok(Page {
            items: each(rows)?,
            total: total as u64,
        })
    }

    async fn revoke_user_refresh_tokens(&self, user_id: &str, now: i64) -> StoreResult<u64> {
        let mut conn = self.hold().await?;
        let mut tx = conn.write().await?;
        let count = format!(
            "SELECT COUNT(*) FROM refresh_tokens WHERE user_id = $1 AND revoked = FALSE AND used_at IS NULL \
             AND {UNEXPIRED}"
        );
        let live: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count))
            .bind(user_id)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(map)?;
        sqlx::query(
            "UPDATE refresh_tokens SET revoked = TRUE WHERE user_id = $1 AND revoked = FALSE",
        )
        .bind(user_id)
        .execute(&mut *tx)
        .await
        .map_err(map)?;
        tx.commit().await.map_err(map)?;
        Ok(live as u64)
    }
}
