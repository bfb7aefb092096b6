//! Purging what has expired.

use castellan_core::store::{HousekeepingStore, PurgeBefore, Purged, StoreResult};

use super::SqlStore;
use crate::errors::map;

#[async_trait::async_trait]
impl HousekeepingStore for SqlStore {
    async fn purge(&self, before: PurgeBefore) -> StoreResult<Purged> {
        let pool = &self.source.pool;
        // One statement per table, each its own short write: housekeeping never holds
        // SQLite's single writer for long.
        let delete = |sql: &'static str, cutoff: i64| async move {
            sqlx::query(sql)
                .bind(cutoff)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
                .map_err(map)
        };
        // A refresh family lives while any of its tokens does: a used token is still the
        // proof of reuse that revokes its family.
        let refresh = "DELETE FROM refresh_tokens WHERE family_id IN (SELECT family_id FROM \
                       refresh_tokens GROUP BY family_id HAVING COUNT(*) = SUM(CASE WHEN \
                       family_expires_at < $1 OR idle_expires_at < $1 THEN 1 ELSE 0 END))";
        Ok(Purged {
            sessions: delete("DELETE FROM sessions WHERE expires_at < $1", before.expired).await?,
            authorization_codes: delete(
                "DELETE FROM authorization_codes WHERE expires_at < $1",
                before.expired,
            )
            .await?,
            device_codes: delete(
                "DELETE FROM device_codes WHERE expires_at < $1",
                before.expired,
            )
            .await?,
            refresh_tokens: delete(refresh, before.expired).await?,
            tickets: delete("DELETE FROM tickets WHERE expires_at < $1", before.expired).await?,
            outbox: delete("DELETE FROM outbox WHERE created_at < $1", before.outbox).await?,
            login_failures: delete(
                "DELETE FROM login_failures WHERE last_failed_at < $1",
                before.login_failures,
            )
            .await?,
            logs: match before.logs {
                Some(cutoff) => delete("DELETE FROM logs WHERE date < $1", cutoff).await?,
                None => 0,
            },
        })
    }
}
