use crate::model::User;
use crate::paging::{Page, PageRequest};
use crate::search::{Condition, Filter};

use super::{DefaultGrant, StoreResult};

/// What `/api/v2/users` can search and sort on. Text fields other than ids compare
/// case-insensitively (see `directory::users`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserField {
    UserId,
    Email,
    Username,
    Name,
    Nickname,
    GivenName,
    FamilyName,
    Connection,
    EmailVerified,
    Blocked,
    LoginsCount,
    CreatedAt,
    UpdatedAt,
    LastLogin,
    LastIp,
    /// A value inside `app_metadata`, by its path of keys.
    AppMetadata(Vec<String>),
    UserMetadata(Vec<String>),
}

/// A search: the users `filter` matches (every user without one), in `sort` order
/// (by creation otherwise).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserQuery {
    pub filter: Option<Filter<Condition<UserField>>>,
    pub sort: Option<(UserField, bool)>,
}

/// A new password, as every password change hands it to the store (made by
/// `PasswordService::new_password`). The store writes it, deletes the user's outstanding
/// reset links and, unless the server keeps sessions across password changes, revokes the
/// user's refresh tokens, ends their sessions and drops their unredeemed authorization
/// codes, all in the transaction that changes the password, so no caller can forget it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPassword {
    pub hash: String,
    pub end_sessions: bool,
}

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
    /// A new password after a reset: also records when. See [`NewPassword`].
    async fn reset_password(
        &self,
        user_id: &str,
        password: &NewPassword,
        now: i64,
    ) -> StoreResult<()>;
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
    /// One page of the users `query` matches, and how many match in all. The sort field
    /// of `query.sort` (`true` = ascending) is a plain column, never metadata.
    async fn search_users(&self, query: &UserQuery, page: PageRequest) -> StoreResult<Page<User>>;
    /// Writes every attribute of `user` (and the password, when given: see
    /// [`NewPassword`]) in one transaction. `NotFound` if the user is gone, `Conflict` when
    /// the email or username is taken in the connection.
    async fn update_user(&self, user: &User, password: Option<&NewPassword>) -> StoreResult<()>;
    /// Deletes the user with their roles, groups, permissions and log-in failures; false if
    /// there was none.
    async fn delete_user(&self, user_id: &str) -> StoreResult<bool>;
}

/// Consecutive failed log-ins per user and IP address, and the blocks they cause. A block
/// holds from when it was imposed (`blocked_at`) until the caller's `blocked_since` passes
/// it: the callers decide how long blocks last.
#[async_trait::async_trait]
pub trait LoginFailureStore: Send + Sync {
    /// Whether this user is blocked from this address by a block imposed at or after
    /// `blocked_since`.
    async fn is_login_blocked(
        &self,
        user_id: &str,
        ip: &str,
        blocked_since: i64,
    ) -> StoreResult<bool>;
    /// From how many addresses this user is blocked by blocks imposed at or after
    /// `blocked_since`.
    async fn count_login_blocks(&self, user_id: &str, blocked_since: i64) -> StoreResult<i64>;
    /// The addresses this user is blocked from by blocks imposed at or after
    /// `blocked_since`, in the order they were imposed.
    async fn list_login_blocks(
        &self,
        user_id: &str,
        blocked_since: i64,
    ) -> StoreResult<Vec<String>>;
    /// Adds one failure; at `threshold` consecutive failures the pair is blocked. A block
    /// imposed before `blocked_since` has run out: the failure starts a new run. Returns
    /// whether it is blocked now.
    async fn record_login_failure(
        &self,
        user_id: &str,
        ip: &str,
        threshold: i64,
        now: i64,
        blocked_since: i64,
    ) -> StoreResult<bool>;
    /// A successful log-in ends the run of failures from that address.
    async fn clear_login_failures(&self, user_id: &str, ip: &str) -> StoreResult<()>;
    /// Lifts every block of the user (password reset, administrator).
    async fn unblock_user_logins(&self, user_id: &str) -> StoreResult<()>;
}
