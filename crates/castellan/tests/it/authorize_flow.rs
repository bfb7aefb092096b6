//! The browser flows through Castellan's own pages, over plain HTTP with the forms parsed
//! and posted as a browser would: sign-up and log-in with authorization code + PKCE,
//! single sign-on across clients, `prompt`, consent, log-out, and every way to get it wrong.

use crate::common;

use common::browser::{Browser, Page};
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const SPA_CALLBACK: &str = "https://spa.example/callback";
const WEB_CALLBACK: &str = "https://web.example/callback";
const PASSWORD: &str = "correct horse battery";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

struct Tenant {
    server: TestServer,
    spa: String,
    web: String,
    web_secret: String,
}

async fn tenant() -> Tenant {
    let server = TestServer::start().await;
    let (_, spa) = server
        .admin(
            Method::POST,
            "/clients",
            Some(
                json!({"name": "Single page app", "app_type": "spa", "callbacks": [SPA_CALLBACK],
                        "allowed_logout_urls": ["https://spa.example/bye"]}),
            ),
        )
        .await;
    let (_, web) = server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "Web app", "callbacks": [WEB_CALLBACK], "grant_types": ["authorization_code"]})),
        )
        .await;
    Tenant {
        spa: spa["client_id"].as_str().unwrap().into(),
        web: web["client_id"].as_str().unwrap().into(),
        web_secret: web["client_secret"].as_str().unwrap().into(),
        server,
    }
}

fn authorize_path(client_id: &str, callback: &str, extra: &[(&str, &str)]) -> String {
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", callback),
        ("scope", "openid profile email"),
        ("state", "st-123"),
        ("nonce", "n-456"),
    ];
    params.extend_from_slice(extra);
    format!(
        "/authorize?{}",
        serde_urlencoded::to_string(params).unwrap()
    )
}

fn pkce(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut params = vec![
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    params.extend_from_slice(extra);
    params
}

impl Tenant {
    /// Signs up through the page and returns the redirect back to the SPA.
    async fn sign_up(&self, browser: &mut Browser, email: &str) -> Page {
        let page = browser
            .get(&authorize_path(
                &self.spa,
                SPA_CALLBACK,
                &pkce(&[("screen_hint", "signup")]),
            ))
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("action=\"/authorize/signup\""));
        let (q, csrf) = (page.field("q"), page.field("csrf"));
        browser
            .post(
                "/authorize/signup",
                &[
                    ("q", &q),
                    ("csrf", &csrf),
                    ("email", email),
                    ("password", PASSWORD),
                ],
            )
            .await
    }

    async fn exchange_spa(&self, code: &str, verifier: &str) -> (StatusCode, Value) {
        self.server
            .token_request(
                json!({"grant_type": "authorization_code", "client_id": self.spa, "code": code,
                                  "redirect_uri": SPA_CALLBACK, "code_verifier": verifier}),
            )
            .await
    }
}

