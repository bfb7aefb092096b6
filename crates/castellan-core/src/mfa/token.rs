//! The `mfa_token` of Auth0's `mfa_required` answer, and the `oob_code` of an email
//! challenge: opaque to clients, sealed with the master key, ending after ten minutes
//! (Auth0's fixed lifetime for `mfa_token`).
//!
//! Both are stateless. An `mfa_token` is good for every MFA API call until it ends, as on
//! Auth0, where one token serves `/mfa/associate`, `/mfa/challenge` and the grant: what
//! must be used once is the code, and [`crate::mfa::factors::Factors`] takes each code
//! once. The token binds what the password log-in decided (user, client, audience, scope)
//! and what its scripts left, so the scripts do not run twice.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::oauth::user_tokens::Scripted;
use crate::secrets::MasterKey;

/// Auth0: "The default expiry time of access tokens with the https://{yourDomain}/mfa/*
/// audience is 10 minutes. This value cannot be configured."
pub const LIFETIME: i64 = 10 * 60;

const MFA_TOKEN: &str = "mfa_token";
const OOB_CODE: &str = "oob_code";

/// A password log-in waiting for its second factor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MfaPending {
    pub user_id: String,
    pub client_id: String,
    pub audience: Option<String>,
    pub scope: Option<String>,
    pub auth_time: i64,
    pub scripted: Scripted,
    pub expires_at: i64,
    /// The factor types the scripts allowed (`otp`, `email`…; `challengeWith`); empty
    /// for any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub factors: Vec<String>,
}

impl MfaPending {
    /// Whether the log-in may pass with a factor of Guardian's type `name`.
    pub fn allows(&self, name: &str) -> bool {
        self.factors.is_empty() || self.factors.iter().any(|f| f == name)
    }
}

/// An email code sent for a challenge or an enrolment: which factor checks the code the
/// user types (the `binding_code`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OobCode {
    pub user_id: String,
    pub authenticator_id: String,
    pub expires_at: i64,
}

/// Why a sealed value was refused, in Auth0's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealedError {
    #[error("Malformed mfa_token")]
    MalformedMfaToken,
    #[error("mfa_token is expired")]
    ExpiredMfaToken,
    #[error("Invalid oob_code.")]
    InvalidOobCode,
}

fn seal<T: Serialize>(master: &MasterKey, value: &T, context: &str) -> String {
    let json = serde_json::to_vec(value).expect("plain data serializes");
    // URL-safe, so that the token travels in a header, a form or a URL without escaping.
    let sealed = STANDARD
        .decode(master.seal(&json, context))
        .expect("the master key writes standard base64");
    URL_SAFE_NO_PAD.encode(sealed)
}

fn open<T: DeserializeOwned>(master: &MasterKey, token: &str, context: &str) -> Option<T> {
    let raw = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
    let plain = master.open(&STANDARD.encode(raw), context).ok()?;
    serde_json::from_slice(&plain).ok()
}

pub fn seal_mfa_token(master: &MasterKey, pending: &MfaPending) -> String {
    seal(master, pending, MFA_TOKEN)
}

/// The pending log-in, if the token is one of ours and has not ended at `now`.
pub fn open_mfa_token(
    master: &MasterKey,
    token: &str,
    now: i64,
) -> Result<MfaPending, SealedError> {
    let pending: MfaPending =
        open(master, token, MFA_TOKEN).ok_or(SealedError::MalformedMfaToken)?;
    if pending.expires_at <= now {
        return Err(SealedError::ExpiredMfaToken);
    }
    Ok(pending)
}

pub fn seal_oob_code(master: &MasterKey, code: &OobCode) -> String {
    seal(master, code, OOB_CODE)
}

pub fn open_oob_code(master: &MasterKey, token: &str, now: i64) -> Result<OobCode, SealedError> {
    open::<OobCode>(master, token, OOB_CODE)
        .filter(|c| c.expires_at > now)
        .ok_or(SealedError::InvalidOobCode)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(expires_at: i64) -> MfaPending {
        MfaPending {
            user_id: "auth0|u".into(),
            client_id: "c".into(),
            audience: Some("https://api".into()),
            scope: Some("openid".into()),
            auth_time: 1,
            scripted: Scripted::default(),
            expires_at,
            factors: Vec::new(),
        }
    }

    #[test]
    fn tokens_open_until_they_end_and_only_in_their_own_role() {
        let master = MasterKey::generate();
        let token = seal_mfa_token(&master, &pending(100));
        assert!(!token.contains(['+', '/', '=']));
        assert_eq!(open_mfa_token(&master, &token, 99), Ok(pending(100)));
        assert_eq!(
            open_mfa_token(&master, &token, 100),
            Err(SealedError::ExpiredMfaToken)
        );
        assert_eq!(
            open_mfa_token(&MasterKey::generate(), &token, 0),
            Err(SealedError::MalformedMfaToken)
        );
        assert_eq!(
            open_mfa_token(&master, "not a token", 0),
            Err(SealedError::MalformedMfaToken)
        );
        // An mfa_token is not an oob_code, though both are sealed by one key.
        assert_eq!(
            open_oob_code(&master, &token, 0),
            Err(SealedError::InvalidOobCode)
        );
        let code = OobCode {
            user_id: "auth0|u".into(),
            authenticator_id: "email|dev_x".into(),
            expires_at: 50,
        };
        let sealed = seal_oob_code(&master, &code);
        assert_eq!(open_oob_code(&master, &sealed, 49), Ok(code));
        assert_eq!(
            open_oob_code(&master, &sealed, 50),
            Err(SealedError::InvalidOobCode)
        );
    }
}
