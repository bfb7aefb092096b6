//! The admin console's sign-in: a built-in first-party client that logs administrators in
//! through the ordinary `/authorize` pages (authorization code with PKCE), console sessions
//! kept apart from single sign-on sessions, and the check that the user may administer the
//! tenant (`castellan:admin` on the Management API, through roles, groups or directly).
//!
//! The code is redeemed here without issuing tokens: the console only needs to know who
//! logged in, and the tenant's rules must not be able to lock administrators out of it.

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::clock::Clock;
use crate::directory::clients::{self, ClientFields};
use crate::error::{Error, Result};
use crate::model::{Client, DATABASE_CONNECTION, Session, User};
use crate::secrets::{opaque_token, token_digest};
use crate::store::{Store, StoreError};
use crate::system_apis;

/// The console's own client id, the same on every tenant.
pub const CLIENT_ID: &str = "castellan-admin-console";
pub const CLIENT_NAME: &str = "Castellan admin console";
/// The permission an administrator holds on the Management API.
pub const ADMIN_PERMISSION: &str = "castellan:admin";
/// Console sessions are short: an administrator logs in again after an hour.
pub const SESSION_LIFETIME: i64 = 3600;

/// `{issuer}admin/callback`.
pub fn callback(issuer: &str) -> String {
    format!("{issuer}admin/callback")
}

/// Makes sure the console client exists as a public first-party client whose only callback
/// is this issuer's, and that it may use the database connection.
pub async fn ensure_client(store: &dyn Store, clock: &dyn Clock, issuer: &str) -> Result<()> {
    let fields = ClientFields {
        name: Some(CLIENT_NAME.into()),
        description: Some("Signs administrators in to /admin".into()),
        app_type: Some("spa".into()),
        is_first_party: Some(true),
        grant_types: Some(vec!["authorization_code".into()]),
        callbacks: Some(vec![callback(issuer)]),
        token_endpoint_auth_method: Some("none".into()),
        ..Default::default()
    };
    match store.find_client(CLIENT_ID).await? {
        None => match clients::create_with_id(store, clock, CLIENT_ID.into(), fields, None).await {
            // Another node starting on the same database made it first.
            Ok(_) | Err(Error::Conflict(_)) => {}
            Err(e) => return Err(e),
        },
        Some(existing) if !is_as_wanted(&existing, issuer) => {
            clients::restore(store, clock, CLIENT_ID, fields).await?;
        }
        Some(_) => {}
    }
    if let Some(mut connection) = store.find_connection_by_name(DATABASE_CONNECTION).await?
        && !connection.enabled_clients.iter().any(|c| c == CLIENT_ID)
    {
        connection.enabled_clients.push(CLIENT_ID.into());
        store.update_connection(&connection).await?;
    }
    Ok(())
}

fn is_as_wanted(client: &Client, issuer: &str) -> bool {
    client.callbacks == [callback(issuer)]
        && client.is_public()
        && client.is_first_party
        && client.has_grant("authorization_code")
}

/// A fresh PKCE pair (RFC 7636): the verifier kept by the browser, the S256 challenge sent.
pub fn pkce_pair() -> (String, String) {
    let verifier = format!("{}{}", opaque_token(), opaque_token());
    let challenge = URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes()));
    (verifier, challenge)
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// The code is unknown, used, expired, for another client or callback, or the
    /// verifier does not match: the administrator starts again.
    #[error("the log-in could not be completed; start again")]
    InvalidCode,
    #[error("the user is blocked")]
    Blocked,
    #[error(transparent)]
    Failed(#[from] Error),
}

impl From<StoreError> for SignInError {
    fn from(e: StoreError) -> Self {
        SignInError::Failed(e.into())
    }
}

/// Redeems an authorization code issued to the console client (single use, PKCE checked)
/// and returns the user who logged in.
pub async fn redeem(
    store: &dyn Store,
    clock: &dyn Clock,
    issuer: &str,
    code: &str,
    verifier: &str,
) -> std::result::Result<User, SignInError> {
    let record = store
        .take_authorization_code(&token_digest(code))
        .await?
        .ok_or(SignInError::InvalidCode)?;
    let challenge = URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes()));
    let pkce_ok = record.code_challenge.as_deref().is_some_and(|expected| {
        verify_slices_are_equal(expected.as_bytes(), challenge.as_bytes()).is_ok()
    });
    if record.client_id != CLIENT_ID
        || record.expires_at <= clock.now()
        || record.redirect_uri != callback(issuer)
        || !pkce_ok
    {
        return Err(SignInError::InvalidCode);
    }
    let user = store
        .find_user(&record.user_id)
        .await?
        .ok_or(SignInError::InvalidCode)?;
    if user.blocked {
        return Err(SignInError::Blocked);
    }
    Ok(user)
}

/// Whether the user holds `castellan:admin` on the Management API.
pub async fn is_admin(store: &dyn Store, issuer: &str, user_id: &str) -> Result<bool> {
    let held = store
        .effective_permissions(user_id, &system_apis::management_api_identifier(issuer))
        .await?;
    Ok(held.iter().any(|p| p == ADMIN_PERMISSION))
}

/// Console session ids are digested under their own prefix, so a console cookie can never
/// be presented as a single sign-on session, nor the reverse.
fn session_digest(id: &str) -> String {
    token_digest(&format!("console-session:{id}"))
}

/// The CSRF token of a console session: derived from its secret id, so it needs no storage
/// and changes with every session.
pub fn csrf_token(id: &str) -> String {
    token_digest(&format!("console-csrf:{id}"))
}

/// Starts a console session; the returned id goes into the console cookie.
pub async fn start_session(store: &dyn Store, clock: &dyn Clock, user: &User) -> Result<String> {
    let id = opaque_token();
    let now = clock.now();
    store
        .create_session(&Session {
            id_hash: session_digest(&id),
            user_id: user.user_id.clone(),
            auth_time: now,
            expires_at: now + SESSION_LIFETIME,
            methods: vec![crate::model::AuthMethod {
                name: "pwd".into(),
                timestamp: now,
            }],
        })
        .await?;
    Ok(id)
}

/// The user of a live console session; `None` when it expired, ended, or the user is gone
/// or blocked.
pub async fn resume_session(
    store: &dyn Store,
    clock: &dyn Clock,
    id: &str,
) -> Result<Option<User>> {
    let digest = session_digest(id);
    let Some(session) = store.find_session(&digest).await? else {
        return Ok(None);
    };
    if session.expires_at <= clock.now() {
        store.delete_session(&digest).await?;
        return Ok(None);
    }
    Ok(store
        .find_user(&session.user_id)
        .await?
        .filter(|u| !u.blocked))
}

pub async fn end_session(store: &dyn Store, id: &str) -> Result<()> {
    Ok(store.delete_session(&session_digest(id)).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_pairs_are_well_formed() {
        let (verifier, challenge) = pkce_pair();
        assert!((43..=128).contains(&verifier.len()), "{verifier}");
        assert_eq!(challenge.len(), 43);
        assert_ne!(pkce_pair().0, verifier);
    }

    #[test]
    fn console_digests_differ_from_sso_digests() {
        assert_ne!(session_digest("x"), token_digest("x"));
        assert_ne!(csrf_token("x"), session_digest("x"));
        assert_ne!(csrf_token("x"), csrf_token("y"));
    }
}
