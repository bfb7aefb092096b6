//! Mailed links: email verification after sign-up, password reset through
//! `/dbconnections/change_password` and through the forgotten-password page. Links work
//! once, expire, and a reset lifts brute-force blocks. Mail goes to the outbox here.

use crate::common;

use common::*;
use reqwest::{Method, StatusCode, redirect};
use serde_json::{Value, json};

const DB: &str = "Username-Password-Authentication";
const PASSWORD: &str = "correct horse battery";
const REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";

struct App {
    server: TestServer,
    client_id: String,
    client_secret: String,
    http: reqwest::Client,
}

async fn app() -> App {
    let server = TestServer::start().await;
    let (_, client) = server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "Web", "callbacks": ["https://web.example/cb"], "grant_types": [REALM, "authorization_code"]})),
        )
        .await;
    let app = App {
        client_id: client["client_id"].as_str().unwrap().into(),
        client_secret: client["client_secret"].as_str().unwrap().into(),
        http: reqwest::Client::builder()
            .redirect(redirect::Policy::none())
            .build()
            .unwrap(),
        server,
    };
    let body = json!({"client_id": app.client_id, "email": "ada@example.com", "password": PASSWORD, "connection": DB});
    let response = app
        .http
        .post(app.server.url("/dbconnections/signup"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    app
}

impl App {
    async fn outbox(&self) -> Vec<castellan_core::model::Mail> {
        self.server.running().state.store.list_mail().await.unwrap()
    }

    /// The outbox once it holds `count` mails with this subject: reset links are mailed in
    /// the background, after the request was answered.
    async fn mailed(&self, subject: &str, count: usize) -> Vec<castellan_core::model::Mail> {
        for _ in 0..500 {
            let mail = self.outbox().await;
            if mail.iter().filter(|m| m.subject == subject).count() >= count {
                return mail;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!(
            "no {count} mails \"{subject}\" in {:?}",
            self.outbox().await
        );
    }

    /// The path of the last mailed link with `prefix`.
    async fn last_link(&self, prefix: &str) -> String {
        let subject = if prefix.contains("reset-password") {
            "Reset your password"
        } else {
            "Verify your email"
        };
        let mail = self.mailed(subject, 1).await;
        let body = &mail
            .iter()
            .rev()
            .find(|m| m.body.contains(prefix))
            .expect("a mail with the link")
            .body;
        let start = body.find(prefix).unwrap();
        let url = body[start..].split_whitespace().next().unwrap();
        url.trim_start_matches("http://castellan.test").to_string()
    }

    async fn login(&self, password: &str) -> StatusCode {
        let body = json!({"grant_type": REALM, "client_id": self.client_id, "client_secret": self.client_secret,
                          "username": "ada@example.com", "password": password, "realm": DB});
        self.server.token_request(body).await.0
    }

    async fn change_password(&self, email: &str) -> (StatusCode, String) {
        let body = json!({"client_id": self.client_id, "email": email, "connection": DB});
        let response = self
            .http
            .post(self.server.url("/dbconnections/change_password"))
            .json(&body)
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }

    /// GETs a page and returns (status, body, csrf cookie).
    async fn page(&self, path: &str) -> (StatusCode, String, Option<String>) {
        let response = self.http.get(self.server.url(path)).send().await.unwrap();
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
            .find(|c| c.starts_with("castellan_csrf="));
        (response.status(), response.text().await.unwrap(), cookie)
    }

    async fn post(&self, path: &str, cookie: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        let response = self
            .http
            .post(self.server.url(path))
            .header("cookie", cookie)
            .form(form)
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }
}

fn field(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker).unwrap() + marker.len();
    body[start..start + body[start..].find('"').unwrap()]
        .replace("&amp;", "&")
        .replace("&#x2f;", "/")
}

#[tokio::test]
async fn sign_up_mails_a_verification_link_that_works_once() {
    let app = app().await;
    let mail = app.outbox().await;
    assert_eq!(
        (
            mail.len(),
            mail[0].recipient.as_str(),
            mail[0].subject.as_str()
        ),
        (1, "ada@example.com", "Verify your email")
    );
    let link = app.last_link("http://castellan.test/verify-email").await;
    let (status, body, _) = app.page(&link).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let store = app.server.running().state.store.clone();
    assert!(
        store
            .find_user_by_email(DB, "ada@example.com")
            .await
            .unwrap()
            .unwrap()
            .email_verified
    );
    assert_eq!(
        app.page(&link).await.0,
        StatusCode::BAD_REQUEST,
        "single use"
    );
    let logs = store.list_logs(None, 50).await.unwrap();
    assert!(logs.iter().any(|e| e.event_type == "sv"));
}

#[tokio::test]
async fn reset_through_the_api_changes_the_password_and_lifts_blocks() {
    let app = app().await;
    for _ in 0..10 {
        app.login("guess").await;
    }
    assert_eq!(app.login(PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);

    let known = app.change_password("ADA@example.com").await;
    let unknown = app.change_password("nobody@example.com").await;
    assert_eq!(known, unknown, "no enumeration");
    assert_eq!(known.0, StatusCode::OK);
    assert_eq!(
        app.mailed("Reset your password", 1)
            .await
            .iter()
            .filter(|m| m.subject == "Reset your password")
            .count(),
        1
    );

    let link = app.last_link("http://castellan.test/reset-password").await;
    let (status, page, cookie) = app.page(&link).await;
    assert_eq!(status, StatusCode::OK);
    let cookie = cookie.unwrap();
    let (ticket, csrf) = (field(&page, "ticket"), field(&page, "csrf"));
    let (status, _) = app
        .post(
            "/reset-password",
            "castellan_csrf=forged",
            &[
                ("ticket", &ticket),
                ("csrf", &csrf),
                ("password", "brand new secret"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, weak) = app
        .post(
            "/reset-password",
            &cookie,
            &[("ticket", &ticket), ("csrf", &csrf), ("password", "short")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(weak.contains("too short"));
    let (status, done) = app
        .post(
            "/reset-password",
            &cookie,
            &[
                ("ticket", &ticket),
                ("csrf", &csrf),
                ("password", "brand new secret"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(
        app.login("brand new secret").await,
        StatusCode::OK,
        "the block is lifted"
    );
    assert_eq!(
        app.login(PASSWORD).await,
        StatusCode::FORBIDDEN,
        "the old password is gone"
    );
    let (status, _) = app
        .post(
            "/reset-password",
            &cookie,
            &[
                ("ticket", &ticket),
                ("csrf", &csrf),
                ("password", "another new secret"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the link worked once");

    let bad_client = json!({"client_id": "nope", "email": "ada@example.com", "connection": DB});
    let response = app
        .http
        .post(app.server.url("/dbconnections/change_password"))
        .json(&bad_client)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        (body["error"].clone(), body["statusCode"].clone()),
        (json!("bad.request"), json!(400))
    );
}

#[tokio::test]
async fn reset_links_expire() {
    let app = app().await;
    app.change_password("ada@example.com").await;
    let link = app.last_link("http://castellan.test/reset-password").await;
    assert_eq!(app.page(&link).await.0, StatusCode::OK);
    app.server.clock.advance(86_401);
    assert_eq!(app.page(&link).await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_forgotten_password_page_mails_a_link() {
    let app = app().await;
    let query = format!(
        "response_type=code&client_id={}&redirect_uri=https%3A%2F%2Fweb.example%2Fcb&scope=openid",
        app.client_id
    );
    let (status, login, _) = app.page(&format!("/authorize?{query}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(login.contains("/authorize/forgot?"));
    let (status, page, cookie) = app.page(&format!("/authorize/forgot?{query}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let cookie = cookie.unwrap();
    let form = [
        ("q", field(&page, "q")),
        ("csrf", field(&page, "csrf")),
        ("email", "ada@example.com".to_string()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, sent) = app.post("/authorize/forgot", &cookie, &form).await;
    assert_eq!(status, StatusCode::OK);
    assert!(sent.contains("Check your email"));
    app.mailed("Reset your password", 1).await;
}

/// However often one account's reset is asked for, it gets a few links an hour, and every
/// answer is the same.
#[tokio::test]
async fn reset_mails_to_one_account_are_throttled() {
    let app = app().await;
    let mut answers = Vec::new();
    for _ in 0..25 {
        answers.push(app.change_password("ada@example.com").await);
    }
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    assert_eq!(answers[0].0, StatusCode::OK);
    let limit = castellan_core::login::recovery::RESET_MAILS_PER_HOUR as usize;
    app.mailed("Reset your password", limit).await;
    // The refused requests are in the log, which is written after the mail decision.
    for _ in 0..500 {
        let (_, logs) = app
            .server
            .admin(Method::GET, "/logs?q=type:fcpr", None)
            .await;
        if logs.as_array().unwrap().len() == 25 - limit {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let reset_mails = app
        .outbox()
        .await
        .iter()
        .filter(|m| m.subject == "Reset your password")
        .count();
    assert_eq!(reset_mails, limit);
    // An hour later, a link again.
    app.server.clock.advance(3601);
    app.change_password("ada@example.com").await;
    app.mailed("Reset your password", limit + 1).await;
}

/// Housekeeping deletes mailed links and outbox mail once they have expired, and keeps the
/// tenant log for its retention.
#[tokio::test]
async fn housekeeping_forgets_expired_links_and_old_mail() {
    let app = app().await;
    app.change_password("ada@example.com").await;
    let link = app.last_link("http://castellan.test/reset-password").await;
    let state = &app.server.running().state;
    let store = state.store.as_ref();
    let purge = |days| castellan_core::housekeeping::purge(store, &app.server.clock, days);
    let kept = purge(30).await.unwrap();
    assert_eq!((kept.tickets, kept.outbox, kept.logs), (0, 0, 0));
    assert_eq!(app.page(&link).await.0, StatusCode::OK);

    app.server
        .clock
        .advance(castellan_core::housekeeping::OUTBOX_RETENTION + 1);
    let purged = purge(30).await.unwrap();
    // The reset link and the verification link of the sign-up; both mails.
    assert_eq!((purged.tickets, purged.outbox, purged.logs), (2, 2, 0));
    assert!(app.outbox().await.is_empty());
    app.server.clock.advance(30 * 86_400);
    // Log events are written in batches: the old ones must be written before they can go.
    store.flush_log_queue().await;
    assert!(purge(0).await.unwrap().logs == 0, "0 keeps the log");
    assert!(purge(30).await.unwrap().logs > 0);
    let (_, logs) = app.server.admin(Method::GET, "/logs", None).await;
    // Only what this very call's token request wrote (it is logged after the purge).
    assert!(logs.as_array().unwrap().len() <= 2, "{logs}");
}
