use crate::model::User;

use super::{DefaultGrant, StoreResult};

#[async_trait::async_trait]
pub trait UserStore: Send + Sync {
    /// `Conflict` when the email or username is taken in that connection. `defaults` are
    /// assigned in the same transaction and marked as applied.
    async fn create_user(
        &self,
        user: &User,
        password_hash: Option<&str>,
        defaults: Option<&DefaultGrant>,
    ) -> StoreResult<()>;
    async fn find_user(&self, user_id: &str) -> StoreResult<Option<User>>;
    /// `email` must already be lower-cased.
    async fn find_user_by_email(&self, connection: &str, email: &str) -> StoreResult<Option<User>>;
    async fn find_user_by_username(
        &self,
        connection: &str,
        username: &str,
    ) -> StoreResult<Option<User>>;
    async fn find_password_hash(&self, user_id: &str) -> StoreResult<Option<String>>;
    async fn set_password_hash(&self, user_id: &str, hash: &str, now: i64) -> StoreResult<()>;
    /// A new password after a reset: also records when.
    async fn reset_password(&self, user_id: &str, hash: &str, now: i64) -> StoreResult<()>;
    /// Marks the email verified; `defaults` are applied in the same transaction unless the
    /// user's defaults were applied before. Returns whether they were applied now.
    async fn set_email_verified(
        &self,
        user_id: &str,
        now: i64,
        defaults: Option<&DefaultGrant>,
    ) -> StoreResult<bool>;
    /// Counts a successful log-in and returns the user as it is afterwards. On the user's
    /// first log-in, `defaults` are applied in the same transaction unless they were applied
    /// before; the flag says whether they were applied now.
    async fn record_login(
        &self,
        user_id: &str,
        ip: &str,
        now: i64,
        defaults: Option<&DefaultGrant>,
    ) -> StoreResult<(User, bool)>;
}

/// Consecutive failed log-ins per user and IP address, and the blocks they cause.
#[async_trait::async_trait]
pub trait LoginFailureStore: Send + Sync {
    /// Whether this user is blocked from this address.
    async fn is_login_blocked(&self, user_id: &str, ip: &str) -> StoreResult<bool>;
    /// Adds one failure; at `threshold` consecutive failures the pair is blocked. Returns
    /// whether it is blocked now.
    async fn record_login_failure(
        &self,
        user_id: &str,
        ip: &str,
        threshold: i64,
        now: i64,
    ) -> StoreResult<bool>;
    /// A successful log-in ends the run of failures from that address.
    async fn clear_login_failures(&self, user_id: &str, ip: &str) -> StoreResult<()>;
    /// Lifts every block of the user (password reset, administrator).
    async fn unblock_user_logins(&self, user_id: &str) -> StoreResult<()>;
}
