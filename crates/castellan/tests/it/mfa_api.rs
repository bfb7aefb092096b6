//! Auth0's MFA API over plain HTTP: a password-realm log-in that needs a second factor
//! answers `mfa_required`; the client enrols or challenges a factor and finishes with the
//! `mfa-otp`, `mfa-oob` or `mfa-recovery-code` grant. Codes are computed here from the
//! stored secret, the way an authenticator app computes them.

use crate::common;

use castellan_core::clock::Clock;
use castellan_core::mfa::totp;
use castellan_core::model::AuthenticatorKind;
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const DB: &str = "Username-Password-Authentication";
const PASSWORD: &str = "correct horse battery";
const REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";
const OTP: &str = "http://auth0.com/oauth/grant-type/mfa-otp";
const OOB: &str = "http://auth0.com/oauth/grant-type/mfa-oob";
const RECOVERY: &str = "http://auth0.com/oauth/grant-type/mfa-recovery-code";
const EMAIL: &str = "ada@example.com";

struct App {
    server: TestServer,
    client_id: String,
    client_secret: String,
}

/// A server whose tenant asks every log-in for a second factor (`always` is false: none
/// unless a script asks), a client with the password-realm and MFA grants, and a user.
async fn app(always: bool) -> App {
    let server = TestServer::start().await;
    let grants = json!([REALM, OTP, OOB, RECOVERY, "refresh_token"]);
    let (status, client) = server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "Native", "grant_types": grants})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{client}");
    let app = App {
        client_id: client["client_id"].as_str().unwrap().into(),
        client_secret: client["client_secret"].as_str().unwrap().into(),
        server,
    };
    let (status, body) = app.server.sign_up(&app.client_id, EMAIL).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    if always {
        app.setting("guardian.policies", json!(["all-applications"]))
            .await;
    }
    app
}

impl App {
    fn store(&self) -> &dyn castellan_core::store::Store {
        self.server.running().state.store.as_ref()
    }

    async fn setting(&self, name: &str, value: Value) {
        self.store()
            .save_tenant_setting(name, &value)
            .await
            .unwrap();
    }

