use crate::model::Connection;
use crate::paging::{Page, PageRequest};

use super::StoreResult;

#[async_trait::async_trait]
pub trait ConnectionStore: Send + Sync {
    /// `Conflict` on a duplicate name or an unknown enabled client.
    async fn create_connection(&self, connection: &Connection) -> StoreResult<()>;
    async fn find_connection(&self, id: &str) -> StoreResult<Option<Connection>>;
    async fn find_connection_by_name(&self, name: &str) -> StoreResult<Option<Connection>>;
    async fn list_connections(&self, page: PageRequest) -> StoreResult<Page<Connection>>;
    async fn update_connection(&self, connection: &Connection) -> StoreResult<()>;
    async fn delete_connection(&self, id: &str) -> StoreResult<bool>;
}
