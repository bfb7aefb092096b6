//! Rules and actions that send the user to another site during a log-in and pick it up at
//! `/continue` (Auth0's redirect rules and redirect actions), through the real pages: the
//! state is single-use, bound to the browser and checked; the log-in ends with the code
//! the original request asked for; grants without a browser refuse a redirect.

use crate::common;

use common::browser::{Browser, Page};
use common::*;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const CALLBACK: &str = "https://spa.example/callback";
const PASSWORD: &str = "correct horse battery";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";
const SECRET: &str = "a shared secret of the verification site";

/// Redirects to a page of another site (which the test plays), and on the way back puts
/// what that page answered into the ID token.
const ASK_RULE: &str = r#"function (user, context, callback) {
  if (context.protocol === 'redirect-callback') {
    context.idToken['https://example.com/answer'] = context.request.query.answer;
  } else {
    context.redirect = { url: 'https://ask.example/question?lang=en' };
  }
  callback(null, user, context);
}"#;

/// Runs after the redirecting rule, in both passes; what it writes in the first pass shows
/// it ran before the user was sent away.
const AFTER_RULE: &str = r#"function (user, context, callback) {
  if (context.protocol !== 'redirect-callback') {
    auth0.users.updateAppMetadata(user.user_id, { first_pass: context.protocol });
  }
  callback(null, user, context);
}"#;

/// Auth0's template `redirect-rules/simple/rule.js` (auth0/rules, MIT), unmodified: the
/// gallery's copy, origin in `castellan-rules/tests/gallery/ORIGIN.md`.
const AUTH0_SIMPLE_REDIRECT: &str =
    include_str!("../../../castellan-rules/tests/gallery/templates/redirect-simple.js");

struct Tenant {
    server: TestServer,
    spa: String,
    user_id: String,
}

async fn tenant() -> Tenant {
    let server = TestServer::start().await;
    let (_, spa) = server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "Single page app", "app_type": "spa", "callbacks": [CALLBACK]})),
        )
        .await;
    let user = server.create_user("ada@example.com", json!({})).await;
    Tenant {
        spa: spa["client_id"].as_str().unwrap().into(),
        user_id: user["user_id"].as_str().unwrap().into(),
        server,
    }
}

