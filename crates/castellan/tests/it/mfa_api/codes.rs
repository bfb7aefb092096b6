//! Codes: an app enrolled and challenged, codes used once, lock-out, the mfa_token's
//! life and client, the recovery code, and codes sent by email.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::*;

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

/// An enrolment abandoned by someone who had only the password leaves them a recovery
/// code; the user's own first enrolment replaces it, so it no longer passes.
#[tokio::test]
async fn a_first_enrolment_replaces_the_recovery_code_of_an_abandoned_one() {
    let app = app(true).await;
    let abandoned = app.associate_otp(&app.mfa_token().await).await;
    let stale = abandoned["recovery_codes"][0].as_str().unwrap().to_owned();
    let (associated, _) = app.enrolled().await;
    let fresh = associated["recovery_codes"][0].as_str().unwrap();
    assert_ne!(fresh, stale);
    let mfa_token = app.mfa_token().await;
    let (status, body) = app
        .grant(
            RECOVERY,
            json!({"mfa_token": mfa_token, "recovery_code": stale}),
        )
        .await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::FORBIDDEN, &json!("invalid_grant")),
        "{body}"
    );
    let (status, body) = app
        .grant(
            RECOVERY,
            json!({"mfa_token": mfa_token, "recovery_code": fresh}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
