//! When a factor is asked (rules, the tenant's policy, refreshes), and what a token that
//! passed one may do (remove a factor, enrol another), also from a browser app.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::*;

#[tokio::test]
async fn a_rule_asks_for_mfa_and_provider_none_turns_the_policy_off() {
    let app = app(false).await;
    let discovery: Value = app
        .server
        .get_json("/.well-known/openid-configuration")
        .await;
    assert_eq!(
        discovery["mfa_challenge_endpoint"],
        format!("{ISSUER}mfa/challenge")
    );
    assert!(
        discovery["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&json!(OTP))
    );
    let (status, body) = app.login_with(json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.server
        .add_rule("mfa", "function (user, context, callback) { context.multifactor = {provider: 'any', allowRememberBrowser: false}; callback(null, user, context); }")
        .await;
    app.mfa_token().await;
    let (_, rules) = app.server.admin(Method::GET, "/rules", None).await;
    let id = rules[0]["id"].as_str().unwrap();
    app.server
        .admin(Method::DELETE, &format!("/rules/{id}"), None)
        .await;
    app.setting("guardian.policies", json!(["all-applications"]))
        .await;
    app.mfa_token().await;
    // The plain password grant too.
    let (status, body) = app
        .login_with(json!({"grant_type": "password", "realm": null}))
        .await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::FORBIDDEN, &json!("mfa_required")),
        "{body}"
    );
    app.server
        .add_rule("skip", "function (user, context, callback) { context.multifactor = {provider: 'none'}; callback(null, user, context); }")
        .await;
    let (status, body) = app.login_with(json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn removing_a_factor_needs_a_token_that_passed_one() {
    let app = app(false).await;
    // The MFA audience always asks for a factor; a user with none enrols one first.
    let audience = format!("{ISSUER}mfa/");
    let ask =
        json!({"audience": audience, "scope": "enroll read:authenticators remove:authenticators"});
    let (status, body) = app.login_with(ask.clone()).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::FORBIDDEN, &json!("mfa_required"))
    );
    let mfa_token = body["mfa_token"].as_str().unwrap().to_owned();
    app.associate_otp(&mfa_token).await;
    let (status, tokens) = app
        .grant(
            OTP,
            json!({"mfa_token": mfa_token, "otp": app.code().await}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(claims(access)["aud"], json!(audience));
    let (_, listed) = app
        .bearer(Method::GET, "/mfa/authenticators", access, None)
        .await;
    let otp_id = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["authenticator_type"] == "otp")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // With `enroll`, a user who has a factor may add another (the mfa_token may not).
    let email = json!({"authenticator_types": ["otp"]});
    let (status, body) = app
        .bearer(Method::POST, "/mfa/associate", access, Some(email))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("recovery_codes").is_none(), "given once: {body}");
    let path = format!("/mfa/authenticators/{}", otp_id.replace('|', "%7C"));
    // An mfa_token proves the password only.
    let (status, body) = app.bearer(Method::DELETE, &path, &mfa_token, None).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::FORBIDDEN, &json!("insufficient_scope"))
    );
    let (status, _) = app.bearer(Method::DELETE, &path, access, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.bearer(Method::DELETE, &path, access, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, listed) = app
        .bearer(Method::GET, "/mfa/authenticators", access, None)
        .await;
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["id"] != otp_id.as_str()),
        "{listed}"
    );
    assert!(app.log_types().await.iter().any(|t| t == "gd_unenroll"));
}

