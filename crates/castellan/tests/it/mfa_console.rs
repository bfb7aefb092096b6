//! Multi-factor authentication in the admin console: a user's factors listed, removed one
//! by one and reset, remembered browsers forgotten, and the tenant's policy and factors as
//! a settings page; each change audited with the administrator, a forged form refused.

use crate::common;
use crate::console::signed_in;

use castellan_core::clock::Clock;
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn user_with_factors(server: &TestServer) -> (String, String, Vec<String>) {
    let created = server.create_user("ada@example.com", json!({})).await;
    let id = created["user_id"].as_str().unwrap().to_string();
    let api = format!("/users/{}/authentication-methods", encoded(&id));
    let mut ids = Vec::new();
    for body in [
        json!({"type": "totp", "totp_secret": "JBSWY3DPEHPK3PXP", "name": "Work phone"}),
        json!({"type": "email", "email": "ada.codes@example.com"}),
    ] {
        let (status, made) = server.admin(Method::POST, &api, Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        ids.push(made["id"].as_str().unwrap().to_string());
        server.clock.advance(1);
    }
    (id, api, ids)
}

fn actor_of(entry: &Value) -> &Value {
    &entry["details"]["actor"]
}

#[tokio::test]
async fn the_user_page_lists_factors_removes_one_and_resets_them() {
    let server = TestServer::start().await;
    let (mut browser, admin_id) = signed_in(&server).await;
    let (id, api, methods) = user_with_factors(&server).await;
    let page_path = format!("/admin/users/{}", encoded(&id));

    let page = browser.get(&page_path).await;
    assert_eq!(page.status, StatusCode::OK);
    for text in [
        "Work phone",
        "ada.codes@example.com",
        "totp",
        "email",
        "Reset MFA",
        "Forget remembered browsers",
    ] {
        assert!(page.body.contains(text), "{text} missing");
    }
    let csrf = page.field("csrf");

    // A form without the session's token changes nothing.
    let forged = browser
        .post(&format!("{page_path}/mfa/reset"), &[("csrf", "forged")])
        .await;
    assert!(
        !forged.status.is_success() && !forged.status.is_redirection(),
        "{}",
        forged.status
    );
    let (_, still) = server.admin(Method::GET, &api, None).await;
    assert_eq!(still.as_array().unwrap().len(), 2);

    // An unknown method is a 404 page, and nothing changes.
    let unknown = browser
        .post(
            &format!("{page_path}/mfa/remove"),
            &[("csrf", &csrf), ("method", "totp|dev_nope")],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.body);

    let removed = browser
        .post(
            &format!("{page_path}/mfa/remove"),
            &[("csrf", &csrf), ("method", &methods[0])],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.body);
    assert!(removed.next().starts_with(&page_path));
    let (_, left) = server.admin(Method::GET, &api, None).await;
    assert_eq!(left.as_array().unwrap().len(), 1);
    assert_eq!(left[0]["id"], methods[1]);

    server.clock.advance(10);
    let forgot = browser
        .post(
            &format!("{page_path}/mfa/forget-browsers"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(forgot.status, StatusCode::SEE_OTHER, "{}", forgot.body);
    let store = &server.running().state.store;
    assert_eq!(
        store.remember_not_before(&id).await.unwrap(),
        Some(server.clock.now())
    );

    let reset = browser
        .post(&format!("{page_path}/mfa/reset"), &[("csrf", &csrf)])
        .await;
    assert_eq!(reset.status, StatusCode::SEE_OTHER, "{}", reset.body);
    let after = browser.get(&reset.next()).await;
    assert!(
        after.body.contains("Multi-factor authentication is reset"),
        "{}",
        after.body
    );
    assert!(after.body.contains("No factors enrolled."));
    let (_, none) = server.admin(Method::GET, &api, None).await;
    assert_eq!(none, json!([]));

    for action in [
        "delete_authentication_method",
        "invalidate_remember_browser",
        "delete_authentication_methods",
    ] {
        let entries: Vec<Value> = server
            .sapi_entries()
            .await
            .into_iter()
            .filter(|e| e["details"]["action"] == action)
            .collect();
        assert_eq!(entries.len(), 1, "{action}");
        assert_eq!(
            actor_of(&entries[0]),
            &json!({"type": "user", "id": admin_id}),
            "{action}"
        );
        assert_eq!(entries[0]["details"]["target"]["user_id"], id);
    }
}

#[tokio::test]
async fn the_settings_page_sets_the_policy_and_the_factors() {
    let server = TestServer::start().await;
    let (mut browser, admin_id) = signed_in(&server).await;
    let page = browser.get("/admin/mfa").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains("href=\"/admin/mfa\" aria-current=\"page\""),
        "linked from the navigation"
    );
    let csrf = page.field("csrf");

    let bad = browser
        .post(
            "/admin/mfa/policy",
            &[("csrf", &csrf), ("policy", "sometimes")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("never or always"), "{}", bad.body);
    let bad = browser
        .post(
            "/admin/mfa/factors",
            &[("csrf", &csrf), ("name", "sms"), ("enabled", "true")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("not supported"), "{}", bad.body);
    let (_, policies) = server.admin(Method::GET, "/guardian/policies", None).await;
    assert_eq!(policies, json!([]));

    let saved = browser
        .post(
            "/admin/mfa/policy",
            &[("csrf", &csrf), ("policy", "always")],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(saved.next(), "/admin/mfa?done=saved");
    let (_, policies) = server.admin(Method::GET, "/guardian/policies", None).await;
    assert_eq!(policies, json!(["all-applications"]));

    let switched = browser
        .post(
            "/admin/mfa/factors",
            &[("csrf", &csrf), ("name", "email"), ("enabled", "true")],
        )
        .await;
    assert_eq!(switched.status, StatusCode::SEE_OTHER, "{}", switched.body);
    let (_, factors) = server.admin(Method::GET, "/guardian/factors", None).await;
    let email = factors
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "email")
        .unwrap();
    assert_eq!(email["enabled"], true);
    let shown = browser.get("/admin/mfa").await;
    assert!(
        shown.body.contains("value=\"always\" checked"),
        "{}",
        shown.body
    );

    for action in ["set_mfa_policies", "set_guardian_factor"] {
        let entries = server.audit_entries_of(action).await;
        assert_eq!(entries.len(), 1, "{action}");
    }
    let actors: Vec<Value> = server
        .sapi_entries()
        .await
        .into_iter()
        .filter(|e| e["details"]["action"].as_str().unwrap().starts_with("set_"))
        .map(|e| e["details"]["actor"].clone())
        .collect();
    assert!(
        actors
            .iter()
            .all(|a| a == &json!({"type": "user", "id": admin_id})),
        "{actors:?}"
    );
}
