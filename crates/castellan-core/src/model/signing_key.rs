use super::SigningAlg;

/// A stored signing key. The private half is sealed under the master key; the public half
/// is the JWK that `/.well-known/jwks.json` publishes.
///
/// A key goes through Auth0's cycle: `next` (published, not signing), `current` (signing),
/// `previous` (retired, still published while its tokens may live), and maybe `revoked`.
#[derive(Debug, Clone, PartialEq)]
pub struct SigningKeyRecord {
    pub kid: String,
    pub alg: SigningAlg,
    pub public_jwk: serde_json::Value,
    pub sealed_private_key: String,
    /// When the key was stored, which is when the JWKS started to list it.
    pub created_at: i64,
    /// When the key starts (or started) signing; `None` for a `next` key not yet scheduled.
    pub current_since: Option<i64>,
    /// When a newer key takes (or took) over; `None` while no rotation is scheduled.
    pub retired_at: Option<i64>,
    /// When the key was withdrawn from the JWKS ahead of its tokens' expiry.
    pub revoked_at: Option<i64>,
}

/// Where a key stands at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRole {
    Next,
    Current,
    Previous,
    Revoked,
}

impl SigningKeyRecord {
    pub fn role(&self, now: i64) -> KeyRole {
        if self.revoked_at.is_some() {
            KeyRole::Revoked
        } else if self.retired_at.is_some_and(|at| at <= now) {
            KeyRole::Previous
        } else if self.current_since.is_some_and(|at| at <= now) {
            KeyRole::Current
        } else {
            KeyRole::Next
        }
    }
}
