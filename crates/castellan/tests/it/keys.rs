//! Signing keys: rotation promotes the published `next` key once verifiers can know it,
//! keeps old tokens valid while new ones carry the new `kid`; a restart keeps keys,
//! clients and tokens; retired keys leave the JWKS once no token they signed can be alive.

use crate::common;

use castellan_core::model::SigningAlg;
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::Value;

async fn published_kids(server: &TestServer) -> Vec<String> {
    let jwks: Value = server.get_json("/.well-known/jwks.json").await;
    let mut kids: Vec<String> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect();
    kids.sort();
    kids
}

/// Seconds from a `next` key's publication to its first signature with the default
/// settings: the JWKS cache lifetime and a key refresh.
const LEAD: i64 = 300 + 30;

#[tokio::test]
async fn rotation_restart_and_retirement() {
    let server = TestServer::start().await;
    let old = server.admin_token(None).await;
    let old_kid = header(&old)["kid"].as_str().unwrap().to_string();
    let before = published_kids(&server).await;
    assert_eq!(
        before.len(),
        2,
        "the current RS256 key and the next one: {before:?}"
    );

    let state = &server.running().state;
    let keyring = state.tokens.keyring.clone();
    let editor = castellan_core::directory::Editor::cli(state.store.as_ref(), state.clock.as_ref());
    let promoted = keyring.rotate(&editor, SigningAlg::Rs256).await.unwrap();
    let new_kid = promoted.kid.clone();
    assert!(
        before.contains(&new_kid),
        "the promoted key was published before"
    );
    let now = castellan_core::clock::Clock::now(&server.clock);
    assert_eq!(
        promoted.current_since,
        now + LEAD,
        "the next key is too young"
    );
    assert_eq!(
        header(&server.admin_token(None).await)["kid"],
        old_kid.as_str(),
        "no signature with the new key before its time"
    );

    server.clock.advance(LEAD);
    let new = server.admin_token(None).await;
    assert_eq!(header(&new)["kid"], new_kid.as_str());
    assert_ne!(new_kid, old_kid);
    let kids = published_kids(&server).await;
    assert_eq!(kids.len(), 3, "current, next and previous: {kids:?}");
    assert!(kids.contains(&old_kid) && kids.contains(&new_kid));
    verify_with_jwks(&server, &old, MANAGEMENT_AUDIENCE).await;
    verify_with_jwks(&server, &new, MANAGEMENT_AUDIENCE).await;
    for token in [&old, &new] {
        assert_eq!(
            server
                .call(Method::GET, "/api/v2/clients", token, None)
                .await
                .0,
            StatusCode::OK
        );
    }

    let (_, client) = server
        .admin(
            Method::POST,
            "/clients",
            Some(serde_json::json!({"name": "kept"})),
        )
        .await;
    let server = server.restart().await;
    assert_eq!(
        published_kids(&server).await,
        kids,
        "the same keys after a restart"
    );
    for token in [&old, &new] {
        assert_eq!(
            server
                .call(Method::GET, "/api/v2/clients", token, None)
                .await
                .0,
            StatusCode::OK
        );
    }
    let path = format!("/clients/{}", client["client_id"].as_str().unwrap());
    assert_eq!(
        server.admin(Method::GET, &path, None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        header(&server.admin_token(None).await)["kid"],
        new_kid.as_str()
    );

    // The longest token lifetime is a day; a node that had not yet seen the switch may
    // have signed with the old key for one more refresh interval.
    server.clock.advance(86_400 + 30 - LEAD);
    server.refresh_keys().await;
    assert!(published_kids(&server).await.contains(&old_kid));
    server.clock.advance(LEAD + 1);
    server.refresh_keys().await;
    let kids = published_kids(&server).await;
    assert!(!kids.contains(&old_kid) && kids.contains(&new_kid));
}

#[tokio::test]
async fn private_keys_are_sealed_at_rest() {
    let server = TestServer::start().await;
    let records = server
        .running()
        .state
        .store
        .list_signing_keys()
        .await
        .unwrap();
    assert_eq!(records.len(), 6, "a current and a next key per algorithm");
    for record in records {
        assert!(record.public_jwk.get("d").is_none());
        assert!(!record.sealed_private_key.contains("PRIVATE KEY"));
        // The sealed bytes are not a DER key: PKCS#8 starts with a SEQUENCE tag.
        use base64::Engine;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(&record.sealed_private_key)
            .unwrap();
        assert!(raw.len() > 12 + 16);
    }
    let key_file = server.settings.data_dir.join("secret.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}
