//! The tenant's MFA settings through the Management API (`/guardian/policies`,
//! `/guardian/factors`), and who may call the MFA administration routes: the scope each
//! declares, named in its 403; the administrator holding them all; a user's own token
//! reaching its own enrollments only.

use crate::common;
use crate::mfa_management::{add_totp, entries_of_type, user};

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn the_tenant_policy_and_factors_are_read_and_set() {
    let server = TestServer::start().await;
    let (_, policies) = server.admin(Method::GET, "/guardian/policies", None).await;
    assert_eq!(policies, json!([]));
    for (body, says) in [
        (json!(["confidence-score"]), "adaptive MFA"),
        (json!(["sometimes"]), "[\"all-applications\"]"),
        (json!({"policies": []}), "Payload validation error"),
    ] {
        let (status, answer) = server
            .admin(Method::PUT, "/guardian/policies", Some(body.clone()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(says),
            "{answer}"
        );
    }
    let (_, unchanged) = server.admin(Method::GET, "/guardian/policies", None).await;
    assert_eq!(unchanged, json!([]));
    let (status, set) = server
        .admin(
            Method::PUT,
            "/guardian/policies",
            Some(json!(["all-applications"])),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(set, json!(["all-applications"]));
    let (_, read) = server.admin(Method::GET, "/guardian/policies", None).await;
    assert_eq!(read, json!(["all-applications"]));
    assert!(
        castellan_core::mfa::policy::always(server.running().state.store.as_ref())
            .await
            .unwrap()
    );

    let (_, factors) = server.admin(Method::GET, "/guardian/factors", None).await;
    assert_eq!(
        factors,
        json!([
            {"name": "otp", "enabled": true, "trial_expired": false},
            {"name": "webauthn-roaming", "enabled": true, "trial_expired": false},
            {"name": "webauthn-platform", "enabled": true, "trial_expired": false},
            {"name": "email", "enabled": false, "trial_expired": false},
            {"name": "recovery-code", "enabled": true, "trial_expired": false},
        ])
    );
    let (status, answer) = server
        .admin(
            Method::PUT,
            "/guardian/factors/email",
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!((status, answer), (StatusCode::OK, json!({"enabled": true})));
    let (status, answer) = server
        .admin(
            Method::PUT,
            "/guardian/factors/otp",
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(
        (status, answer),
        (StatusCode::OK, json!({"enabled": false}))
    );
    // Auth0's factors that Castellan lacks are off: off again is fine, on is refused.
    let (status, answer) = server
        .admin(
            Method::PUT,
            "/guardian/factors/sms",
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(
        (status, answer),
        (StatusCode::OK, json!({"enabled": false}))
    );
    let (status, answer) = server
        .admin(
            Method::PUT,
            "/guardian/factors/sms",
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("not supported")
    );
    let (status, answer) = server
        .admin(
            Method::PUT,
            "/guardian/factors/telepathy",
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    for body in [
        json!({}),
        json!({"enabled": "yes"}),
        json!({"enabled": true, "x": 1}),
    ] {
        let (status, answer) = server
            .admin(Method::PUT, "/guardian/factors/otp", Some(body.clone()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
    }
    let (_, factors) = server.admin(Method::GET, "/guardian/factors", None).await;
    let enabled: Vec<(String, bool)> = factors
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap().into(),
                f["enabled"].as_bool().unwrap(),
            )
        })
        .collect();
    assert!(enabled.contains(&("email".into(), true)));
    assert!(enabled.contains(&("otp".into(), false)));

    let audited = server.audit_entries_of("set_guardian_factor").await;
    assert_eq!(audited.len(), 2, "the refusals and the no-op wrote nothing");
    assert_eq!(server.audit_entries_of("set_mfa_policies").await.len(), 1);
    assert_eq!(entries_of_type(&server, "gd_tenant_update").await.len(), 3);
}

#[tokio::test]
async fn every_route_refuses_a_token_without_its_scope_naming_it() {
    let server = TestServer::start().await;
    let (id, path) = user(&server, "ada@example.com").await;
    let method_id = add_totp(&server, &path).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let user_path = format!("/api/v2/users/{}", encoded(&id));
    let one = format!("{user_path}/authentication-methods/{}", encoded(&method_id));
    let token = server.admin_token(Some("read:clients")).await;
    let methods = format!("{user_path}/authentication-methods");
    let cases: Vec<(Method, String, Option<Value>, &str)> = vec![
        (
            Method::GET,
            methods.clone(),
            None,
            "read:authentication_methods",
        ),
        (
            Method::POST,
            methods.clone(),
            Some(json!({"type": "email", "email": "a@b.c"})),
            "create:authentication_methods",
        ),
        (
            Method::DELETE,
            methods.clone(),
            None,
            "delete:authentication_methods",
        ),
        (
            Method::GET,
            one.clone(),
            None,
            "read:authentication_methods",
        ),
        (
            Method::DELETE,
            one.clone(),
            None,
            "delete:authentication_methods",
        ),
        (
            Method::GET,
            format!("{user_path}/enrollments"),
            None,
            "read:users,read:current_user",
        ),
        (
            Method::POST,
            format!("{user_path}/recovery-code-regeneration"),
            None,
            "update:users",
        ),
        (
            Method::POST,
            format!("{user_path}/multifactor/actions/invalidate-remember-browser"),
            None,
            "update:users",
        ),
        (
            Method::GET,
            "/api/v2/guardian/factors".into(),
            None,
            "read:guardian_factors",
        ),
        (
            Method::PUT,
            "/api/v2/guardian/factors/otp".into(),
            Some(json!({"enabled": false})),
            "update:guardian_factors",
        ),
        (
            Method::GET,
            "/api/v2/guardian/policies".into(),
            None,
            "read:mfa_policies",
        ),
        (
            Method::PUT,
            "/api/v2/guardian/policies".into(),
            Some(json!(["all-applications"])),
            "update:mfa_policies",
        ),
    ];
    for (method, path, body, scope) in cases {
        let (status, answer) = server.call(method.clone(), &path, &token, body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {answer}");
        assert_eq!(
            answer["message"],
            format!("Insufficient scope, expected any of: {scope}"),
            "{method} {path}"
        );
    }
    // Nothing changed.
    let (_, listed) = server.admin(Method::GET, &path, None).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let (_, policies) = server.admin(Method::GET, "/guardian/policies", None).await;
    assert_eq!(policies, json!([]));

    // Each scope alone is enough for its route.
    let reader = server
        .admin_token(Some("read:authentication_methods"))
        .await;
    let (status, _) = server.call(Method::GET, &one, &reader, None).await;
    assert_eq!(status, StatusCode::OK);
    let deleter = server
        .admin_token(Some("delete:authentication_methods"))
        .await;
    let (status, _) = server.call(Method::DELETE, &one, &deleter, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn the_admin_client_holds_the_mfa_scopes() {
    let server = TestServer::start().await;
    let token = server.admin_token(None).await;
    let granted = claims(&token)["scope"].as_str().unwrap().to_string();
    for scope in [
        "read:authentication_methods",
        "create:authentication_methods",
        "update:authentication_methods",
        "delete:authentication_methods",
        "read:guardian_factors",
        "update:guardian_factors",
        "delete:guardian_enrollments",
        "read:mfa_policies",
        "update:mfa_policies",
    ] {
        assert!(
            granted.split(' ').any(|s| s == scope),
            "{scope} missing from {granted}"
        );
    }
}

#[tokio::test]
async fn a_users_own_token_reads_its_own_enrollments_only() {
    let server = TestServer::start().await;
    let realm = "http://auth0.com/oauth/grant-type/password-realm";
    let (status, client) = server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "Web", "grant_types": [realm]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{client}");
    let (id, path) = user(&server, "ada@example.com").await;
    add_totp(&server, &path).await;
    let (other, _) = user(&server, "bob@example.com").await;
    let (status, tokens) = server
        .token_request(json!({
            "grant_type": realm, "realm": DATABASE, "username": "ada@example.com",
            "password": "correct horse battery", "audience": MANAGEMENT_AUDIENCE,
            "scope": "read:current_user", "client_id": client["client_id"],
            "client_secret": client["client_secret"],
        }))
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let token = tokens["access_token"].as_str().unwrap();

    let own = format!("/api/v2/users/{}/enrollments", encoded(&id));
    let (status, enrolled) = server.call(Method::GET, &own, token, None).await;
    assert_eq!(status, StatusCode::OK, "{enrolled}");
    assert_eq!(enrolled[0]["type"], "authenticator");
    let theirs = format!("/api/v2/users/{}/enrollments", encoded(&other));
    let (status, refused) = server.call(Method::GET, &theirs, token, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert_eq!(
        refused["message"],
        "Insufficient scope, expected any of: read:users"
    );
    // The methods themselves need read:authentication_methods, which a user never holds.
    let methods = format!("/api/v2{path}");
    let (status, _) = server.call(Method::GET, &methods, token, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
