//! Per-address rate limits: on log-in and sign-up endpoints by default, on client
//! credentials only when configured; another address is not affected. Password hashing:
//! one address gets a budget of hashes well below the machine's, and a full hashing queue
//! answers 503 at once.

use crate::common;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use castellan::config::Settings;
use castellan_core::passwords::HashingLimits;
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";
const PASSWORD: &str = "correct horse battery";

async fn server(authentication: u32, client_credentials: u32) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings(database_url(dir.path()).await, dir.path().to_path_buf());
    settings.authentication_per_second = authentication;
    settings.client_credentials_per_second = client_credentials;
    TestServer::start_with(settings, Arc::new(dir)).await
}

async fn statuses(
    http: &reqwest::Client,
    server: &TestServer,
    path: &str,
    body: serde_json::Value,
    n: usize,
) -> Vec<StatusCode> {
    let mut out = vec![];
    for _ in 0..n {
        out.push(
            http.post(server.url(path))
                .json(&body)
                .send()
                .await
                .unwrap()
                .status(),
        );
    }
    out
}

#[tokio::test]
async fn authentication_endpoints_are_limited_per_address() {
    let server = server(2, 0).await;
    let body =
        json!({"client_id": "nope", "email": "a@example.com", "password": "x", "connection": "db"});
    let seen = statuses(
        &server.http,
        &server,
        "/dbconnections/signup",
        body.clone(),
        10,
    )
    .await;
    assert!(seen.contains(&StatusCode::TOO_MANY_REQUESTS), "{seen:?}");
    assert_eq!(
        seen[0],
        StatusCode::BAD_REQUEST,
        "the first requests pass the limiter"
    );
    let limited = server
        .http
        .post(server.url("/dbconnections/signup"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(limited.headers()["retry-after"], "1");
    let password =
        json!({"grant_type": "password", "client_id": "x", "username": "a", "password": "b"});
    assert_eq!(
        server.token_request(password).await.0,
        StatusCode::TOO_MANY_REQUESTS,
        "password grants too"
    );

    let elsewhere = reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3)))
        .build()
        .unwrap();
    let seen = statuses(&elsewhere, &server, "/dbconnections/signup", body, 1).await;
    assert_eq!(
        seen,
        [StatusCode::BAD_REQUEST],
        "another address is not limited"
    );
}

#[tokio::test]
async fn client_credentials_are_limited_only_when_configured() {
    let free = server(1, 0).await;
    for _ in 0..10 {
        free.admin_token(None).await;
    }
    let limited = server(100, 1).await;
    let body = json!({"grant_type": "client_credentials", "client_id": ADMIN_ID, "client_secret": ADMIN_SECRET,
                      "audience": MANAGEMENT_AUDIENCE});
    let mut seen = vec![];
    for _ in 0..6 {
        seen.push(limited.token_request(body.clone()).await.0);
    }
    assert!(seen.contains(&StatusCode::TOO_MANY_REQUESTS), "{seen:?}");
}

async fn server_with(change: impl FnOnce(&mut Settings)) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings(database_url(dir.path()).await, dir.path().to_path_buf());
    change(&mut settings);
    TestServer::start_with(settings, Arc::new(dir)).await
}

/// A client allowed the password-realm grant and a user of the database connection;
/// returns the body of a log-in as that user with `password`.
async fn password_client(server: &TestServer) -> (String, String) {
    let (status, client) = server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "Web", "grant_types": [REALM]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{client}");
    server.create_user("ada@example.com", json!({})).await;
    (
        client["client_id"].as_str().unwrap().into(),
        client["client_secret"].as_str().unwrap().into(),
    )
}

fn login(client: &(String, String), username: &str, password: &str) -> Value {
    json!({"grant_type": REALM, "client_id": client.0, "client_secret": client.1,
           "username": username, "password": password, "realm": DATABASE})
}

fn from(ip: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::from(ip)))
        .build()
        .unwrap()
}

/// Sends `bodies` to `/oauth/token` all at once; returns each status with its
/// `Retry-After` and body.
async fn all_at_once(
    http: &reqwest::Client,
    server: &TestServer,
    bodies: Vec<Value>,
) -> Vec<(StatusCode, Option<String>, Value)> {
    let requests = bodies.into_iter().map(|body| {
        let request = http.post(server.url("/oauth/token")).json(&body).send();
        async move {
            let response = request.await.unwrap();
            let retry = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string());
            let status = response.status();
            (status, retry, response.json().await.unwrap_or(Value::Null))
        }
    });
    futures_util::future::join_all(requests).await
}

#[tokio::test]
async fn one_address_flooding_wrong_passwords_is_held_to_its_hashing_budget() {
    // The general limit (100 a second) lets everything through; the hashing budget of
    // 2 a second (bursts of 10) does not.
    let server = server_with(|s| s.password_checks_per_second = Some(2)).await;
    let client = password_client(&server).await;
    let flood: Vec<Value> = (0..32)
        .map(|i| login(&client, &format!("nobody{i}@example.com"), "wrong"))
        .collect();
    let seen = all_at_once(&server.http, &server, flood).await;
    let limited: Vec<_> = seen
        .iter()
        .filter(|(status, ..)| *status == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert!(limited.len() >= 32 - 14, "{seen:?}");
    for (_, retry, body) in &limited {
        assert_eq!(retry.as_deref(), Some("1"));
        assert_eq!(body["error"], "too_many_requests");
    }
    // Another address logs in.
    let elsewhere = from([127, 0, 0, 4]);
    let seen = all_at_once(
        &elsewhere,
        &server,
        vec![login(&client, "ada@example.com", PASSWORD)],
    )
    .await;
    assert_eq!(seen[0].0, StatusCode::OK, "{:?}", seen[0]);
    let (status, _) = server.admin(Method::GET, "/users", None).await;
    assert_eq!(status, StatusCode::OK, "requests that hash nothing pass");
}

#[tokio::test]
async fn sign_ups_draw_on_the_same_budget() {
    let server = server_with(|s| s.password_checks_per_second = Some(1)).await;
    let client = password_client(&server).await;
    let mut seen = vec![];
    for i in 0..20 {
        seen.push(
            server
                .sign_up(&client.0, &format!("new{i}@example.com"))
                .await
                .0,
        );
    }
    assert!(seen.contains(&StatusCode::TOO_MANY_REQUESTS), "{seen:?}");
    assert_eq!(seen[0], StatusCode::OK, "{seen:?}");
}

#[tokio::test]
async fn a_full_hashing_queue_answers_503_at_once_with_retry_after() {
    let server = server_with(|s| {
        s.password_checks_per_second = Some(0);
        s.password_hashing = HashingLimits {
            workers: 1,
            queue: 1,
        };
    })
    .await;
    let client = password_client(&server).await;
    let burst: Vec<Value> = (0..24)
        .map(|i| login(&client, &format!("nobody{i}@example.com"), "wrong"))
        .collect();
    let seen = all_at_once(&server.http, &server, burst).await;
    let refused: Vec<_> = seen
        .iter()
        .filter(|(status, ..)| *status == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert!(!refused.is_empty(), "{seen:?}");
    for (_, retry, body) in &refused {
        assert_eq!(retry.as_deref(), Some("1"));
        assert_eq!(body["error"], "temporarily_unavailable", "{body}");
    }
    assert!(
        seen.iter()
            .any(|(status, ..)| *status == StatusCode::FORBIDDEN),
        "those admitted are checked: {seen:?}"
    );
    // Once the burst has passed, log-ins are served again.
    let (status, body) = server
        .token_request(login(&client, "ada@example.com", PASSWORD))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
