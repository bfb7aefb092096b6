/// Groups: members, roles, nested groups and connection mappings.
#[async_trait::async_trait]
pub trait GroupStore: Send + Sync {}
