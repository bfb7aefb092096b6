use crate::model::{SigningAlg, SigningKeyRecord};

use super::StoreResult;

#[async_trait::async_trait]
pub trait SigningKeyStore: Send + Sync {
    /// Every key, newest first.
    async fn list_signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>>;
    /// Retires the current key of `key.alg` (if any) at `now` and makes `key` current, in
    /// one transaction. Two nodes racing to create the first key: one gets `Conflict`.
    async fn rotate_signing_key(&self, key: &SigningKeyRecord, now: i64) -> StoreResult<()>;
    /// Adds `key` only if no current key exists for its algorithm; false otherwise.
    async fn create_first_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<bool>;
    /// Removes keys retired before `cutoff`: no token they signed can still be alive.
    async fn delete_signing_keys_retired_before(
        &self,
        alg: SigningAlg,
        cutoff: i64,
    ) -> StoreResult<u64>;
}