#[tokio::test]
async fn sign_up_log_in_and_single_sign_on_with_pkce() {
    let t = tenant().await;
    let mut browser = Browser::new(&t.server);
    let back = t.sign_up(&mut browser, "ada@example.com").await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    assert!(back.location.as_deref().unwrap().starts_with(SPA_CALLBACK));
    let query = back.query();
    assert_eq!(query["state"], "st-123");
    assert!(browser.cookies.contains_key("castellan_session"));

    let (status, tokens) = t.exchange_spa(&query["code"], VERIFIER).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let id = verify_with_jwks(&t.server, tokens["id_token"].as_str().unwrap(), &t.spa).await;
    assert_eq!(
        (id["nonce"].as_str(), id["email"].as_str()),
        (Some("n-456"), Some("ada@example.com"))
    );
    assert!(id["auth_time"].is_i64());
    assert!(
        tokens.get("refresh_token").is_none(),
        "no offline_access asked"
    );

    let (status, replay) = t.exchange_spa(&query["code"], VERIFIER).await;
    assert_eq!(
        (status, replay["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("invalid_grant")),
        "single use"
    );

    // Single sign-on: another client gets a code without any page.
    let sso = browser
        .get(&authorize_path(&t.web, WEB_CALLBACK, &[]))
        .await;
    assert_eq!(sso.status, StatusCode::SEE_OTHER, "{}", sso.body);
    let code = sso.query()["code"].clone();
    let (status, tokens) = t
        .server
        .token_request(json!({"grant_type": "authorization_code", "client_id": t.web, "client_secret": t.web_secret,
                              "code": code, "redirect_uri": WEB_CALLBACK}))
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let id = verify_with_jwks(&t.server, tokens["id_token"].as_str().unwrap(), &t.web).await;
    assert_eq!(id["email"], "ada@example.com");

    // prompt=login shows the log-in page although there is a session; logging in again works.
    let page = browser
        .get(&authorize_path(
            &t.spa,
            SPA_CALLBACK,
            &pkce(&[("prompt", "login")]),
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("action=\"/authorize/login\""));
    let csp = page.csp.clone().unwrap();
    assert!(
        csp.contains("default-src 'none'")
            && csp.contains("form-action 'self' https://spa.example"),
        "{csp}"
    );
    let (q, csrf) = (page.field("q"), page.field("csrf"));
    let wrong = browser
        .post(
            "/authorize/login",
            &[
                ("q", &q),
                ("csrf", &csrf),
                ("username", "ada@example.com"),
                ("password", "nope"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("Wrong email or password."));
    let right = browser
        .post(
            "/authorize/login",
            &[
                ("q", &q),
                ("csrf", &csrf),
                ("username", "ADA@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(right.status, StatusCode::SEE_OTHER);
    assert_eq!(
        t.exchange_spa(&right.query()["code"], VERIFIER).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn prompt_none_and_log_out() {
    let t = tenant().await;
    let mut stranger = Browser::new(&t.server);
    let none = stranger
        .get(&authorize_path(
            &t.spa,
            SPA_CALLBACK,
            &pkce(&[("prompt", "none")]),
        ))
        .await;
    assert_eq!(none.status, StatusCode::SEE_OTHER);
    assert_eq!(
        (
            none.query()["error"].as_str(),
            none.query()["state"].as_str()
        ),
        ("login_required", "st-123")
    );

    let mut browser = Browser::new(&t.server);
    t.sign_up(&mut browser, "ada@example.com").await;
    let silent = browser
        .get(&authorize_path(
            &t.spa,
            SPA_CALLBACK,
            &pkce(&[("prompt", "none")]),
        ))
        .await;
    assert!(
        silent.query().contains_key("code"),
        "silent authentication with a session"
    );

    let not_allowed = browser
        .get(&format!(
            "/v2/logout?client_id={}&returnTo=https://evil.example",
            t.spa
        ))
        .await;
    assert_eq!(not_allowed.status, StatusCode::BAD_REQUEST);
    let out = browser
        .get(&format!(
            "/v2/logout?client_id={}&returnTo=https%3A%2F%2Fspa.example%2Fbye",
            t.spa
        ))
        .await;
    assert_eq!(
        (out.status, out.location.as_deref()),
        (StatusCode::SEE_OTHER, Some("https://spa.example/bye"))
    );
    assert!(!browser.cookies.contains_key("castellan_session"));
    let after = browser
        .get(&authorize_path(
            &t.spa,
            SPA_CALLBACK,
            &pkce(&[("prompt", "none")]),
        ))
        .await;
    assert_eq!(after.query()["error"], "login_required");

    // RP-initiated log-out with an ID token hint.
    let back = t
        .sign_up(&mut Browser::new(&t.server), "bob@example.com")
        .await;
    let (_, tokens) = t.exchange_spa(&back.query()["code"], VERIFIER).await;
    let hint = tokens["id_token"].as_str().unwrap();
    let path = format!(
        "/oidc/logout?id_token_hint={hint}&post_logout_redirect_uri=https%3A%2F%2Fspa.example%2Fbye&state=s9"
    );
    let out = browser.get(&path).await;
    assert_eq!(
        out.location.as_deref(),
        Some("https://spa.example/bye?state=s9")
    );
    let forged = format!(
        "/oidc/logout?id_token_hint={}x&post_logout_redirect_uri=https%3A%2F%2Fspa.example%2Fbye",
        &hint[..hint.len() - 1]
    );
    assert_eq!(browser.get(&forged).await.status, StatusCode::BAD_REQUEST);
    let logs = t
        .server
        .running()
        .state
        .store
        .list_logs(None, 100)
        .await
        .unwrap();
    assert!(
        logs.iter().any(|e| e.event_type == "slo") && logs.iter().any(|e| e.event_type == "seacft")
    );
}

#[tokio::test]
async fn third_party_clients_ask_for_consent() {
    let t = tenant().await;
    let (_, partner) = t
        .server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "Partner", "is_first_party": false, "callbacks": [WEB_CALLBACK], "grant_types": ["authorization_code"]})),
        )
        .await;
    let partner_id = partner["client_id"].as_str().unwrap();
    let mut browser = Browser::new(&t.server);
    t.sign_up(&mut browser, "ada@example.com").await;
    let none = browser
        .get(&authorize_path(
            partner_id,
            WEB_CALLBACK,
            &[("prompt", "none")],
        ))
        .await;
    assert_eq!(none.query()["error"], "consent_required");
    let page = browser
        .get(&authorize_path(partner_id, WEB_CALLBACK, &[]))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Partner") && page.body.contains("profile"));
    let (q, csrf) = (page.field("q"), page.field("csrf"));
    let denied = browser
        .post(
            "/authorize/consent",
            &[("q", &q), ("csrf", &csrf), ("decision", "deny")],
        )
        .await;
    assert_eq!(denied.query()["error"], "access_denied");
    let allowed = browser
        .post(
            "/authorize/consent",
            &[("q", &q), ("csrf", &csrf), ("decision", "allow")],
        )
        .await;
    assert!(allowed.query().contains_key("code"));
}

#[tokio::test]
async fn bad_requests_are_shown_or_returned_and_change_nothing() {
    let t = tenant().await;
    let mut browser = Browser::new(&t.server);
    // Shown on our own page: unknown client, wrong or missing redirect_uri, repeated or malformed parameters.
    for path in [
        authorize_path("nope", SPA_CALLBACK, &[]),
        authorize_path(&t.spa, "https://evil.example/cb", &[]),
        format!("/authorize?response_type=code&client_id={}", t.spa),
        format!(
            "{}&client_id={}",
            authorize_path(&t.spa, SPA_CALLBACK, &pkce(&[])),
            t.spa
        ),
        "/authorize?client_id=%zz".to_string(),
    ] {
        let page = browser.get(&path).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(
            page.location.is_none(),
            "never redirected to an unchecked URI: {path}"
        );
        assert!(page.body.contains("Something went wrong"));
    }
    // Returned to the client: the redirect URI is known to be the client's.
    for (extra, error) in [
        (vec![], "invalid_request"),
        (
            vec![
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "plain"),
            ],
            "invalid_request",
        ),
        (pkce(&[("prompt", "sometimes")]), "invalid_request"),
        (
            pkce(&[("audience", "https://unknown.example")]),
            "access_denied",
        ),
        (pkce(&[("connection", "nope")]), "invalid_request"),
    ] {
        let page = browser
            .get(&authorize_path(&t.spa, SPA_CALLBACK, &extra))
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{extra:?}");
        assert_eq!(page.query()["error"], error, "{extra:?}");
        assert_eq!(page.query()["state"], "st-123");
    }
    let no_type = browser
        .get(&format!(
            "/authorize?client_id={}&redirect_uri={}&state=st-123",
            t.spa, "https%3A%2F%2Fspa.example%2Fcallback"
        ))
        .await;
    assert_eq!(
        no_type.query()["error"],
        "invalid_request",
        "response_type missing"
    );
    let no_client = browser
        .get(&format!(
            "/authorize?response_type=code&redirect_uri={SPA_CALLBACK}"
        ))
        .await;
    assert_eq!(
        no_client.status,
        StatusCode::BAD_REQUEST,
        "client_id missing: shown, not redirected"
    );
    let short = [
        ("code_challenge", "too-short"),
        ("code_challenge_method", "S256"),
    ];
    let malformed = browser
        .get(&authorize_path(&t.spa, SPA_CALLBACK, &short))
        .await;
    assert_eq!(
        malformed.query()["error"],
        "invalid_request",
        "malformed code_challenge"
    );
    // Tokens are answered in the fragment, and only to clients with the implicit grant.
    let wrong_type = browser
        .get(&format!(
            "/authorize?response_type=token&client_id={}&redirect_uri={WEB_CALLBACK}",
            t.web
        ))
        .await;
    let location = wrong_type.location.unwrap();
    let (_, fragment) = location.split_once('#').unwrap();
    let answer: std::collections::HashMap<String, String> =
        serde_urlencoded::from_str(fragment).unwrap();
    assert_eq!(answer["error"], "unauthorized_client");
    let unknown = browser.get(&format!(
        "/authorize?response_type=bogus&client_id={}&redirect_uri={SPA_CALLBACK}&code_challenge={CHALLENGE}&code_challenge_method=S256",
        t.spa
    )).await;
    assert_eq!(unknown.query()["error"], "unsupported_response_type");

    // A forged CSRF token, and no CSRF cookie at all.
    let page = browser
        .get(&authorize_path(
            &t.spa,
            SPA_CALLBACK,
            &pkce(&[("screen_hint", "signup")]),
        ))
        .await;
    let q = page.field("q");
    let forged = browser
        .post(
            "/authorize/signup",
            &[
                ("q", &q),
                ("csrf", "forged"),
                ("email", "x@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let csrf = page.field("csrf");
    let mut other = Browser::new(&t.server);
    let no_cookie = other
        .post(
            "/authorize/signup",
            &[
                ("q", &q),
                ("csrf", &csrf),
                ("email", "x@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(no_cookie.status, StatusCode::FORBIDDEN);
    let (status, _) = t
        .server
        .token_request(json!({"grant_type": "password", "client_id": t.spa, "username": "x@example.com", "password": PASSWORD}))
        .await;
    assert_ne!(status, StatusCode::OK, "nothing was created");
    let weak = browser
        .post(
            "/authorize/signup",
            &[
                ("q", &q),
                ("csrf", &csrf),
                ("email", "x@example.com"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST);
    assert!(weak.body.contains("too short"));
}

#[tokio::test]
async fn code_exchange_checks_verifier_redirect_client_and_expiry() {
    let t = tenant().await;
    let mut browser = Browser::new(&t.server);
    let code_of = |page: Page| page.query()["code"].clone();
    let code = code_of(t.sign_up(&mut browser, "ada@example.com").await);
    let (status, error) = t
        .exchange_spa(&code, "wrong-verifier-wrong-verifier-wrong-verifier-00")
        .await;
    assert_eq!(
        (status, error["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("invalid_grant"))
    );
    assert_eq!(
        t.exchange_spa(&code, VERIFIER).await.0,
        StatusCode::FORBIDDEN,
        "a failed attempt used the code up"
    );

    let path = authorize_path(&t.spa, SPA_CALLBACK, &pkce(&[]));
    let code = code_of(browser.get(&path).await);
    let wrong_redirect = json!({"grant_type": "authorization_code", "client_id": t.spa, "code": code,
                                "redirect_uri": "https://spa.example/other", "code_verifier": VERIFIER});
    assert_eq!(
        t.server.token_request(wrong_redirect).await.1["error"],
        "invalid_grant"
    );

    let code = code_of(browser.get(&path).await);
    let other_client = json!({"grant_type": "authorization_code", "client_id": t.web, "client_secret": t.web_secret,
                              "code": code, "redirect_uri": SPA_CALLBACK});
    assert_eq!(
        t.server.token_request(other_client).await.1["error"],
        "invalid_grant"
    );

    let code = code_of(browser.get(&path).await);
    t.server.clock.advance(61);
    assert_eq!(
        t.exchange_spa(&code, VERIFIER).await.1["error"],
        "invalid_grant",
        "expired"
    );
    let missing = json!({"grant_type": "authorization_code", "client_id": t.spa, "redirect_uri": SPA_CALLBACK});
    assert_eq!(
        t.server.token_request(missing).await.1["error"],
        "invalid_request"
    );
}

impl Tenant {
    /// A confidential client with refresh tokens; returns (client_id, secret).
    async fn offline_client(&self) -> (String, String) {
        let (status, client) = self
            .server
            .admin(
                Method::POST,
                "/clients",
                Some(
                    json!({"name": "Offline web app", "callbacks": [WEB_CALLBACK],
                            "grant_types": ["authorization_code", "refresh_token"]}),
                ),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{client}");
        (
            client["client_id"].as_str().unwrap().into(),
            client["client_secret"].as_str().unwrap().into(),
        )
    }
}

/// RFC 6749 §4.1.2: a code presented a second time is refused and the refresh tokens
/// issued from it are revoked (the JWTs cannot be recalled); other log-ins keep theirs.
#[tokio::test]
async fn a_replayed_code_revokes_the_refresh_tokens_issued_from_it() {
    let t = tenant().await;
    let (id, secret) = t.offline_client().await;
    let mut browser = Browser::new(&t.server);
    t.sign_up(&mut browser, "ada@example.com").await;
    let params = [
        ("response_type", "code"),
        ("client_id", id.as_str()),
        ("redirect_uri", WEB_CALLBACK),
        ("scope", "openid offline_access"),
    ];
    let path = format!(
        "/authorize?{}",
        serde_urlencoded::to_string(params).unwrap()
    );
    let redeem = |code: String| {
        json!({"grant_type": "authorization_code", "client_id": id, "client_secret": secret,
               "code": code, "redirect_uri": WEB_CALLBACK})
    };
    let refresh = |token: &str| {
        json!({"grant_type": "refresh_token", "client_id": id, "client_secret": secret,
               "refresh_token": token})
    };
    let code = browser.get(&path).await.query()["code"].clone();
    let other_code = browser.get(&path).await.query()["code"].clone();
    let (status, first) = t.server.token_request(redeem(code.clone())).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let (status, other) = t.server.token_request(redeem(other_code)).await;
    assert_eq!(status, StatusCode::OK, "{other}");
    // Rotated once already: the whole family goes.
    let (status, rotated) = t
        .server
        .token_request(refresh(first["refresh_token"].as_str().unwrap()))
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");

    let (status, replay) = t.server.token_request(redeem(code)).await;
    assert_eq!(
        (status, replay["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("invalid_grant"))
    );
    let (status, body) = t
        .server
        .token_request(refresh(rotated["refresh_token"].as_str().unwrap()))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = t
        .server
        .token_request(refresh(other["refresh_token"].as_str().unwrap()))
        .await;
    assert_eq!(status, StatusCode::OK, "another code's tokens stay: {body}");
    let (_, logs) = t
        .server
        .admin(Method::GET, "/logs?q=type:feacft", None)
        .await;
    assert!(
        logs.as_array().unwrap().iter().any(|e| e["description"]
            .as_str()
            .unwrap()
            .contains("presented again")),
        "{logs}"
    );
}

/// A replay that arrives while the first exchange is still making its tokens (here a rule
/// takes a second) is caught by that exchange: it answers `invalid_grant` and revokes what
/// it made.
#[tokio::test]
async fn a_replay_racing_the_first_exchange_still_revokes() {
    let t = tenant().await;
    let (id, secret) = t.offline_client().await;
    let (status, body) = t
        .server
        .admin(
            Method::POST,
            "/rules",
            Some(json!({"name": "slow", "script":
                "function (user, context, callback) { const end = Date.now() + 1000; while (Date.now() < end) {} callback(null, user, context); }"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let mut browser = Browser::new(&t.server);
    t.sign_up(&mut browser, "ada@example.com").await;
    // The rules of a browser log-in run at the authorization endpoint, and the code keeps
    // what they left; a code issued without that (by a version that ran them at the
    // exchange) has them run at its exchange, which the slow rule holds up.
    let (_, users) = t
        .server
        .admin(Method::GET, "/users-by-email?email=ada@example.com", None)
        .await;
    let state = &t.server.running().state;
    let now = state.clock.now();
    let code = "a-code-issued-before-scripts-ran-at-authorize";
    state
        .store
        .create_authorization_code(&castellan_core::model::AuthorizationCode {
            code_hash: castellan_core::secrets::token_digest(code),
            client_id: id.clone(),
            user_id: users[0]["user_id"].as_str().unwrap().into(),
            redirect_uri: WEB_CALLBACK.into(),
            scope: vec!["openid".into(), "offline_access".into()],
            audience: None,
            nonce: None,
            code_challenge: None,
            auth_time: now,
            expires_at: now + 60,
            scripted: None,
        })
        .await
        .unwrap();
    let redeem = json!({"grant_type": "authorization_code", "client_id": id, "client_secret": secret,
                        "code": code, "redirect_uri": WEB_CALLBACK});
    let replay = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        t.server.token_request(redeem.clone()).await
    };
    let (first, second) = tokio::join!(t.server.token_request(redeem.clone()), replay);
    assert_eq!(second.1["error"], "invalid_grant", "{}", second.1);
    assert_eq!(
        (first.0, first.1["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("invalid_grant")),
        "{}",
        first.1
    );
    let (_, users) = t
        .server
        .admin(Method::GET, "/users-by-email?email=ada@example.com", None)
        .await;
    let path = format!(
        "/users/{}/refresh-tokens",
        encoded(users[0]["user_id"].as_str().unwrap())
    );
    let (_, tokens) = t.server.admin(Method::GET, &path, None).await;
    assert_eq!(
        tokens["tokens"],
        json!([]),
        "what the first exchange made is revoked"
    );
}

/// A code issued before the user was blocked gives no tokens.
#[tokio::test]
async fn a_code_issued_before_the_user_was_blocked_is_refused() {
    let t = tenant().await;
    let mut browser = Browser::new(&t.server);
    let back = t.sign_up(&mut browser, "ada@example.com").await;
    let code = back.query()["code"].clone();
    let (_, users) = t
        .server
        .admin(Method::GET, "/users-by-email?email=ada@example.com", None)
        .await;
    let path = format!("/users/{}", encoded(users[0]["user_id"].as_str().unwrap()));
    let (status, body) = t
        .server
        .admin(Method::PATCH, &path, Some(json!({"blocked": true})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = t.exchange_spa(&code, VERIFIER).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"], "access_denied");
    assert!(body.get("access_token").is_none());
}

#[tokio::test]
async fn a_template_in_templates_dir_replaces_the_built_in_one() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(
        templates.join("login.html"),
        "{% extends \"layout.html\" %}{% block content %}<p>Welcome to ACME, {{ client_name }}</p>{% endblock %}",
    )
    .unwrap();
    let mut settings = settings(database_url(dir.path()).await, dir.path().to_path_buf());
    settings.templates_dir = Some(templates);
    let server = TestServer::start_with(settings, std::sync::Arc::new(dir)).await;
    let (_, web) = server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "Web app", "callbacks": [WEB_CALLBACK]})),
        )
        .await;
    let mut browser = Browser::new(&server);
    let page = browser
        .get(&authorize_path(
            web["client_id"].as_str().unwrap(),
            WEB_CALLBACK,
            &[],
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Welcome to ACME, Web app"),
        "{}",
        page.body
    );
}

/// Rules run at the authorization endpoint, as on Auth0 (where they may still redirect the
/// user), with the `oidc-basic-profile` protocol, and what they leave is kept with the code;
/// a rule's `UnauthorizedError` goes back to the client as `unauthorized`, with no code.
#[tokio::test]
async fn rules_run_at_the_authorization_endpoint_for_the_code_flow() {
    let t = tenant().await;
    let rule = "function (user, context, callback) {\n  if (user.email === 'mallory@example.com') return callback(new UnauthorizedError('not you'));\n  context.idToken['https://example.com/protocol'] = context.protocol;\n  context.idToken['https://example.com/logins'] = context.stats.loginsCount;\n  callback(null, user, context);\n}";
    let (status, body) = t
        .server
        .admin(
            Method::POST,
            "/rules",
            Some(json!({"name": "protocol", "script": rule})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let mut browser = Browser::new(&t.server);
    let back = t.sign_up(&mut browser, "ada@example.com").await;
    let (status, tokens) = t.exchange_spa(&back.query()["code"], VERIFIER).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let id = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["https://example.com/protocol"], "oidc-basic-profile");
    assert_eq!(id["https://example.com/logins"], 1);

    // Deleted, the rule no longer runs, yet the code already issued keeps its claims.
    let back = browser
        .get(&authorize_path(&t.spa, SPA_CALLBACK, &pkce(&[])))
        .await;
    let code = back.query()["code"].clone();
    let (_, rules) = t.server.admin(Method::GET, "/rules", None).await;
    let path = format!("/rules/{}", rules[0]["id"].as_str().unwrap());
    t.server.admin(Method::DELETE, &path, None).await;
    let (status, tokens) = t.exchange_spa(&code, VERIFIER).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let id = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["https://example.com/protocol"], "oidc-basic-profile");
    t.server
        .admin(
            Method::POST,
            "/rules",
            Some(json!({"name": "protocol", "script": rule})),
        )
        .await;

    let mut browser = Browser::new(&t.server);
    let back = t.sign_up(&mut browser, "mallory@example.com").await;
    assert!(back.location.as_deref().unwrap().starts_with(SPA_CALLBACK));
    let answer = back.query();
    assert_eq!(
        (
            answer["error"].as_str(),
            answer["error_description"].as_str(),
            answer.get("code")
        ),
        ("unauthorized", "not you", None)
    );
    assert_eq!(answer["state"], "st-123");
}

/// Over https the pages' CSRF cookie is host-only (`__Host-`): a cookie of the plain name,
/// which a sibling subdomain could plant, is not a token.
#[tokio::test]
async fn over_https_the_csrf_cookie_is_host_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings(database_url(dir.path()).await, dir.path().to_path_buf());
    settings.issuer = "https://castellan.test/".into();
    let server = TestServer::start_with(settings, std::sync::Arc::new(dir)).await;
    let token = server
        .token(
            ADMIN_ID,
            ADMIN_SECRET,
            "https://castellan.test/api/v2/",
            None,
        )
        .await;
    let client = json!({"name": "Single page app", "app_type": "spa", "callbacks": [SPA_CALLBACK]});
    let (_, spa) = server
        .call(Method::POST, "/api/v2/clients", &token, Some(client))
        .await;
    let spa = spa["client_id"].as_str().unwrap();
    let mut browser = Browser::new(&server);
    let path = authorize_path(spa, SPA_CALLBACK, &pkce(&[]));
    let response = server.http.get(server.url(&path)).send().await.unwrap();
    let set: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let csrf_cookie = set
        .iter()
        .find(|c| c.starts_with("__Host-castellan_csrf="))
        .unwrap_or_else(|| panic!("{set:?}"));
    assert!(csrf_cookie.contains("; Secure"), "{csrf_cookie}");
    assert!(csrf_cookie.contains("; Path=/;"), "{csrf_cookie}");
    assert!(
        !csrf_cookie.to_ascii_lowercase().contains("domain="),
        "{csrf_cookie}"
    );

    let form = browser.get(&path).await;
    let q = form.field("q");
    let token = form.field("csrf");
    // A planted cookie of the plain name, matching the form, is refused.
    let mut planted = Browser::new(&server);
    planted
        .cookies
        .insert("castellan_csrf".into(), "planted-token".into());
    let refused = planted
        .post(
            "/authorize/login",
            &[
                ("q", &q),
                ("csrf", "planted-token"),
                ("username", "ada@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    // The browser that holds the host-only cookie is served.
    let served = browser
        .post(
            "/authorize/login",
            &[
                ("q", &q),
                ("csrf", &token),
                ("username", "ada@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_ne!(served.status, StatusCode::FORBIDDEN, "{}", served.body);
}

/// Callbacks and logout URLs as registered, with a query, a fragment or user information:
/// our parameters join the query, before the fragment, and the page's form-action names
/// only the origin.
#[tokio::test]
async fn parameters_join_a_registered_query_and_never_a_fragment() {
    const WITH_QUERY: &str = "https://odd.example/cb?tenant=a%20b";
    const WITH_FRAGMENT: &str = "https://odd.example/cb#after";
    const WITH_USERINFO: &str = "https://user:pw@odd.example:8443/cb";
    const LOGOUT: &str = "https://odd.example/bye#done";
    let t = tenant().await;
    let (_, odd) = t
        .server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "Odd URLs", "app_type": "spa",
                        "callbacks": [WITH_QUERY, WITH_FRAGMENT, WITH_USERINFO],
                        "allowed_logout_urls": [LOGOUT]})),
        )
        .await;
    let odd = odd["client_id"].as_str().unwrap();
    let mut browser = Browser::new(&t.server);
    t.sign_up(&mut browser, "odd@example.com").await;

    for (callback, start, end) in [
        (
            WITH_QUERY,
            "https://odd.example/cb?tenant=a%20b&code=",
            "&state=st-123",
        ),
        (
            WITH_FRAGMENT,
            "https://odd.example/cb?code=",
            "&state=st-123#after",
        ),
    ] {
        let back = browser
            .get(&authorize_path(odd, callback, &pkce(&[])))
            .await;
        let location = back.location.unwrap();
        assert!(
            location.starts_with(start) && location.ends_with(end),
            "{location}"
        );
    }

    let page = Browser::new(&t.server)
        .get(&authorize_path(odd, WITH_USERINFO, &pkce(&[])))
        .await;
    let csp = page.csp.unwrap();
    assert!(
        csp.contains("form-action 'self' https://odd.example:8443;"),
        "{csp}"
    );

    let out = browser
        .get(&format!(
            "/oidc/logout?client_id={odd}&post_logout_redirect_uri={}&state=s%269",
            "https%3A%2F%2Fodd.example%2Fbye%23done"
        ))
        .await;
    assert_eq!(
        out.location.as_deref(),
        Some("https://odd.example/bye?state=s%269#done")
    );
}

/// A callback that is not an absolute URL matches exactly, but leads nowhere: refused
/// before the log-in form rather than redirecting to a path of the server's own.
#[tokio::test]
async fn a_callback_that_is_not_a_url_is_refused_up_front() {
    let t = tenant().await;
    let (_, relative) = t
        .server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "Relative", "app_type": "spa", "callbacks": ["/cb"]})),
        )
        .await;
    let relative = relative["client_id"].as_str().unwrap();
    let page = Browser::new(&t.server)
        .get(&authorize_path(relative, "/cb", &pkce(&[])))
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert!(page.body.contains("not an absolute URL"), "{}", page.body);
}

/// Consent is asked once per user, client, API and scopes: asked again only for a scope
/// not yet allowed, or with `prompt=consent`; silent authentication then succeeds.
#[tokio::test]
async fn consent_is_remembered_per_user_client_and_scopes() {
    let t = tenant().await;
    let partner = json!({"name": "Partner", "is_first_party": false, "callbacks": [WEB_CALLBACK],
                         "grant_types": ["authorization_code"]});
    let (_, partner) = t
        .server
        .admin(Method::POST, "/clients", Some(partner))
        .await;
    let partner_id = partner["client_id"].as_str().unwrap();
    let mut browser = Browser::new(&t.server);
    t.sign_up(&mut browser, "ada@example.com").await;
    let ask = |extra: &'static [(&'static str, &'static str)]| {
        authorize_path(partner_id, WEB_CALLBACK, extra)
    };
    let page = browser.get(&ask(&[])).await;
    assert_eq!(page.status, StatusCode::OK, "asked the first time");
    let (q, csrf) = (page.field("q"), page.field("csrf"));
    let allowed = browser
        .post(
            "/authorize/consent",
            &[("q", &q), ("csrf", &csrf), ("decision", "allow")],
        )
        .await;
    assert!(allowed.query().contains_key("code"));

    let again = browser.get(&ask(&[])).await;
    assert!(again.query().contains_key("code"), "not asked again");
    let silent = browser.get(&ask(&[("prompt", "none")])).await;
    assert!(silent.query().contains_key("code"), "silent authentication");
    let forced = browser.get(&ask(&[("prompt", "consent")])).await;
    assert_eq!(forced.status, StatusCode::OK, "prompt=consent asks anyway");

    let more = authorize_path(partner_id, WEB_CALLBACK, &[("prompt", "none")]).replace(
        "scope=openid+profile+email",
        "scope=openid+profile+email+phone",
    );
    assert!(more.contains("phone"), "{more}");
    assert_eq!(
        browser.get(&more).await.query()["error"],
        "consent_required",
        "a new scope is asked for"
    );
    let mut other = Browser::new(&t.server);
    t.sign_up(&mut other, "bob@example.com").await;
    assert_eq!(
        other.get(&ask(&[("prompt", "none")])).await.query()["error"],
        "consent_required",
        "another user's consent is their own"
    );
}

/// `max_age` asks for a sign-in newer than it; `id_token_hint` for the user it names.
#[tokio::test]
async fn max_age_and_id_token_hint_decide_whether_the_session_answers() {
    let t = tenant().await;
    let mut browser = Browser::new(&t.server);
    let back = t.sign_up(&mut browser, "ada@example.com").await;
    let (_, tokens) = t.exchange_spa(&back.query()["code"], VERIFIER).await;
    let ada_hint = tokens["id_token"].as_str().unwrap().to_string();
    let mut bob = Browser::new(&t.server);
    let back = t.sign_up(&mut bob, "bob@example.com").await;
    let (_, tokens) = t.exchange_spa(&back.query()["code"], VERIFIER).await;
    let bob_hint = tokens["id_token"].as_str().unwrap().to_string();

    t.server.clock.advance(120);
    let silent = |extra: Vec<(&'static str, String)>| {
        let mut params: Vec<(&str, &str)> = pkce(&[("prompt", "none")]);
        params.extend(extra.iter().map(|(k, v)| (*k, v.as_str())));
        authorize_path(&t.spa, SPA_CALLBACK, &params)
    };
    let old = browser.get(&silent(vec![("max_age", "60".into())])).await;
    assert_eq!(
        old.query()["error"],
        "login_required",
        "signed in too long ago"
    );
    let recent = browser.get(&silent(vec![("max_age", "600".into())])).await;
    assert!(recent.query().contains_key("code"));
    let interactive = authorize_path(&t.spa, SPA_CALLBACK, &pkce(&[("max_age", "60")]));
    let page = browser.get(&interactive).await;
    assert_eq!(page.status, StatusCode::OK, "asked to sign in again");
    assert!(page.body.contains("action=\"/authorize/login\""));
    let bad = browser.get(&silent(vec![("max_age", "soon".into())])).await;
    assert_eq!(bad.query()["error"], "invalid_request");

    let hinted = browser
        .get(&silent(vec![("id_token_hint", ada_hint.clone())]))
        .await;
    assert!(
        hinted.query().contains_key("code"),
        "the hint names this user"
    );
    let other = browser
        .get(&silent(vec![("id_token_hint", bob_hint)]))
        .await;
    assert_eq!(
        other.query()["error"],
        "login_required",
        "another user's hint"
    );
    let forged = format!("{}x", &ada_hint[..ada_hint.len() - 1]);
    let forged = browser.get(&silent(vec![("id_token_hint", forged)])).await;
    assert_eq!(forged.query()["error"], "invalid_request");
}
