//! A new password ends what the old one opened: after a reset through the mailed link or a
//! password set by an administrator, the user's refresh tokens no longer refresh, the
//! single sign-on cookie no longer yields codes, and other outstanding reset links no
//! longer work (unless the server keeps sessions, Auth0's older behaviour). Also Auth0's
//! `GET/DELETE /api/v2/users/{id}/sessions` and `/refresh-tokens`.

use crate::common;

use std::sync::Arc;

use common::browser::Browser;
use common::*;
use reqwest::{Method, StatusCode, redirect};
use serde_json::{Value, json};

const DB: &str = "Username-Password-Authentication";
const PASSWORD: &str = "correct horse battery";
const REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";
const CALLBACK: &str = "https://web.example/callback";

struct Tenant {
    server: TestServer,
    client_id: String,
    client_secret: String,
    user_id: String,
    http: reqwest::Client,
}

async fn tenant_on(server: TestServer) -> Tenant {
    let (status, client) = server
        .admin(
            Method::POST,
            "/clients",
            // Rotating refresh tokens, which these tests were written for; a regular web
            // app's default, as in Auth0, is non-rotating.
            Some(json!({"name": "Web", "callbacks": [CALLBACK],
                        "grant_types": [REALM, "authorization_code", "refresh_token"],
                        "refresh_token": {"rotation_type": "rotating", "expiration_type": "expiring"}})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{client}");
    let user = server.create_user("ada@example.com", json!({})).await;
    Tenant {
        client_id: client["client_id"].as_str().unwrap().into(),
        client_secret: client["client_secret"].as_str().unwrap().into(),
        user_id: user["user_id"].as_str().unwrap().into(),
        http: reqwest::Client::builder()
            .redirect(redirect::Policy::none())
            .build()
            .unwrap(),
        server,
    }
}

async fn tenant() -> Tenant {
    tenant_on(TestServer::start().await).await
}

impl Tenant {
    /// A password-realm log-in asking for a refresh token; returns it.
    async fn refresh_token(&self, password: &str) -> String {
        let (status, body) = self
            .server
            .token_request(json!({
                "grant_type": REALM, "realm": DB, "client_id": self.client_id,
                "client_secret": self.client_secret, "username": "ada@example.com",
                "password": password, "scope": "openid offline_access"}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["refresh_token"].as_str().unwrap().into()
    }

    async fn refresh(&self, refresh_token: &str) -> (StatusCode, Value) {
        self.server
            .token_request(json!({
                "grant_type": "refresh_token", "client_id": self.client_id,
                "client_secret": self.client_secret, "refresh_token": refresh_token}))
            .await
    }

    fn authorize_path(&self) -> String {
        let params = [
            ("response_type", "code"),
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", CALLBACK),
            ("scope", "openid"),
            ("state", "st"),
        ];
        format!(
            "/authorize?{}",
            serde_urlencoded::to_string(params).unwrap()
        )
    }

    /// Logs the browser in through the log-in page: it then holds a session cookie.
    async fn browser_logged_in(&self) -> Browser {
        let mut browser = Browser::new(&self.server);
        let page = browser.get(&self.authorize_path()).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let (q, csrf) = (page.field("q"), page.field("csrf"));
        let back = browser
            .post(
                "/authorize/login",
                &[
                    ("q", &q),
                    ("csrf", &csrf),
                    ("username", "ada@example.com"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
        browser
    }

    /// Whether the browser's session still yields a code without a page.
    async fn single_sign_on_works(&self, browser: &mut Browser) -> bool {
        let page = browser.get(&self.authorize_path()).await;
        page.status == StatusCode::SEE_OTHER && page.query().contains_key("code")
    }

    async fn request_reset(&self) -> String {
        let body =
            json!({"client_id": self.client_id, "email": "ada@example.com", "connection": DB});
        let response = self
            .http
            .post(self.server.url("/dbconnections/change_password"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        // The link is mailed after the answer: wait for one more reset mail.
        let store = &self.server.running().state.store;
        let resets = |mail: &[castellan_core::model::Mail]| {
            mail.iter()
                .filter(|m| m.subject == "Reset your password")
                .count()
        };
        let before = resets(&store.list_mail().await.unwrap()) + 1;
        let mut mail = store.list_mail().await.unwrap();
        for _ in 0..500 {
            if resets(&mail) >= before {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            mail = store.list_mail().await.unwrap();
        }
        let body = &mail
            .iter()
            .rev()
            .find(|m| m.subject == "Reset your password")
            .unwrap()
            .body;
        let start = body.find("http://castellan.test/reset-password").unwrap();
        let url = body[start..].split_whitespace().next().unwrap();
        url.trim_start_matches("http://castellan.test").to_string()
    }

    /// Opens a reset link and posts a new password through its form.
    async fn reset(&self, link: &str, password: &str) -> StatusCode {
        let response = self.http.get(self.server.url(link)).send().await.unwrap();
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
            .find(|c| c.starts_with("castellan_csrf="));
        let page = response.text().await.unwrap();
        let Some(cookie) = cookie else {
            return StatusCode::BAD_REQUEST;
        };
        let field = |name: &str| {
            let marker = format!("name=\"{name}\" value=\"");
            let start = page.find(&marker).unwrap() + marker.len();
            page[start..start + page[start..].find('"').unwrap()].to_string()
        };
        let form = [
            ("ticket", field("ticket")),
            ("csrf", field("csrf")),
            ("password", password.to_string()),
        ];
        self.http
            .post(self.server.url("/reset-password"))
            .header("cookie", cookie)
            .form(&form)
            .send()
            .await
            .unwrap()
            .status()
    }

    async fn listed(&self, what: &str) -> Value {
        let path = format!("/users/{}/{what}", encoded(&self.user_id));
        let (status, body) = self.server.admin(Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }
}

#[tokio::test]
async fn a_reset_through_the_mailed_link_ends_sessions_tokens_and_other_links() {
    let t = tenant().await;
    let refresh_token = t.refresh_token(PASSWORD).await;
    let mut browser = t.browser_logged_in().await;
    assert!(t.single_sign_on_works(&mut browser).await);
    let first_link = t.request_reset().await;
    let second_link = t.request_reset().await;
    assert_ne!(first_link, second_link);
    assert_eq!(
        t.listed("sessions").await["sessions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        t.listed("refresh-tokens").await["tokens"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    assert_eq!(
        t.reset(&second_link, "brand new secret").await,
        StatusCode::OK
    );

    let (status, body) = t.refresh(&refresh_token).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"], "invalid_grant");
    assert!(
        !t.single_sign_on_works(&mut browser).await,
        "the old session cookie yields no code"
    );
    assert_ne!(
        t.reset(&first_link, "yet another secret").await,
        StatusCode::OK,
        "the other link is dead"
    );
    assert_eq!(t.listed("sessions").await["sessions"], json!([]));
    assert_eq!(t.listed("refresh-tokens").await["tokens"], json!([]));
    // The new password works and opens new sessions.
    let fresh = t.refresh_token("brand new secret").await;
    assert_eq!(t.refresh(&fresh).await.0, StatusCode::OK);
}

#[tokio::test]
async fn an_administrator_setting_the_password_ends_them_too() {
    let t = tenant().await;
    let refresh_token = t.refresh_token(PASSWORD).await;
    let mut browser = t.browser_logged_in().await;
    let link = t.request_reset().await;
    let path = format!("/users/{}", encoded(&t.user_id));
    // Changing anything but the password ends nothing.
    let (status, body) = t
        .server
        .admin(Method::PATCH, &path, Some(json!({"name": "Ada"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(t.single_sign_on_works(&mut browser).await);

    let (status, body) = t
        .server
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"password": "set by the admin"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(t.refresh(&refresh_token).await.0, StatusCode::FORBIDDEN);
    assert!(!t.single_sign_on_works(&mut browser).await);
    assert_ne!(t.reset(&link, "mine again please").await, StatusCode::OK);
}

/// `keep_sessions_on_password_change`: Auth0's older behaviour, where a new password leaves
/// refresh tokens and sessions alive. Outstanding reset links still go.
#[tokio::test]
async fn a_server_may_keep_sessions_across_password_changes() {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(dir.path()).await;
    let mut settings = settings(url, dir.path().to_path_buf());
    settings.keep_sessions_on_password_change = true;
    let t = tenant_on(TestServer::start_with(settings, Arc::new(dir)).await).await;
    let refresh_token = t.refresh_token(PASSWORD).await;
    let mut browser = t.browser_logged_in().await;
    let first_link = t.request_reset().await;
    let second_link = t.request_reset().await;
    assert_eq!(
        t.reset(&second_link, "brand new secret").await,
        StatusCode::OK
    );
    assert_eq!(t.refresh(&refresh_token).await.0, StatusCode::OK);
    assert!(t.single_sign_on_works(&mut browser).await);
    assert_ne!(
        t.reset(&first_link, "yet another secret").await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn sessions_and_refresh_tokens_are_listed_and_ended_through_the_api() {
    let t = tenant().await;
    let first = t.refresh_token(PASSWORD).await;
    let second = t.refresh_token(PASSWORD).await;
    let (status, rotated) = t.refresh(&first).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let mut browser = t.browser_logged_in().await;
    let mut other_browser = t.browser_logged_in().await;

    let tokens = t.listed("refresh-tokens").await;
    let list = tokens["tokens"].as_array().unwrap();
    assert_eq!(list.len(), 2, "one per family, rotation included: {tokens}");
    assert!(tokens.get("next").is_none());
    let token = &list[0];
    assert_eq!(token["user_id"], json!(t.user_id));
    assert_eq!(token["client_id"], json!(t.client_id));
    assert_eq!(token["rotating"], json!(true));
    assert!(token["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(token["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(token["expires_at"].is_string());
    assert!(
        !tokens.to_string().contains(&first) && !tokens.to_string().contains(&second),
        "no token value is shown"
    );

    let path = format!("/users/{}/sessions?take=1", encoded(&t.user_id));
    let (status, page) = t.server.admin(Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["sessions"].as_array().unwrap().len(), 1);
    let next = page["next"].as_str().unwrap();
    let session = &page["sessions"][0];
    assert_eq!(session["user_id"], json!(t.user_id));
    assert!(session["authenticated_at"].is_string() && session["expires_at"].is_string());
    let cookie = browser.cookies["castellan_session"].clone();
    assert!(
        !page.to_string().contains(&cookie),
        "no cookie value is shown"
    );
    let path = format!("/users/{}/sessions?take=1&from={next}", encoded(&t.user_id));
    let (_, rest) = t.server.admin(Method::GET, &path, None).await;
    assert_eq!(rest["sessions"].as_array().unwrap().len(), 1);
    assert!(rest.get("next").is_none());
    assert_ne!(rest["sessions"][0]["id"], session["id"]);

    // Scopes are Auth0's; a token without them is refused and changes nothing.
    let reader = t.server.admin_token(Some("read:users")).await;
    for (method, what) in [
        (Method::GET, "sessions"),
        (Method::DELETE, "sessions"),
        (Method::GET, "refresh-tokens"),
        (Method::DELETE, "refresh-tokens"),
    ] {
        let path = format!("/api/v2/users/{}/{what}", encoded(&t.user_id));
        let (status, body) = t.server.call(method.clone(), &path, &reader, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {what}: {body}");
    }
    assert!(t.single_sign_on_works(&mut browser).await);

    // Unknown users, bad paging.
    let (status, body) = t
        .server
        .admin(Method::GET, "/users/auth0%7Cnobody/sessions", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = t
        .server
        .admin(Method::DELETE, "/users/auth0%7Cnobody/refresh-tokens", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let path = format!("/users/{}/sessions?take=1000", encoded(&t.user_id));
    assert_eq!(
        t.server.admin(Method::GET, &path, None).await.0,
        StatusCode::BAD_REQUEST
    );
    let path = format!("/users/{}/refresh-tokens?from=nope", encoded(&t.user_id));
    assert_eq!(
        t.server.admin(Method::GET, &path, None).await.0,
        StatusCode::BAD_REQUEST
    );

    let deleter = t
        .server
        .admin_token(Some("delete:refresh_tokens delete:sessions"))
        .await;
    let path = format!("/api/v2/users/{}/refresh-tokens", encoded(&t.user_id));
    let (status, _) = t.server.call(Method::DELETE, &path, &deleter, None).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(t.refresh(&second).await.0, StatusCode::FORBIDDEN);
    let rotated = rotated["refresh_token"].as_str().unwrap();
    assert_eq!(t.refresh(rotated).await.0, StatusCode::FORBIDDEN);
    assert!(t.single_sign_on_works(&mut browser).await, "sessions stay");

    let path = format!("/api/v2/users/{}/sessions", encoded(&t.user_id));
    let (status, _) = t.server.call(Method::DELETE, &path, &deleter, None).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert!(!t.single_sign_on_works(&mut browser).await);
    assert!(!t.single_sign_on_works(&mut other_browser).await);
    assert_eq!(t.listed("sessions").await["sessions"], json!([]));

    let (status, audit) = t
        .server
        .admin(Method::GET, "/logs?q=type:sapi&sort=date:1", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["details"]["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"delete_user_refresh_tokens")
            && actions.contains(&"delete_user_sessions"),
        "{actions:?}"
    );
}
