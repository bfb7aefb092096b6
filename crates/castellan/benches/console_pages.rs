//! Admin console page render latency: p50/p99 of whole HTTP round trips for console pages on
//! a tenant of 1,000 users (created through the Management API), with a console session
//! opened through the real log-in page, as a browser does.
//!
//! `cargo bench -p castellan --bench console_pages`

#[path = "support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use reqwest::Method;
use serde_json::json;
use support::{BenchServer, PASSWORD, percentile};

const USERS: usize = 1_000;
const ROUNDS: usize = 300;

/// Cookies as a browser keeps them; redirects are not followed.
struct Browser<'a> {
    server: &'a BenchServer,
    cookies: HashMap<String, String>,
}

impl Browser<'_> {
    async fn send(
        &mut self,
        request: reqwest::RequestBuilder,
    ) -> (reqwest::StatusCode, Option<String>, String) {
        let cookie: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let response = request
            .header("cookie", cookie.join("; "))
            .send()
            .await
            .unwrap();
        for set in response.headers().get_all("set-cookie") {
            let pair = set.to_str().unwrap().split(';').next().unwrap();
            if let Some((k, v)) = pair.split_once('=') {
                self.cookies.insert(k.to_string(), v.to_string());
            }
        }
        let location = response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().replace("http://bench.test/", "/"));
        (response.status(), location, response.text().await.unwrap())
    }

    async fn get(&mut self, path: &str) -> (reqwest::StatusCode, Option<String>, String) {
        let request = self.server.http.get(format!("{}{path}", self.server.base));
        self.send(request).await
    }
}

fn field(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker).unwrap() + marker.len();
    let end = start + body[start..].find('"').unwrap();
    body[start..end]
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
        .replace("&quot;", "\"")
}

async fn measure(browser: &mut Browser<'_>, path: &str) -> (Duration, Duration) {
    let mut samples = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let (status, _, body) = browser.get(path).await;
        samples.push(started.elapsed());
        assert!(status.is_success(), "{path}: {status}");
        assert!(!body.is_empty());
    }
    samples.sort();
    (percentile(&samples, 0.5), percentile(&samples, 0.99))
}

#[tokio::main]
async fn main() {
    let server = BenchServer::start().await;
    let started = Instant::now();
    let created: Vec<serde_json::Value> = futures_util::stream::iter(0..USERS)
        .map(|i| {
            let server = &server;
            async move {
                let body = json!({"connection": "Username-Password-Authentication",
                    "email": format!("user{i:04}@example.com"), "password": PASSWORD,
                    "app_metadata": {"plan": if i % 3 == 0 { "gold" } else { "free" }}});
                server.admin(Method::POST, "/users", body).await
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    eprintln!("{USERS} users in {:.1}s", started.elapsed().as_secs_f64());

    // user0000 becomes the administrator.
    let admin = created
        .iter()
        .find(|u| u["email"] == "user0000@example.com")
        .unwrap();
    let admin_id = admin["user_id"].as_str().unwrap().replace('|', "%7C");
    let role = server
        .admin(Method::POST, "/roles", json!({"name": "castellan-admin"}))
        .await;
    let role_id = role["id"].as_str().unwrap();
    server
        .admin(
            Method::POST,
            &format!("/roles/{role_id}/permissions"),
            json!({"permissions": [{"resource_server_identifier": "http://bench.test/api/v2/", "permission_name": "castellan:admin"}]}),
        )
        .await;
    server
        .admin(
            Method::POST,
            &format!("/users/{admin_id}/roles"),
            json!({"roles": [role_id]}),
        )
        .await;

    let mut browser = Browser {
        server: &server,
        cookies: HashMap::new(),
    };
    let (_, to_authorize, _) = browser.get("/admin/login").await;
    let (_, _, form) = browser.get(&to_authorize.unwrap()).await;
    let post = server
        .http
        .post(format!("{}/authorize/login", server.base))
        .form(&[
            ("q", field(&form, "q")),
            ("csrf", field(&form, "csrf")),
            ("username", "user0000@example.com".into()),
            ("password", PASSWORD.into()),
        ]);
    let (_, callback, _) = browser.send(post).await;
    let (status, _, _) = browser.get(&callback.unwrap()).await;
    assert!(status.is_redirection(), "console log-in: {status}");

    println!("console page render, {USERS} users, {ROUNDS} sequential requests each:");
    for (label, path) in [
        ("users list (first page of 50)", "/admin/users".to_string()),
        (
            "users search (app_metadata.plan:gold)",
            "/admin/users?q=app_metadata.plan%3Agold".to_string(),
        ),
        (
            "one user (roles, groups, permissions, 20 events)",
            format!("/admin/users/{admin_id}"),
        ),
        ("logs (first page of 50)", "/admin/logs".to_string()),
    ] {
        let (p50, p99) = measure(&mut browser, &path).await;
        println!(
            "  {label:<52} p50 {:>6.2} ms   p99 {:>6.2} ms",
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3
        );
    }
}
