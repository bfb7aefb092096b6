use crate::model::LogEvent;

use super::StoreResult;

#[async_trait::async_trait]
pub trait LogStore: Send + Sync {
    async fn append_log(&self, event: &LogEvent) -> StoreResult<()>;
    /// Newest first; optionally only one user's events.
    async fn list_logs(&self, user_id: Option<&str>, limit: u64) -> StoreResult<Vec<LogEvent>>;
}
