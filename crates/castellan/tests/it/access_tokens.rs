//! Access tokens verify to the claims they were minted with, and a token in the shape the
//! first versions issued (one audience, no optional or custom claims) still verifies.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use castellan_core::clock::{Clock, ManualClock};
use castellan_core::model::{ResourceServer, SigningAlg, TokenDialect};
use castellan_core::oauth::access_token::{
    AccessTokenClaims, AccessTokenGrant, Audience, TokenRejection, TokenService,
};
use castellan_core::oauth::keyring::Keyring;
use castellan_core::secrets::MasterKey;
use serde_json::{Map, Value, json};

const ISSUER: &str = "https://tenant.example/";
const API: &str = "https://api.example";

async fn service(dir: &tempfile::TempDir) -> (TokenService, ManualClock) {
    let url = format!("sqlite://{}/castellan.db", dir.path().display());
    let store = castellan_store::open(&url).await.unwrap();
    let clock = ManualClock::starting_at(1_700_000_000);
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let keyring = Keyring::open(store, MasterKey::generate(), shared.clone(), 300)
        .await
        .unwrap();
    let tokens = TokenService {
        issuer: ISSUER.into(),
        keyring: Arc::new(keyring),
        clock: shared,
    };
    (tokens, clock)
}

fn payload(token: &str) -> Value {
    let middle = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(middle).unwrap()).unwrap()
}

#[tokio::test]
async fn a_token_with_custom_claims_and_two_audiences_verifies_to_what_was_minted() {
    let dir = tempfile::tempdir().unwrap();
    let (tokens, clock) = service(&dir).await;
    let mut api = ResourceServer::new("api1".into(), "API".into(), API.into());
    api.token_dialect = TokenDialect::AccessTokenAuthz;
    let scopes = vec!["openid".to_string(), "read:a".to_string()];
    let permissions = vec!["read:a".to_string()];
    let Value::Object(custom) = json!({"https://example.com/team": {"name": "blue"},
                                       "gty": "client-credentials"})
    else {
        unreachable!()
    };
    let minted = tokens
        .mint(AccessTokenGrant {
            api: &api,
            subject: "auth0|1".into(),
            client_id: "c1",
            scopes: &scopes,
            grant_type: None,
            permissions: Some(&permissions),
            also_userinfo: true,
            custom_claims: &custom,
        })
        .unwrap();
    let now = clock.now();
    let expected = json!({"iss": ISSUER, "sub": "auth0|1",
                          "aud": [API, format!("{ISSUER}userinfo")], "iat": now,
                          "exp": now + api.token_lifetime, "scope": "openid read:a",
                          "azp": "c1", "permissions": ["read:a"],
                          "https://example.com/team": {"name": "blue"}});
    // A script's claim under a name the server owns is not written.
    assert_eq!(payload(&minted.token), expected);
    let claims = tokens.verify(&minted.token, &[API.into()]).await.unwrap();
    assert_eq!(
        claims,
        serde_json::from_value::<AccessTokenClaims>(expected).unwrap()
    );
    assert_eq!(
        claims.aud,
        Audience::Many(vec![API.into(), format!("{ISSUER}userinfo")])
    );
    assert_eq!(claims.gty, None);
    assert!(!claims.machine_to_machine());
    assert_eq!(claims.custom.len(), 1);
}

#[tokio::test]
async fn a_token_of_the_first_versions_still_verifies_and_expiry_comes_first() {
    let dir = tempfile::tempdir().unwrap();
    let (tokens, clock) = service(&dir).await;
    let now = clock.now();
    let old = json!({"iss": ISSUER, "sub": "c1@clients", "aud": API, "iat": now,
                     "exp": now + 60, "scope": "read:a", "azp": "c1",
                     "gty": "client-credentials"});
    let keys = tokens.keyring.keys();
    let signer = keys.signer(SigningAlg::Rs256, now).unwrap();
    let token = signer.encode_jwt("JWT", &old);
    let claims = tokens.verify(&token, &[API.into()]).await.unwrap();
    assert_eq!(claims.aud, Audience::One(API.into()));
    assert_eq!((&claims.permissions, &claims.jti), (&None, &None));
    assert_eq!(claims.custom, Map::new());
    assert!(claims.scopes() == ["read:a"] && claims.sub == "c1@clients");

    // A registered claim of another type is refused, but an expired token is said to be
    // expired whatever else is wrong with it, as before.
    let mut odd = old.clone();
    odd["scope"] = json!(["read:a"]);
    let odd = signer.encode_jwt("JWT", &odd);
    assert_eq!(
        tokens.verify(&odd, &[API.into()]).await,
        Err(TokenRejection::Invalid)
    );
    clock.advance(61);
    assert_eq!(
        tokens.verify(&odd, &[API.into()]).await,
        Err(TokenRejection::Expired)
    );
}
