//! ID tokens (OpenID Connect Core §2): for the client, signed RS256, claims by scope.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use super::claims;
use crate::model::{SigningAlg, User};
use crate::oauth::OAuthError;
use crate::oauth::access_token::TokenService;

/// Auth0's default ID token lifetime.
pub const ID_TOKEN_LIFETIME: i64 = 36_000;

pub struct IdTokenRequest<'a> {
    pub user: &'a User,
    pub client_id: &'a str,
    pub scopes: &'a [String],
    pub nonce: Option<&'a str>,
    pub auth_time: Option<i64>,
    /// Claims from the log-in's scripts, already filtered; a name the server sets wins.
    pub custom_claims: &'a Map<String, Value>,
    /// Issued at the authorization endpoint: the token is bound to what comes with it.
    pub front_channel: Option<FrontChannel<'a>>,
}

/// What an ID token from the authorization endpoint comes with, which it names by hash
/// (`at_hash`, `c_hash`: OpenID Connect Core §3.3.2.11) so neither can be swapped in the
/// browser.
#[derive(Debug, Clone, Copy, Default)]
pub struct FrontChannel<'a> {
    pub access_token: Option<&'a str>,
    pub code: Option<&'a str>,
}

/// The left half of the SHA-256 digest, base64url: the hash for RS256 tokens.
fn half_digest(value: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value.as_bytes());
    let bytes = digest.as_ref();
    URL_SAFE_NO_PAD.encode(&bytes[..bytes.len() / 2])
}

pub fn mint(tokens: &TokenService, request: IdTokenRequest<'_>) -> Result<String, OAuthError> {
    let now = tokens.clock.now();
    let mut body = claims::by_scope(request.user, request.scopes);
    body.insert("iss".into(), json!(tokens.issuer));
    body.insert("aud".into(), json!(request.client_id));
    body.insert("iat".into(), json!(now));
    body.insert("exp".into(), json!(now + ID_TOKEN_LIFETIME));
    if let Some(nonce) = request.nonce {
        body.insert("nonce".into(), json!(nonce));
    }
    if let Some(auth_time) = request.auth_time {
        body.insert("auth_time".into(), json!(auth_time));
    }
    if let Some(front) = request.front_channel {
        for (name, value) in [("at_hash", front.access_token), ("c_hash", front.code)] {
            if let Some(value) = value {
                body.insert(name.into(), json!(half_digest(value)));
            }
        }
    }
    for (name, value) in request.custom_claims {
        body.entry(name.clone()).or_insert_with(|| value.clone());
    }
    let keys = tokens.keyring.keys();
    let signer = keys
        .signer(SigningAlg::Rs256, now)
        .ok_or_else(|| OAuthError::Internal("no RS256 key".into()))?;
    Ok(signer.encode_jwt("JWT", &Value::Object(body)))
}
