//! Users' second factors, remembered browsers and tenant settings by name.

use castellan_core::model::{Authenticator, AuthenticatorKind, Named};
use castellan_core::store::{AuthenticatorStore, FactorAttempt, StoreError, StoreResult};
use serde_json::Value;

use super::handle::{Handle, Source};
use crate::errors::{from_json, json_text, map};

const COLUMNS: &str = "id, user_id, kind, name, secret, email, confirmed, created_at, \
     last_auth_at, last_step, failures, locked_until, challenge, challenge_expires_at";

/// User ids per `IN (...)` of a batch lookup.
const USERS_PER_LOOKUP: usize = 100;

#[derive(sqlx::FromRow)]
struct AuthenticatorRow {
    id: String,
    user_id: String,
    kind: String,
    name: Option<String>,
    secret: Option<String>,
    email: Option<String>,
    confirmed: bool,
    created_at: i64,
    last_auth_at: Option<i64>,
    last_step: Option<i64>,
    failures: i64,
    locked_until: Option<i64>,
    challenge: Option<String>,
    challenge_expires_at: Option<i64>,
}

impl TryFrom<AuthenticatorRow> for Authenticator {
    type Error = StoreError;

    fn try_from(row: AuthenticatorRow) -> StoreResult<Authenticator> {
        let kind = AuthenticatorKind::parse(&row.kind).ok_or_else(|| {
            StoreError::Other(format!("authenticators.kind: unknown '{}'", row.kind))
        })?;
        Ok(Authenticator {
            id: row.id,
            user_id: row.user_id,
            kind,
            name: row.name,
            secret: row.secret,
            email: row.email,
            confirmed: row.confirmed,
            created_at: row.created_at,
            last_auth_at: row.last_auth_at,
            last_step: row.last_step,
            failures: row.failures,
            locked_until: row.locked_until,
            challenge: row.challenge,
            challenge_expires_at: row.challenge_expires_at,
        })
    }
}

