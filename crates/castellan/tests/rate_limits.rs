//! Per-address rate limits: on log-in and sign-up endpoints by default, on client
//! credentials only when configured; another address is not affected.

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

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
