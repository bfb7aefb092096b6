//! What outlives a user's log-in: browser sessions (single sign-on) and refresh-token
//! families, listed and ended through the Management API (`/users/{id}/sessions`,
//! `/users/{id}/refresh-tokens`).
//!
//! A session's `id` is the digest the store keeps of the cookie's value: the value never
//! leaves the browser, and the digest cannot be turned back into it. A refresh token's `id`
//! is its family's: rotation makes a new token of the same family at each exchange, as
//! Auth0's rotating tokens keep their id.

use super::Editor;
use super::users;
use crate::audit::Change;
use crate::clock::Clock;
use crate::error::Result;
use crate::model::{RefreshToken, Session};
use crate::paging::{Page, PageRequest};
use crate::store::Store;

/// The user's live sessions, oldest first. `NotFound` for an unknown user.
pub async fn sessions(
    store: &dyn Store,
    clock: &dyn Clock,
    user_id: &str,
    page: PageRequest,
) -> Result<Page<Session>> {
    users::get(store, user_id).await?;
    Ok(store.list_user_sessions(user_id, clock.now(), page).await?)
}

/// Ends every session of the user: their single sign-on cookies yield no more codes.
/// Returns how many there were.
pub async fn end_sessions(ed: &Editor<'_>, user_id: &str) -> Result<u64> {
    let tx = ed.begin().await?;
    users::find(tx.as_ref(), user_id).await?;
    let sessions = tx.delete_user_sessions(user_id).await?;
    let change = Change::EndUserSessions {
        user_id: user_id.to_string(),
        sessions,
    };
    ed.commit(tx, [change]).await?;
    Ok(sessions)
}

/// The user's refresh tokens that can still be exchanged, one per family, oldest first.
pub async fn refresh_tokens(
    store: &dyn Store,
    clock: &dyn Clock,
    user_id: &str,
    page: PageRequest,
) -> Result<Page<RefreshToken>> {
    users::get(store, user_id).await?;
    Ok(store
        .list_user_refresh_tokens(user_id, clock.now(), page)
        .await?)
}

/// Revokes every refresh-token family of the user. Returns how many could still be
/// exchanged.
pub async fn revoke_refresh_tokens(ed: &Editor<'_>, user_id: &str) -> Result<u64> {
    let tx = ed.begin().await?;
    users::find(tx.as_ref(), user_id).await?;
    let refresh_tokens = tx
        .revoke_user_refresh_tokens(user_id, ed.clock.now())
        .await?;
    let change = Change::RevokeUserRefreshTokens {
        user_id: user_id.to_string(),
        refresh_tokens,
    };
    ed.commit(tx, [change]).await?;
    Ok(refresh_tokens)
}
