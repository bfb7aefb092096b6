//! The device grant and a second factor: Auth0 has no `mfa_token` flow for devices, so
//! scripts that ask for a factor refuse the device's tokens (`access_denied`), rather than
//! the request being dropped.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::browser::Browser;
use crate::common::{ISSUER, TestServer};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const EMAIL: &str = "viewer@example.com";

async fn post_form(server: &TestServer, path: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = server
        .http
        .post(server.url(path))
        .form(form)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn a_rule_asking_for_mfa_refuses_the_device_grant() {
    let server = TestServer::start().await;
    let (status, created) = server
        .admin(
            reqwest::Method::POST,
            "/clients",
            Some(json!({"name": "TV", "app_type": "native", "grant_types": [DEVICE_GRANT]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let tv = created["client_id"].as_str().unwrap().to_owned();
    server.create_user(EMAIL, json!({})).await;
    server
        .add_rule(
            "mfa",
            "function (user, context, callback) { context.multifactor = {provider: 'any'}; callback(null, user, context); }",
        )
        .await;

    let (status, code) = post_form(
        &server,
        "/oauth/device/code",
        &[("client_id", &tv), ("scope", "openid")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{code}");
    let mut browser = Browser::new(&server);
    let complete = code["verification_uri_complete"].as_str().unwrap();
    let page = browser
        .get(&format!("/{}", complete.strip_prefix(ISSUER).unwrap()))
        .await;
    let (typed, csrf) = (page.field("user_code"), page.field("csrf"));
    let login = browser
        .post("/activate", &[("csrf", &csrf), ("user_code", &typed)])
        .await;
    let (q, csrf) = (login.field("q"), login.field("csrf"));
    let confirm = browser
        .post(
            "/activate/login",
            &[
                ("q", &q),
                ("csrf", &csrf),
                ("username", EMAIL),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    let (user_code, csrf) = (confirm.field("user_code"), confirm.field("csrf"));
    browser
        .post(
            "/activate/confirm",
            &[
                ("user_code", &user_code),
                ("csrf", &csrf),
                ("decision", "allow"),
            ],
        )
        .await;

    let device_code = code["device_code"].as_str().unwrap();
    let (status, body) = post_form(
        &server,
        "/oauth/token",
        &[
            ("grant_type", DEVICE_GRANT),
            ("device_code", device_code),
            ("client_id", &tv),
        ],
    )
    .await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::FORBIDDEN, &json!("access_denied")),
        "{body}"
    );
    assert!(body.get("access_token").is_none() && body.get("mfa_token").is_none());
}
