// Each benchmark uses part of what is here.
#![allow(dead_code)]

//! What the benchmarks share: a server on a free port with a fresh SQLite database, and an
//! administrator token for setting it up.

use std::sync::Arc;
use std::time::Duration;

use castellan::app;
use castellan::config::{LogFormat, Secret, Settings};
use castellan_core::clock::SystemClock;
use serde_json::{Value, json};

pub const ADMIN: &str = "bench-admin";
pub const ADMIN_SECRET: &str = "bench-admin-secret-long-enough";
pub const PASSWORD: &str = "correct horse battery";

pub struct BenchServer {
    pub base: String,
    pub http: reqwest::Client,
    pub admin: String,
    _dir: tempfile::TempDir,
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

impl BenchServer {
    pub async fn start() -> BenchServer {
        BenchServer::start_with(script_limits()).await
    }

    /// A server whose scripts run under `scripts`.
    pub async fn start_with(scripts: castellan_rules::Limits) -> BenchServer {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings {
            listen: "127.0.0.1:0".parse().unwrap(),
            database_url: format!("sqlite://{}/bench.db", dir.path().display()),
            issuer: "http://bench.test/".into(),
            log_format: LogFormat::Text,
            data_dir: dir.path().to_path_buf(),
            secret_key: None,
            secret_key_file: None,
            max_body_bytes: 1 << 20,
            templates_dir: None,
            bootstrap: Some((ADMIN.into(), Secret(ADMIN_SECRET.into()))),
            log_retention_days: castellan::config::DEFAULT_LOG_RETENTION_DAYS,
            jwks_max_age_secs: castellan::config::DEFAULT_JWKS_MAX_AGE_SECS,
            keep_sessions_on_password_change: false,
            geoip_database: None,
            serve: castellan::http::serve::ServeLimits::default(),
            scripts,
            metrics: castellan::config::MetricsSettings::default(),
            trusted_proxies: Default::default(),
            store: Default::default(),
            authentication_per_second: 0,
            password_checks_per_second: Some(0),
            client_credentials_per_second: 0,
            password_hashing: castellan_core::passwords::HashingLimits::default(),
            smtp: None,
        };
        let state = app::prepare(settings, Arc::new(SystemClock)).await.unwrap();
        let running = app::start(state, std::future::pending()).await.unwrap();
        let base = format!("http://{}", running.addr);
        // The server runs until the process ends.
        std::mem::forget(running);
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let token: Value = http
            .post(format!("{base}/oauth/token"))
            .json(
                &json!({"grant_type": "client_credentials", "client_id": ADMIN,
                          "client_secret": ADMIN_SECRET, "audience": "http://bench.test/api/v2/"}),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        BenchServer {
            admin: token["access_token"].as_str().unwrap().to_string(),
            base,
            http,
            _dir: dir,
        }
    }

    /// A Management API call that must succeed; returns the body (or null).
    pub async fn admin(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let response = self
            .http
            .request(method, format!("{}/api/v2{path}", self.base))
            .bearer_auth(&self.admin)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }
}

/// The default limits of the rules sandbox, its worker processes running the server's
/// binary as `castellan serve` does.
pub fn script_limits() -> castellan_rules::Limits {
    castellan_rules::Limits {
        worker: castellan_rules::WorkerProgram::new(
            env!("CARGO_BIN_EXE_castellan"),
            &[castellan_rules::WORKER_ARG],
        ),
        ..castellan_rules::Limits::default()
    }
}
