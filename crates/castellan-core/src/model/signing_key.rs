use super::SigningAlg;

/// A stored signing key. The private half is sealed under the master key; the public half
/// is the JWK that `/.well-known/jwks.json` publishes.
#[derive(Debug, Clone, PartialEq)]
pub struct SigningKeyRecord {
    pub kid: String,
    pub alg: SigningAlg,
    pub public_jwk: serde_json::Value,
    pub sealed_private_key: String,
    pub created_at: i64,
    /// When a newer key took over; `None` for the key that signs now.
    pub retired_at: Option<i64>,
}
