use crate::model::LogEvent;
use crate::paging::{Page, PageRequest};
use crate::search::{Condition, Filter};

use super::StoreResult;

/// What `/api/v2/logs` can search on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogField {
    /// Log ids grow with time, so a range on them is a checkpoint.
    LogId,
    Type,
    Description,
    UserId,
    UserName,
    ClientId,
    ClientName,
    Connection,
    Ip,
    Date,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogQuery {
    pub filter: Option<Filter<Condition<LogField>>>,
    /// Checkpoint reads go forward in time; everything else shows the newest first.
    pub oldest_first: bool,
}

#[async_trait::async_trait]
pub trait LogStore: Send + Sync {
    async fn append_log(&self, event: &LogEvent) -> StoreResult<()>;
    /// Newest first; optionally only one user's events.
    async fn list_logs(&self, user_id: Option<&str>, limit: u64) -> StoreResult<Vec<LogEvent>>;
    /// One page of the events `query` matches and how many match in all. Like every read
    /// of the log, it first waits for the events this node has queued.
    async fn query_logs(&self, query: &LogQuery, page: PageRequest) -> StoreResult<Page<LogEvent>>;
    async fn find_log(&self, log_id: &str) -> StoreResult<Option<LogEvent>>;
    /// Waits until the events appended so far are written. Appends are queued and written
    /// in batches, so a process about to exit (a command-line run) calls this last.
    async fn flush_log_queue(&self);
}
