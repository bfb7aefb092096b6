//! A user's multi-factor authentication as administrators manage it through the
//! Management API: authentication methods (`/users/{id}/authentication-methods`,
//! `/enrollments`), the recovery code and remembered browsers; every change audited, every
//! refusal changing nothing. The tenant's settings and the routes' scopes are in
//! `mfa_guardian`, the console in `mfa_console`, `export`/`apply` in `mfa_config`.

use crate::common;

use castellan_core::clock::Clock;
use castellan_core::mfa::{recovery_code, totp};
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A known TOTP key: "Hello!" and four more bytes, base32.
pub(crate) const TOTP_SECRET: &str = "JBSWY3DPEHPK3PXP";

pub(crate) async fn user(server: &TestServer, email: &str) -> (String, String) {
    let created = server.create_user(email, json!({})).await;
    let id = created["user_id"].as_str().unwrap().to_string();
    let path = format!("/users/{}/authentication-methods", encoded(&id));
    (id, path)
}

pub(crate) async fn add_totp(server: &TestServer, path: &str) -> Value {
    let (status, body) = server
        .admin(
            Method::POST,
            path,
            Some(json!({"type": "totp", "totp_secret": TOTP_SECRET, "name": "Phone"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

/// The log entries of `event_type`, oldest first.
pub(crate) async fn entries_of_type(server: &TestServer, event_type: &str) -> Vec<Value> {
    let (status, logs) = server
        .admin(
            Method::GET,
            &format!("/logs?q=type:{event_type}&sort=date:1&per_page=100"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{logs}");
    logs.as_array().unwrap().clone()
}

#[tokio::test]
async fn methods_are_created_listed_read_and_deleted_in_auth0_shape() {
    let server = TestServer::start().await;
    let (id, path) = user(&server, "ada@example.com").await;
    let (_, none) = server.admin(Method::GET, &path, None).await;
    assert_eq!(none, json!([]));

    let created = add_totp(&server, &path).await;
    let method_id = created["id"].as_str().unwrap().to_string();
    assert!(method_id.starts_with("totp|dev_"), "{created}");
    assert_eq!(created["type"], "totp");
    assert_eq!(created["confirmed"], true);
    assert_eq!(created["name"], "Phone");
    assert!(
        created.get("totp_secret").is_none(),
        "the key is never shown back"
    );
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));

    // The key is kept sealed under the method's id, and opens to the key given.
    let state = &server.running().state;
    let stored = state
        .store
        .find_authenticator(&id, &method_id)
        .await
        .unwrap()
        .unwrap();
    let sealed = stored.secret.unwrap();
    assert!(!sealed.contains(TOTP_SECRET));
    let key = state.master_key.open(&sealed, &method_id).unwrap();
    assert_eq!(totp::base32(&key), TOTP_SECRET);

    // Listed oldest first.
    server.clock.advance(1);
    let (status, email) = server
        .admin(
            Method::POST,
            &path,
            Some(json!({"type": "email", "email": "Ada@Example.com"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{email}");
    assert_eq!(email["email"], "ada@example.com");

    let (status, listed) = server.admin(Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::OK);
    let types: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["totp", "email"]);
    let (_, paged) = server
        .admin(
            Method::GET,
            &format!("{path}?per_page=1&page=1&include_totals=true"),
            None,
        )
        .await;
    assert_eq!(paged["total"], 2);
    assert_eq!(paged["authenticators"][0]["type"], "email");

    let one = format!("{path}/{}", encoded(&method_id));
    let (status, read) = server.admin(Method::GET, &one, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read, created);

    // The user now shows Auth0's `multifactor`.
    let (_, profile) = server
        .admin(Method::GET, &format!("/users/{}", encoded(&id)), None)
        .await;
    assert_eq!(profile["multifactor"], json!(["guardian"]));
    // And so do lists of users, read for the whole page at once.
    server.create_user("bob@example.com", json!({})).await;
    let (_, listed) = server.admin(Method::GET, "/users?sort=email:1", None).await;
    let shown: Vec<(&str, &Value)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["email"].as_str().unwrap(), &u["multifactor"]))
        .collect();
    assert_eq!(
        shown,
        [
            ("ada@example.com", &json!(["guardian"])),
            ("bob@example.com", &Value::Null)
        ]
    );
    let (_, by_email) = server
        .admin(Method::GET, "/users-by-email?email=ada@example.com", None)
        .await;
    assert_eq!(by_email[0]["multifactor"], json!(["guardian"]));

    let (status, _) = server.admin(Method::DELETE, &one, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, gone) = server.admin(Method::GET, &one, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{gone}");
    assert_eq!(gone["message"], "The authentication method does not exist.");
    let (status, _) = server.admin(Method::DELETE, &one, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, profile) = server
        .admin(Method::GET, &format!("/users/{}", encoded(&id)), None)
        .await;
    assert_eq!(
        profile["multifactor"],
        json!(["guardian"]),
        "the email factor still counts"
    );
}

#[tokio::test]
async fn bad_bodies_and_unknown_users_are_refused_and_change_nothing() {
    let server = TestServer::start().await;
    let (_, path) = user(&server, "ada@example.com").await;
    for (body, expected, says) in [
        (
            json!({"type": "phone", "phone_number": "+15551234567"}),
            StatusCode::BAD_REQUEST,
            "supported types: totp, email",
        ),
        (
            json!({"type": "webauthn-roaming", "public_key": "x", "key_id": "y"}),
            StatusCode::BAD_REQUEST,
            "supported types: totp, email",
        ),
        (
            json!({"type": "carrier-pigeon"}),
            StatusCode::BAD_REQUEST,
            "type must be one of: totp, email",
        ),
        (
            json!({"type": "totp"}),
            StatusCode::BAD_REQUEST,
            "totp_secret is required",
        ),
        (
            json!({"type": "totp", "totp_secret": "not base32!"}),
            StatusCode::BAD_REQUEST,
            "base32",
        ),
        (
            json!({"type": "totp", "totp_secret": "JBSWY3DP"}),
            StatusCode::BAD_REQUEST,
            "80",
        ),
        (
            json!({"type": "totp", "totp_secret": TOTP_SECRET, "email": "a@b.c"}),
            StatusCode::BAD_REQUEST,
            "email is not taken",
        ),
        (
            json!({"type": "totp", "totp_secret": TOTP_SECRET, "phone_number": "+1555"}),
            StatusCode::BAD_REQUEST,
            "phone_number is not taken",
        ),
        (
            json!({"type": "totp", "totp_secret": TOTP_SECRET, "name": "a name longer than twenty"}),
            StatusCode::BAD_REQUEST,
            "at most 20",
        ),
        (
            json!({"type": "email"}),
            StatusCode::BAD_REQUEST,
            "email is required",
        ),
        (
            json!({"type": "email", "email": "nobody"}),
            StatusCode::BAD_REQUEST,
            "not a valid address",
        ),
        (
            json!({"type": "email", "email": "a@b.c", "surprise": 1}),
            StatusCode::BAD_REQUEST,
            "surprise",
        ),
        (
            json!(["totp"]),
            StatusCode::BAD_REQUEST,
            "Payload validation error",
        ),
    ] {
        let (status, answer) = server.admin(Method::POST, &path, Some(body.clone())).await;
        assert_eq!(status, expected, "{body}: {answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains(says), "{body}: {message}");
    }
    let (_, none) = server.admin(Method::GET, &path, None).await;
    assert_eq!(none, json!([]), "nothing was written");

    add_totp(&server, &path).await;
    let (status, twice) = server
        .admin(
            Method::POST,
            &path,
            Some(json!({"type": "totp", "totp_secret": TOTP_SECRET})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{twice}");

    let nobody = "/users/auth0%7Cnobody";
    for (method, suffix, body) in [
        (Method::GET, "/authentication-methods", None),
        (
            Method::POST,
            "/authentication-methods",
            Some(json!({"type": "totp", "totp_secret": TOTP_SECRET})),
        ),
        (Method::DELETE, "/authentication-methods", None),
        (Method::GET, "/authentication-methods/totp%7Cdev_x", None),
        (Method::DELETE, "/authentication-methods/totp%7Cdev_x", None),
        (Method::GET, "/enrollments", None),
        (Method::POST, "/recovery-code-regeneration", None),
        (
            Method::POST,
            "/multifactor/actions/invalidate-remember-browser",
            None,
        ),
    ] {
        let (status, answer) = server
            .admin(method.clone(), &format!("{nobody}{suffix}"), body)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {suffix}: {answer}");
        assert_eq!(answer["errorCode"], "inexistent_user", "{method} {suffix}");
    }
    assert!(
        server
            .sapi_entries()
            .await
            .iter()
            .all(|e| !e["details"]["action"]
                .as_str()
                .unwrap()
                .contains("authentication_method")
                || e["details"]["changes"]["type"] == "totp"),
        "only the one accepted method was audited"
    );
    assert_eq!(
        server
            .audit_entries_of("create_authentication_method")
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn enrollments_recovery_code_and_a_reset() {
    let server = TestServer::start().await;
    let (id, path) = user(&server, "ada@example.com").await;
    let user_path = format!("/users/{}", encoded(&id));

    // No second factor: nothing enrolled, no recovery code to regenerate (Auth0's 404).
    let (_, none) = server
        .admin(Method::GET, &format!("{user_path}/enrollments"), None)
        .await;
    assert_eq!(none, json!([]));
    let (status, answer) = server
        .admin(
            Method::POST,
            &format!("{user_path}/recovery-code-regeneration"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");

    let created = add_totp(&server, &path).await;
    let (_, enrolled) = server
        .admin(Method::GET, &format!("{user_path}/enrollments"), None)
        .await;
    assert_eq!(enrolled.as_array().unwrap().len(), 1, "{enrolled}");
    assert_eq!(enrolled[0]["id"], created["id"]);
    assert_eq!(enrolled[0]["status"], "confirmed");
    assert_eq!(enrolled[0]["type"], "authenticator");
    assert_eq!(enrolled[0]["auth_method"], "authenticator");
    assert_eq!(enrolled[0]["name"], "Phone");

    let mut codes = Vec::new();
    for _ in 0..2 {
        let (status, body) = server
            .admin(
                Method::POST,
                &format!("{user_path}/recovery-code-regeneration"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        codes.push(body["recovery_code"].as_str().unwrap().to_string());
    }
    assert_ne!(codes[0], codes[1]);
    let (_, listed) = server.admin(Method::GET, &path, None).await;
    let recovery: Vec<&Value> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["type"] == "recovery-code")
        .collect();
    assert_eq!(recovery.len(), 1, "one recovery code, replaced: {listed}");
    let stored = server
        .running()
        .state
        .store
        .find_authenticator(&id, recovery[0]["id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    let digest = stored.secret.unwrap();
    assert!(
        recovery_code::matches(&codes[1], &digest),
        "the new code is kept as its digest"
    );
    assert!(
        !recovery_code::matches(&codes[0], &digest),
        "the old code no longer works"
    );
    assert!(!digest.contains(&codes[1]));

    // A reset removes every method and forgets remembered browsers.
    server.clock.advance(60);
    let now = server.clock.now();
    let (status, _) = server.admin(Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, after) = server.admin(Method::GET, &path, None).await;
    assert_eq!(after, json!([]));
    let store = &server.running().state.store;
    assert_eq!(store.remember_not_before(&id).await.unwrap(), Some(now));

    let reset = server
        .audit_entries_of("delete_authentication_methods")
        .await;
    assert_eq!(reset.len(), 1);
    assert_eq!(reset[0]["details"]["changes"], json!({"methods": 2}));
    let regenerated = server.audit_entries_of("regenerate_recovery_code").await;
    assert_eq!(regenerated.len(), 2);
    for entry in server.sapi_entries().await {
        let text = entry.to_string();
        assert!(
            !text.contains(&codes[1]) && !text.contains(TOTP_SECRET),
            "no secret in the log"
        );
    }
    let gd = entries_of_type(&server, "gd_user_delete").await;
    assert_eq!(gd.len(), 1, "Auth0's code for the reset is logged too");
    assert_eq!(gd[0]["user_id"], id);
}

#[tokio::test]
async fn remembered_browsers_are_forgotten_at_the_clocks_time() {
    let server = TestServer::start().await;
    let (id, _) = user(&server, "ada@example.com").await;
    let path = format!(
        "/users/{}/multifactor/actions/invalidate-remember-browser",
        encoded(&id)
    );
    let store = &server.running().state.store;
    assert_eq!(store.remember_not_before(&id).await.unwrap(), None);
    server.clock.advance(3600);
    let (status, body) = server.admin(Method::POST, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(
        store.remember_not_before(&id).await.unwrap(),
        Some(server.clock.now())
    );
    let audited = server.audit_entries_of("invalidate_remember_browser").await;
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0]["details"]["target"]["user_id"], id);
}

#[tokio::test]
async fn a_reset_is_refused_while_the_user_has_a_passkey_as_on_auth0() {
    let server = TestServer::start().await;
    let (id, path) = user(&server, "ada@example.com").await;
    add_totp(&server, &path).await;
    // Passkeys are enrolled at log-in, not through this API: put one in the store.
    let mut passkey = castellan_core::model::Authenticator::new(
        &id,
        castellan_core::model::AuthenticatorKind::Passkey,
        server.clock.now(),
    );
    passkey.confirmed = true;
    let store = &server.running().state.store;
    store.create_authenticator(&passkey).await.unwrap();

    let (status, answer) = server.admin(Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert_eq!(answer["errorCode"], "operation_not_allowed");
    assert!(answer["message"].as_str().unwrap().contains("passkey"));
    let (_, kept) = server.admin(Method::GET, &path, None).await;
    assert_eq!(kept.as_array().unwrap().len(), 2, "nothing removed");
    assert!(
        server
            .audit_entries_of("delete_authentication_methods")
            .await
            .is_empty()
    );

    let one = format!("{path}/{}", encoded(&passkey.id));
    let (status, _) = server.admin(Method::DELETE, &one, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let deleted = server
        .audit_entries_of("delete_authentication_method")
        .await;
    assert_eq!(deleted.len(), 1);
    assert_eq!(
        deleted[0]["details"]["target"],
        json!({"user_id": id, "authentication_method_id": passkey.id})
    );
    assert_eq!(deleted[0]["details"]["changes"], json!({"type": "passkey"}));
    assert_eq!(entries_of_type(&server, "gd_unenroll").await.len(), 1);
    let (status, _) = server.admin(Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}
