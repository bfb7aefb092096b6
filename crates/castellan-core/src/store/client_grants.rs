use crate::model::{Client, ClientGrant, ResourceServer};
use crate::paging::{Page, PageRequest};

use super::StoreResult;

#[derive(Debug, Default, Clone)]
pub struct ClientGrantFilter {
    pub client_id: Option<String>,
    pub audience: Option<String>,
}

#[async_trait::async_trait]
pub trait ClientGrantStore: Send + Sync {
    /// `Conflict` when the client already has a grant for that audience.
    async fn create_client_grant(&self, grant: &ClientGrant) -> StoreResult<()>;
    async fn find_client_grant(&self, id: &str) -> StoreResult<Option<ClientGrant>>;
    async fn find_client_grant_for(
        &self,
        client_id: &str,
        audience: &str,
    ) -> StoreResult<Option<ClientGrant>>;
    /// The client, the API `identifier` names and the client's grant for it, in one round
    /// trip (the client-credentials hot path); `None` if any of the three is missing.
    async fn find_client_with_grant(
        &self,
        client_id: &str,
        identifier: &str,
    ) -> StoreResult<Option<(Client, ResourceServer, ClientGrant)>>;
    async fn list_client_grants(
        &self,
        filter: &ClientGrantFilter,
        page: PageRequest,
    ) -> StoreResult<Page<ClientGrant>>;
    async fn update_client_grant(&self, grant: &ClientGrant) -> StoreResult<()>;
    async fn delete_client_grant(&self, id: &str) -> StoreResult<bool>;
}
