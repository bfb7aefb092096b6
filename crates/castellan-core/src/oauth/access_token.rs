//! Access tokens: JWTs for an API (Auth0's `access_token` dialect, or RFC 9068), and their
//! verification for our own APIs.

use std::sync::Arc;

use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::OAuthError;
pub use super::access_claims::{AccessTokenClaims, Audience};
use super::keyring::Keyring;
use crate::clock::Clock;
use crate::model::{Named, ResourceServer};

pub struct TokenService {
    pub issuer: String,
    pub keyring: Arc<Keyring>,
    pub clock: Arc<dyn Clock>,
}

/// What goes into an access token besides the registered claims.
pub struct AccessTokenGrant<'a> {
    pub api: &'a ResourceServer,
    pub subject: String,
    pub client_id: &'a str,
    pub scopes: &'a [String],
    /// Auth0's `gty` (`client-credentials`, `password`, ...), when it sets one.
    pub grant_type: Option<&'a str>,
    pub permissions: Option<&'a [String]>,
    /// `openid` was asked for: the token is also good for `/userinfo`.
    pub also_userinfo: bool,
    /// Claims from the log-in's scripts, already filtered; a name the server sets wins.
    pub custom_claims: &'a Map<String, Value>,
}

pub struct MintedToken {
    pub token: String,
    pub expires_in: i64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenRejection {
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token is signed with an unknown key")]
    UnknownKey,
    #[error("the token's signature, issuer or audience is wrong")]
    Invalid,
    #[error("the token has expired")]
    Expired,
}

impl TokenService {
    pub fn mint(&self, grant: AccessTokenGrant<'_>) -> Result<MintedToken, OAuthError> {
        let api = grant.api;
        let keys = self.keyring.keys();
        let now = self.clock.now();
        let signer = keys
            .signer(api.signing_alg, now)
            .ok_or_else(|| OAuthError::Internal(format!("no {} key", api.signing_alg.name())))?;
        let userinfo = crate::oidc::userinfo_audience(&self.issuer);
        let aud = if grant.also_userinfo && api.identifier != userinfo {
            Audience::Many(vec![api.identifier.clone(), userinfo])
        } else {
            Audience::One(api.identifier.clone())
        };
        let rfc9068 = api.token_dialect.is_rfc9068();
        let claims = AccessTokenClaims {
            iss: self.issuer.clone(),
            sub: grant.subject,
            aud,
            iat: now,
            exp: now + api.token_lifetime,
            scope: grant.scopes.join(" "),
            azp: grant.client_id.to_string(),
            gty: grant.grant_type.map(str::to_string),
            permissions: grant
                .permissions
                .filter(|_| api.token_dialect.carries_permissions())
                .map(<[String]>::to_vec),
            // RFC 9068 §2.2: client_id and jti are required in this profile.
            client_id: rfc9068.then(|| grant.client_id.to_string()),
            jti: rfc9068.then(|| crate::ids::alphanumeric(24)),
            custom: AccessTokenClaims::custom_from(grant.custom_claims),
        };
        let typ = if rfc9068 { "at+jwt" } else { "JWT" };
        Ok(MintedToken {
            token: signer.encode_jwt(typ, &claims),
            expires_in: api.token_lifetime,
        })
    }

    /// An access token of ours for one of `audiences`, checked as `verify_signed` does, its
    /// claims read as minted: a registered claim of another type is refused.
    pub async fn verify(
        &self,
        token: &str,
        audiences: &[String],
    ) -> Result<AccessTokenClaims, TokenRejection> {
        let claims = self.verify_signed(token, audiences).await?;
        AccessTokenClaims::deserialize(Value::Object(claims)).map_err(|_| TokenRejection::Invalid)
    }

    /// Checks signature (the algorithm pinned by the key, never by the token), issuer,
    /// audience (any of `audiences`) and expiry against the injected clock, whatever the
    /// token's kind: an ID token hint comes through here too, its claims unread.
    pub async fn verify_signed(
        &self,
        token: &str,
        audiences: &[String],
    ) -> Result<Map<String, Value>, TokenRejection> {
        let claims = self.verify_signature(token, audiences).await?;
        let exp = claims
            .get("exp")
            .and_then(Value::as_i64)
            .ok_or(TokenRejection::Invalid)?;
        if exp <= self.clock.now() {
            return Err(TokenRejection::Expired);
        }
        Ok(claims)
    }

    /// [`TokenService::verify_signed`] but for expiry: an ID token hint names a user
    /// however old it is (OpenID Connect Core §3.1.2.1).
    pub async fn verify_signature(
        &self,
        token: &str,
        audiences: &[String],
    ) -> Result<Map<String, Value>, TokenRejection> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenRejection::Malformed)?;
        let kid = header.kid.ok_or(TokenRejection::UnknownKey)?;
        let mut keys = self.keyring.keys();
        if keys.verifier(&kid).is_none() && self.keyring.refresh_for_unknown_kid().await {
            keys = self.keyring.keys();
        }
        let verifier = keys.verifier(&kid).ok_or(TokenRejection::UnknownKey)?;
        let algorithm: Algorithm = verifier
            .alg
            .name()
            .parse()
            .map_err(|_| TokenRejection::Invalid)?;
        let mut validation = Validation::new(algorithm);
        validation.validate_exp = false;
        validation.required_spec_claims = ["exp", "iss", "aud", "sub"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(audiences);
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &verifier.key, &validation)
            .map_err(|_| TokenRejection::Invalid)?;
        Ok(data.claims)
    }
}
