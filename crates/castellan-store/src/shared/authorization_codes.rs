//! Authorization codes: issued, redeemed once, replays noticed.

use super::*;

#[async_trait::async_trait]
impl AuthorizationCodeStore for SqlStore {
    async fn create_authorization_code(&self, c: &AuthorizationCode) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO authorization_codes (code_hash, client_id, user_id, redirect_uri, scope, audience, nonce, \
             code_challenge, auth_time, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&c.code_hash)
        .bind(&c.client_id)
        .bind(&c.user_id)
        .bind(&c.redirect_uri)
        .bind(json_text(&c.scope))
        .bind(&c.audience)
        .bind(&c.nonce)
        .bind(&c.code_challenge)
        .bind(c.auth_time)
        .bind(c.expires_at)
        .execute(&self.pool)
        .await
        .map_err(map)?;
        Ok(())
    }

    async fn take_authorization_code(
        &self,
        code_hash: &str,
    ) -> StoreResult<Option<AuthorizationCode>> {
        let row = sqlx::query(
            "DELETE FROM authorization_codes WHERE code_hash = $1 AND redeemed_at IS NULL RETURNING code_hash, \
             client_id, user_id, redirect_uri, scope, audience, nonce, code_challenge, auth_time, expires_at",
        )
        .bind(code_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(map)?;
        row.as_ref().map(authorization_code_from_row).transpose()
    }

    async fn redeem_authorization_code(
        &self,
        code_hash: &str,
        refresh_family: &str,
        now: i64,
    ) -> StoreResult<CodeRedemption> {
        // Redeemed codes are kept until they expire; codes live a minute, so clearing the
        // expired ones at each redemption keeps the table small.
        sqlx::query("DELETE FROM authorization_codes WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(map)?;
        let row = sqlx::query(
            "UPDATE authorization_codes SET redeemed_at = $2, refresh_family = $3 \
             WHERE code_hash = $1 AND redeemed_at IS NULL RETURNING code_hash, client_id, user_id, redirect_uri, \
             scope, audience, nonce, code_challenge, auth_time, expires_at",
        )
        .bind(code_hash)
        .bind(now)
        .bind(refresh_family)
        .fetch_optional(&self.pool)
        .await
        .map_err(map)?;
        if let Some(row) = row {
            return Ok(CodeRedemption::Redeemed(authorization_code_from_row(&row)?));
        }
        let before: Option<Option<String>> = sqlx::query_scalar(
            "UPDATE authorization_codes SET replayed_at = $2 WHERE code_hash = $1 RETURNING refresh_family",
        )
        .bind(code_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(map)?;
        Ok(match before {
            Some(refresh_family) => CodeRedemption::Replayed { refresh_family },
            None => CodeRedemption::Unknown,
        })
    }

    async fn authorization_code_replayed(&self, code_hash: &str) -> StoreResult<bool> {
        let replayed: Option<bool> = sqlx::query_scalar(
            "SELECT replayed_at IS NOT NULL FROM authorization_codes WHERE code_hash = $1",
        )
        .bind(code_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(map)?;
        Ok(replayed.unwrap_or(false))
    }
}

pub(super) fn authorization_code_from_row(row: &DbRow) -> StoreResult<AuthorizationCode> {
    let get = |c: &str| row.try_get::<Option<String>, _>(c).map_err(map);
    Ok(AuthorizationCode {
        code_hash: row.try_get("code_hash").map_err(map)?,
        client_id: row.try_get("client_id").map_err(map)?,
        user_id: row.try_get("user_id").map_err(map)?,
        redirect_uri: row.try_get("redirect_uri").map_err(map)?,
        scope: from_json("scope", &row.try_get::<String, _>("scope").map_err(map)?)?,
        audience: get("audience")?,
        nonce: get("nonce")?,
        code_challenge: get("code_challenge")?,
        auth_time: row.try_get("auth_time").map_err(map)?,
        expires_at: row.try_get("expires_at").map_err(map)?,
    })
}
