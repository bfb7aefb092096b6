//! Authorization codes: issued, redeemed once, replays noticed.

use castellan_core::model::AuthorizationCode;
use castellan_core::store::{AuthorizationCodeStore, CodeRedemption, StoreError, StoreResult};

use super::handle::{Handle, Source};
use crate::errors::{from_json, json_text, map};

/// An `authorization_codes` row as stored; the scope is JSON text.
#[derive(sqlx::FromRow)]
struct AuthorizationCodeRow {
    code_hash: String,
    client_id: String,
    user_id: String,
    redirect_uri: String,
    scope: String,
    audience: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    auth_time: i64,
    expires_at: i64,
    scripted: Option<String>,
}

impl TryFrom<AuthorizationCodeRow> for AuthorizationCode {
    type Error = StoreError;

    fn try_from(row: AuthorizationCodeRow) -> StoreResult<AuthorizationCode> {
        Ok(AuthorizationCode {
            code_hash: row.code_hash,
            client_id: row.client_id,
            user_id: row.user_id,
            redirect_uri: row.redirect_uri,
            scope: from_json("scope", &row.scope)?,
            audience: row.audience,
            nonce: row.nonce,
            code_challenge: row.code_challenge,
            auth_time: row.auth_time,
            expires_at: row.expires_at,
            scripted: row.scripted,
        })
    }
}

#[async_trait::async_trait]
impl<S: Source> AuthorizationCodeStore for Handle<S> {
    async fn create_authorization_code(&self, c: &AuthorizationCode) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        sqlx::query(
            "INSERT INTO authorization_codes (code_hash, client_id, user_id, redirect_uri, scope, audience, nonce, \
             code_challenge, auth_time, expires_at, scripted) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
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
        .bind(&c.scripted)
        .execute(&mut *conn)
        .await
        .map_err(map)?;
        Ok(())
    }

    async fn take_authorization_code(
        &self,
        code_hash: &str,
    ) -> StoreResult<Option<AuthorizationCode>> {
        let mut conn = self.hold().await?;
        let row = sqlx::query_as::<_, AuthorizationCodeRow>(
            "DELETE FROM authorization_codes WHERE code_hash = $1 AND redeemed_at IS NULL RETURNING code_hash, \
             client_id, user_id, redirect_uri, scope, audience, nonce, code_challenge, auth_time, expires_at, \
             scripted",
        )
        .bind(code_hash)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map)?;
        row.map(AuthorizationCode::try_from).transpose()
    }

    async fn redeem_authorization_code(
        &self,
        code_hash: &str,
        refresh_family: &str,
        now: i64,
    ) -> StoreResult<CodeRedemption> {
        let mut conn = self.hold().await?;
        // Redeemed codes are kept until they expire; codes live a minute, so clearing the
        // expired ones at each redemption keeps the table small.
        sqlx::query("DELETE FROM authorization_codes WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *conn)
            .await
            .map_err(map)?;
        let row = sqlx::query_as::<_, AuthorizationCodeRow>(
            "UPDATE authorization_codes SET redeemed_at = $2, refresh_family = $3 \
             WHERE code_hash = $1 AND redeemed_at IS NULL RETURNING code_hash, client_id, user_id, redirect_uri, \
             scope, audience, nonce, code_challenge, auth_time, expires_at, scripted",
        )
        .bind(code_hash)
        .bind(now)
        .bind(refresh_family)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map)?;
        if let Some(row) = row {
            return Ok(CodeRedemption::Redeemed(row.try_into()?));
        }
        let before: Option<Option<String>> = sqlx::query_scalar(
            "UPDATE authorization_codes SET replayed_at = $2 WHERE code_hash = $1 RETURNING refresh_family",
        )
        .bind(code_hash)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map)?;
        Ok(match before {
            Some(refresh_family) => CodeRedemption::Replayed { refresh_family },
            None => CodeRedemption::Unknown,
        })
    }

    async fn authorization_code_replayed(&self, code_hash: &str) -> StoreResult<bool> {
        let mut conn = self.hold().await?;
        let replayed: Option<bool> = sqlx::query_scalar(
            "SELECT replayed_at IS NOT NULL FROM authorization_codes WHERE code_hash = $1",
        )
        .bind(code_hash)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map)?;
        Ok(replayed.unwrap_or(false))
    }
}
