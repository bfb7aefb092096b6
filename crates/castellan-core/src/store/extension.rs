/// The Authorization Extension's own records: its permissions and its configuration.
#[async_trait::async_trait]
pub trait ExtensionStore: Send + Sync {}
