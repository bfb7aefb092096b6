use std::collections::HashSet;

use crate::model::User;

use super::StoreResult;

/// A user brought over from another system, with the hash of their password there.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedUser {
    pub user: User,
    pub password_hash: Option<String>,
}

/// The keys of an import that existing users already hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TakenUserKeys {
    pub user_ids: HashSet<String>,
    pub emails: HashSet<String>,
    /// Lower-cased.
    pub usernames: HashSet<String>,
}

/// Writing many users at once, for migrations.
#[async_trait::async_trait]
pub trait UserImportStore: Send + Sync {
    /// Which of `user_ids` exist in any connection, and which of `emails` (lower-cased) and
    /// `usernames` (compared lower-cased) are taken in `connection`.
    async fn taken_user_keys(
        &self,
        connection: &str,
        user_ids: &[String],
        emails: &[String],
        usernames: &[String],
    ) -> StoreResult<TakenUserKeys>;
    /// Inserts every user with their password hash in one transaction (a savepoint inside
    /// a caller's): all or none.
    /// `Conflict` when an id, email or username is taken. `written` hears how many rows
    /// are in after each batch (not yet committed).
    async fn insert_users(
        &self,
        users: &[ImportedUser],
        written: &(dyn Fn(usize) + Send + Sync),
    ) -> StoreResult<()>;
}
