//! Single sign-on sessions.

use castellan_core::model::{AuthMethod, LoginRedirect, Session};
use castellan_core::paging::{Page, PageRequest};
use castellan_core::store::{SessionStore, StoreError, StoreResult};

use super::handle::{Handle, Source};
use super::query::{each, limit};
use crate::errors::{from_json, json_text, map};

#[derive(sqlx::FromRow)]
struct SessionRow {
    id_hash: String,
    user_id: String,
    auth_time: i64,
    expires_at: i64,
    methods: String,
}

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;

    fn try_from(row: SessionRow) -> StoreResult<Session> {
        Ok(Session {
            id_hash: row.id_hash,
            user_id: row.user_id,
            auth_time: row.auth_time,
            expires_at: row.expires_at,
            methods: from_json("sessions.methods", &row.methods)?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct LoginRedirectRow {
    state_hash: String,
    browser_hash: String,
    user_id: String,
    transaction_data: String,
    expires_at: i64,
}

#[async_trait::async_trait]
impl<S: Source> SessionStore for Handle<S> {
    async fn create_login_redirect(&self, r: &LoginRedirect, now: i64) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        // Suspended log-ins are few and short-lived: the expired go as new ones come.
        sqlx::query("DELETE FROM login_redirects WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *conn)
            .await
            .map_err(map)?;
        sqlx::query(
            "INSERT INTO login_redirects (state_hash, browser_hash, user_id, transaction_data, \
             expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&r.state_hash)
        .bind(&r.browser_hash)
        .bind(&r.user_id)
        .bind(&r.transaction)
        .bind(r.expires_at)
        .execute(&mut *conn)
        .await
        .map_err(map)?;
        Ok(())
    }

    async fn take_login_redirect(
        &self,
        state_hash: &str,
        browser_hash: &str,
        now: i64,
    ) -> StoreResult<Option<LoginRedirect>> {
        let mut conn = self.hold().await?;
        let row = sqlx::query_as::<_, LoginRedirectRow>(
            "DELETE FROM login_redirects WHERE state_hash = $1 AND browser_hash = $2 \
             AND expires_at > $3 RETURNING state_hash, browser_hash, user_id, transaction_data, \
             expires_at",
        )
        .bind(state_hash)
        .bind(browser_hash)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map)?;
        Ok(row.map(|r| LoginRedirect {
            state_hash: r.state_hash,
            browser_hash: r.browser_hash,
            user_id: r.user_id,
            transaction: r.transaction_data,
            expires_at: r.expires_at,
        }))
    }

    async fn create_session(&self, session: &Session) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        sqlx::query("INSERT INTO sessions (id_hash, user_id, auth_time, expires_at, methods) VALUES ($1, $2, $3, $4, $5)")
            .bind(&session.id_hash)
            .bind(&session.user_id)
            .bind(session.auth_time)
            .bind(session.expires_at)
            .bind(json_text(&session.methods))
            .execute(&mut *conn)
            .await
            .map_err(map)?;
        Ok(())
    }

    async fn find_session(&self, id_hash: &str) -> StoreResult<Option<Session>> {
        let mut conn = self.hold().await?;
        let row = sqlx::query_as::<_, SessionRow>(
            "SELECT id_hash, user_id, auth_time, expires_at, methods FROM sessions WHERE id_hash = $1",
        )
        .bind(id_hash)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map)?;
        row.map(Session::try_from).transpose()
    }

    async fn add_session_method(&self, id_hash: &str, method: &AuthMethod) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        let methods: Option<String> =
            sqlx::query_scalar("SELECT methods FROM sessions WHERE id_hash = $1")
                .bind(id_hash)
                .fetch_optional(&mut *conn)
                .await
                .map_err(map)?;
        let Some(methods) = methods else {
            return Err(StoreError::NotFound);
        };
        let mut methods: Vec<AuthMethod> = from_json("sessions.methods", &methods)?;
        // One entry per method, with its latest time, as Auth0 lists them.
        methods.retain(|m| m.name != method.name);
        methods.push(method.clone());
        sqlx::query("UPDATE sessions SET methods = $2 WHERE id_hash = $1")
            .bind(id_hash)
            .bind(json_text(&methods))
            .execute(&mut *conn)
            .await
            .map_err(map)?;
        Ok(())
    }

    async fn delete_session(&self, id_hash: &str) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&mut *conn)
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
        let mut conn = self.hold().await?;
        let (lim, off) = limit(page);
        let rows = sqlx::query_as::<_, SessionRow>(
            "SELECT id_hash, user_id, auth_time, expires_at, methods FROM sessions WHERE user_id = $1 AND expires_at > $2 \
             ORDER BY auth_time, id_hash LIMIT $3 OFFSET $4",
        )
        .bind(user_id)
        .bind(now)
        .bind(lim)
        .bind(off)
        .fetch_all(&mut *conn)
        .await
        .map_err(map)?;
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sessions WHERE user_id = $1 AND expires_at > $2",
        )
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

    async fn find_consent(
        &self,
        user_id: &str,
        client_id: &str,
        audience: &str,
    ) -> StoreResult<Option<Vec<String>>> {
        let mut conn = self.hold().await?;
        let scope: Option<String> = sqlx::query_scalar(
            "SELECT scope FROM consents WHERE user_id = $1 AND client_id = $2 AND audience = $3",
        )
        .bind(user_id)
        .bind(client_id)
        .bind(audience)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map)?;
        scope.map(|s| from_json("scope", &s)).transpose()
    }

    async fn save_consent(
        &self,
        user_id: &str,
        client_id: &str,
        audience: &str,
        scope: &[String],
        now: i64,
    ) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        sqlx::query(
            "INSERT INTO consents (user_id, client_id, audience, scope, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, client_id, audience) \
             DO UPDATE SET scope = excluded.scope, updated_at = excluded.updated_at",
        )
        .bind(user_id)
        .bind(client_id)
        .bind(audience)
        .bind(json_text(&scope))
        .bind(now)
        .execute(&mut *conn)
        .await
        .map_err(map)?;
        Ok(())
    }

    async fn delete_user_sessions(&self, user_id: &str) -> StoreResult<u64> {
        let mut conn = self.hold().await?;
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *conn)
            .await
            .map_err(map)?;
        Ok(done.rows_affected())
    }
}
