//! What rules cost a log-in, measured in one run on the same cores:
//! - p50/p99 of the refresh grant (a user-credential token without the password's hashing)
//!   with 0, 1 and 5 typical rules enabled, and with 5 rules that use `lodash` and
//!   `request` (to a local web service), in interleaved rounds so that noise hits all
//!   four alike;
//! - refresh grants per second at 16 connections with 0 and 5 rules;
//! - the memory a sandbox worker process holds after running the 5 rules (its resident
//!   set, and its proportional share of the pages it shares with the other workers).
//!
//! Run: `cargo bench -p castellan --bench rules_pipeline`

use std::time::{Duration, Instant};

use castellan_rules::{Limits, Sandbox, Setup};
use reqwest::Method;
use serde_json::{Value, json};
use support::{BenchServer, PASSWORD, percentile, script_limits};

mod support;

const API: &str = "https://reports.bench";
const REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";
const ROUNDS: usize = 5;
const SAMPLES_PER_ROUND: usize = 300;
const CONNECTIONS: usize = 16;
const LOAD_SECONDS: u64 = 5;

fn corpus(name: &str) -> String {
    let folder = if WITH_MODULES.contains(&name) {
        "benches/rules"
    } else {
        "tests/rules"
    };
    std::fs::read_to_string(format!("{}/{folder}/{name}.js", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The five: the shapes people wrote most (reference §2.5 and the corpus).
const TYPICAL: [&str; 5] = [
    "deny-unverified-email",
    "deny-email-domain",
    "first-login-timestamp",
    "roles-into-claims",
    "scope-rewrite",
];

/// Five rules as tenants write them with the runtime's modules: claims shaped with
/// `lodash`, and a web service called with `request` (a local one, answering at once).
const WITH_MODULES: [&str; 5] = [
    "lodash-role-claims",
    "lodash-profile-claims",
    "request-enrich",
    "request-webhook",
    "lodash-request-sync",
];

/// A web service that answers every request with a small JSON body at once.
async fn web_service() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 8192];
                let mut read = 0;
                while let Ok(n) = stream.read(&mut buffer[read..]).await {
                    if n == 0 {
                        return;
                    }
                    read += n;
                    if buffer[..read].windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
                let body = r#"{"tier":"gold"}"#;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            });
        }
    });
    base
}

/// The sandbox's limits with `fetch` allowed to the local web service.
fn limits_reaching(service: &str) -> Limits {
    Limits {
        fetch_allow: castellan_rules::AllowList::new(&[service.to_owned(), "127.0.0.1/32".into()]),
        ..script_limits()
    }
}

struct Tenant {
    server: BenchServer,
    client_id: String,
    secret: String,
    rule_ids: Vec<String>,
    module_rule_ids: Vec<String>,
}

impl Tenant {
    async fn refresh(&self, token: &str) -> String {
        let answer: Value = self
            .server
            .http
            .post(format!("{}/oauth/token", self.server.base))
            .json(
                &json!({"grant_type": "refresh_token", "client_id": self.client_id,
                          "client_secret": self.secret, "refresh_token": token}),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answer["refresh_token"]
            .as_str()
            .unwrap_or_else(|| panic!("{answer}"))
            .to_string()
    }

    async fn first_refresh_token(&self) -> String {
        let answer: Value = self
            .server
            .http
            .post(format!("{}/oauth/token", self.server.base))
            .json(
                &json!({"grant_type": REALM, "realm": "Username-Password-Authentication",
                          "client_id": self.client_id, "client_secret": self.secret,
                          "username": "bench@example.com", "password": PASSWORD,
                          "audience": API, "scope": "openid offline_access read:reports"}),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answer["refresh_token"].as_str().unwrap().to_string()
    }

    /// Enables the first `count` typical rules, or the five with modules, and disables
    /// the others.
    async fn enable(&self, rules: Rules) {
        let (typical, modules) = match rules {
            Rules::Typical(count) => (count, 0),
            Rules::WithModules => (0, WITH_MODULES.len()),
        };
        let ids = (self
            .rule_ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id, i < typical)))
        .chain((self.module_rule_ids.iter().enumerate()).map(|(i, id)| (id, i < modules)));
        for (id, enabled) in ids {
            self.server
                .admin(
                    Method::PATCH,
                    &format!("/rules/{id}"),
                    json!({"enabled": enabled}),
                )
                .await;
        }
    }
}

#[derive(Clone, Copy)]
enum Rules {
    Typical(usize),
    WithModules,
}