#[async_trait::async_trait]
impl<S: Source> AuthenticatorStore for Handle<S> {
    async fn create_authenticator(&self, a: &Authenticator) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO authenticators ({COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        )))
        .bind(&a.id)
        .bind(&a.user_id)
        .bind(a.kind.name())
        .bind(&a.name)
        .bind(&a.secret)
        .bind(&a.email)
        .bind(a.confirmed)
        .bind(a.created_at)
        .bind(a.last_auth_at)
        .bind(a.last_step)
        .bind(a.failures)
        .bind(a.locked_until)
        .bind(&a.challenge)
        .bind(a.challenge_expires_at)
        .execute(&mut *conn)
        .await
        .map_err(map)?;
        Ok(())
    }

    async fn list_authenticators(&self, user_id: &str) -> StoreResult<Vec<Authenticator>> {
        let mut conn = self.hold().await?;
        let rows = sqlx::query_as::<_, AuthenticatorRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM authenticators WHERE user_id = $1 ORDER BY created_at, id"
        )))
        .bind(user_id)
        .fetch_all(&mut *conn)
        .await
        .map_err(map)?;
        rows.into_iter().map(Authenticator::try_from).collect()
    }

    async fn list_users_authenticators(
        &self,
        user_ids: &[String],
    ) -> StoreResult<Vec<Authenticator>> {
        let mut conn = self.hold().await?;
        let mut found = Vec::new();
        // A bounded number of parameters per statement, whatever the page size.
        for chunk in user_ids.chunks(USERS_PER_LOOKUP) {
            let placeholders = (1..=chunk.len())
                .map(|n| format!("${n}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT {COLUMNS} FROM authenticators WHERE user_id IN ({placeholders}) \
                 ORDER BY user_id, created_at, id"
            );
            let mut query = sqlx::query_as::<_, AuthenticatorRow>(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(id);
            }
            let rows = query.fetch_all(&mut *conn).await.map_err(map)?;
            for row in rows {
                found.push(Authenticator::try_from(row)?);
            }
        }
        Ok(found)
    }

    async fn find_authenticator(
        &self,
        user_id: &str,
        id: &str,
    ) -> StoreResult<Option<Authenticator>> {
        let mut conn = self.hold().await?;
        let row = sqlx::query_as::<_, AuthenticatorRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM authenticators WHERE user_id = $1 AND id = $2"
        )))
        .bind(user_id)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map)?;
        row.map(Authenticator::try_from).transpose()
    }

    async fn update_authenticator(&self, a: &Authenticator) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        let done = sqlx::query(
            "UPDATE authenticators SET name = $3, secret = $4, email = $5, confirmed = $6, \
             challenge = $7, challenge_expires_at = $8 WHERE user_id = $1 AND id = $2",
        )
        .bind(&a.user_id)
        .bind(&a.id)
        .bind(&a.name)
        .bind(&a.secret)
        .bind(&a.email)
        .bind(a.confirmed)
        .bind(&a.challenge)
        .bind(a.challenge_expires_at)
        .execute(&mut *conn)
        .await
        .map_err(map)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn delete_authenticator(&self, user_id: &str, id: &str) -> StoreResult<bool> {
        let mut conn = self.hold().await?;
        let done = sqlx::query("DELETE FROM authenticators WHERE user_id = $1 AND id = $2")
            .bind(user_id)
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(map)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_authenticators(&self, user_id: &str) -> StoreResult<u64> {
        let mut conn = self.hold().await?;
        let done = sqlx::query("DELETE FROM authenticators WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *conn)
            .await
            .map_err(map)?;
        Ok(done.rows_affected())
    }

    async fn record_factor_attempt(
        &self,
        user_id: &str,
        id: &str,
        attempt: FactorAttempt,
        now: i64,
    ) -> StoreResult<bool> {
        let mut conn = self.hold().await?;
        let done = match attempt {
            // The step condition makes a code good once, even for two requests at once.
            FactorAttempt::Passed { step } => sqlx::query(
                "UPDATE authenticators SET failures = 0, locked_until = NULL, \
                 last_auth_at = $3, last_step = COALESCE($4, last_step) \
                 WHERE user_id = $1 AND id = $2 \
                 AND ($4 IS NULL OR last_step IS NULL OR last_step < $4)",
            )
            .bind(user_id)
            .bind(id)
            .bind(now)
            .bind(step),
            // The SET expressions read the row as it was.
            FactorAttempt::Failed {
                threshold,
                lock_until,
            } => sqlx::query(
                "UPDATE authenticators SET failures = failures + 1, \
                 locked_until = CASE WHEN failures + 1 >= $3 THEN $4 ELSE locked_until END \
                 WHERE user_id = $1 AND id = $2",
            )
            .bind(user_id)
            .bind(id)
            .bind(threshold)
            .bind(lock_until),
        }
        .execute(&mut *conn)
        .await
        .map_err(map)?;
        Ok(done.rows_affected() > 0)
    }

    async fn take_factor_challenge(
        &self,
        user_id: &str,
        id: &str,
        now: i64,
    ) -> StoreResult<Option<String>> {
        let mut conn = self.hold().await?;
        let pending: Option<Option<String>> = sqlx::query_scalar(
            "SELECT challenge FROM authenticators WHERE user_id = $1 AND id = $2 \
             AND challenge_expires_at > $3",
        )
        .bind(user_id)
        .bind(id)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map)?;
        let Some(challenge) = pending.flatten() else {
            return Ok(None);
        };
        // Cleared only if it is still the challenge read: of two requests at once, one
        // takes it.
        let done = sqlx::query(
            "UPDATE authenticators SET challenge = NULL, challenge_expires_at = NULL \
             WHERE user_id = $1 AND id = $2 AND challenge = $3",
        )
        .bind(user_id)
        .bind(id)
        .bind(&challenge)
        .execute(&mut *conn)
        .await
        .map_err(map)?;
        Ok((done.rows_affected() == 1).then_some(challenge))
    }

    async fn remember_not_before(&self, user_id: &str) -> StoreResult<Option<i64>> {
        let mut conn = self.hold().await?;
        sqlx::query_scalar("SELECT remember_not_before FROM mfa_user_state WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(map)
    }

    async fn forget_remembered_browsers(&self, user_id: &str, at: i64) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        sqlx::query(
            "INSERT INTO mfa_user_state (user_id, remember_not_before) VALUES ($1, $2) \
             ON CONFLICT (user_id) DO UPDATE SET remember_not_before = $2",
        )
        .bind(user_id)
        .bind(at)
        .execute(&mut *conn)
        .await
        .map_err(map)?;
        Ok(())
    }

    async fn find_tenant_setting(&self, name: &str) -> StoreResult<Option<Value>> {
        let mut conn = self.hold().await?;
        let text: Option<String> =
            sqlx::query_scalar("SELECT value FROM tenant_settings WHERE name = $1")
                .bind(name)
                .fetch_optional(&mut *conn)
                .await
                .map_err(map)?;
        text.map(|t| from_json("tenant_settings.value", &t))
            .transpose()
    }

    async fn save_tenant_setting(&self, name: &str, value: &Value) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        sqlx::query(
            "INSERT INTO tenant_settings (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = $2",
        )
        .bind(name)
        .bind(json_text(value))
        .execute(&mut *conn)
        .await
        .map_err(map)?;
        Ok(())
    }
}
