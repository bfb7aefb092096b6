//! Brute-force protection by client address: behind a trusted proxy each client is
//! counted by the address the proxy forwarded, and by no address a client forges; blocks
//! run out; an account blocked from enough addresses is blocked from all.

use crate::common;

use std::sync::Arc;

use castellan::config::Settings;
use castellan::http::client_address::TrustedProxies;
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";
const PASSWORD: &str = "correct horse battery";

struct App {
    server: TestServer,
    client: Value,
}

async fn app(change: impl FnOnce(&mut Settings)) -> App {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings(database_url(dir.path()).await, dir.path().to_path_buf());
    change(&mut settings);
    let server = TestServer::start_with(settings, Arc::new(dir)).await;
    let (status, client) = server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "Web", "grant_types": [REALM]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    server.create_user("ada@example.com", json!({})).await;
    App { server, client }
}

fn behind(proxies: &[&str]) -> impl FnOnce(&mut Settings) {
    let entries: Vec<String> = proxies.iter().map(|p| p.to_string()).collect();
    move |s| s.trusted_proxies = TrustedProxies::parse(&entries).unwrap()
}

impl App {
    /// A log-in as ada through the proxy, for the client at `forwarded_for`.
    async fn login(&self, forwarded_for: &str, password: &str) -> (StatusCode, Value) {
        let body = json!({"grant_type": REALM, "client_id": self.client["client_id"],
                          "client_secret": self.client["client_secret"],
                          "username": "ada@example.com", "password": password, "realm": DATABASE});
        let response = self
            .server
            .http
            .post(self.server.url("/oauth/token"))
            .header("x-forwarded-for", forwarded_for)
            .json(&body)
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }

    async fn fail_ten_times(&self, forwarded_for: &str) {
        for _ in 0..10 {
            assert_eq!(
                self.login(forwarded_for, "guess").await.0,
                StatusCode::FORBIDDEN
            );
        }
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_is_counted_apart() {
    let app = app(behind(&["127.0.0.1"])).await;
    app.fail_ten_times("198.51.100.7").await;
    let (status, body) = app.login("198.51.100.7", PASSWORD).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts"))
    );
    // A client the proxy forwards from elsewhere, even one that forged its own header.
    let (status, body) = app.login("198.51.100.7, 203.0.113.5", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let logs = app
        .server
        .running()
        .state
        .store
        .list_logs(None, 1000)
        .await
        .unwrap();
    let address = |kind: &str| {
        logs.iter()
            .filter(|e| e.event_type == kind)
            .filter_map(|e| e.ip.clone())
            .collect::<Vec<_>>()
    };
    assert!(
        address("fp").iter().all(|ip| ip == "198.51.100.7"),
        "{:?}",
        address("fp")
    );
    assert_eq!(
        address("limit_wc").first().map(String::as_str),
        Some("198.51.100.7")
    );
    assert!(
        logs.iter()
            .any(|e| e.event_type.starts_with('s') && e.ip.as_deref() == Some("203.0.113.5")),
        "the success is logged with the forwarded address"
    );
}

#[tokio::test]
async fn forwarded_addresses_from_an_untrusted_peer_are_ignored() {
    let app = app(|_| {}).await;
    for i in 0..10 {
        let forged = format!("198.51.100.{i}");
        assert_eq!(app.login(&forged, "guess").await.0, StatusCode::FORBIDDEN);
    }
    let (status, _) = app.login("203.0.113.99", PASSWORD).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "the peer's address was blocked, whatever the header said"
    );
}

#[tokio::test]
async fn an_account_blocked_from_five_addresses_is_blocked_from_all_for_a_while() {
    let app = app(behind(&["127.0.0.1"])).await;
    for i in 1..=4 {
        app.fail_ten_times(&format!("198.51.100.{i}")).await;
    }
    assert_eq!(
        app.login("203.0.113.5", PASSWORD).await.0,
        StatusCode::OK,
        "four blocked addresses leave the others alone"
    );
    app.fail_ten_times("198.51.100.5").await;
    let (status, body) = app.login("203.0.113.5", PASSWORD).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts")),
        "five block the account"
    );
    app.server.clock.advance(15 * 60 + 1);
    assert_eq!(
        app.login("203.0.113.5", PASSWORD).await.0,
        StatusCode::OK,
        "until the blocks run out"
    );
    assert_eq!(
        app.login("198.51.100.1", PASSWORD).await.0,
        StatusCode::OK,
        "each of them too"
    );
}