impl std::fmt::Display for Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rules::Typical(count) => write!(f, "{count} rules"),
            Rules::WithModules => write!(f, "5 rules with lodash and request"),
        }
    }
}

async fn tenant(service: &str) -> Tenant {
    let server = BenchServer::start_with(limits_reaching(service)).await;
    server
        .admin(
            Method::POST,
            "/resource-servers",
            json!({"identifier": API, "enforce_policies": true, "allow_offline_access": true,
                   "token_dialect": "access_token_authz", "scopes": [{"value": "read:reports"}]}),
        )
        .await;
    let role = server
        .admin(Method::POST, "/roles", json!({"name": "member"}))
        .await;
    server
        .admin(
            Method::POST,
            &format!("/roles/{}/permissions", role["id"].as_str().unwrap()),
            json!({"permissions": [{"resource_server_identifier": API, "permission_name": "read:reports"}]}),
        )
        .await;
    let client = server
        .admin(
            Method::POST,
            "/clients",
            json!({"name": "bench", "grant_types": [REALM, "refresh_token"]}),
        )
        .await;
    let user = server
        .admin(
            Method::POST,
            "/users",
            json!({"connection": "Username-Password-Authentication", "email": "bench@example.com",
                   "email_verified": true, "password": PASSWORD}),
        )
        .await;
    let user_path = format!(
        "/users/{}/roles",
        user["user_id"].as_str().unwrap().replace('|', "%7C")
    );
    server
        .admin(Method::POST, &user_path, json!({"roles": [role["id"]]}))
        .await;
    server
        .admin(
            Method::PUT,
            "/rules-configs/BLOCKED_DOMAINS",
            json!({"value": "blocked.example"}),
        )
        .await;
    server
        .admin(
            Method::PUT,
            "/rules-configs/CRM_URL",
            json!({"value": service}),
        )
        .await;
    let mut ids = [Vec::new(), Vec::new()];
    for (list, names) in ids.iter_mut().zip([TYPICAL, WITH_MODULES]) {
        for name in names {
            let rule = server
                .admin(
                    Method::POST,
                    "/rules",
                    json!({"name": name, "script": corpus(name), "enabled": false}),
                )
                .await;
            list.push(rule["id"].as_str().unwrap().to_string());
        }
    }
    let [rule_ids, module_rule_ids] = ids;
    Tenant {
        client_id: client["client_id"].as_str().unwrap().into(),
        secret: client["client_secret"].as_str().unwrap().into(),
        server,
        rule_ids,
        module_rule_ids,
    }
}

async fn throughput(t: &Tenant) -> f64 {
    let mut tokens = Vec::new();
    for _ in 0..CONNECTIONS {
        tokens.push(t.first_refresh_token().await);
    }
    let deadline = Instant::now() + Duration::from_secs(LOAD_SECONDS);
    let started = Instant::now();
    let mut workers = Vec::new();
    for token in tokens {
        let (http, url) = (
            t.server.http.clone(),
            format!("{}/oauth/token", t.server.base),
        );
        let (client_id, secret) = (t.client_id.clone(), t.secret.clone());
        workers.push(tokio::spawn(async move {
            let (mut token, mut done) = (token, 0u64);
            while Instant::now() < deadline {
                let answer: Value = http
                    .post(&url)
                    .json(
                        &json!({"grant_type": "refresh_token", "client_id": client_id,
                                  "client_secret": secret, "refresh_token": token}),
                    )
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                token = answer["refresh_token"].as_str().unwrap().to_string();
                done += 1;
            }
            done
        }));
    }
    let mut total = 0;
    for w in workers {
        total += w.await.unwrap();
    }
    total as f64 / started.elapsed().as_secs_f64()
}

fn rule_input(i: usize) -> (Value, Value) {
    (
        json!({"user_id": format!("auth0|{i}"), "email": "a@example.com",
               "email_verified": true, "app_metadata": {}}),
        json!({"protocol": "oauth2-refresh-token", "idToken": {}, "clientID": "bench",
               "accessToken": {"scope": ["openid"]},
               "authorization": {"roles": ["member"], "groups": []}}),
    )
}

