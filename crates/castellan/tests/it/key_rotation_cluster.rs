//! Two nodes on one database (SQLite file, or PostgreSQL with `CASTELLAN_TEST_BACKEND`)
//! and one clock: a rotation made on node A reaches verifiers before either node signs
//! with the new key, both nodes switch at the same moment, and tokens of the old key keep
//! verifying until they expire.

use crate::common;

use std::sync::Arc;

use castellan_core::clock::{Clock, ManualClock, SystemClock};
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// Shorter than the default, to show that the setting (not a constant) sets both the
/// JWKS `max-age` and the wait before a new key signs.
const MAX_AGE: i64 = 120;
const REFRESH: i64 = castellan_core::oauth::keyring::REFRESH_SECONDS;

async fn jwks(node: &TestServer) -> (String, jsonwebtoken::jwk::JwkSet) {
    let response = node
        .http
        .get(node.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    let cache = response.headers()["cache-control"]
        .to_str()
        .unwrap()
        .to_string();
    (cache, response.json().await.unwrap())
}

fn kid(token: &str) -> String {
    header(token)["kid"].as_str().unwrap().to_string()
}

/// Verifies as a client holding `set` would: by `kid`, without asking again.
fn verifies(set: &jsonwebtoken::jwk::JwkSet, token: &str) -> bool {
    let head = jsonwebtoken::decode_header(token).unwrap();
    let Some(jwk) = set.find(head.kid.as_deref().unwrap()) else {
        return false;
    };
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = jsonwebtoken::Validation::new(head.alg);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[MANAGEMENT_AUDIENCE]);
    // The nodes' clock runs ahead of the real one here.
    validation.validate_exp = false;
    jsonwebtoken::decode::<Value>(token, &key, &validation).is_ok()
}

async fn accepted(node: &TestServer, token: &str) -> bool {
    node.call(Method::GET, "/api/v2/clients", token, None)
        .await
        .0
        == StatusCode::OK
}

#[tokio::test]
async fn a_rotation_on_one_node_is_published_everywhere_before_any_node_signs_with_it() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let url = database_url(dir.path()).await;
    let mut config = settings(url, dir.path().to_path_buf());
    config.jwks_max_age_secs = MAX_AGE as u32;
    let clock = ManualClock::starting_at(SystemClock.now());
    let a = TestServer::start_with_clock(config.clone(), dir.clone(), clock.clone()).await;
    let b = TestServer::start_with_clock(config, dir.clone(), clock.clone()).await;
    let started = clock.now();

    let old_token = a.admin_token(None).await;
    let old_kid = kid(&old_token);
    assert_eq!(kid(&b.admin_token(None).await), old_kid);
    let ((cache_a, before_a), (cache_b, before_b)) = (jwks(&a).await, jwks(&b).await);
    assert_eq!(cache_a, format!("public, max-age={MAX_AGE}"));
    assert_eq!(cache_b, cache_a);

    let (status, rotated) = a
        .call(
            Method::POST,
            "/api/v2/keys/signing/rotate",
            &old_token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rotated}");
    let new_kid = rotated["kid"].as_str().unwrap().to_string();
    assert_ne!(new_kid, old_kid);
    for (node, set) in [("A", &before_a), ("B", &before_b)] {
        assert!(
            set.find(&new_kid).is_some(),
            "node {node} published the promoted key before the rotation"
        );
    }

    // The key was published when the nodes started, just now: the switch waits until
    // every client's cached JWKS (fetched after a node's refresh) holds it.
    let switch = started + MAX_AGE + REFRESH;
    let (_, listed) = a
        .call(
            Method::GET,
            &format!("/api/v2/keys/signing/{new_kid}"),
            &old_token,
            None,
        )
        .await;
    assert_eq!(listed["next"], true, "{listed}");
    assert_eq!(
        listed["current_since"],
        castellan_core::oidc::claims::timestamp(switch)
    );
    // B learns the schedule at its next refresh; a refresh before the switch is certain.
    clock.advance(REFRESH);
    b.refresh_keys().await;
    let new_next = jwks(&a).await.1;
    let new_next: Vec<&str> = new_next
        .keys
        .iter()
        .filter_map(|k| k.common.key_id.as_deref())
        .filter(|k| before_a.find(k).is_none())
        .collect();
    assert_eq!(new_next.len(), 1, "the rotation published a new next key");
    assert!(jwks(&b).await.1.find(new_next[0]).is_some());

    clock.advance(switch - clock.now() - 1);
    for node in [&a, &b] {
        assert_eq!(
            kid(&node.admin_token(None).await),
            old_kid,
            "one second before the switch, every node signs with the old key"
        );
    }
    clock.advance(1);
    for node in [&a, &b] {
        let token = node.admin_token(None).await;
        assert_eq!(
            kid(&token),
            new_kid,
            "every node switches at the same moment"
        );
        for (other, set) in [("A", &before_a), ("B", &before_b)] {
            assert!(
                verifies(set, &token),
                "a token signed after the switch verifies with {other}'s JWKS from before the rotation"
            );
        }
        for peer in [&a, &b] {
            assert!(accepted(peer, &token).await);
            assert!(accepted(peer, &old_token).await, "old tokens still verify");
        }
    }

    // A token of the old key verifies until it expires, on either node.
    let old_expiry = claims(&old_token)["exp"].as_i64().unwrap();
    clock.advance(old_expiry - clock.now() - 1);
    a.refresh_keys().await;
    b.refresh_keys().await;
    for node in [&a, &b] {
        assert!(accepted(node, &old_token).await);
    }
    // The old key stays published until the last token it may have signed (a day, the
    // longest API token lifetime here, up to a refresh after the switch) has expired.
    let expiry = switch + 86_400 + REFRESH;
    clock.advance(expiry - clock.now() - 1);
    a.refresh_keys().await;
    b.refresh_keys().await;
    for node in [&a, &b] {
        assert!(jwks(node).await.1.find(&old_kid).is_some());
    }
    clock.advance(1);
    a.refresh_keys().await;
    b.refresh_keys().await;
    for node in [&a, &b] {
        let set = jwks(node).await.1;
        assert!(
            set.find(&old_kid).is_none(),
            "gone once its tokens have expired"
        );
        assert!(set.find(&new_kid).is_some());
    }
}
