use crate::model::{AuthorizationCode, RefreshToken, Session};
use crate::paging::{Page, PageRequest};

use super::StoreResult;

#[async_trait::async_trait]
pub trait SessionStore: Send + Sync {
    async fn create_session(&self, session: &Session) -> StoreResult<()>;
    async fn find_session(&self, id_hash: &str) -> StoreResult<Option<Session>>;
    async fn delete_session(&self, id_hash: &str) -> StoreResult<()>;
    /// The user's sessions that have not expired at `now`, oldest first.
    async fn list_user_sessions(
        &self,
        user_id: &str,
        now: i64,
        page: PageRequest,
    ) -> StoreResult<Page<Session>>;
    /// Ends every session of the user; returns how many there were.
    async fn delete_user_sessions(&self, user_id: &str) -> StoreResult<u64>;
}

#[async_trait::async_trait]
pub trait AuthorizationCodeStore: Send + Sync {
    async fn create_authorization_code(&self, code: &AuthorizationCode) -> StoreResult<()>;
    /// Removes and returns the code in one step, so it can be redeemed once only, even by
    /// two nodes at the same moment.
    async fn take_authorization_code(
        &self,
        code_hash: &str,
    ) -> StoreResult<Option<AuthorizationCode>>;
    /// Redeems the code once, even by two nodes at the same moment, recording the
    /// refresh-token family the tokens issued from it belong to. The code is kept, marked
    /// redeemed, until it expires, so a second presentation is told apart from an unknown
    /// code (RFC 6749 §4.1.2: the tokens issued from it are then revoked).
    async fn redeem_authorization_code(
        &self,
        code_hash: &str,
        refresh_family: &str,
        now: i64,
    ) -> StoreResult<CodeRedemption>;
    /// Whether a redeemed code was presented again since (the exchange that redeemed it
    /// asks once its tokens are made, so a replay racing it still revokes them).
    async fn authorization_code_replayed(&self, code_hash: &str) -> StoreResult<bool>;
}

/// What presenting an authorization code found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeRedemption {
    /// First presentation: the code, now used up.
    Redeemed(AuthorizationCode),
    /// Redeemed before (now marked replayed); the refresh-token family its tokens belong to.
    Replayed { refresh_family: Option<String> },
    /// No such code (never issued, or expired and purged).
    Unknown,
}

#[async_trait::async_trait]
pub trait RefreshTokenStore: Send + Sync {
    async fn create_refresh_token(&self, token: &RefreshToken) -> StoreResult<()>;
    async fn find_refresh_token(&self, token_hash: &str) -> StoreResult<Option<RefreshToken>>;
    /// Marks an unused, unrevoked token used; false if it was used or revoked already.
    async fn use_refresh_token(&self, token_hash: &str, now: i64) -> StoreResult<bool>;
    /// Moves the idle end of an unused, unrevoked token (a non-rotating one, kept by its
    /// exchange); false if it was used or revoked already.
    async fn renew_refresh_token(
        &self,
        token_hash: &str,
        idle_expires_at: Option<i64>,
    ) -> StoreResult<bool>;
    async fn revoke_refresh_family(&self, family_id: &str) -> StoreResult<()>;
    /// The user's refresh tokens that can still be exchanged at `now`: one per family (its
    /// newest member), oldest family first.
    async fn list_user_refresh_tokens(
        &self,
        user_id: &str,
        now: i64,
        page: PageRequest,
    ) -> StoreResult<Page<RefreshToken>>;
    /// Revokes every refresh-token family of the user; returns how many families could
    /// still be exchanged.
    async fn revoke_user_refresh_tokens(&self, user_id: &str, now: i64) -> StoreResult<u64>;
}
