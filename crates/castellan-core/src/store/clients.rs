use crate::model::Client;
use crate::paging::{Page, PageRequest};

use super::StoreResult;

#[async_trait::async_trait]
pub trait ClientStore: Send + Sync {
    /// Creates the client and enables every existing connection for it, atomically.
    async fn create_client(&self, client: &Client) -> StoreResult<()>;
    async fn find_client(&self, client_id: &str) -> StoreResult<Option<Client>>;
    async fn list_clients(&self, page: PageRequest) -> StoreResult<Page<Client>>;
    /// Replaces every field; `NotFound` if the client is gone.
    async fn update_client(&self, client: &Client) -> StoreResult<()>;
    /// Removes the client with its grants and connection links; false if it did not exist.
    async fn delete_client(&self, client_id: &str) -> StoreResult<bool>;
    async fn count_clients(&self) -> StoreResult<u64>;
}
