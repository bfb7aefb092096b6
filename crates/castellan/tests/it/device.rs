//! The Device Authorization Grant (RFC 8628) as Auth0 serves it: `/oauth/device/code`,
//! polling the token endpoint, and the `/activate` pages, through the real router.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::common::browser::{Browser, Page};
use super::common::{ISSUER, TestServer, verify_with_jwks};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const API: &str = "urn:tv-guide";
const PASSWORD: &str = "correct horse battery";
const EMAIL: &str = "viewer@example.com";

async fn client(server: &TestServer, fields: Value) -> String {
    let (status, created) = server.admin(Method::POST, "/clients", Some(fields)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["client_id"].as_str().unwrap().to_string()
}

async fn tv_app(server: &TestServer) -> String {
    client(
        server,
        json!({"name": "Living-room TV", "app_type": "native",
               "grant_types": [DEVICE_GRANT, "refresh_token"]}),
    )
    .await
}

async fn tv_guide_api(server: &TestServer) {
    let api = json!({"name": "TV guide", "identifier": API, "allow_offline_access": true,
                     "scopes": [{"value": "read:shows", "description": "Read shows"}]});
    let (status, body) = server
        .admin(Method::POST, "/resource-servers", Some(api))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn request_code(server: &TestServer, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = server
        .http
        .post(server.url("/oauth/device/code"))
        .form(form)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

async fn device_code(server: &TestServer, client_id: &str, scope: &str) -> Value {
    let (status, body) = request_code(
        server,
        &[
            ("client_id", client_id),
            ("scope", scope),
            ("audience", API),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn poll(server: &TestServer, client_id: &str, device_code: &Value) -> (StatusCode, Value) {
    let device_code = device_code["device_code"].as_str().unwrap();
    let response = server
        .http
        .post(server.url("/oauth/token"))
        .form(&[
            ("grant_type", DEVICE_GRANT),
            ("device_code", device_code),
            ("client_id", client_id),
        ])
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

fn error_of(answer: &(StatusCode, Value)) -> (StatusCode, &str) {
    (answer.0, answer.1["error"].as_str().unwrap_or_default())
}

/// Opens `verification_uri_complete` and posts the code it fills in.
async fn enter_code(browser: &mut Browser, code: &Value) -> Page {
    let complete = code["verification_uri_complete"].as_str().unwrap();
    let path = format!("/{}", complete.strip_prefix(ISSUER).unwrap());
    let page = browser.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let (typed, csrf) = (page.field("user_code"), page.field("csrf"));
    assert_eq!(typed, code["user_code"].as_str().unwrap());
    browser
        .post("/activate", &[("csrf", &csrf), ("user_code", &typed)])
        .await
}

async fn log_in(browser: &mut Browser, login: &Page) -> Page {
    assert!(
        login.body.contains("action=\"/activate/login\""),
        "{}",
        login.body
    );
    let (q, csrf) = (login.field("q"), login.field("csrf"));
    browser
        .post(
            "/activate/login",
            &[
                ("q", &q),
                ("csrf", &csrf),
                ("username", EMAIL),
                ("password", PASSWORD),
            ],
        )
        .await
}

async fn decide(browser: &mut Browser, confirm: &Page, decision: &str) -> Page {
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    let (code, csrf) = (confirm.field("user_code"), confirm.field("csrf"));
    browser
        .post(
            "/activate/confirm",
            &[
                ("user_code", &code),
                ("csrf", &csrf),
                ("decision", decision),
            ],
        )
        .await
}

#[tokio::test]
async fn a_device_polls_while_its_user_activates_it_and_gets_tokens_once() {
    let server = TestServer::start().await;
    tv_guide_api(&server).await;
    let tv = tv_app(&server).await;
    let user = server.create_user(EMAIL, json!({})).await;

    let code = device_code(&server, &tv, "openid email offline_access read:shows").await;
    let user_code = code["user_code"].as_str().unwrap();
    assert_eq!(user_code.len(), 9);
    assert!(user_code.chars().enumerate().all(|(i, c)| if i == 4 {
        c == '-'
    } else {
        "BCDFGHJKLMNPQRSTVWXZ".contains(c)
    }));
    assert_eq!(code["verification_uri"], format!("{ISSUER}activate"));
    assert_eq!(
        code["verification_uri_complete"],
        format!("{ISSUER}activate?user_code={user_code}")
    );
    assert_eq!(
        (code["expires_in"].as_i64(), code["interval"].as_i64()),
        (Some(900), Some(5))
    );
    assert!(code["device_code"].as_str().unwrap().len() >= 40);

    let pending = poll(&server, &tv, &code).await;
    assert_eq!(
        error_of(&pending),
        (StatusCode::FORBIDDEN, "authorization_pending")
    );
    assert_eq!(
        pending.1["error_description"],
        "User has yet to authorize device code."
    );
    server.clock.advance(1);
    assert_eq!(
        error_of(&poll(&server, &tv, &code).await),
        (StatusCode::TOO_MANY_REQUESTS, "slow_down")
    );
    // The interval is now 10 s: 6 s later is still too fast, 10 s is not.
    server.clock.advance(6);
    assert_eq!(error_of(&poll(&server, &tv, &code).await).1, "slow_down");
    server.clock.advance(15);
    assert_eq!(
        error_of(&poll(&server, &tv, &code).await).1,
        "authorization_pending"
    );

    let mut browser = Browser::new(&server);
    let login = enter_code(&mut browser, &code).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    assert!(login.body.contains("Living-room TV"));
    let confirm = log_in(&mut browser, &login).await;
    assert!(confirm.body.contains("read:shows"), "{}", confirm.body);
    assert!(confirm.body.contains(user_code));
    let done = decide(&mut browser, &confirm, "allow").await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("You can return to your device"));

    server.clock.advance(20);
    let (status, tokens) = poll(&server, &tv, &code).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let access = verify_with_jwks(&server, tokens["access_token"].as_str().unwrap(), API).await;
    assert_eq!(access["sub"], user["user_id"]);
    assert_eq!(access["azp"], tv.as_str());
    assert!(access["scope"].as_str().unwrap().contains("read:shows"));
    let id = verify_with_jwks(&server, tokens["id_token"].as_str().unwrap(), &tv).await;
    assert_eq!(
        (id["sub"].clone(), id["email"].clone()),
        (user["user_id"].clone(), json!(EMAIL))
    );
    assert!(tokens["refresh_token"].is_string(), "{tokens}");

    server.clock.advance(20);
    assert_eq!(
        error_of(&poll(&server, &tv, &code).await),
        (StatusCode::FORBIDDEN, "invalid_grant"),
        "single use"
    );
    let (status, logs) = server.admin(Method::GET, "/logs?q=type:sede", None).await;
    assert_eq!(status, StatusCode::OK, "{logs}");
    assert!(
        logs.as_array()
            .unwrap()
            .iter()
            .any(|e| e["client_id"] == tv.as_str()),
        "{logs}"
    );
}

#[tokio::test]
async fn a_refusal_is_access_denied_and_a_signed_in_user_goes_straight_to_the_question() {
    let server = TestServer::start().await;
    tv_guide_api(&server).await;
    let tv = tv_app(&server).await;
    server.create_user(EMAIL, json!({})).await;
    let mut browser = Browser::new(&server);

    let first = device_code(&server, &tv, "openid").await;
    let login = enter_code(&mut browser, &first).await;
    let confirm = log_in(&mut browser, &login).await;
    let refused = decide(&mut browser, &confirm, "deny").await;
    assert_eq!(refused.status, StatusCode::OK, "{}", refused.body);
    assert_eq!(
        error_of(&poll(&server, &tv, &first).await),
        (StatusCode::FORBIDDEN, "access_denied")
    );

    // Signed in now: the code leads to the question, and a decided code is told as invalid.
    let second = device_code(&server, &tv, "openid").await;
    let confirm = enter_code(&mut browser, &second).await;
    assert!(
        confirm.body.contains("action=\"/activate/confirm\""),
        "{}",
        confirm.body
    );
    let again = enter_code(&mut browser, &first).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(
        again.body.contains("invalid or has been used"),
        "{}",
        again.body
    );
}

#[tokio::test]
async fn an_expired_device_code_is_expired_token_and_refused_on_the_page() {
    let server = TestServer::start().await;
    tv_guide_api(&server).await;
    let tv = tv_app(&server).await;
    let code = device_code(&server, &tv, "openid").await;
    server.clock.advance(901);
    assert_eq!(
        error_of(&poll(&server, &tv, &code).await),
        (StatusCode::FORBIDDEN, "expired_token")
    );
    let mut browser = Browser::new(&server);
    let page = enter_code(&mut browser, &code).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("has expired"), "{}", page.body);
}

#[tokio::test]
async fn only_native_apps_without_a_secret_that_list_the_grant_may_use_it() {
    let server = TestServer::start().await;
    tv_guide_api(&server).await;
    let without_grant = client(
        &server,
        json!({"name": "Phone app", "app_type": "native", "grant_types": ["authorization_code"]}),
    )
    .await;
    let spa = client(
        &server,
        json!({"name": "Web page", "app_type": "spa", "grant_types": [DEVICE_GRANT]}),
    )
    .await;
    for id in [&without_grant, &spa] {
        let answer = request_code(&server, &[("client_id", id.as_str())]).await;
        assert_eq!(
            error_of(&answer),
            (StatusCode::FORBIDDEN, "unauthorized_client"),
            "{}",
            answer.1
        );
    }
    let fake = json!({"device_code": "made-up"});
    assert_eq!(
        error_of(&poll(&server, &spa, &fake).await),
        (StatusCode::FORBIDDEN, "unauthorized_client")
    );

    let tv = tv_app(&server).await;
    assert_eq!(
        error_of(&poll(&server, &tv, &fake).await),
        (StatusCode::FORBIDDEN, "invalid_grant")
    );
    let unknown_api = request_code(
        &server,
        &[("client_id", tv.as_str()), ("audience", "urn:nope")],
    )
    .await;
    assert_eq!(
        error_of(&unknown_api),
        (StatusCode::FORBIDDEN, "access_denied")
    );
    let missing = request_code(&server, &[("scope", "openid")]).await;
    assert_eq!(error_of(&missing).1, "invalid_request");

    // A device code is its client's only.
    let other_tv = tv_app(&server).await;
    let code = device_code(&server, &tv, "openid").await;
    assert_eq!(
        error_of(&poll(&server, &other_tv, &code).await).1,
        "invalid_grant"
    );

    let discovery: Value = server.get_json("/.well-known/openid-configuration").await;
    assert_eq!(
        discovery["device_authorization_endpoint"],
        format!("{ISSUER}oauth/device/code")
    );
    assert!(
        discovery["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&json!(DEVICE_GRANT))
    );
}

#[tokio::test]
async fn the_activation_page_refuses_wrong_codes_and_forged_forms() {
    let server = TestServer::start().await;
    tv_guide_api(&server).await;
    let tv = tv_app(&server).await;
    server.create_user(EMAIL, json!({})).await;
    let code = device_code(&server, &tv, "openid").await;
    let mut browser = Browser::new(&server);

    let page = browser.get("/activate").await;
    assert_eq!(page.status, StatusCode::OK);
    let csp = page.csp.clone().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    assert!(!page.body.contains("<script"));
    let csrf = page.field("csrf");
    for wrong in ["BCDF-GHJK", "hello", ""] {
        let refused = browser
            .post("/activate", &[("csrf", &csrf), ("user_code", wrong)])
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{wrong}");
        assert!(
            refused.body.contains("invalid or has been used"),
            "{}",
            refused.body
        );
    }

    // Lower case, without its dash, is the same code.
    let typed = code["user_code"]
        .as_str()
        .unwrap()
        .replace('-', "")
        .to_lowercase();
    let login = browser
        .post("/activate", &[("csrf", &csrf), ("user_code", &typed)])
        .await;
    assert!(
        login.body.contains("action=\"/activate/login\""),
        "{}",
        login.body
    );

    // Forged: a CSRF token that is not the cookie's, on every form.
    let shown = code["user_code"].as_str().unwrap();
    let mut forger = Browser::new(&server);
    forger.get("/activate").await;
    for (path, form) in [
        ("/activate", vec![("csrf", "forged"), ("user_code", shown)]),
        (
            "/activate/login",
            vec![
                ("csrf", "forged"),
                ("q", shown),
                ("username", EMAIL),
                ("password", PASSWORD),
            ],
        ),
        (
            "/activate/confirm",
            vec![
                ("csrf", "forged"),
                ("user_code", shown),
                ("decision", "allow"),
            ],
        ),
    ] {
        let refused = forger.post(path, &form).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
    }

    // Confirming needs a session.
    let stranger_csrf = forger.get("/activate").await.field("csrf");
    let no_session = forger
        .post(
            "/activate/confirm",
            &[
                ("csrf", &stranger_csrf),
                ("user_code", shown),
                ("decision", "allow"),
            ],
        )
        .await;
    assert_eq!(no_session.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        error_of(&poll(&server, &tv, &code).await).1,
        "authorization_pending"
    );

    // A wrong password stays on the log-in form.
    let (q, csrf) = (login.field("q"), login.field("csrf"));
    let wrong = browser
        .post(
            "/activate/login",
            &[
                ("q", &q),
                ("csrf", &csrf),
                ("username", EMAIL),
                ("password", "nope"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("action=\"/activate/login\""));
}

#[tokio::test]
async fn guessing_user_codes_is_rate_limited_per_address() {
    let dir = tempfile::tempdir().unwrap();
    let url = super::common::database_url(dir.path()).await;
    let mut settings = super::common::settings(url, dir.path().to_path_buf());
    settings.authentication_per_second = 2;
    let server = TestServer::start_with(settings, std::sync::Arc::new(dir)).await;
    let mut browser = Browser::new(&server);
    let csrf = browser.get("/activate").await.field("csrf");
    let mut statuses = vec![];
    for _ in 0..10 {
        let page = browser
            .post("/activate", &[("csrf", &csrf), ("user_code", "BCDF-GHJK")])
            .await;
        statuses.push(page.status);
    }
    assert_eq!(statuses[0], StatusCode::BAD_REQUEST);
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn rules_see_the_device_protocol_and_two_polls_at_once_get_tokens_once() {
    let server = TestServer::start().await;
    tv_guide_api(&server).await;
    let tv = tv_app(&server).await;
    server.create_user(EMAIL, json!({})).await;
    let script = "function (user, context, callback) {\n  \
                  context.idToken['https://tv.example/protocol'] = context.protocol;\n  \
                  callback(null, user, context);\n}";
    server.add_rule("protocol", script).await;

    let code = device_code(&server, &tv, "openid").await;
    let mut browser = Browser::new(&server);
    let login = enter_code(&mut browser, &code).await;
    let confirm = log_in(&mut browser, &login).await;
    decide(&mut browser, &confirm, "allow").await;

    let (a, b) = tokio::join!(poll(&server, &tv, &code), poll(&server, &tv, &code));
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::FORBIDDEN],
        "{} {}",
        a.1,
        b.1
    );
    let tokens = if a.0 == StatusCode::OK { a.1 } else { b.1 };
    let id = verify_with_jwks(&server, tokens["id_token"].as_str().unwrap(), &tv).await;
    assert_eq!(id["https://tv.example/protocol"], "oauth2-device-code");
}
