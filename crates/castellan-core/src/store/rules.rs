/// Rules and their configuration values.
#[async_trait::async_trait]
pub trait RuleStore: Send + Sync {}
