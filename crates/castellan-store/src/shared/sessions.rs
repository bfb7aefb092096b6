//! Single sign-on sessions.

use super::*;

#[async_trait::async_trait]
impl SessionStore for SqlStore {
    async fn create_session(&self, session: &Session) -> StoreResult<()> {
        sqlx::query("INSERT INTO sessions (id_hash, user_id, auth_time, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(&session.id_hash)
            .bind(&session.user_id)
            .bind(session.auth_time)
            .bind(session.expires_at)
            .execute(&self.pool)
            .await
            .map_err(map)?;
        Ok(())
    }

    async fn find_session(&self, id_hash: &str) -> StoreResult<Option<Session>> {
        let row = sqlx::query(
            "SELECT id_hash, user_id, auth_time, expires_at FROM sessions WHERE id_hash = $1",
        )
        .bind(id_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(map)?;
        row.as_ref().map(session_from_row).transpose()
    }

    async fn delete_session(&self, id_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await
            .map_err(map)?;
        Ok(())
    }

    async fn list_user_sessions(
        &self,
        user_id: &str,
        now: i64,
        page: PageRequest,
    ) -> StoreResult<Page<Session>> {
        let (lim, off) = limit(page);
        let rows = sqlx::query(
            "SELECT id_hash, user_id, auth_time, expires_at FROM sessions WHERE user_id = $1 AND expires_at > $2 \
             ORDER BY auth_time, id_hash LIMIT $3 OFFSET $4",
        )
        .bind(user_id)
        .bind(now)
        .bind(lim)
        .bind(off)
        .fetch_all(&self.pool)
        .await
        .map_err(map)?;
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sessions WHERE user_id = $1 AND expires_at > $2",
        )
        .bind(user_id)
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(map)?;
        Ok(Page {
            items: rows
                .iter()
                .map(session_from_row)
                .collect::<StoreResult<_>>()?,
            total: total as u64,
        })
    }

    async fn delete_user_sessions(&self, user_id: &str) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(map)?;
        Ok(done.rows_affected())
    }
}

pub(super) fn session_from_row(row: &DbRow) -> StoreResult<Session> {
    Ok(Session {
        id_hash: row.try_get("id_hash").map_err(map)?,
        user_id: row.try_get("user_id").map_err(map)?,
        auth_time: row.try_get("auth_time").map_err(map)?,
        expires_at: row.try_get("expires_at").map_err(map)?,
    })
}
