//! A user's authentication methods (enrolled second factors, passkeys and the recovery
//! code) as administrators manage them: `/api/v2/users/{id}/authentication-methods`, the
//! recovery-code regeneration, "invalidate remember browser", and the console's MFA reset.
//! Secrets never leave here in the clear: a TOTP key is sealed with the master key under
//! the method's id, and a recovery code is kept as its digest and shown once.

use super::{Editor, users};
use crate::audit::MfaChange;
use crate::error::{Error, Result};
use crate::mfa::recovery_code;
use crate::model::{Authenticator, AuthenticatorKind, Named};
use crate::paging::{Page, PageRequest};
use crate::secrets::MasterKey;
use crate::store::Store;

const METHOD: &str = "authentication method";
/// Auth0's limit on a method's `name`.
const NAME_MAX: usize = 20;
/// A TOTP key shorter than 80 bits is refused: RFC 4226 asks for 128, but Google
/// Authenticator's own keys (and so many keys brought over from elsewhere) are 80 bits.
const TOTP_MIN_BYTES: usize = 10;
const TOTP_MAX_BYTES: usize = 64;

/// The user's methods, oldest first. `NotFound` for an unknown user.
pub async fn list(store: &dyn Store, user_id: &str) -> Result<Vec<Authenticator>> {
    users::find(store, user_id).await?;
    Ok(store.list_authenticators(user_id).await?)
}

/// A page of [`list`] (Auth0 pages this list by `page`/`per_page`).
pub async fn page(
    store: &dyn Store,
    user_id: &str,
    request: PageRequest,
) -> Result<Page<Authenticator>> {
    let all = list(store, user_id).await?;
    let total = all.len() as u64;
    let items = all
        .into_iter()
        .skip(usize::try_from(request.offset).unwrap_or(usize::MAX))
        .take(usize::try_from(request.limit).unwrap_or(usize::MAX))
        .collect();
    Ok(Page { items, total })
}

pub async fn get(store: &dyn Store, user_id: &str, id: &str) -> Result<Authenticator> {
    users::find(store, user_id).await?;
    store
        .find_authenticator(user_id, id)
        .await?
        .ok_or(Error::NotFound { kind: METHOD })
}

/// Whether the user has a confirmed second factor (what Auth0's user `multifactor` shows).
pub fn has_second_factor(methods: &[Authenticator]) -> bool {
    methods
        .iter()
        .any(|m| m.confirmed && m.kind.is_second_factor())
}

/// Whether the user has a confirmed second factor, read from the store.
pub async fn enrolled(store: &dyn Store, user_id: &str) -> Result<bool> {
    Ok(has_second_factor(
        &store.list_authenticators(user_id).await?,
    ))
}

/// Which of `user_ids` have a confirmed second factor, in one read.
pub async fn enrolled_among(
    store: &dyn Store,
    user_ids: &[String],
) -> Result<std::collections::HashSet<String>> {
    Ok(store
        .list_users_authenticators(user_ids)
        .await?
        .into_iter()
        .filter(|m| m.confirmed && m.kind.is_second_factor())
        .map(|m| m.user_id)
        .collect())
}

/// A method an administrator adds (`POST /users/{id}/authentication-methods`). Auth0 takes
/// it as verified already, so it is confirmed at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewMethod {
    /// Auth0's `type`.
    pub kind: String,
    pub name: Option<String>,
    /// Base32, as authenticator apps show it (`type: totp`).
    pub totp_secret: Option<String>,
    /// Where codes go (`type: email`).
    pub email: Option<String>,
}

/// The types this endpoint creates; Auth0 also creates `phone`, `webauthn-roaming` and
/// `passkey`, which need factors Castellan does not enrol this way.
pub const CREATABLE: &[&str] = &["totp", "email"];

fn totp_key(text: Option<&str>) -> Result<Vec<u8>> {
    let text =
        text.ok_or_else(|| Error::Invalid("totp_secret is required for type totp".into()))?;
    let canonical: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .trim_end_matches('=')
        .to_ascii_uppercase();
    let key = data_encoding::BASE32_NOPAD
        .decode(canonical.as_bytes())
        .map_err(|_| Error::Invalid("totp_secret must be base32 (RFC 4648)".into()))?;
    if !(TOTP_MIN_BYTES..=TOTP_MAX_BYTES).contains(&key.len()) {
        return Err(Error::Invalid(format!(
            "totp_secret must hold {} to {} bits (16 to 103 base32 characters)",
            TOTP_MIN_BYTES * 8,
            TOTP_MAX_BYTES * 8
        )));
    }
    Ok(key)
}

