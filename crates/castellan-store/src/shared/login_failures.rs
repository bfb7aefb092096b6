//! Failed log-ins counted per user and address, and the blocks they lead to.

use castellan_core::store::{LoginFailureStore, StoreResult};

use super::handle::{Handle, Source};
use crate::errors::map;

#[async_trait::async_trait]
impl<S: Source> LoginFailureStore for Handle<S> {
    async fn is_login_blocked(
        &self,
        user_id: &str,
        ip: &str,
        blocked_since: i64,
    ) -> StoreResult<bool> {
        let mut conn = self.hold().await?;
        let blocked: Option<Option<i64>> = sqlx::query_scalar(
            "SELECT blocked_at FROM login_failures WHERE user_id = $1 AND ip = $2",
        )
        .bind(user_id)
        .bind(ip)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map)?;
        Ok(blocked.flatten().is_some_and(|at| at >= blocked_since))
    }

    async fn count_login_blocks(&self, user_id: &str, blocked_since: i64) -> StoreResult<i64> {
        let mut conn = self.hold().await?;
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM login_failures WHERE user_id = $1 AND blocked_at >= $2",
        )
        .bind(user_id)
        .bind(blocked_since)
        .fetch_one(&mut *conn)
        .await
        .map_err(map)
    }

    async fn list_login_blocks(
        &self,
        user_id: &str,
        blocked_since: i64,
    ) -> StoreResult<Vec<String>> {
        let mut conn = self.hold().await?;
        sqlx::query_scalar(
            "SELECT ip FROM login_failures WHERE user_id = $1 AND blocked_at >= $2 \
             ORDER BY blocked_at, ip",
        )
        .bind(user_id)
        .bind(blocked_since)
        .fetch_all(&mut *conn)
        .await
        .map_err(map)
    }

    async fn record_login_failure(
        &self,
        user_id: &str,
        ip: &str,
        threshold: i64,
        now: i64,
        blocked_since: i64,
    ) -> StoreResult<bool> {
        let mut conn = self.hold().await?;
        // One statement, so concurrent failures all count. The SET expressions read the
        // row as it was; a block older than `blocked_since` has run out and starts over.
        let blocked_at: Option<i64> = sqlx::query_scalar(
            "INSERT INTO login_failures (user_id, ip, failures, blocked_at, last_failed_at) \
             VALUES ($1, $2, 1, CASE WHEN $3 <= 1 THEN $4 END, $4) \
             ON CONFLICT (user_id, ip) DO UPDATE SET \
             last_failed_at = $4, \
             failures = CASE WHEN login_failures.blocked_at < $5 THEN 1 \
                             ELSE login_failures.failures + 1 END, \
             blocked_at = CASE WHEN login_failures.blocked_at < $5 \
                                    THEN CASE WHEN $3 <= 1 THEN $4 END \
                               WHEN login_failures.failures + 1 >= $3 \
                                    THEN COALESCE(login_failures.blocked_at, $4) END \
             RETURNING blocked_at",
        )
        .bind(user_id)
        .bind(ip)
        .bind(threshold)
        .bind(now)
        .bind(blocked_since)
        .fetch_one(&mut *conn)
        .await
        .map_err(map)?;
        Ok(blocked_at.is_some())
    }

    async fn clear_login_failures(&self, user_id: &str, ip: &str) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        sqlx::query(
            "DELETE FROM login_failures WHERE user_id = $1 AND ip = $2 AND blocked_at IS NULL",
        )
        .bind(user_id)
        .bind(ip)
        .execute(&mut *conn)
        .await
        .map_err(map)?;
        Ok(())
    }

    async fn unblock_user_logins(&self, user_id: &str) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        sqlx::query("DELETE FROM login_failures WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *conn)
            .await
            .map_err(map)?;
        Ok(())
    }
}