/// The sandbox alone: p50 of one log-in's session (fresh context, the rules in one batch,
/// as the log-in sends them when none asks for a change).
async fn sandbox_session_p50(rules: Rules, service: &str) -> Duration {
    let sandbox = Sandbox::new(limits_reaching(service));
    let names: Vec<&str> = match rules {
        Rules::Typical(count) => TYPICAL.iter().take(count).copied().collect(),
        Rules::WithModules => WITH_MODULES.to_vec(),
    };
    let sources: Vec<(String, String)> = names.iter().map(|n| (n.to_string(), corpus(n))).collect();
    let setup = Setup {
        configuration: [("CRM_URL".to_owned(), json!(service))]
            .into_iter()
            .collect(),
        ..Setup::default()
    };
    let mut times = Vec::new();
    for i in 0..2000 {
        let started = Instant::now();
        let mut session = sandbox.open(setup.clone());
        let (user, context) = rule_input(i);
        if !sources.is_empty() {
            session.run_rules(&sources, user, context).await.unwrap();
        }
        drop(session);
        times.push(started.elapsed());
    }
    times.sort();
    percentile(&times, 0.5)
}

/// Memory per worker process after each ran the five rules once: resident set and
/// proportional set (the binary's pages are shared by all), averaged, in bytes.
async fn memory_per_worker() -> (u64, u64) {
    const WORKERS: usize = 16;
    let sandbox = Sandbox::new(Limits {
        workers: WORKERS,
        ..script_limits()
    });
    let mut sessions = Vec::new();
    for i in 0..WORKERS {
        let mut session = sandbox.open(Setup::default());
        let (mut user, mut context) = rule_input(i);
        for name in TYPICAL {
            let out = session
                .run_rule(name, &corpus(name), user, context)
                .await
                .unwrap();
            (user, context) = (out.user, out.context);
        }
        // Keep every session open so that each worker holds its context.
        sessions.push(session);
    }
    let pids = sandbox.worker_pids();
    let (rss, pss) = pids
        .iter()
        .map(|pid| (rollup(*pid, "Rss:"), rollup(*pid, "Pss:")))
        .fold((0, 0), |(r, p), (r1, p1)| (r + r1, p + p1));
    drop(sessions);
    let count = pids.len().max(1) as u64;
    (rss / count, pss / count)
}

/// A figure of `/proc/PID/smaps_rollup`, in bytes.
fn rollup(pid: u32, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    text.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .unwrap_or(0)
        * 1024
}

#[tokio::main]
async fn main() {
    let service = web_service().await;
    let t = tenant(&service).await;
    let mut token = t.first_refresh_token().await;
    let configurations = [
        Rules::Typical(0),
        Rules::Typical(1),
        Rules::Typical(5),
        Rules::WithModules,
    ];
    let mut samples: [Vec<Duration>; 4] = Default::default();
    for _ in 0..ROUNDS {
        for (slot, rules) in configurations.into_iter().enumerate() {
            t.enable(rules).await;
            for _ in 0..SAMPLES_PER_ROUND {
                let started = Instant::now();
                token = t.refresh(&token).await;
                samples[slot].push(started.elapsed());
            }
        }
    }
    println!("refresh grant latency, {ROUNDS} interleaved rounds of {SAMPLES_PER_ROUND}:");
    let base_p50 = {
        let mut s = samples[0].clone();
        s.sort();
        percentile(&s, 0.5)
    };
    for (slot, rules) in configurations.into_iter().enumerate() {
        let s = &mut samples[slot];
        s.sort();
        let (p50, p99) = (percentile(s, 0.5), percentile(s, 0.99));
        println!(
            "  {rules}: p50 {p50:?} (+{:?}, {:.2}x of 0 rules), p99 {p99:?}",
            p50.saturating_sub(base_p50),
            p50.as_secs_f64() / base_p50.as_secs_f64()
        );
    }
    t.enable(Rules::Typical(0)).await;
    let bare = throughput(&t).await;
    t.enable(Rules::Typical(5)).await;
    let five = throughput(&t).await;
    t.enable(Rules::WithModules).await;
    let modules = throughput(&t).await;
    println!(
        "refresh grants per second at {CONNECTIONS} connections: 0 rules {bare:.0}, 5 rules {five:.0} ({:.2}x), 5 rules with lodash and request {modules:.0} ({:.2}x, {:.2}x of 5 rules)",
        five / bare,
        modules / bare,
        modules / five
    );
    for rules in configurations {
        println!(
            "sandbox alone, one log-in's session with {rules}: p50 {:?}",
            sandbox_session_p50(rules, &service).await
        );
    }
    let (rss, pss) = memory_per_worker().await;
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!(
        "memory per sandbox worker process after the 5 rules: resident {:.1} MiB, proportional {:.1} MiB",
        mib(rss),
        mib(pss)
    );
}