fn authorize_path(client_id: &str) -> String {
    let params = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", CALLBACK),
        ("scope", "openid profile email"),
        ("state", "st-123"),
        ("nonce", "n-456"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    format!(
        "/authorize?{}",
        serde_urlencoded::to_string(params).unwrap()
    )
}

impl Tenant {
    async fn rule(&self, name: &str, script: &str) {
        self.server.add_rule(name, script).await;
    }

    async fn action(&self, name: &str, code: &str) {
        let body = json!({"name": name, "supported_triggers": [{"id": "post-login"}],
                          "code": code, "secrets": [{"name": "SECRET", "value": SECRET}]});
        let (status, action) = self
            .server
            .admin(Method::POST, "/actions/actions", Some(body))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{action}");
        let id = action["id"].as_str().unwrap();
        let (status, version) = self
            .server
            .admin(Method::POST, &format!("/actions/actions/{id}/deploy"), None)
            .await;
        assert!(status.is_success(), "{version}");
    }

    async fn bind(&self, names: &[&str]) {
        let bindings: Vec<Value> = names
            .iter()
            .map(|n| json!({"ref": {"type": "action_name", "value": n}, "display_name": n}))
            .collect();
        let (status, body) = self
            .server
            .admin(
                Method::PATCH,
                "/actions/triggers/post-login/bindings",
                Some(json!({"bindings": bindings})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// Logs in through the page; returns the answer to the posted form.
    async fn log_in(&self, browser: &mut Browser) -> Page {
        browser
            .submit_credentials(&authorize_path(&self.spa), "ada@example.com", PASSWORD)
            .await
    }

    async fn exchange(&self, code: &str) -> (StatusCode, Value) {
        self.server
            .token_request(json!({"grant_type": "authorization_code", "client_id": self.spa,
                                  "code": code, "redirect_uri": CALLBACK, "code_verifier": VERIFIER}))
            .await
    }

    async fn id_token_of(&self, back: &Page) -> Value {
        assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
        assert!(back.next().starts_with(CALLBACK), "{:?}", back.location);
        let query = back.query();
        assert_eq!(
            query["state"], "st-123",
            "the client's own state comes back"
        );
        let (status, tokens) = self.exchange(&query["code"]).await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        let id = verify_with_jwks(
            &self.server,
            tokens["id_token"].as_str().unwrap(),
            &self.spa,
        )
        .await;
        assert_eq!(id["nonce"], "n-456", "the original request's nonce");
        id
    }

    async fn app_metadata(&self) -> Value {
        let (_, user) = self
            .server
            .admin(
                Method::GET,
                &format!("/users/{}", encoded(&self.user_id)),
                None,
            )
            .await;
        user["app_metadata"].clone()
    }

    async fn logs(&self, kind: &str) -> Vec<Value> {
        let (status, logs) = self
            .server
            .admin(
                Method::GET,
                &format!("/logs?q=type:{kind}&sort=date:1"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{logs}");
        logs.as_array().unwrap().clone()
    }
}

/// The redirect to the other site: its URL (without the query) and query.
fn sent_away(page: &Page, to: &str) -> std::collections::HashMap<String, String> {
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let location = page.location.as_deref().unwrap();
    assert!(location.starts_with(to), "{location}");
    page.query()
}

fn continue_path(pairs: &[(&str, &str)]) -> String {
    format!("/continue?{}", serde_urlencoded::to_string(pairs).unwrap())
}

/// No code and no tokens: an error page of this server.
fn refused(page: &Page) {
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert!(page.location.is_none());
    assert!(page.body.contains("invalid_request"), "{}", page.body);
}

#[tokio::test]
async fn a_rule_redirect_resumes_at_continue_where_the_rules_read_the_answer() {
    let t = tenant().await;
    t.rule("ask", ASK_RULE).await;
    t.rule("after", AFTER_RULE).await;
    let mut browser = Browser::new(&t.server);

    let away = t.log_in(&mut browser).await;
    let query = sent_away(&away, "https://ask.example/question?");
    assert_eq!(query["lang"], "en", "the rule's own query is kept");
    let state = query["state"].clone();
    assert!(state.len() >= 40, "an unguessable state: {state}");
    assert!(
        !away.location.as_deref().unwrap().contains("st-123"),
        "the client's state stays here"
    );
    assert!(browser.cookies.contains_key("castellan_continue"));
    assert_eq!(
        t.app_metadata().await["first_pass"],
        "oidc-basic-profile",
        "the rules after the redirecting one ran before the user was sent away"
    );

    let back = browser
        .get(&continue_path(&[("state", &state), ("answer", "yes")]))
        .await;
    let id = t.id_token_of(&back).await;
    assert_eq!(id["https://example.com/answer"], "yes");
    assert_eq!(id["sub"], t.user_id.as_str());

    let logs = t.logs("w").await;
    let steps: Vec<&str> = logs
        .iter()
        .filter_map(|l| l["details"]["redirect"].as_str())
        .collect();
    assert_eq!(steps, ["sent", "continued"], "{logs:?}");
    assert_eq!(logs[0]["details"]["script"], "ask", "the rule that set it");
    assert_eq!(logs[0]["user_id"], t.user_id.as_str());
}

#[tokio::test]
async fn the_state_is_single_use_bound_to_the_browser_and_must_be_right() {
    let t = tenant().await;
    t.rule("ask", ASK_RULE).await;
    let mut browser = Browser::new(&t.server);
    let away = t.log_in(&mut browser).await;
    let state = sent_away(&away, "https://ask.example/")["state"].clone();

    refused(
        &browser
            .get(&continue_path(&[("state", "not-the-state")]))
            .await,
    );
    refused(&browser.get("/continue").await);

    // Someone else holding the state (it travelled through another site) cannot finish
    // the log-in, with or without a transaction cookie of their own.
    let mut stranger = Browser::new(&t.server);
    refused(&stranger.get(&continue_path(&[("state", &state)])).await);
    let theirs = t.log_in(&mut stranger).await;
    assert_eq!(theirs.status, StatusCode::SEE_OTHER);
    refused(&stranger.get(&continue_path(&[("state", &state)])).await);

    // Refusals did not use the state up for its own browser.
    let back = browser
        .get(&continue_path(&[("state", &state), ("answer", "no")]))
        .await;
    let id = t.id_token_of(&back).await;
    assert_eq!(id["https://example.com/answer"], "no");

    // Used once: the browser still has no second go (its cookie was cleared, so it is
    // sent again by hand).
    let mut again = Browser::new(&t.server);
    again.cookies = browser.cookies.clone();
    again
        .cookies
        .insert("castellan_continue".into(), "whatever".into());
    refused(&again.get(&continue_path(&[("state", &state)])).await);
    refused(&browser.get(&continue_path(&[("state", &state)])).await);
}

#[tokio::test]
async fn a_used_state_with_its_own_cookie_is_refused() {
    let t = tenant().await;
    t.rule("ask", ASK_RULE).await;
    let mut browser = Browser::new(&t.server);
    let away = t.log_in(&mut browser).await;
    let state = sent_away(&away, "https://ask.example/")["state"].clone();
    let cookie = browser.cookies["castellan_continue"].clone();
    let back = browser.get(&continue_path(&[("state", &state)])).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    browser.cookies.insert("castellan_continue".into(), cookie);
    refused(&browser.get(&continue_path(&[("state", &state)])).await);
}

#[tokio::test]
async fn a_second_redirect_in_the_callback_run_is_refused() {
    let t = tenant().await;
    t.rule(
        "always",
        "function (user, context, callback) { context.redirect = { url: 'https://ask.example/again' }; callback(null, user, context); }",
    )
    .await;
    let mut browser = Browser::new(&t.server);
    let away = t.log_in(&mut browser).await;
    let state = sent_away(&away, "https://ask.example/again")["state"].clone();
    let back = browser.get(&continue_path(&[("state", &state)])).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    let query = back.query();
    assert!(back.next().starts_with(CALLBACK));
    assert_eq!(query["error"], "access_denied");
    assert!(
        query["error_description"].contains("at most once"),
        "{query:?}"
    );
    assert!(!query.contains_key("code"));
    assert_eq!(query["state"], "st-123");
}

#[tokio::test]
async fn a_redirect_in_the_password_grant_fails_the_log_in() {
    let t = tenant().await;
    t.rule("ask", ASK_RULE).await;
    let (_, client) = t
        .server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "backend", "grant_types": [REALM]})),
        )
        .await;
    let (status, body) = t
        .server
        .token_request(json!({
            "grant_type": REALM, "realm": "Username-Password-Authentication",
            "client_id": client["client_id"], "client_secret": client["client_secret"],
            "username": "ada@example.com", "password": PASSWORD, "scope": "openid"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"], "access_denied", "{body}");
    let description = body["error_description"].as_str().unwrap();
    assert!(description.contains("redirect"), "{description}");
    assert!(body.get("access_token").is_none());
    let failed = t.logs("f").await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["details"]["script"], "ask");
}

const GATE_ACTION: &str = r#"
exports.onExecutePostLogin = async (event, api) => {
  api.idToken.setCustomClaim('https://example.com/before', 'kept');
  const token = api.redirect.encodeToken({
    secret: event.secrets.SECRET,
    expiresInSeconds: 300,
    payload: { email: event.user.email },
  });
  api.redirect.sendUserTo('https://verify.example/start', { query: { session_token: token } });
};
exports.onContinuePostLogin = async (event, api) => {
  const payload = api.redirect.validateToken({ secret: event.secrets.SECRET });
  api.idToken.setCustomClaim('https://example.com/verified', payload.answer);
};
"#;

/// Runs only once the log-in resumes: it reads the `/continue` request.
const LATER_ACTION: &str = r#"
exports.onExecutePostLogin = async (event, api) => {
  api.idToken.setCustomClaim('https://example.com/later', event.request.query.answer || 'not yet');
};
"#;

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn an_action_redirects_with_a_signed_token_and_resumes_at_its_continue_handler() {
    let t = tenant().await;
    t.action("gate", GATE_ACTION).await;
    t.action("later", LATER_ACTION).await;
    t.bind(&["gate", "later"]).await;
    let mut browser = Browser::new(&t.server);
    let away = t.log_in(&mut browser).await;
    let query = sent_away(&away, "https://verify.example/start?");
    let state = query["state"].clone();

    // The verification site checks the token it was sent.
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_aud = false;
    let sent = jsonwebtoken::decode::<Value>(
        &query["session_token"],
        &DecodingKey::from_secret(SECRET.as_bytes()),
        &validation,
    )
    .expect("an HS256 token signed with the shared secret")
    .claims;
    assert_eq!(sent["iss"], "castellan.test");
    assert_eq!(sent["sub"], t.user_id.as_str());
    assert_eq!(sent["state"], state.as_str());
    assert_eq!(sent["email"], "ada@example.com");
    let exp = sent["exp"].as_u64().unwrap();
    assert!(exp > now() && exp <= now() + 300, "{sent}");
    assert!(sent["iat"].as_u64().unwrap() <= now());

    // A token signed with another secret fails the action and the log-in.
    let forged = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({"state": state, "answer": "yes", "exp": now() + 60}),
        &EncodingKey::from_secret(b"not the secret"),
    )
    .unwrap();
    let mut other = Browser::new(&t.server);
    let other_away = t.log_in(&mut other).await;
    let other_state = sent_away(&other_away, "https://verify.example/")["state"].clone();
    let forged = forged.replace(&state, &other_state);
    let denied = other
        .get(&continue_path(&[
            ("state", &other_state),
            ("session_token", &forged),
        ]))
        .await;
    assert!(denied.next().starts_with(CALLBACK));
    assert_eq!(
        denied.query()["error"],
        "access_denied",
        "{:?}",
        denied.location
    );
    assert!(!denied.query().contains_key("code"));

    // It answers with a token of its own, bound to the state, posted back.
    let answer = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({"state": state, "answer": "yes", "exp": now() + 60}),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    let back = browser
        .post(
            &continue_path(&[("state", &state), ("answer", "yes")]),
            &[("session_token", answer.as_str())],
        )
        .await;
    let id = t.id_token_of(&back).await;
    assert_eq!(
        id["https://example.com/before"], "kept",
        "the first pass's claims stay"
    );
    assert_eq!(id["https://example.com/verified"], "yes");
    assert_eq!(
        id["https://example.com/later"], "yes",
        "the action after the redirecting one ran at /continue"
    );
}

#[tokio::test]
async fn auth0s_simple_redirect_template_asks_once_for_consent() {
    let t = tenant().await;
    let (status, body) = t
        .server
        .admin(
            Method::PUT,
            "/rules-configs/CONSENT_FORM_URL",
            Some(json!({"value": "https://consent.example/form"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    t.rule("consent", AUTH0_SIMPLE_REDIRECT).await;
    let mut browser = Browser::new(&t.server);
    let away = t.log_in(&mut browser).await;
    let query = sent_away(
        &away,
        "https://consent.example/form?auth0_domain=castellan.test&",
    );
    let state = query["state"].clone();

    // The consent form posts back.
    let back = browser
        .post(&continue_path(&[("state", &state)]), &[("confirm", "yes")])
        .await;
    t.id_token_of(&back).await;
    assert_eq!(t.app_metadata().await["has_consented"], true);

    // Consented: the next log-in is not sent away.
    let mut next = Browser::new(&t.server);
    let direct = t.log_in(&mut next).await;
    t.id_token_of(&direct).await;
}
