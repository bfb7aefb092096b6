//! The queue that writes log events in batches.

use castellan_core::model::LogEvent;
use castellan_core::store::{StoreError, StoreResult};
use sqlx::Pool;

use super::handle::Conn;
use super::{BEGIN_WRITE, Db, SqlStore};
use crate::errors::{json_text, map};

/// Log events are written by one task in batches, one transaction each, so that a busy
/// token endpoint pays for a channel send per event instead of a database write.
pub(super) enum LogCommand {
    Append(Box<LogEvent>),
    /// Answered once everything queued before it is written.
    Flush(tokio::sync::oneshot::Sender<()>),
}

pub(super) const LOG_QUEUE: usize = 10_000;
const LOG_BATCH: usize = 500;
/// Pauses between tries of a batch the store did not take: doubling, and never longer
/// than the last, so that the log catches up within seconds of the store's return.
const LOG_RETRY_PAUSES: (std::time::Duration, std::time::Duration) = (
    std::time::Duration::from_millis(50),
    std::time::Duration::from_secs(5),
);
/// A batch refused for another cause than an unreachable or full store (a lock held too
/// long, an event the database will not take) is tried this often, then event by event.
const LOG_BATCH_TRIES: u32 = 3;
/// How long a reader of the log waits for this node's queued events; past it (the store
/// is not taking writes) it reads what is written.
const LOG_FLUSH_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

pub(super) async fn write_logs(pool: Pool<Db>, mut queue: tokio::sync::mpsc::Receiver<LogCommand>) {
    metrics::gauge!("castellan_log_queue_capacity").set(LOG_QUEUE as f64);
    metrics::counter!("castellan_log_events_dropped_total", "reason" => "queue_full").increment(0);
    metrics::counter!("castellan_log_events_dropped_total", "reason" => "refused").increment(0);
    metrics::counter!("castellan_log_batch_retries_total").increment(0);
    while let Some(first) = queue.recv().await {
        let mut batch = Vec::new();
        let mut flushes = Vec::new();
        let mut next = Some(first);
        while let Some(command) = next.take() {
            match command {
                LogCommand::Append(event) => batch.push(event),
                LogCommand::Flush(done) => flushes.push(done),
            }
            if batch.len() < LOG_BATCH {
                next = queue.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            write_batch(&pool, &batch, &queue).await;
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

/// Writes a batch, trying again while the store cannot take it: events are dropped only
/// when the database refuses them one by one.
async fn write_batch(
    pool: &Pool<Db>,
    batch: &[Box<LogEvent>],
    queue: &tokio::sync::mpsc::Receiver<LogCommand>,
) {
    let (mut pause, longest) = LOG_RETRY_PAUSES;
    let mut refusals = 0;
    loop {
        metrics::gauge!("castellan_log_queue_events").set((queue.len() + batch.len()) as f64);
        let cause = match insert_logs(pool, batch).await {
            Ok(()) => return,
            Err(StoreError::Unavailable(cause)) => cause,
            Err(other) => {
                refusals += 1;
                if refusals >= LOG_BATCH_TRIES {
                    return write_one_by_one(pool, batch).await;
                }
                other.to_string()
            }
        };
        tracing::warn!(cause, events = batch.len(), retry_in = ?pause, "could not write log events yet");
        metrics::counter!("castellan_log_batch_retries_total").increment(1);
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(longest);
    }
}

async fn write_one_by_one(pool: &Pool<Db>, batch: &[Box<LogEvent>]) {
    for event in batch {
        if let Err(e) = insert_logs(pool, std::slice::from_ref(event)).await {
            tracing::error!(cause = %e, log_id = event.log_id, "log event refused by the database; dropped");
            metrics::counter!("castellan_log_events_dropped_total", "reason" => "refused")
                .increment(1);
        }
    }
}

async fn insert_logs(pool: &Pool<Db>, batch: &[Box<LogEvent>]) -> StoreResult<()> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await.map_err(map)?;
    for e in batch {
        insert_log(&mut tx, e).await?;
    }
    tx.commit().await.map_err(map)
}

/// One event, in the caller's transaction: the queue's batches and `Transaction::record`.
pub(super) async fn insert_log(conn: &mut Conn, e: &LogEvent) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO logs (log_id, date, type, description, client_id, client_name, connection, user_id, \
         user_name, ip, user_agent, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&e.log_id)
    .bind(e.date)
    .bind(&e.event_type)
    .bind(&e.description)
    .bind(&e.client_id)
    .bind(&e.client_name)
    .bind(&e.connection)
    .bind(&e.user_id)
    .bind(&e.user_name)
    .bind(&e.ip)
    .bind(&e.user_agent)
    .bind(json_text(&e.details))
    .execute(&mut *conn)
    .await
    .map_err(map)?;
    Ok(())
}

impl SqlStore {
    /// What this node has queued is visible to its own readers, unless the store has not
    /// taken it within `LOG_FLUSH_WAIT`.
    pub(super) async fn flush_logs(&self) {
        let (done, written) = tokio::sync::oneshot::channel();
        let flushed = async {
            if self.source.logs.send(LogCommand::Flush(done)).await.is_ok() {
                let _ = written.await;
            }
        };
        if tokio::time::timeout(LOG_FLUSH_WAIT, flushed).await.is_err() {
            tracing::warn!("log events are still queued: the store has not taken them yet");
        }
    }
}