    async fn login_with(&self, extra: Value) -> (StatusCode, Value) {
        let mut body = json!({"grant_type": REALM, "client_id": self.client_id,
            "client_secret": self.client_secret, "username": EMAIL, "password": PASSWORD,
            "realm": DB, "scope": "openid offline_access"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        self.server.token_request(body).await
    }

    /// A log-in that must answer `mfa_required`; its `mfa_token`.
    async fn mfa_token(&self) -> String {
        let (status, body) = self.login_with(json!({})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["error"], "mfa_required", "{body}");
        assert_eq!(
            body["error_description"],
            "Multifactor authentication required"
        );
        body["mfa_token"].as_str().unwrap().to_owned()
    }

    async fn grant(&self, grant_type: &str, fields: Value) -> (StatusCode, Value) {
        let mut body = json!({"grant_type": grant_type, "client_id": self.client_id,
                              "client_secret": self.client_secret});
        body.as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        self.server.token_request(body).await
    }

    async fn bearer(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.server.call(method, path, token, body).await
    }

    async fn associate_otp(&self, mfa_token: &str) -> Value {
        let (status, body) = self
            .bearer(
                Method::POST,
                "/mfa/associate",
                mfa_token,
                Some(json!({"authenticator_types": ["otp"]})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    async fn user_id(&self) -> String {
        let user = self
            .store()
            .find_user_by_email(DB, EMAIL)
            .await
            .unwrap()
            .expect("the user");
        user.user_id
    }

    /// The user's app secret, as the app holds it.
    async fn app_secret(&self) -> Vec<u8> {
        let user_id = self.user_id().await;
        let app = self
            .store()
            .list_authenticators(&user_id)
            .await
            .unwrap()
            .into_iter()
            .find(|a| a.kind == AuthenticatorKind::Totp)
            .expect("an app");
        let state = &self.server.running().state;
        state
            .master_key
            .open(app.secret.as_deref().unwrap(), &app.id)
            .unwrap()
    }

    /// The app's code now.
    async fn code(&self) -> String {
        let step = totp::step_at(self.server.clock.now());
        totp::code_at_step(&self.app_secret().await, step)
    }

    /// Enrols the app through the API and finishes with its first code.
    async fn enrolled(&self) -> (Value, Value) {
        let mfa_token = self.mfa_token().await;
        let associated = self.associate_otp(&mfa_token).await;
        let (status, tokens) = self
            .grant(
                OTP,
                json!({"mfa_token": mfa_token, "otp": self.code().await}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        (associated, tokens)
    }

    async fn log_types(&self) -> Vec<String> {
        let (_, logs) = self
            .server
            .admin(Method::GET, "/logs?per_page=100", None)
            .await;
        logs.as_array()
            .unwrap()
            .iter()
            .map(|l| l["type"].as_str().unwrap().to_owned())
            .collect()
    }
}

#[tokio::test]
async fn password_realm_then_otp_enrolment_then_challenge_and_a_code_used_once() {
    let app = app(true).await;
    let (associated, tokens) = app.enrolled().await;
    assert_eq!(associated["authenticator_type"], "otp");
    let uri = associated["barcode_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains(associated["secret"].as_str().unwrap()));
    assert_eq!(associated["recovery_codes"].as_array().unwrap().len(), 1);
    // Tokens as for any password log-in, and the ID token says a factor passed.
    assert!(tokens["access_token"].is_string() && tokens["refresh_token"].is_string());
    let id = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["amr"], json!(["mfa"]));
    assert!(app.log_types().await.iter().any(|t| t == "seotpft"));
    assert!(app.log_types().await.iter().any(|t| t == "mfar"));

    // Next log-in: the factor is confirmed, so the mfa_token cannot enrol another.
    let mfa_token = app.mfa_token().await;
    let (status, body) = app
        .bearer(
            Method::POST,
            "/mfa/associate",
            &mfa_token,
            Some(json!({"authenticator_types": ["otp"]})),
        )
        .await;
    assert_eq!(
        (status, body["error_description"].as_str()),
        (StatusCode::FORBIDDEN, Some("User is already enrolled."))
    );
    let (status, listed) = app
        .bearer(Method::GET, "/mfa/authenticators", &mfa_token, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let kinds: Vec<(&str, bool)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["authenticator_type"].as_str().unwrap(),
                a["active"].as_bool().unwrap(),
            )
        })
        .collect();
    assert!(
        kinds.contains(&("otp", true)) && kinds.contains(&("recovery-code", true)),
        "{listed}"
    );
    let otp_id = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["authenticator_type"] == "otp")
        .unwrap()["id"]
        .clone();
    let challenge = json!({"client_id": app.client_id, "client_secret": app.client_secret,
                           "mfa_token": mfa_token, "challenge_type": "otp", "authenticator_id": otp_id});
    let response = app
        .server
        .http
        .post(app.server.url("/mfa/challenge"))
        .json(&challenge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"challenge_type": "otp"})
    );

    // The code the enrolment used is spent, in its step and the next.
    let (status, body) = app
        .grant(
            OTP,
            json!({"mfa_token": mfa_token, "otp": app.code().await}),
        )
        .await;
    assert_eq!(
        (status, &body["error"], &body["error_description"]),
        (
            StatusCode::FORBIDDEN,
            &json!("invalid_grant"),
            &json!("Invalid otp_code.")
        )
    );
    assert!(app.log_types().await.iter().any(|t| t == "feotpft"));
    app.server.clock.advance(30);
    let (status, body) = app
        .grant(
            OTP,
            json!({"mfa_token": mfa_token, "otp": app.code().await}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The same mfa_token serves until it ends, but that code is taken now.
    let (status, _) = app
        .grant(
            OTP,
            json!({"mfa_token": mfa_token, "otp": app.code().await}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A refresh of a family that began with a factor is not asked again.
    let (status, refreshed) = app
        .grant(
            "refresh_token",
            json!({"refresh_token": tokens["refresh_token"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
}

#[tokio::test]
async fn five_wrong_codes_lock_the_factor_and_nothing_else_changes() {
    let app = app(true).await;
    app.enrolled().await;
    app.server.clock.advance(60);
    let mfa_token = app.mfa_token().await;
    let right = app.code().await;
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    for _ in 0..5 {
        let (status, body) = app
            .grant(OTP, json!({"mfa_token": mfa_token, "otp": wrong}))
            .await;
        assert_eq!(
            (status, &body["error"]),
            (StatusCode::FORBIDDEN, &json!("invalid_grant")),
            "{body}"
        );
    }
    let (status, body) = app
        .grant(OTP, json!({"mfa_token": mfa_token, "otp": right}))
        .await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::TOO_MANY_REQUESTS, &json!("too_many_attempts")),
        "{body}"
    );
}

#[tokio::test]
async fn mfa_tokens_end_after_ten_minutes_and_belong_to_their_client() {
    let app = app(true).await;
    app.enrolled().await;
    let mfa_token = app.mfa_token().await;
    let (status, body) = app
        .grant(OTP, json!({"mfa_token": "garbage", "otp": "123456"}))
        .await;
    assert_eq!(
        (status, &body["error_description"]),
        (StatusCode::FORBIDDEN, &json!("Malformed mfa_token"))
    );
    let (status, body) = app.grant(OTP, json!({"mfa_token": mfa_token})).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &json!("invalid_request")),
        "{body}"
    );
    // Another client, even with the grant, cannot redeem it.
    let (_, other) = app
        .server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "Other", "grant_types": [OTP]})),
        )
        .await;
    let body = json!({"grant_type": OTP, "client_id": other["client_id"], "client_secret": other["client_secret"],
                      "mfa_token": mfa_token, "otp": app.code().await});
    let (status, body) = app.server.token_request(body).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::FORBIDDEN, &json!("invalid_grant")),
        "{body}"
    );
    // A client without the grant is told so.
    let (_, plain) = app
        .server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "Plain", "grant_types": [REALM]})),
        )
        .await;
    let body = json!({"grant_type": OTP, "client_id": plain["client_id"], "client_secret": plain["client_secret"],
                      "mfa_token": mfa_token, "otp": "123456"});
    let (status, body) = app.server.token_request(body).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::FORBIDDEN, &json!("unauthorized_client")),
        "{body}"
    );
    app.server.clock.advance(600);
    let (status, body) = app
        .grant(
            OTP,
            json!({"mfa_token": mfa_token, "otp": app.code().await}),
        )
        .await;
    assert_eq!(
        (status, &body["error_description"]),
        (StatusCode::FORBIDDEN, &json!("mfa_token is expired"))
    );
    let (status, _) = app
        .bearer(Method::GET, "/mfa/authenticators", &mfa_token, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_recovery_code_logs_in_once_and_is_replaced() {
    let app = app(true).await;
    let (associated, _) = app.enrolled().await;
    let first = associated["recovery_codes"][0].as_str().unwrap().to_owned();
    let mfa_token = app.mfa_token().await;
    let (status, body) = app
        .grant(
            RECOVERY,
            json!({"mfa_token": mfa_token, "recovery_code": first}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let next = body["recovery_code"].as_str().unwrap();
    assert_ne!(next, first);
    assert!(body["access_token"].is_string());
    let (status, body) = app
        .grant(
            RECOVERY,
            json!({"mfa_token": mfa_token, "recovery_code": first}),
        )
        .await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::FORBIDDEN, &json!("invalid_grant")),
        "{body}"
    );
    let types = app.log_types().await;
    assert!(
        types.iter().any(|t| t == "sercft") && types.iter().any(|t| t == "fercft"),
        "{types:?}"
    );
}

#[tokio::test]
async fn an_email_factor_enrols_and_answers_challenges_by_mail() {
    let app = app(true).await;
    let mfa_token = app.mfa_token().await;
    let enrol = json!({"authenticator_types": ["oob"], "oob_channels": ["email"], "email": "ada.codes@example.com"});
    // Email starts disabled, as on Auth0.
    let (status, _) = app
        .bearer(
            Method::POST,
            "/mfa/associate",
            &mfa_token,
            Some(enrol.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    app.setting("guardian.factors.email", json!({"enabled": true}))
        .await;
    let (status, associated) = app
        .bearer(Method::POST, "/mfa/associate", &mfa_token, Some(enrol))
        .await;
    assert_eq!(status, StatusCode::OK, "{associated}");
    assert_eq!(
        (&associated["oob_channel"], &associated["binding_method"]),
        (&json!("email"), &json!("prompt"))
    );
    let mailed = mailed_code(&app, 1).await;
    let oob_code = associated["oob_code"].as_str().unwrap();
    let (status, body) = app
        .grant(
            OOB,
            json!({"mfa_token": mfa_token, "oob_code": oob_code, "binding_code": "000000x"}),
        )
        .await;
    assert_eq!(
        (status, &body["error_description"]),
        (StatusCode::FORBIDDEN, &json!("Invalid binding_code.")),
        "{body}"
    );
    let (status, body) = app
        .grant(
            OOB,
            json!({"mfa_token": mfa_token, "oob_code": oob_code, "binding_code": mailed}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Next time: a challenge mails a new code.
    let mfa_token = app.mfa_token().await;
    let challenge = json!({"client_id": app.client_id, "client_secret": app.client_secret,
                           "mfa_token": mfa_token, "challenge_type": "oob"});
    let response = app
        .server
        .http
        .post(app.server.url("/mfa/challenge"))
        .json(&challenge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let challenged: Value = response.json().await.unwrap();
    assert_eq!(challenged["challenge_type"], "oob");
    let mailed = mailed_code(&app, 2).await;
    let (status, body) = app
        .grant(OOB, json!({"mfa_token": mfa_token, "oob_code": challenged["oob_code"], "binding_code": mailed}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(app.log_types().await.iter().any(|t| t == "seoobft"));
    // Not enrolled with an app: an otp challenge has nothing to offer.
    let challenge = json!({"client_id": app.client_id, "client_secret": app.client_secret,
                           "mfa_token": mfa_token, "challenge_type": "otp"});
    let response = app
        .server
        .http
        .post(app.server.url("/mfa/challenge"))
        .json(&challenge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "unsupported_challenge_type"
    );
}

/// The code of the `count`th verification mail.
async fn mailed_code(app: &App, count: usize) -> String {
    let mail = app.store().list_mail().await.unwrap();
    let codes: Vec<&castellan_core::model::Mail> = mail
        .iter()
        .filter(|m| m.subject == "Your verification code")
        .collect();
    assert_eq!(codes.len(), count, "{mail:?}");
    let body = &codes[count - 1].body;
    body.split_whitespace()
        .find(|w| {
            w.trim_end_matches('.').len() == 6
                && w.trim_end_matches('.').chars().all(|c| c.is_ascii_digit())
        })
        .unwrap()
        .trim_end_matches('.')
        .to_owned()
}

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
