//! Device codes (RFC 8628): issued, decided on the activation page, polled, exchanged once.

use castellan_core::model::{DeviceCode, DeviceDecision};
use castellan_core::store::{DeviceCodeStore, StoreError, StoreResult};

use super::handle::{Handle, Source};
use crate::errors::{from_json, json_text, map};

macro_rules! columns {
    () => {
        "device_code_hash, user_code_hash, client_id, scope, audience, interval_secs, created_at, \
         expires_at, last_polled_at, polled_too_fast, approved, user_id, auth_time"
    };
}

/// A `device_codes` row as stored; the scope is JSON text, the decision three columns.
#[derive(sqlx::FromRow)]
struct DeviceCodeRow {
    device_code_hash: String,
    user_code_hash: String,
    client_id: String,
    scope: String,
    audience: Option<String>,
    interval_secs: i64,
    created_at: i64,
    expires_at: i64,
    last_polled_at: Option<i64>,
    polled_too_fast: bool,
    approved: Option<bool>,
    user_id: Option<String>,
    auth_time: Option<i64>,
}

impl TryFrom<DeviceCodeRow> for DeviceCode {
    type Error = StoreError;

    fn try_from(row: DeviceCodeRow) -> StoreResult<DeviceCode> {
        let decision = match (row.approved, row.user_id, row.auth_time) {
            (None, ..) => DeviceDecision::Pending,
            (Some(false), ..) => DeviceDecision::Denied,
            (Some(true), Some(user_id), Some(auth_time)) => {
                DeviceDecision::Approved { user_id, auth_time }
            }
            // The user was deleted since (the row goes with them, but not inside a read).
            (Some(true), ..) => DeviceDecision::Denied,
        };
        Ok(DeviceCode {
            device_code_hash: row.device_code_hash,
            user_code_hash: row.user_code_hash,
            client_id: row.client_id,
            scope: from_json("scope", &row.scope)?,
            audience: row.audience,
            interval: row.interval_secs,
            created_at: row.created_at,
            expires_at: row.expires_at,
            last_polled_at: row.last_polled_at,
            polled_too_fast: row.polled_too_fast,
            decision,
        })
    }
}

#[async_trait::async_trait]
impl<S: Source> DeviceCodeStore for Handle<S> {
    async fn create_device_code(&self, c: &DeviceCode) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        // A user code of an expired device code may be drawn again: the old row goes first.
        sqlx::query("DELETE FROM device_codes WHERE user_code_hash = $1 AND expires_at <= $2")
            .bind(&c.user_code_hash)
            .bind(c.created_at)
            .execute(&mut *conn)
            .await
            .map_err(map)?;
        let (approved, user_id, auth_time) = match &c.decision {
            DeviceDecision::Pending => (None, None, None),
            DeviceDecision::Denied => (Some(false), None, None),
            DeviceDecision::Approved { user_id, auth_time } => {
                (Some(true), Some(user_id.as_str()), Some(*auth_time))
            }
        };
        sqlx::query(concat!(
            "INSERT INTO device_codes (",
            columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ))
        .bind(&c.device_code_hash)
        .bind(&c.user_code_hash)
        .bind(&c.client_id)
        .bind(json_text(&c.scope))
        .bind(&c.audience)
        .bind(c.interval)
        .bind(c.created_at)
        .bind(c.expires_at)
        .bind(c.last_polled_at)
        .bind(c.polled_too_fast)
        .bind(approved)
        .bind(user_id)
        .bind(auth_time)
        .execute(&mut *conn)
        .await
        .map_err(map)?;
        Ok(())
    }

    async fn find_device_code_by_user_code(
        &self,
        user_code_hash: &str,
    ) -> StoreResult<Option<DeviceCode>> {
        let mut conn = self.hold().await?;
        let row = sqlx::query_as::<_, DeviceCodeRow>(concat!(
            "SELECT ",
            columns!(),
            " FROM device_codes WHERE user_code_hash = $1"
        ))
        .bind(user_code_hash)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map)?;
        row.map(DeviceCode::try_from).transpose()
    }

    async fn decide_device_code(
        &self,
        user_code_hash: &str,
        decision: &DeviceDecision,
        now: i64,
    ) -> StoreResult<bool> {
        let (approved, user_id, auth_time) = match decision {
            DeviceDecision::Pending => return Ok(false),
            DeviceDecision::Denied => (false, None, None),
            DeviceDecision::Approved { user_id, auth_time } => {
                (true, Some(user_id.as_str()), Some(*auth_time))
            }
        };
        let mut conn = self.hold().await?;
        let done = sqlx::query(
            "UPDATE device_codes SET approved = $2, user_id = $3, auth_time = $4 \
             WHERE user_code_hash = $1 AND approved IS NULL AND expires_at > $5",
        )
        .bind(user_code_hash)
        .bind(approved)
        .bind(user_id)
        .bind(auth_time)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map_err(map)?;
        Ok(done.rows_affected() == 1)
    }

    async fn poll_device_code(
        &self,
        device_code_hash: &str,
        now: i64,
        slow_down_secs: i64,
    ) -> StoreResult<Option<DeviceCode>> {
        let mut conn = self.hold().await?;
        // Every right-hand side reads the row as it was before this poll.
        let row = sqlx::query_as::<_, DeviceCodeRow>(concat!(
            "UPDATE device_codes SET \
             polled_too_fast = (last_polled_at IS NOT NULL AND $2 - last_polled_at < interval_secs), \
             interval_secs = CASE WHEN last_polled_at IS NOT NULL AND $2 - last_polled_at < interval_secs \
             THEN interval_secs + $3 ELSE interval_secs END, \
             last_polled_at = $2 \
             WHERE device_code_hash = $1 RETURNING ",
            columns!()
        ))
        .bind(device_code_hash)
        .bind(now)
        .bind(slow_down_secs)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map)?;
        row.map(DeviceCode::try_from).transpose()
    }

    async fn take_approved_device_code(
        &self,
        device_code_hash: &str,
    ) -> StoreResult<Option<DeviceCode>> {
        let mut conn = self.hold().await?;
        let row = sqlx::query_as::<_, DeviceCodeRow>(concat!(
            "DELETE FROM device_codes WHERE device_code_hash = $1 AND approved = TRUE RETURNING ",
            columns!()
        ))
        .bind(device_code_hash)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map)?;
        row.map(DeviceCode::try_from).transpose()
    }
}
