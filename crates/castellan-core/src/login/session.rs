//! Browser sessions: single sign-on across clients until the session ends or expires.

use crate::clock::Clock;
use crate::model::{AuthMethod, Session, User};
use crate::secrets::{opaque_token, token_digest};
use crate::store::{Store, StoreResult};

/// Absolute session lifetime (Auth0's default is seven days).
pub const SESSION_LIFETIME: i64 = 7 * 86_400;

/// Starts a session for a user who authenticated by `method` (`pwd`, `passkey`); the
/// returned id goes into the cookie, its digest into the store.
pub async fn start(
    store: &dyn Store,
    clock: &dyn Clock,
    user: &User,
    method: &str,
) -> StoreResult<(String, Session)> {
    let id = opaque_token();
    let now = clock.now();
    let session = Session {
        id_hash: token_digest(&id),
        user_id: user.user_id.clone(),
        auth_time: now,
        expires_at: now + SESSION_LIFETIME,
        methods: vec![AuthMethod {
            name: method.to_owned(),
            timestamp: now,
        }],
    };
    store.create_session(&session).await?;
    Ok((id, session))
}

/// The live session and its user, if the cookie names one.
pub async fn resume(
    store: &dyn Store,
    clock: &dyn Clock,
    id: &str,
) -> StoreResult<Option<(Session, User)>> {
    let Some(session) = store.find_session(&token_digest(id)).await? else {
        return Ok(None);
    };
    if session.expires_at <= clock.now() {
        store.delete_session(&session.id_hash).await?;
        return Ok(None);
    }
    match store.find_user(&session.user_id).await? {
        Some(user) if !user.blocked => Ok(Some((session, user))),
        _ => Ok(None),
    }
}

pub async fn end(store: &dyn Store, id: &str) -> StoreResult<()> {
    store.delete_session(&token_digest(id)).await
}