/// Checks `input` and builds the method, with its secret sealed by `master`.
fn build(input: &NewMethod, user_id: &str, now: i64, master: &MasterKey) -> Result<Authenticator> {
    let kind = match input.kind.as_str() {
        "totp" => AuthenticatorKind::Totp,
        "email" => AuthenticatorKind::Email,
        "phone" | "webauthn-roaming" | "webauthn-platform" | "passkey" => {
            return Err(Error::Invalid(format!(
                "type \"{}\" cannot be created through this API here; supported types: {}",
                input.kind,
                CREATABLE.join(", ")
            )));
        }
        other => {
            return Err(Error::Invalid(format!(
                "type must be one of: {} (got \"{other}\")",
                CREATABLE.join(", ")
            )));
        }
    };
    if let Some(name) = &input.name {
        super::validate::non_empty("name", name, NAME_MAX)?;
    }
    let mut method = Authenticator::new(user_id, kind, now);
    method.name = input.name.clone();
    method.confirmed = true;
    match kind {
        AuthenticatorKind::Totp => {
            if input.email.is_some() {
                return Err(Error::Invalid("email is not taken with type totp".into()));
            }
            let key = totp_key(input.totp_secret.as_deref())?;
            method.secret = Some(master.seal(&key, &method.id));
        }
        _ => {
            if input.totp_secret.is_some() {
                return Err(Error::Invalid(
                    "totp_secret is not taken with type email".into(),
                ));
            }
            let email = input
                .email
                .as_deref()
                .ok_or_else(|| Error::Invalid("email is required for type email".into()))?;
            method.email = Some(users::email(email)?);
        }
    }
    Ok(method)
}

/// Adds a confirmed method. A second TOTP method, or a second email method with the same
/// address, is a conflict, as on Auth0.
pub async fn create(
    ed: &Editor<'_>,
    master: &MasterKey,
    user_id: &str,
    input: &NewMethod,
) -> Result<Authenticator> {
    let method = build(input, user_id, ed.clock.now(), master)?;
    let tx = ed.begin().await?;
    users::find(tx.as_ref(), user_id).await?;
    let existing = tx.list_authenticators(user_id).await?;
    let duplicate = existing.iter().any(|m| {
        m.kind == method.kind
            && (m.kind == AuthenticatorKind::Totp
                || m.email.as_deref().map(str::to_lowercase)
                    == method.email.as_deref().map(str::to_lowercase))
    });
    if duplicate {
        return Err(Error::Conflict(
            "Authentication method already exists".into(),
        ));
    }
    tx.create_authenticator(&method).await?;
    let change = MfaChange::CreateMethod {
        user_id: user_id.to_string(),
        id: method.id.clone(),
        kind: method.kind.name(),
    };
    ed.commit(tx, [change]).await?;
    Ok(method)
}

pub async fn delete(ed: &Editor<'_>, user_id: &str, id: &str) -> Result<()> {
    let tx = ed.begin().await?;
    users::find(tx.as_ref(), user_id).await?;
    let method = tx
        .find_authenticator(user_id, id)
        .await?
        .ok_or(Error::NotFound { kind: METHOD })?;
    tx.delete_authenticator(user_id, id).await?;
    let change = MfaChange::DeleteMethod {
        user_id: user_id.to_string(),
        id: method.id,
        kind: method.kind.name(),
    };
    Ok(ed.commit(tx, [change]).await?)
}

