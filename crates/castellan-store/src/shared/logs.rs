//! The tenant log, read back and searched.

use castellan_core::model::LogEvent;
use castellan_core::paging::{Page, PageRequest};
use castellan_core::store::{LogField, LogQuery, LogStore, StoreError, StoreResult};
use sqlx::Row;

use super::log_queue::LogCommand;
use super::query::{each, each_row, limit};
use super::{SqlStore, Where};
use crate::errors::{from_json, map};

/// A `logs` row as stored; the details are JSON text.
#[derive(sqlx::FromRow)]
struct LogRow {
    log_id: String,
    date: i64,
    #[sqlx(rename = "type")]
    event_type: String,
    description: String,
    client_id: Option<String>,
    client_name: Option<String>,
    connection: Option<String>,
    user_id: Option<String>,
    user_name: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    details: String,
}

impl TryFrom<LogRow> for LogEvent {
    type Error = StoreError;

    fn try_from(row: LogRow) -> StoreResult<LogEvent> {
        Ok(LogEvent {
            log_id: row.log_id,
            date: row.date,
            event_type: row.event_type,
            description: row.description,
            client_id: row.client_id,
            client_name: row.client_name,
            connection: row.connection,
            user_id: row.user_id,
            user_name: row.user_name,
            ip: row.ip,
            user_agent: row.user_agent,
            details: from_json("details", &row.details)?,
        })
    }
}

#[async_trait::async_trait]
impl LogStore for SqlStore {
    /// Queued; written within moments by the log writer (see `LogCommand`). A full queue
    /// (the store has not taken writes for a while) drops the event rather than hold up
    /// the request that caused it; `castellan_log_events_dropped_total` counts them.
    async fn append_log(&self, e: &LogEvent) -> StoreResult<()> {
        use tokio::sync::mpsc::error::TrySendError;
        match self
            .source
            .logs
            .try_send(LogCommand::Append(Box::new(e.clone())))
        {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => {
                tracing::warn!(log_id = e.log_id, "the log queue is full; event dropped");
                metrics::counter!("castellan_log_events_dropped_total", "reason" => "queue_full")
                    .increment(1);
                Ok(())
            }
            Err(TrySendError::Closed(_)) => {
                Err(StoreError::Unavailable("the log writer has stopped".into()))
            }
        }
    }

    async fn list_logs(&self, user_id: Option<&str>, limit: u64) -> StoreResult<Vec<LogEvent>> {
        self.flush_logs().await;
        let mut conn = self.hold().await?;
        let rows = sqlx::query_as::<_, LogRow>(
            "SELECT log_id, date, type, description, client_id, client_name, connection, user_id, user_name, ip, \
             user_agent, details FROM logs WHERE ($1 IS NULL OR user_id = $1) ORDER BY log_id DESC LIMIT $2",
        )
        .bind(user_id)
        .bind(limit.min(i64::MAX as u64) as i64)
        .fetch_all(&mut *conn)
        .await
        .map_err(map)?;
        each(rows)
    }

    async fn query_logs(&self, q: &LogQuery, page: PageRequest) -> StoreResult<Page<LogEvent>> {
        self.flush_logs().await;
        let mut conn = self.hold().await?;
        let mut w = Where::new();
        let condition = match &q.filter {
            Some(filter) => w.filter(filter, &|field, _| log_column(*field).to_string()),
            None => "TRUE".to_string(),
        };
        let count = format!("SELECT COUNT(*) FROM logs WHERE {condition}");
        let total: i64 = w
            .bind_to(sqlx::query(sqlx::AssertSqlSafe(count)))
            .fetch_one(&mut *conn)
            .await
            .map_err(map)?
            .try_get(0)
            .map_err(map)?;
        let (lim, off) = limit(page);
        let n = w.binds.len();
        let sql = format!(
            "SELECT {LOG_COLUMNS} FROM logs WHERE {condition} ORDER BY log_id {} LIMIT ${} OFFSET ${}",
            if q.oldest_first { "ASC" } else { "DESC" },
            n + 1,
            n + 2
        );
        let rows = w
            .bind_to(sqlx::query(sqlx::AssertSqlSafe(sql)))
            .bind(lim)
            .bind(off)
            .fetch_all(&mut *conn)
            .await
            .map_err(map)?;
        Ok(Page {
            items: each_row::<LogRow, _>(&rows)?,
            total: total as u64,
        })
    }

    async fn find_log(&self, log_id: &str) -> StoreResult<Option<LogEvent>> {
        self.flush_logs().await;
        let mut conn = self.hold().await?;
        let sql = format!("SELECT {LOG_COLUMNS} FROM logs WHERE log_id = $1");
        sqlx::query_as::<_, LogRow>(sqlx::AssertSqlSafe(sql))
            .bind(log_id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(map)?
            .map(LogEvent::try_from)
            .transpose()
    }

    async fn flush_log_queue(&self) {
        self.flush_logs().await;
    }
}

pub(super) const LOG_COLUMNS: &str = "log_id, date, type, description, client_id, client_name, connection, user_id, user_name, ip, user_agent, details";

pub(super) fn log_column(field: LogField) -> &'static str {
    match field {
        LogField::LogId => "log_id",
        LogField::Type => "type",
        LogField::Description => "LOWER(description)",
        LogField::UserId => "user_id",
        LogField::UserName => "LOWER(user_name)",
        LogField::ClientId => "client_id",
        LogField::ClientName => "LOWER(client_name)",
        LogField::Connection => "connection",
        LogField::Ip => "ip",
        LogField::Date => "date",
    }
}
