//! `auth0.accessToken` and `auth0.baseUrl`: rules call this server's Management API as
//! they called Auth0's, with a token Auth0 limited to `read:users update:users`.
//!
//! The token is an access token for the Management API like the server's own: signed
//! with the API's algorithm, its audience the API's identifier. Its subject is
//! [`RULES_SUBJECT`], which no user can have (user ids may not end in `@clients`) and which
//! is no client either, so the token can do exactly what its two scopes allow: read and
//! update any user, nothing that needs another scope and nothing for "the current user".
//! It lives five minutes, long past any log-in's scripts.
//!
//! Minting costs a signature per log-in, on top of the log-in's own tokens: measured on
//! the development machine (release build), about 1 ms for RS256, the Management API's
//! default, against 90 µs for ES256 and 40 µs for EdDSA. A log-in already signs an access
//! token and an ID token, so minting always would add half again to its signing; it is
//! done only when a rule may read the token: when a rule's source names both `auth0` and
//! `accessToken` (see [`wanted`]). A rule that reaches the token without writing either
//! word (`auth0['access' + 'Token']`) finds it undefined.

use serde_json::Map;

use super::Script;
use crate::error::{Error, Result};
use crate::oauth::OAuthError;
use crate::oauth::access_token::{AccessTokenGrant, TokenService};
use crate::store::Store;
use crate::system_apis;

/// The `sub` of the rules' token, in the shape of a client acting for itself.
pub const RULES_SUBJECT: &str = "rules@clients";
/// Its `azp`.
pub const RULES_CLIENT_ID: &str = "rules";
/// What Auth0's rules token allowed.
pub const RULES_SCOPES: [&str; 2] = ["read:users", "update:users"];
const LIFETIME_SECS: i64 = 300;

/// `auth0.baseUrl`: the Management API's identifier without its final `/`
/// (`http://127.0.0.1:8080/api/v2`), which is where the server answers it.
pub fn base_url(issuer: &str) -> String {
    system_apis::management_api_identifier(issuer)
        .trim_end_matches('/')
        .to_owned()
}

/// Whether a log-in's rules may read `auth0.accessToken`: one of them names both words.
/// `context.accessToken` alone is common (claims go there) and would mint for nothing
/// without the `auth0` half; a rule that hands the token to the `auth0` SDK or to a
/// request names both.
pub fn wanted(rules: &[Script]) -> bool {
    rules
        .iter()
        .any(|r| r.source.contains("accessToken") && r.source.contains("auth0"))
}

/// A fresh token for the rules of one log-in.
pub async fn rules_token(store: &dyn Store, tokens: &TokenService) -> Result<String> {
    let identifier = system_apis::management_api_identifier(&tokens.issuer);
    let mut api = store
        .find_resource_server_by_identifier(&identifier)
        .await?
        .ok_or_else(|| Error::Internal(format!("the Management API {identifier} is missing")))?;
    api.token_lifetime = api.token_lifetime.min(LIFETIME_SECS);
    let scopes: Vec<String> = RULES_SCOPES.iter().map(|s| (*s).to_owned()).collect();
    let minted = tokens
        .mint(AccessTokenGrant {
            api: &api,
            subject: RULES_SUBJECT.to_owned(),
            client_id: RULES_CLIENT_ID,
            scopes: &scopes,
            grant_type: None,
            permissions: None,
            also_userinfo: false,
            custom_claims: &Map::new(),
        })
        .map_err(|e| match e {
            OAuthError::Internal(reason) => Error::Internal(reason),
            other => Error::Internal(other.to_string()),
        })?;
    Ok(minted.token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(source: &str) -> Script {
        Script {
            name: "r".into(),
            source: source.into(),
            ..Script::default()
        }
    }

    #[test]
    fn only_rules_that_name_the_token_of_auth0_want_it() {
        assert!(wanted(&[
            rule("function (u, c, cb) { cb(null, u, c); }"),
            rule("function (u, c, cb) { var t = auth0.accessToken; cb(null, u, c); }"),
        ]));
        assert!(!wanted(&[rule(
            "function (u, c, cb) { c.accessToken['https://x/r'] = 1; cb(null, u, c); }"
        )]));
        assert!(!wanted(&[]));
        assert_eq!(base_url("http://127.0.0.1:9/"), "http://127.0.0.1:9/api/v2");
    }
}