/// Resets the user's MFA: every method removed and every remembered browser forgotten, so
/// the next log-in that needs a second factor enrols one afresh. Returns how many methods
/// there were. As on Auth0, refused while the user has a passkey, which may be the only
/// way they log in: it is removed on its own first.
pub async fn delete_all(ed: &Editor<'_>, user_id: &str) -> Result<u64> {
    let tx = ed.begin().await?;
    users::find(tx.as_ref(), user_id).await?;
    let listed = tx.list_authenticators(user_id).await?;
    if listed.iter().any(|m| m.kind == AuthenticatorKind::Passkey) {
        return Err(Error::Forbidden(
            "Operation not permitted when the user has registered at least 1 passkey; delete the passkey on its own first".into(),
        ));
    }
    let methods = tx.delete_authenticators(user_id).await?;
    tx.forget_remembered_browsers(user_id, ed.clock.now())
        .await?;
    let change = MfaChange::ResetMethods {
        user_id: user_id.to_string(),
        methods,
    };
    ed.commit(tx, [change]).await?;
    Ok(methods)
}

/// Replaces the user's recovery code with a new one and returns it, to be shown once.
/// As on Auth0, a user with no confirmed second factor has no enrolment to recover, and
/// gets `NotFound`; a user enrolled without a recovery code (a method added through the
/// API) gets one.
pub async fn regenerate_recovery_code(ed: &Editor<'_>, user_id: &str) -> Result<String> {
    let tx = ed.begin().await?;
    users::find(tx.as_ref(), user_id).await?;
    let methods = tx.list_authenticators(user_id).await?;
    if !has_second_factor(&methods) {
        return Err(Error::NotFound { kind: "enrollment" });
    }
    let code = recovery_code::generate();
    let digest = recovery_code::digest(&code);
    match methods
        .into_iter()
        .find(|m| m.kind == AuthenticatorKind::RecoveryCode)
    {
        Some(mut existing) => {
            existing.secret = Some(digest);
            existing.confirmed = true;
            tx.update_authenticator(&existing).await?;
        }
        None => {
            let mut created =
                Authenticator::new(user_id, AuthenticatorKind::RecoveryCode, ed.clock.now());
            created.secret = Some(digest);
            created.confirmed = true;
            tx.create_authenticator(&created).await?;
        }
    }
    let change = MfaChange::RegenerateRecoveryCode {
        user_id: user_id.to_string(),
    };
    ed.commit(tx, [change]).await?;
    Ok(code)
}

/// Every browser the user chose to remember asks for a second factor again.
pub async fn invalidate_remember_browser(ed: &Editor<'_>, user_id: &str) -> Result<()> {
    let tx = ed.begin().await?;
    users::find(tx.as_ref(), user_id).await?;
    tx.forget_remembered_browsers(user_id, ed.clock.now())
        .await?;
    let change = MfaChange::InvalidateRememberBrowser {
        user_id: user_id.to_string(),
    };
    Ok(ed.commit(tx, [change]).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn master() -> MasterKey {
        MasterKey::generate()
    }

    #[test]
    fn totp_keys_are_base32_of_80_bits_or_more() {
        assert_eq!(totp_key(Some("JBSWY3DPEHPK3PXP")).unwrap().len(), 10);
        assert_eq!(totp_key(Some("jbsw y3dp ehpk 3pxp")).unwrap().len(), 10);
        assert!(totp_key(Some("JBSWY3DP")).is_err());
        assert!(totp_key(Some("not base32!")).is_err());
        assert!(totp_key(None).is_err());
    }

    #[test]
    fn only_totp_and_email_are_created_and_secrets_are_sealed() {
        let m = master();
        let totp = NewMethod {
            kind: "totp".into(),
            totp_secret: Some("JBSWY3DPEHPK3PXP".into()),
            ..Default::default()
        };
        let built = build(&totp, "auth0|u", 10, &m).unwrap();
        assert!(built.confirmed);
        let sealed = built.secret.as_deref().unwrap();
        assert_ne!(sealed, "JBSWY3DPEHPK3PXP");
        assert_eq!(
            m.open(sealed, &built.id).unwrap(),
            b"Hello!\xde\xad\xbe\xef"
        );
        let phone = NewMethod {
            kind: "phone".into(),
            ..Default::default()
        };
        let refused = build(&phone, "auth0|u", 10, &m).unwrap_err().to_string();
        assert!(refused.contains("totp, email"), "{refused}");
        let email = NewMethod {
            kind: "email".into(),
            email: Some("nope".into()),
            ..Default::default()
        };
        assert!(build(&email, "auth0|u", 10, &m).is_err());
    }
}
