//! The claims of our access tokens, as minted and as verified: one type for both, so what
//! the readers expect is what the grants write.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::client_credentials;
use super::scope;

/// Every access token Castellan has issued carries `iss` to `azp`; the rest depends on the
/// grant and the API's token dialect. Older tokens differ only by having no custom claims
/// and a single audience, which the same type reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: Audience,
    pub iat: i64,
    pub exp: i64,
    /// Space-separated, as RFC 6749 §3.3 and Auth0 write it.
    pub scope: String,
    pub azp: String,
    /// Auth0's grant marker; only the client-credentials and password grants set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gty: Option<String>,
    /// Only for APIs under RBAC whose dialect carries them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
    /// RFC 9068 tokens only (§2.2 requires both).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Claims the log-in's scripts added; never one of the names above.
    #[serde(flatten)]
    pub custom: Map<String, Value>,
}

/// `aud`: one string, or an array when the token is also good for `/userinfo`, as Auth0
/// writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

/// The names `AccessTokenClaims` holds in fields, which a custom claim may not take.
const SERVER_CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "iat",
    "exp",
    "scope",
    "azp",
    "gty",
    "permissions",
    "client_id",
    "jti",
];

impl AccessTokenClaims {
    /// The scripts' claims without any name the server sets: the server's value wins, and
    /// the token must not carry a name twice.
    pub fn custom_from(claims: &Map<String, Value>) -> Map<String, Value> {
        claims
            .iter()
            .filter(|(name, _)| !SERVER_CLAIMS.contains(&name.as_str()))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect()
    }

    pub fn scopes(&self) -> Vec<String> {
        scope::parse(&self.scope)
    }

    /// Issued by the client-credentials grant: a client acting for itself. `gty` decides
    /// (the server sets it on every such token and scripts may not set it); `sub` names the
    /// client too, but its shape alone proves nothing.
    pub fn machine_to_machine(&self) -> bool {
        self.gty.as_deref() == Some(client_credentials::GTY)
            && self.sub == format!("{}@clients", self.azp)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parsed(value: Value) -> AccessTokenClaims {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_token_of_the_first_versions_reads_without_optional_claims() {
        let old = json!({"iss": "https://t/", "sub": "auth0|1", "aud": "https://api",
                         "iat": 10, "exp": 20, "scope": "read:a", "azp": "c1"});
        let claims = parsed(old.clone());
        assert_eq!(claims.aud, Audience::One("https://api".into()));
        assert_eq!(
            (claims.gty, claims.permissions, claims.client_id, claims.jti),
            (None, None, None, None)
        );
        assert!(claims.custom.is_empty());
        assert_eq!(serde_json::to_value(parsed(old.clone())).unwrap(), old);
    }

    #[test]
    fn custom_claims_and_an_array_audience_round_trip() {
        let token = json!({"iss": "https://t/", "sub": "auth0|1",
                           "aud": ["https://api", "https://t/userinfo"], "iat": 10, "exp": 20,
                           "scope": "openid read:a", "azp": "c1", "gty": "password",
                           "permissions": ["read:a"], "client_id": "c1", "jti": "j",
                           "https://example.com/team": {"name": "blue"}});
        let claims = parsed(token.clone());
        assert_eq!(
            claims.aud,
            Audience::Many(vec!["https://api".into(), "https://t/userinfo".into()])
        );
        assert_eq!(
            claims.permissions.as_deref(),
            Some(&["read:a".to_string()][..])
        );
        assert_eq!(claims.custom.len(), 1);
        assert_eq!(
            claims.custom["https://example.com/team"],
            json!({"name": "blue"})
        );
        assert_eq!(serde_json::to_value(&claims).unwrap(), token);
        assert_eq!(parsed(serde_json::to_value(&claims).unwrap()), claims);
    }

    #[test]
    fn a_registered_claim_of_the_wrong_type_is_refused() {
        for (name, value) in [
            ("scope", json!(["read:a"])),
            ("exp", json!("20")),
            ("aud", json!(7)),
        ] {
            let mut token = json!({"iss": "https://t/", "sub": "s", "aud": "a", "iat": 10,
                                   "exp": 20, "scope": "", "azp": "c"});
            token[name] = value;
            assert!(
                serde_json::from_value::<AccessTokenClaims>(token).is_err(),
                "{name}"
            );
        }
    }

    #[test]
    fn scripts_cannot_take_a_server_claim() {
        let scripted = json!({"gty": "client-credentials", "https://x/y": 1});
        let Value::Object(scripted) = scripted else {
            unreachable!()
        };
        let kept = AccessTokenClaims::custom_from(&scripted);
        assert_eq!(Value::Object(kept), json!({"https://x/y": 1}));
    }

    #[test]
    fn only_client_credentials_tokens_of_the_client_itself_are_machine_to_machine() {
        let mut claims = parsed(
            json!({"iss": "i", "sub": "c1@clients", "aud": "a", "iat": 1,
                                       "exp": 2, "scope": "", "azp": "c1",
                                       "gty": "client-credentials"}),
        );
        assert!(claims.machine_to_machine());
        claims.sub = "c2@clients".into();
        assert!(!claims.machine_to_machine());
        claims.sub = "c1@clients".into();
        claims.gty = Some("password".into());
        assert!(!claims.machine_to_machine());
    }
}
