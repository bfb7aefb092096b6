//! The tenant log, read back and searched.

use super::*;

pub(super) fn log_from_row(row: &DbRow) -> StoreResult<LogEvent> {
    let get = |c: &str| row.try_get::<Option<String>, _>(c).map_err(map);
    Ok(LogEvent {
        log_id: row.try_get("log_id").map_err(map)?,
        date: row.try_get("date").map_err(map)?,
        event_type: row.try_get("type").map_err(map)?,
        description: row.try_get("description").map_err(map)?,
        client_id: get("client_id")?,
        client_name: get("client_name")?,
        connection: get("connection")?,
        user_id: get("user_id")?,
        user_name: get("user_name")?,
        ip: get("ip")?,
        user_agent: get("user_agent")?,
        details: from_json(
            "details",
            &row.try_get::<String, _>("details").map_err(map)?,
        )?,
    })
}

#[async_trait::async_trait]
impl LogStore for SqlStore {
    /// Queued; written within moments by the log writer (see `LogCommand`). A full queue
    /// (the store has not taken writes for a while) drops the event rather than hold up
    /// the request that caused it; `castellan_log_events_dropped_total` counts them.
    async fn append_log(&self, e: &LogEvent) -> StoreResult<()> {
        use tokio::sync::mpsc::error::TrySendError;
        match self.logs.try_send(LogCommand::Append(Box::new(e.clone()))) {
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
        let rows = sqlx::query(
            "SELECT log_id, date, type, description, client_id, client_name, connection, user_id, user_name, ip, \
             user_agent, details FROM logs WHERE ($1 IS NULL OR user_id = $1) ORDER BY log_id DESC LIMIT $2",
        )
        .bind(user_id)
        .bind(limit.min(i64::MAX as u64) as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(map)?;
        rows.iter().map(log_from_row).collect()
    }

    async fn query_logs(&self, q: &LogQuery, page: PageRequest) -> StoreResult<Page<LogEvent>> {
        self.flush_logs().await;
        let mut w = Where::new();
        let condition = match &q.filter {
            Some(filter) => w.filter(filter, &|field, _| log_column(*field).to_string()),
            None => "TRUE".to_string(),
        };
        let count = format!("SELECT COUNT(*) FROM logs WHERE {condition}");
        let total: i64 = w
            .bind_to(sqlx::query(sqlx::AssertSqlSafe(count)))
            .fetch_one(&self.pool)
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
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        Ok(Page {
            items: rows.iter().map(log_from_row).collect::<StoreResult<_>>()?,
            total: total as u64,
        })
    }

    async fn find_log(&self, log_id: &str) -> StoreResult<Option<LogEvent>> {
        self.flush_logs().await;
        let sql = format!("SELECT {LOG_COLUMNS} FROM logs WHERE log_id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(log_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?
            .as_ref()
            .map(log_from_row)
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
