//! `/api/v2/keys/signing`: Auth0's list, get, rotate and revoke, with their scopes, their
//! failures, and the audit trail.

use crate::common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::Value;

const LEAD: i64 = 300 + 30;

fn rs256(keys: &Value) -> Vec<&Value> {
    keys.as_array()
        .unwrap()
        .iter()
        .filter(|k| k["alg"] == "RS256")
        .collect()
}

fn find<'a>(keys: &'a [&'a Value], flag: &str) -> &'a Value {
    let found: Vec<&&Value> = keys.iter().filter(|k| k[flag] == true).collect();
    assert_eq!(found.len(), 1, "one {flag} key: {keys:?}");
    found[0]
}

#[tokio::test]
async fn list_get_rotate_and_revoke_as_auth0_has_them() {
    let server = TestServer::start().await;
    let (status, keys) = server.admin(Method::GET, "/keys/signing", None).await;
    assert_eq!(status, StatusCode::OK, "{keys}");
    assert_eq!(
        keys.as_array().unwrap().len(),
        6,
        "a current and a next key per algorithm"
    );
    let listed = rs256(&keys);
    let current = find(&listed, "current").clone();
    let next = find(&listed, "next").clone();
    for key in [&current, &next] {
        assert!(
            key["cert"]
                .as_str()
                .unwrap()
                .starts_with("-----BEGIN PUBLIC KEY-----\r\n"),
            "{key}"
        );
        let thumbprint = key["thumbprint"].as_str().unwrap();
        assert_eq!(thumbprint.len(), 64);
        assert_eq!(
            key["fingerprint"].as_str().unwrap().replace(':', ""),
            thumbprint
        );
        assert_eq!(
            (key["previous"].clone(), key["revoked"].clone()),
            (false.into(), false.into())
        );
    }
    assert!(current["current_since"].is_string() && current.get("current_until").is_none());
    assert!(next.get("current_since").is_none(), "{next}");
    let old_kid = current["kid"].as_str().unwrap();
    let next_kid = next["kid"].as_str().unwrap();
    let (status, one) = server
        .admin(Method::GET, &format!("/keys/signing/{next_kid}"), None)
        .await;
    assert_eq!((status, &one), (StatusCode::OK, &next));

    // The current and next keys cannot be revoked.
    for kid in [old_kid, next_kid] {
        let (status, body) = server
            .admin(Method::PUT, &format!("/keys/signing/{kid}/revoke"), None)
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("previously used")
        );
    }

    let old_token = server.admin_token(None).await;
    let (status, rotated) = server
        .admin(Method::POST, "/keys/signing/rotate", None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rotated}");
    assert_eq!(rotated["kid"], next_kid, "the next key is promoted");
    assert_eq!(rotated["cert"], next["cert"]);
    let now = castellan_core::clock::Clock::now(&server.clock);
    assert_eq!(
        rotated["current_since"],
        castellan_core::oidc::claims::timestamp(now + LEAD),
        "scheduled: the next key was published just now"
    );
    let (_, keys) = server.admin(Method::GET, "/keys/signing", None).await;
    let listed = rs256(&keys);
    assert_eq!(listed.len(), 3);
    assert_eq!(find(&listed, "current")["kid"], old_kid, "until the switch");
    assert_eq!(
        listed.iter().filter(|k| k["next"] == true).count(),
        2,
        "the scheduled key and the new next key"
    );
    let (status, body) = server
        .admin(
            Method::PUT,
            &format!("/keys/signing/{old_kid}/revoke"),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "still current until the switch: {body}"
    );

    server.clock.advance(LEAD);
    let (_, keys) = server.admin(Method::GET, "/keys/signing", None).await;
    let listed = rs256(&keys);
    assert_eq!(find(&listed, "current")["kid"], next_kid);
    let previous = find(&listed, "previous");
    assert_eq!(previous["kid"], old_kid);
    assert_eq!(previous["current_until"], rotated["current_since"]);
    let new_next = find(&listed, "next")["kid"].as_str().unwrap().to_string();

    // The new next key has now been published long enough: this rotation is immediate.
    let (status, again) = server
        .admin(Method::POST, "/keys/signing/rotate", None)
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(again["kid"], new_next.as_str());
    assert_eq!(
        again["current_since"],
        castellan_core::oidc::claims::timestamp(now + LEAD)
    );
    assert_eq!(
        header(&server.admin_token(None).await)["kid"],
        new_next.as_str()
    );

    assert_eq!(
        server
            .call(Method::GET, "/api/v2/clients", &old_token, None)
            .await
            .0,
        StatusCode::OK
    );
    let (status, revoked) = server
        .admin(
            Method::PUT,
            &format!("/keys/signing/{old_kid}/revoke"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert_eq!(revoked["kid"], old_kid);
    assert_eq!(revoked["cert"], current["cert"]);
    let jwks: Value = server.get_json("/.well-known/jwks.json").await;
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["kid"] != old_kid),
        "a revoked key leaves the JWKS"
    );
    let (status, _) = server
        .call(Method::GET, "/api/v2/clients", &old_token, None)
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "its tokens stop verifying"
    );
    let (_, shown) = server
        .admin(Method::GET, &format!("/keys/signing/{old_kid}"), None)
        .await;
    assert_eq!(
        (shown["revoked"].clone(), shown["previous"].clone()),
        (true.into(), false.into())
    );
    assert!(shown["revoked_at"].is_string());

    let (_, logs) = server
        .admin(
            Method::GET,
            "/logs?q=type:sapi&sort=date:1&per_page=100",
            None,
        )
        .await;
    let actions: Vec<&str> = logs
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["details"]["action"].as_str())
        .filter(|a| a.contains("signing_key"))
        .collect();
    assert_eq!(
        actions,
        [
            "rotate_signing_key",
            "rotate_signing_key",
            "revoke_signing_key"
        ]
    );
}

