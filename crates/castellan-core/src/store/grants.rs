use crate::model::{AuthorizationCode, RefreshToken, Session};

use super::StoreResult;

#[async_trait::async_trait]
pub trait SessionStore: Send + Sync {
    async fn create_session(&self, session: &Session) -> StoreResult<()>;
    async fn find_session(&self, id_hash: &str) -> StoreResult<Option<Session>>;
    async fn delete_session(&self, id_hash: &str) -> StoreResult<()>;
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
}

#[async_trait::async_trait]
pub trait RefreshTokenStore: Send + Sync {
    async fn create_refresh_token(&self, token: &RefreshToken) -> StoreResult<()>;
    async fn find_refresh_token(&self, token_hash: &str) -> StoreResult<Option<RefreshToken>>;
    /// Marks an unused, unrevoked token used; false if it was used or revoked already.
    async fn use_refresh_token(&self, token_hash: &str, now: i64) -> StoreResult<bool>;
    async fn revoke_refresh_family(&self, family_id: &str) -> StoreResult<()>;
}
