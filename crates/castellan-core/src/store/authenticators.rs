//! Users' second factors, "remember this browser", and tenant-wide settings kept by name.

use serde_json::Value;

use super::StoreResult;
use crate::model::Authenticator;

/// What a checked one-time code does to its factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactorAttempt {
    /// The code was right: failures are forgotten. With `step`, the code of that time step
    /// is taken, and refused (`false` returned) if it or a later one was taken already.
    Passed { step: Option<i64> },
    /// The code was wrong: one more failure; at `threshold` in a row the factor is locked
    /// until `lock_until`.
    Failed { threshold: i64, lock_until: i64 },
}

#[async_trait::async_trait]
pub trait AuthenticatorStore: Send + Sync {
    /// Adds an authenticator; a conflict if its id exists.
    async fn create_authenticator(&self, authenticator: &Authenticator) -> StoreResult<()>;
    /// The user's authenticators, oldest first.
    async fn list_authenticators(&self, user_id: &str) -> StoreResult<Vec<Authenticator>>;
    /// The authenticators of several users at once (a page of users shows each one's
    /// `multifactor`), ordered by user, then oldest first. Unknown ids give nothing.
    async fn list_users_authenticators(
        &self,
        user_ids: &[String],
    ) -> StoreResult<Vec<Authenticator>>;
    async fn find_authenticator(
        &self,
        user_id: &str,
        id: &str,
    ) -> StoreResult<Option<Authenticator>>;
    /// Replaces the stored fields of an existing authenticator (name, secret, email,
    /// confirmation, pending challenge); `NotFound` if the user has none by that id.
    /// Counters are changed by [`AuthenticatorStore::record_factor_attempt`] only.
    async fn update_authenticator(&self, authenticator: &Authenticator) -> StoreResult<()>;
    /// Whether there was one to delete.
    async fn delete_authenticator(&self, user_id: &str, id: &str) -> StoreResult<bool>;
    /// Deletes every authenticator of the user; returns how many there were.
    async fn delete_authenticators(&self, user_id: &str) -> StoreResult<u64>;
    /// Counts a code checked at `now`, in one statement so that concurrent attempts all
    /// count and a code is taken once. Returns false when a passed code's step was taken
    /// already (a replay) or the authenticator is gone.
    async fn record_factor_attempt(
        &self,
        user_id: &str,
        id: &str,
        attempt: FactorAttempt,
        now: i64,
    ) -> StoreResult<bool>;
    /// Takes the pending challenge of the authenticator in one step (so it answers once),
    /// if it has not expired at `now`.
    async fn take_factor_challenge(
        &self,
        user_id: &str,
        id: &str,
        now: i64,
    ) -> StoreResult<Option<String>>;
    /// Remembered browsers count only if remembered at or after this time.
    async fn remember_not_before(&self, user_id: &str) -> StoreResult<Option<i64>>;
    /// Forgets every browser the user had remembered before `at`.
    async fn forget_remembered_browsers(&self, user_id: &str, at: i64) -> StoreResult<()>;
    async fn find_tenant_setting(&self, name: &str) -> StoreResult<Option<Value>>;
    async fn save_tenant_setting(&self, name: &str, value: &Value) -> StoreResult<()>;
}
