//! A legitimate log-in's latency while one address floods wrong passwords.
//!
//! For each binary (this build, and the one `CASTELLAN_BASELINE_BIN` names, alternately):
//! start it at its default settings on a free port with a fresh SQLite database, make a
//! password-realm client and a user, then time password-realm log-ins of that user, one
//! every 250 ms, each from its own address (127.0.1.x, as distinct people would come):
//! - quiet: nothing else happens;
//! - flood: meanwhile 127.0.0.1 keeps 64 wrong-password log-ins (unknown users, so every
//!   one costs a hash on the unprotected server) in flight, as fast as they are answered.
//!
//! Run: `CASTELLAN_BASELINE_BIN=path cargo bench -p castellan --profile dev --bench login_flood`
//! (`ROUNDS=n` for more rounds; without a baseline only this build is measured).

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{ADMIN, ADMIN_SECRET, PASSWORD, percentile};

mod support;

const REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";
const DATABASE: &str = "Username-Password-Authentication";
const FLOOD_CONCURRENCY: usize = 64;
const LOGINS: usize = 40;
const LOGIN_EVERY: Duration = Duration::from_millis(250);

struct Server {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start(bin: &Path) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let base = format!("http://{listen}");
    let mut command = Command::new(bin);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("CASTELLAN_")) {
        command.env_remove(k);
    }
    let child = command
        .current_dir(dir.path())
        .args(["serve", "--listen", &listen])
        .args(["--issuer", &format!("{base}/")])
        .args([
            "--database",
            &format!("sqlite://{}/bench.db", dir.path().display()),
        ])
        .env("CASTELLAN_DATA_DIR", dir.path())
        .env("CASTELLAN_ADMIN_CLIENT_ID", ADMIN)
        .env("CASTELLAN_ADMIN_CLIENT_SECRET", ADMIN_SECRET)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server {
        child,
        base,
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(r) = reqwest::get(format!("{}/healthz", server.base)).await
            && r.status().is_success()
        {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{} did not come up", bin.display());
}

/// A password-realm client and a user; returns the user's log-in body.
async fn prepare(server: &Server) -> (Value, Value) {
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("{}/oauth/token", server.base))
        .json(&json!({"grant_type": "client_credentials", "client_id": ADMIN,
                      "client_secret": ADMIN_SECRET, "audience": format!("{}/api/v2/", server.base)}))
        .send().await.unwrap().json().await.unwrap();
    let admin = token["access_token"].as_str().unwrap();
    let client: Value = http
        .post(format!("{}/api/v2/clients", server.base))
        .bearer_auth(admin)
        .json(&json!({"name": "bench", "grant_types": [REALM]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let user = http
        .post(format!("{}/api/v2/users", server.base))
        .bearer_auth(admin)
        .json(&json!({"connection": DATABASE, "email": "ada@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(user.status().is_success(), "{}", user.status());
    let body = |username: &str, password: &str| {
        json!({"grant_type": REALM, "client_id": client["client_id"], "client_secret": client["client_secret"],
               "username": username, "password": password, "realm": DATABASE})
    };
    (
        body("ada@example.com", PASSWORD),
        body("nobody@example.com", "wrong"),
    )
}

struct Figures {
    p50: Duration,
    p99: Duration,
    failed: usize,
    /// Flood answers by status: (200/4xx other than 429, 429, 503, other).
    flood: [u64; 4],
}

/// `LOGINS` log-ins of the user, paced, each from its own address.
async fn legitimate(base: &str, login: &Value) -> (Vec<Duration>, usize) {
    let mut times = vec![];
    let mut failed = 0;
    for i in 0..LOGINS {
        let http = reqwest::Client::builder()
            .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 1, 1 + i as u8)))
            .build()
            .unwrap();
        let started = Instant::now();
        let status = http
            .post(format!("{base}/oauth/token"))
            .json(login)
            .send()
            .await
            .map(|r| r.status());
        times.push(started.elapsed());
        if !status.is_ok_and(|s| s.is_success()) {
            failed += 1;
        }
        tokio::time::sleep(LOGIN_EVERY.saturating_sub(started.elapsed())).await;
    }
    times.sort();
    (times, failed)
}

async fn measure(server: &Server, flood: bool) -> Figures {
    let (login, wrong) = prepare(server).await;
    let stop = Arc::new(AtomicBool::new(false));
    let mut flooders = vec![];
    if flood {
        let http = reqwest::Client::builder()
            .local_address(IpAddr::V4(Ipv4Addr::LOCALHOST))
            .pool_max_idle_per_host(FLOOD_CONCURRENCY)
            .build()
            .unwrap();
        for _ in 0..FLOOD_CONCURRENCY {
            let (http, url, body, stop) = (
                http.clone(),
                format!("{}/oauth/token", server.base),
                wrong.clone(),
                stop.clone(),
            );
            flooders.push(tokio::spawn(async move {
                let mut seen = [0u64; 4];
                while !stop.load(Ordering::Relaxed) {
                    let slot = match http.post(&url).json(&body).send().await {
                        Ok(r) if r.status() == 429 => 1,
                        Ok(r) if r.status() == 503 => 2,
                        Ok(r) if r.status().as_u16() < 500 => 0,
                        _ => 3,
                    };
                    seen[slot] += 1;
                }
                seen
            }));
        }
        // Let the flood build its queue before the first log-in.
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let (times, failed) = legitimate(&server.base, &login).await;
    stop.store(true, Ordering::Relaxed);
    let mut answers = [0u64; 4];
    for f in flooders {
        for (total, n) in answers.iter_mut().zip(f.await.unwrap()) {
            *total += n;
        }
    }
    Figures {
        p50: percentile(&times, 0.5),
        p99: percentile(&times, 0.99),
        failed,
        flood: answers,
    }
}

fn ms(d: Duration) -> String {
    format!("{:.0}", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let this = std::env::var("CASTELLAN_BIN").map_or_else(
        |_| PathBuf::from(env!("CARGO_BIN_EXE_castellan")),
        PathBuf::from,
    );
    let baseline = std::env::var("CASTELLAN_BASELINE_BIN")
        .ok()
        .map(PathBuf::from);
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1);
    let mut binaries = vec![];
    if let Some(baseline) = &baseline {
        binaries.push(("baseline", baseline.clone()));
    }
    binaries.push(("this build", this));
    println!(
        "| binary | round | quiet p50 ms | quiet p99 ms | flood p50 ms | flood p99 ms | p99 flood/quiet | log-ins failed under flood | flood answers: other / 429 / 503 / error |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---|");
    for round in 1..=rounds {
        for (name, bin) in &binaries {
            let quiet = measure(&start(bin).await, false).await;
            let flood = measure(&start(bin).await, true).await;
            let [other, limited, unavailable, error] = flood.flood;
            println!(
                "| {name} | {round} | {} | {} | {} | {} | {:.1}× | {}/{LOGINS} | {other} / {limited} / {unavailable} / {error} |",
                ms(quiet.p50),
                ms(quiet.p99),
                ms(flood.p50),
                ms(flood.p99),
                flood.p99.as_secs_f64() / quiet.p99.as_secs_f64(),
                flood.failed,
            );
        }
    }
}
