//! Refresh tokens, their rotation families and revocation.

use super::*;

#[async_trait::async_trait]
impl RefreshTokenStore for SqlStore {
    async fn create_refresh_token(&self, t: &RefreshToken) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, audience, scope, auth_time, \
             created_at, expires_at, used_at, revoked) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&t.token_hash)
        .bind(&t.family_id)
        .bind(&t.client_id)
        .bind(&t.user_id)
        .bind(&t.audience)
        .bind(json_text(&t.scope))
        .bind(t.auth_time)
        .bind(t.created_at)
        .bind(t.expires_at)
        .bind(t.used_at)
        .bind(t.revoked)
        .execute(&self.pool)
        .await
        .map_err(map)?;
        Ok(())
    }

    async fn find_refresh_token(&self, token_hash: &str) -> StoreResult<Option<RefreshToken>> {
        let row = sqlx::query(
            "SELECT token_hash, family_id, client_id, user_id, audience, scope, auth_time, created_at, expires_at, \
             used_at, revoked FROM refresh_tokens WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(map)?;
        row.as_ref().map(refresh_token_from_row).transpose()
    }

    async fn use_refresh_token(&self, token_hash: &str, now: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND revoked = FALSE",
        )
        .bind(token_hash)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(map)?;
        Ok(done.rows_affected() == 1)
    }

    async fn revoke_refresh_family(&self, family_id: &str) -> StoreResult<()> {
        sqlx::query("UPDATE refresh_tokens SET revoked = TRUE WHERE family_id = $1")
            .bind(family_id)
            .execute(&self.pool)
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
        // A family's newest member is its only one not used yet.
        const LIVE: &str =
            "user_id = $1 AND revoked = FALSE AND used_at IS NULL AND expires_at > $2";
        let (lim, off) = limit(page);
        let sql = format!(
            "SELECT token_hash, family_id, client_id, user_id, audience, scope, auth_time, created_at, expires_at, \
             used_at, revoked FROM refresh_tokens WHERE {LIVE} ORDER BY auth_time, family_id LIMIT $3 OFFSET $4"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .bind(now)
            .bind(lim)
            .bind(off)
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        let count = format!("SELECT COUNT(*) FROM refresh_tokens WHERE {LIVE}");
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count))
            .bind(user_id)
            .bind(now)
            .fetch_one(&self.pool)
            .await
            .map_err(map)?;
        Ok(Page {
            items: rows
                .iter()
                .map(refresh_token_from_row)
                .collect::<StoreResult<_>>()?,
            total: total as u64,
        })
    }

    async fn revoke_user_refresh_tokens(&self, user_id: &str, now: i64) -> StoreResult<u64> {
        let mut tx = self.write_tx().await?;
        let live: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM refresh_tokens WHERE user_id = $1 AND revoked = FALSE AND used_at IS NULL \
             AND expires_at > $2",
        )
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

pub(super) fn refresh_token_from_row(row: &DbRow) -> StoreResult<RefreshToken> {
    Ok(RefreshToken {
        token_hash: row.try_get("token_hash").map_err(map)?,
        family_id: row.try_get("family_id").map_err(map)?,
        client_id: row.try_get("client_id").map_err(map)?,
        user_id: row.try_get("user_id").map_err(map)?,
        audience: row.try_get("audience").map_err(map)?,
        scope: from_json("scope", &row.try_get::<String, _>("scope").map_err(map)?)?,
        auth_time: row.try_get("auth_time").map_err(map)?,
        created_at: row.try_get("created_at").map_err(map)?,
        expires_at: row.try_get("expires_at").map_err(map)?,
        used_at: row.try_get("used_at").map_err(map)?,
        revoked: row.try_get("revoked").map_err(map)?,
    })
}
