use crate::model::{
    AuthorizationCode, DeviceCode, DeviceDecision, LoginRedirect, RefreshToken, Session,
};
use crate::paging::{Page, PageRequest};

use super::StoreResult;

#[async_trait::async_trait]
pub trait SessionStore: Send + Sync {
    async fn create_session(&self, session: &Session) -> StoreResult<()>;
    async fn find_session(&self, id_hash: &str) -> StoreResult<Option<Session>>;
    /// Records that the session's user authenticated by `method` (replacing an earlier
    /// entry of the same name).
    async fn add_session_method(
        &self,
        id_hash: &str,
        method: &crate::model::AuthMethod,
    ) -> StoreResult<()>;
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
    /// Keeps a log-in suspended by a redirect (and forgets those expired at `now`).
    async fn create_login_redirect(&self, redirect: &LoginRedirect, now: i64) -> StoreResult<()>;
    /// Removes and returns, in one step, the suspended log-in of this state and browser
    /// that has not expired at `now`: a state is taken once only, and not by another
    /// browser (which leaves it for its own).
    async fn take_login_redirect(
        &self,
        state_hash: &str,
        browser_hash: &str,
        now: i64,
    ) -> StoreResult<Option<LoginRedirect>>;
    /// The scopes the user allowed the client on `audience` (empty for none), if ever.
    async fn find_consent(
        &self,
        user_id: &str,
        client_id: &str,
        audience: &str,
    ) -> StoreResult<Option<Vec<String>>>;
    /// Records what the user now allows the client on `audience`, replacing what was.
    async fn save_consent(
        &self,
        user_id: &str,
        client_id: &str,
        audience: &str,
        scope: &[String],
        now: i64,
    ) -> StoreResult<()>;
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
// One value per code exchange, moved once: its size does not matter.
#[allow(clippy::large_enum_variant)]
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

#[async_trait::async_trait]
pub trait DeviceCodeStore: Send + Sync {
    /// Fails with `Conflict` when the user code is taken by a live one (the caller draws
    /// another).
    async fn create_device_code(&self, code: &DeviceCode) -> StoreResult<()>;
    async fn find_device_code_by_user_code(
        &self,
        user_code_hash: &str,
    ) -> StoreResult<Option<DeviceCode>>;
    /// Records the user's decision on a pending code that has not expired at `now`; false
    /// if there is none (decided already, expired, or unknown).
    async fn decide_device_code(
        &self,
        user_code_hash: &str,
        decision: &DeviceDecision,
        now: i64,
    ) -> StoreResult<bool>;
    /// Records a poll at `now` and returns the code as this poll left it:
    /// `polled_too_fast` tells whether it came sooner than the interval allowed (the
    /// interval has then grown by `slow_down_secs`, RFC 8628 §3.5).
    async fn poll_device_code(
        &self,
        device_code_hash: &str,
        now: i64,
        slow_down_secs: i64,
    ) -> StoreResult<Option<DeviceCode>>;
    /// Removes and returns an approved code in one step, so that two polls at the same
    /// moment cannot both be given tokens.
    async fn take_approved_device_code(
        &self,
        device_code_hash: &str,
    ) -> StoreResult<Option<DeviceCode>>;
}