#[tokio::test]
async fn failures_scopes_and_other_algorithms() {
    let server = TestServer::start().await;
    let (status, body) = server.admin(Method::GET, "/keys/signing/nokid", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = server
        .admin(Method::PUT, "/keys/signing/nokid/revoke", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = server
        .admin(Method::POST, "/keys/signing/rotate?alg=HS256", None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let (status, rotated) = server
        .admin(Method::POST, "/keys/signing/rotate?alg=ES256", None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rotated}");
    let (_, key) = server
        .admin(
            Method::GET,
            &format!("/keys/signing/{}", rotated["kid"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(key["alg"], "ES256");

    let reader = server.admin_token(Some("read:signing_keys")).await;
    let other = server.admin_token(Some("read:clients")).await;
    let kid = rotated["kid"].as_str().unwrap();
    for (token, method, path, scope) in [
        (
            &other,
            Method::GET,
            "/api/v2/keys/signing".to_string(),
            "read:signing_keys",
        ),
        (
            &other,
            Method::GET,
            format!("/api/v2/keys/signing/{kid}"),
            "read:signing_keys",
        ),
        (
            &reader,
            Method::POST,
            "/api/v2/keys/signing/rotate".to_string(),
            "create:signing_keys",
        ),
        (
            &reader,
            Method::PUT,
            format!("/api/v2/keys/signing/{kid}/revoke"),
            "update:signing_keys",
        ),
    ] {
        let (status, body) = server.call(method, &path, token, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        assert_eq!(
            body["message"],
            format!("Insufficient scope, expected any of: {scope}")
        );
    }
    let (status, _) = server
        .call(Method::GET, "/api/v2/keys/signing", &reader, None)
        .await;
    assert_eq!(status, StatusCode::OK);

    let openapi: Value = server.get_json("/api/v2/openapi.json").await;
    for (path, method, scope) in [
        ("/keys/signing", "get", "read:signing_keys"),
        ("/keys/signing/rotate", "post", "create:signing_keys"),
        ("/keys/signing/{kid}", "get", "read:signing_keys"),
        ("/keys/signing/{kid}/revoke", "put", "update:signing_keys"),
    ] {
        assert_eq!(
            openapi["paths"][path][method]["x-required-scopes"]["any_of"][0], scope,
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_rotation_is_audited_in_its_transaction_without_key_material() {
    let server = TestServer::start().await;
    let (status, rotated) = server
        .admin(Method::POST, "/keys/signing/rotate", None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rotated}");
    let kid = rotated["kid"].as_str().unwrap();
    let (_, keys) = server.admin(Method::GET, "/keys/signing", None).await;
    // The promoted key waits for its scheduled start; the new one has none.
    let next = rs256(&keys)
        .into_iter()
        .find(|k| k.get("current_since").is_none())
        .unwrap()
        .clone();

    let entries: Vec<Value> = server
        .sapi_entries()
        .await
        .into_iter()
        .filter(|e| e["details"]["action"] == "rotate_signing_key")
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let details = &entries[0]["details"];
    assert_eq!(entries[0]["description"], "Rotate the RS256 signing key");
    assert_eq!(details["target"], serde_json::json!({"kid": kid}));
    assert_eq!(details["changes"]["alg"], "RS256");
    assert_eq!(details["changes"]["next"], next["kid"]);
    assert_eq!(details["actor"]["type"], "client");
    assert!(details["request_id"].is_string(), "{details}");
    let mut fields: Vec<&String> = details["changes"].as_object().unwrap().keys().collect();
    fields.sort();
    assert_eq!(fields, ["alg", "current_since", "next"]);
    let text = entries[0].to_string();
    for key in rs256(&keys) {
        let pem = key["cert"].as_str().unwrap();
        let body = pem.lines().nth(1).unwrap().trim();
        assert!(!text.contains(body), "no key material in {text}");
    }
    assert!(!text.contains("BEGIN"), "{text}");
}
