//! Log-in throughput and latency, measured in one run on the same cores:
//! - the bare argon2id hashing rate of the password pool (the ceiling for log-ins);
//! - password-realm log-ins per second through `POST /oauth/token` at 16 connections;
//! - p50/p99 of rendering the log-in page and of the authorization-code exchange.
//!
//! Run: `cargo bench -p castellan --bench login_flows`

use std::sync::Arc;
use std::time::{Duration, Instant};

use castellan_core::passwords::PasswordService;
use serde_json::{Value, json};
use support::{BenchServer, PASSWORD, percentile};

mod support;

const CALLBACK: &str = "https://bench.example/cb";
const CONCURRENCY: usize = 16;
const LOAD_SECONDS: u64 = 10;

async fn hashing_rate(seconds: u64) -> f64 {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let service = Arc::new(PasswordService::new(cores));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = vec![];
    for _ in 0..CONCURRENCY {
        let service = service.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < deadline {
                service.hash(PASSWORD).await.unwrap();
                n += 1;
            }
            n
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let server = BenchServer::start().await;
    let (base, http, admin) = (
        server.base.clone(),
        server.http.clone(),
        server.admin.clone(),
    );
    let client: Value = http
        .post(format!("{base}/api/v2/clients"))
        .bearer_auth(&admin)
        .json(&json!({"name": "bench", "callbacks": [CALLBACK],
                      "grant_types": ["http://auth0.com/oauth/grant-type/password-realm", "authorization_code"]}))
        .send().await.unwrap().json().await.unwrap();
    let (client_id, secret) = (
        client["client_id"].as_str().unwrap().to_string(),
        client["client_secret"].as_str().unwrap().to_string(),
    );
    let signup = json!({"client_id": client_id, "email": "bench@example.com", "password": PASSWORD,
                        "connection": "Username-Password-Authentication"});
    assert!(
        http.post(format!("{base}/dbconnections/signup"))
            .json(&signup)
            .send()
            .await
            .unwrap()
            .status()
            .is_success()
    );

    // 1. The ceiling: argon2id hashes per second on this machine's cores, right now.
    let ceiling = hashing_rate(LOAD_SECONDS).await;

    // 2. Password-realm log-ins per second at 16 connections.
    let login = json!({"grant_type": "http://auth0.com/oauth/grant-type/password-realm", "client_id": client_id,
                       "client_secret": secret, "username": "bench@example.com", "password": PASSWORD,
                       "realm": "Username-Password-Authentication"});
    let deadline = Instant::now() + Duration::from_secs(LOAD_SECONDS);
    let started = Instant::now();
    let mut workers = vec![];
    for _ in 0..CONCURRENCY {
        let (http, url, body) = (http.clone(), format!("{base}/oauth/token"), login.clone());
        workers.push(tokio::spawn(async move {
            let mut ok = 0u64;
            while Instant::now() < deadline {
                let status = http.post(&url).json(&body).send().await.unwrap().status();
                assert!(status.is_success(), "log-in failed: {status}");
                ok += 1;
            }
            ok
        }));
    }
    let mut logins = 0;
    for w in workers {
        logins += w.await.unwrap();
    }
    let login_rate = logins as f64 / started.elapsed().as_secs_f64();

    // 3. The log-in page, one request at a time.
    let authorize = format!(
        "{base}/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope=openid",
        "https%3A%2F%2Fbench.example%2Fcb"
    );
    let mut page_times = vec![];
    for _ in 0..2000 {
        let t = Instant::now();
        let response = http.get(&authorize).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.bytes().await.unwrap();
        page_times.push(t.elapsed());
    }
    page_times.sort();

    // 4. The code exchange: codes come from single sign-on (a session cookie), so only the
    //    exchange itself is timed.
    let page = http.get(&authorize).send().await.unwrap();
    let csrf_cookie = page.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let body = page.text().await.unwrap();
    let field = |name: &str| {
        let marker = format!("name=\"{name}\" value=\"");
        let start = body.find(&marker).unwrap() + marker.len();
        body[start..start + body[start..].find('"').unwrap()]
            .replace("&amp;", "&")
            .replace("&#x2f;", "/")
    };
    let form = [
        ("q", field("q")),
        ("csrf", field("csrf")),
        ("username", "bench@example.com".into()),
        ("password", PASSWORD.into()),
    ];
    let logged_in = http
        .post(format!("{base}/authorize/login"))
        .header("cookie", &csrf_cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    let session = logged_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("castellan_session="))
        .unwrap();
    let mut exchange_times = vec![];
    for _ in 0..1000 {
        let redirect = http
            .get(&authorize)
            .header("cookie", &session)
            .send()
            .await
            .unwrap();
        let location = redirect.headers()["location"].to_str().unwrap().to_string();
        let code = location
            .split("code=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap()
            .to_string();
        let exchange = json!({"grant_type": "authorization_code", "client_id": client_id, "client_secret": secret,
                              "code": code, "redirect_uri": CALLBACK});
        let t = Instant::now();
        let response = http
            .post(format!("{base}/oauth/token"))
            .json(&exchange)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
        response.bytes().await.unwrap();
        exchange_times.push(t.elapsed());
    }
    exchange_times.sort();

    println!("| measure | value |");
    println!("| --- | --- |");
    println!("| argon2id hashes/s (password pool, all cores) | {ceiling:.1} |");
    println!("| password-realm log-ins/s at {CONCURRENCY} connections | {login_rate:.1} |");
    println!(
        "| log-ins / hashing ceiling | {:.1} % |",
        100.0 * login_rate / ceiling
    );
    println!(
        "| log-in page p50 / p99 | {:.2?} / {:.2?} |",
        percentile(&page_times, 0.5),
        percentile(&page_times, 0.99)
    );
    println!(
        "| code exchange p50 / p99 | {:.2?} / {:.2?} |",
        percentile(&exchange_times, 0.5),
        percentile(&exchange_times, 0.99)
    );
}
