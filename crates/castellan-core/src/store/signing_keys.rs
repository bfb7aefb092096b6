use crate::model::{SigningAlg, SigningKeyRecord};

use super::StoreResult;

/// What a rotation did: `kid` signs from `current_since` on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Promotion {
    pub kid: String,
    pub current_since: i64,
}

#[async_trait::async_trait]
pub trait SigningKeyStore: Send + Sync {
    /// Every key, newest first.
    async fn list_signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>>;
    /// Adds `key` (a current key when it has `current_since`, a `next` key otherwise)
    /// unless its algorithm already has a key in that place; false then. Nodes starting
    /// together race here, and one key of each place wins.
    async fn add_signing_key_if_vacant(&self, key: &SigningKeyRecord) -> StoreResult<bool>;
    /// In one transaction: schedules the `next` key of `new_next.alg` to become current
    /// once it has been published `lead` seconds (at `now` if it already has, never
    /// before the current key's own start), retires the current key at that moment, and
    /// adds `new_next` as the following `next` key. `NotFound` when the algorithm has no
    /// `next` key; `Conflict` when another rotation of it won the race.
    async fn rotate_signing_key(
        &self,
        new_next: &SigningKeyRecord,
        now: i64,
        lead: i64,
    ) -> StoreResult<Promotion>;
    /// Marks a retired key revoked at `now`; false when `kid` is not a retired,
    /// unrevoked key at `now` (current and next keys cannot be revoked).
    async fn revoke_signing_key(&self, kid: &str, now: i64) -> StoreResult<bool>;
    /// Removes keys retired before `cutoff`: no token they signed can still be alive.
    async fn delete_signing_keys_retired_before(
        &self,
        alg: SigningAlg,
        cutoff: i64,
    ) -> StoreResult<u64>;
}
