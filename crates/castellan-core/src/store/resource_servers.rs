use crate::model::{ResourceServer, SigningAlg};
use crate::paging::{Page, PageRequest};

use super::StoreResult;

#[async_trait::async_trait]
pub trait ResourceServerStore: Send + Sync {
    /// `Conflict` when the identifier is taken.
    async fn create_resource_server(&self, api: &ResourceServer) -> StoreResult<()>;
    async fn find_resource_server(&self, id: &str) -> StoreResult<Option<ResourceServer>>;
    async fn find_resource_server_by_identifier(
        &self,
        identifier: &str,
    ) -> StoreResult<Option<ResourceServer>>;
    async fn list_resource_servers(&self, page: PageRequest) -> StoreResult<Page<ResourceServer>>;
    async fn update_resource_server(&self, api: &ResourceServer) -> StoreResult<()>;
    /// The algorithms some API signs its tokens with.
    async fn signing_algs_in_use(&self) -> StoreResult<Vec<SigningAlg>>;
    /// Also removes the client grants for its identifier.
    async fn delete_resource_server(&self, id: &str) -> StoreResult<bool>;
}