/// A refresh is asked for a factor when its scripts ask, unless its family began with one:
/// a family from before the rule answers `mfa_required`, and the family the MFA grant
/// starts refreshes without being asked again. The tenant's policy applies to log-ins only.
#[tokio::test]
async fn refreshes_are_asked_unless_their_family_began_with_a_factor() {
    let app = app(false).await;
    let (status, before) = app.login_with(json!({})).await;
    assert_eq!(status, StatusCode::OK, "{before}");
    app.setting("guardian.policies", json!(["all-applications"]))
        .await;
    let refresh = |token: &Value| json!({"refresh_token": token.clone()});
    let (status, body) = app
        .grant("refresh_token", refresh(&before["refresh_token"]))
        .await;
    assert_eq!(status, StatusCode::OK, "the policy is for log-ins: {body}");
    app.server
        .add_rule("mfa", "function (user, context, callback) { context.multifactor = {provider: 'any'}; callback(null, user, context); }")
        .await;
    let (status, body) = app
        .grant("refresh_token", refresh(&before["refresh_token"]))
        .await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::FORBIDDEN, &json!("mfa_required")),
        "{body}"
    );
    let mfa_token = body["mfa_token"].as_str().unwrap();
    app.associate_otp(mfa_token).await;
    let (status, after) = app
        .grant(
            OTP,
            json!({"mfa_token": mfa_token, "otp": app.code().await}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{after}");
    let mut token = after["refresh_token"].clone();
    for _ in 0..2 {
        let (status, body) = app.grant("refresh_token", refresh(&token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        token = body.get("refresh_token").cloned().unwrap_or(token);
    }
}

/// A single-page app calls the MFA API from its own origin, DELETE included; other
/// origins are not admitted.
#[tokio::test]
async fn browser_apps_reach_the_mfa_api_from_their_origin() {
    let app = app(false).await;
    let (status, _) = app
        .server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "SPA", "app_type": "spa", "web_origins": ["https://spa.example"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    for (origin, admitted) in [
        ("https://spa.example", true),
        ("https://evil.example", false),
    ] {
        for (path, method) in [
            ("/mfa/authenticators/totp%7Cdev_x", "DELETE"),
            ("/mfa/challenge", "POST"),
        ] {
            let response = app
                .server
                .http
                .request(Method::OPTIONS, app.server.url(path))
                .header("Origin", origin)
                .header("Access-Control-Request-Method", method)
                .send()
                .await
                .unwrap();
            let allowed = response
                .headers()
                .get("access-control-allow-origin")
                .cloned();
            assert_eq!(allowed.is_some(), admitted, "{origin} {path}");
            if admitted {
                let methods = response.headers()["access-control-allow-methods"]
                    .to_str()
                    .unwrap();
                assert!(methods.contains(method), "{methods}");
            }
        }
    }
}

/// Each endpoint's refusals, in the Authentication API's shape; none changes the factors.
#[tokio::test]
async fn the_mfa_endpoints_refuse_bad_requests_and_change_nothing() {
    let app = app(true).await;
    let mfa_token = app.mfa_token().await;
    let http = &app.server.http;
    let (status, body) = app
        .bearer(Method::GET, "/mfa/authenticators", "garbage", None)
        .await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::UNAUTHORIZED, &json!("invalid_token"))
    );
    let response = http
        .get(app.server.url("/mfa/authenticators"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    for (body, why) in [
        (json!({}), "no authenticator_types"),
        (json!({"authenticator_types": []}), "empty"),
        (
            json!({"authenticator_types": ["otp", "oob"]}),
            "two at once",
        ),
        (json!({"authenticator_types": ["push"]}), "unknown type"),
        (
            json!({"authenticator_types": ["oob"], "oob_channels": ["sms"], "phone_number": "+15551234567"}),
            "sms",
        ),
        (
            json!({"authenticator_types": ["oob"], "oob_channels": ["email"]}),
            "no email",
        ),
        (
            json!({"authenticator_types": ["oob"], "oob_channels": ["email"], "email": "not an address"}),
            "bad email",
        ),
    ] {
        let (status, answer) = app
            .bearer(Method::POST, "/mfa/associate", &mfa_token, Some(body))
            .await;
        assert_eq!(
            (status, &answer["error"]),
            (StatusCode::BAD_REQUEST, &json!("invalid_request")),
            "{why}: {answer}"
        );
    }
    let response = http
        .post(app.server.url("/mfa/associate"))
        .bearer_auth(&mfa_token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    let challenge = |fields: Value| {
        let mut body = json!({"client_id": app.client_id, "client_secret": app.client_secret,
                              "mfa_token": mfa_token});
        body.as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        body
    };
    let (status, body) = app
        .post_challenge(challenge(json!({"client_secret": "wrong"})))
        .await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::UNAUTHORIZED, &json!("invalid_client")),
        "{body}"
    );
    let (status, body) = app
        .post_challenge(challenge(json!({"mfa_token": "garbage"})))
        .await;
    assert_eq!(
        (status, &body["error_description"]),
        (StatusCode::FORBIDDEN, &json!("Malformed mfa_token")),
        "{body}"
    );
    let (status, body) = app
        .post_challenge(challenge(json!({"challenge_type": "otp"})))
        .await;
    assert_eq!(
        (status, &body["error"]),
        (
            StatusCode::BAD_REQUEST,
            &json!("unsupported_challenge_type")
        ),
        "no factor yet: {body}"
    );
    let (_, plain) = app
        .server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "Plain", "grant_types": [REALM]})),
        )
        .await;
    let (status, body) = app
        .post_challenge(challenge(
            json!({"client_id": plain["client_id"], "client_secret": plain["client_secret"]}),
        ))
        .await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::FORBIDDEN, &json!("unauthorized_client")),
        "{body}"
    );

    let user_id = app.user_id().await;
    assert!(
        app.store()
            .list_authenticators(&user_id)
            .await
            .unwrap()
            .is_empty()
    );
}

