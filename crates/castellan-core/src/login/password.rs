//! Checking a password for an email or username in a database connection, with Auth0's
//! brute-force protection: ten consecutive failures for one user from one address block
//! that pair. Blocks run out after 15 minutes (sooner by a password reset or an
//! administrator), so a block can never lock a user out for good. Throttling is keyed on
//! the account as well as on the pair: a user blocked from five addresses at once is
//! blocked from every address until those blocks run out, so guessing spread over many
//! addresses gets no further than guessing from one. (Per address, across accounts, the
//! HTTP layer's hashing budget throttles.) An unknown user and a wrong password are
//! indistinguishable to the caller, in answer and in time.

use crate::clock::Clock;
use crate::directory::signup::canonical_email;
use crate::error::Error;
use crate::events::{self, LogEventExt, RequestContext};
use crate::model::User;
use crate::passwords::{PasswordService, Verification};
use crate::store::Store;

pub const FAILURE_THRESHOLD: i64 = 10;
/// How long a block lasts: Keycloak's longest temporary lock-out by default.
pub const BLOCK_SECONDS: i64 = 15 * 60;
/// A pair's counter that has seen no failure for a day is forgotten (housekeeping deletes
/// it). Longer than a block, so forgetting never lifts one early.
pub const FAILURES_FORGOTTEN_AFTER: i64 = 24 * 60 * 60;
/// Blocks from this many addresses at once block the account from every address.
pub const ACCOUNT_BLOCK_ADDRESSES: i64 = 5;

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("Wrong email or password.")]
    WrongCredentials,
    #[error("Your account has been blocked after multiple consecutive login attempts.")]
    TooManyAttempts,
    #[error("user is blocked")]
    UserBlocked,
    #[error(transparent)]
    Failed(#[from] Error),
}

impl From<crate::store::StoreError> for LoginError {
    fn from(e: crate::store::StoreError) -> Self {
        LoginError::Failed(e.into())
    }
}

pub struct PasswordLogin<'a> {
    pub connection: &'a str,
    /// An email address or a username.
    pub identifier: &'a str,
    pub password: &'a str,
}

pub async fn authenticate(
    store: &dyn Store,
    passwords: &PasswordService,
    clock: &dyn Clock,
    login: PasswordLogin<'_>,
    ctx: &RequestContext,
) -> Result<User, LoginError> {
    let user = if login.identifier.contains('@') {
        store
            .find_user_by_email(login.connection, &canonical_email(login.identifier))
            .await?
    } else {
        store
            .find_user_by_username(login.connection, login.identifier.trim())
            .await?
    };
    let stored = match &user {
        Some(u) => store.find_password_hash(&u.user_id).await?,
        None => None,
    };
    let blocked_since = clock.now() - BLOCK_SECONDS;
    if let Some(u) = &user
        && is_blocked(store, &u.user_id, &ctx.ip, blocked_since).await?
    {
        let event = events::event("limit_wc", "Blocked account", ctx).user(u);
        events::record(store, clock, event).await;
        return Err(LoginError::TooManyAttempts);
    }
    let verdict = passwords.verify(login.password, stored.as_deref()).await?;
    let Some(user) = user else {
        let event =
            events::event("fu", "Wrong email or password.", ctx).connection(login.connection);
        events::record(store, clock, event).await;
        return Err(LoginError::WrongCredentials);
    };
    match verdict {
        Verification::Invalid => {
            let blocked_now = store
                .record_login_failure(
                    &user.user_id,
                    &ctx.ip,
                    FAILURE_THRESHOLD,
                    clock.now(),
                    blocked_since,
                )
                .await?;
            events::record(
                store,
                clock,
                events::event("fp", "Wrong email or password.", ctx).user(&user),
            )
            .await;
            if blocked_now {
                let event = events::event("limit_wc", "Blocked account", ctx).user(&user);
                events::record(store, clock, event).await;
            }
            Err(LoginError::WrongCredentials)
        }
        Verification::Valid { .. } if user.blocked => Err(LoginError::UserBlocked),
        Verification::Valid { needs_rehash } => {
            if needs_rehash {
                let upgraded = passwords.hash(login.password).await?;
                store
                    .set_password_hash(&user.user_id, &upgraded, clock.now())
                    .await?;
            }
            store.clear_login_failures(&user.user_id, &ctx.ip).await?;
            super::first_login::record_login(store, clock, &user, &ctx.ip)
                .await
                .map_err(LoginError::Failed)
        }
    }
}

/// Blocked from this address, or from enough addresses that the account is.
async fn is_blocked(
    store: &dyn Store,
    user_id: &str,
    ip: &str,
    blocked_since: i64,
) -> Result<bool, LoginError> {
    Ok(store.is_login_blocked(user_id, ip, blocked_since).await?
        || store.count_login_blocks(user_id, blocked_since).await? >= ACCOUNT_BLOCK_ADDRESSES)
}