/// An action's `challengeWith({type: 'email'})` names the factor the log-in takes: the
/// user's app is neither challenged nor accepted, the email factor is.
#[tokio::test]
async fn the_factor_an_action_names_is_the_one_the_log_in_takes() {
    let app = app(true).await;
    app.enrolled().await;
    app.setting("guardian.factors.email", json!({"enabled": true}))
        .await;
    // The user adds an email factor with a token that passed their app.
    let ask = json!({"audience": format!("{ISSUER}mfa/"), "scope": "enroll"});
    let (_, body) = app.login_with(ask).await;
    let mfa_token = body["mfa_token"].as_str().unwrap().to_owned();
    app.server.clock.advance(30);
    let (status, tokens) = app
        .grant(
            OTP,
            json!({"mfa_token": mfa_token, "otp": app.code().await}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let enrol = json!({"authenticator_types": ["oob"], "oob_channels": ["email"], "email": "ada.codes@example.com"});
    let access = tokens["access_token"].as_str().unwrap();
    let (status, associated) = app
        .bearer(Method::POST, "/mfa/associate", access, Some(enrol))
        .await;
    assert_eq!(status, StatusCode::OK, "{associated}");
    let code = mailed_code(&app, 1).await;
    let (status, body) = app
        .grant(
            OOB,
            json!({"mfa_token": mfa_token, "oob_code": associated["oob_code"], "binding_code": code}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let action = json!({"name": "email only", "supported_triggers": [{"id": "post-login"}],
        "code": "exports.onExecutePostLogin = async (event, api) => { api.authentication.challengeWith({type: 'email'}); };"});
    let (status, created) = app
        .server
        .admin(Method::POST, "/actions/actions", Some(action))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap();
    let deploy = format!("/actions/actions/{id}/deploy");
    let (status, _) = app.server.admin(Method::POST, &deploy, None).await;
    assert!(status.is_success());
    let bindings = json!({"bindings": [{"ref": {"type": "action_name", "value": "email only"}}]});
    let (status, body) = app
        .server
        .admin(
            Method::PATCH,
            "/actions/triggers/post-login/bindings",
            Some(bindings),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let mfa_token = app.mfa_token().await;
    app.server.clock.advance(30);
    let (status, body) = app
        .grant(
            OTP,
            json!({"mfa_token": mfa_token, "otp": app.code().await}),
        )
        .await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::FORBIDDEN, &json!("invalid_grant")),
        "{body}"
    );
    let challenge = json!({"client_id": app.client_id, "client_secret": app.client_secret,
                           "mfa_token": mfa_token});
    let (status, challenged) = app.post_challenge(challenge).await;
    assert_eq!(status, StatusCode::OK, "{challenged}");
    assert_eq!(challenged["challenge_type"], "oob", "{challenged}");
    let code = mailed_code(&app, 2).await;
    let (status, body) = app
        .grant(
            OOB,
            json!({"mfa_token": mfa_token, "oob_code": challenged["oob_code"], "binding_code": code}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
