//! A real server on 127.0.0.1:0 with its own database, spoken to over HTTP.
//! `CASTELLAN_TEST_BACKEND=postgres` (with `CASTELLAN_TEST_POSTGRES_URL`) runs the same
//! tests on a fresh PostgreSQL database; SQLite in a temporary folder otherwise.

#![allow(dead_code)]

pub mod browser;
pub mod mmdb;

use std::path::PathBuf;
use std::sync::Arc;

use castellan::app::{self, Running};
use castellan::config::{LogFormat, Secret, Settings};
use castellan_core::clock::{Clock, ManualClock, SystemClock};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub const ISSUER: &str = "http://castellan.test/";
pub const MANAGEMENT_AUDIENCE: &str = "http://castellan.test/api/v2/";
pub const ADMIN_ID: &str = "test-admin-client";
pub const ADMIN_SECRET: &str = "test-admin-secret-that-is-long-enough";

pub struct TestServer {
    pub base: String,
    pub clock: ManualClock,
    pub settings: Settings,
    pub http: reqwest::Client,
    running: Option<Running>,
    _dir: Arc<tempfile::TempDir>,
}

pub async fn database_url(dir: &std::path::Path) -> String {
    match std::env::var("CASTELLAN_TEST_BACKEND").as_deref() {
        Ok("postgres") => {
            let admin = std::env::var("CASTELLAN_TEST_POSTGRES_URL")
                .expect("CASTELLAN_TEST_BACKEND=postgres needs CASTELLAN_TEST_POSTGRES_URL");
            castellan_store::create_scratch_postgres_database(&admin)
                .await
                .unwrap()
        }
        _ => format!("sqlite://{}/castellan.db", dir.display()),
    }
}

pub fn settings(database_url: String, data_dir: PathBuf) -> Settings {
    Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url,
        issuer: ISSUER.into(),
        log_format: LogFormat::Text,
        data_dir,
        secret_key: None,
        secret_key_file: None,
        max_body_bytes: 64 * 1024,
        templates_dir: None,
        authentication_per_second: 100,
        // Off: tests log in quickly and often from one address; tests/it/rate_limits.rs
        // covers the budget.
        password_checks_per_second: Some(0),
        client_credentials_per_second: 0,
        // A deep queue: tests log in many users at once; tests/it/rate_limits.rs covers the bound.
        password_hashing: castellan_core::passwords::HashingLimits {
            queue: 256,
            ..castellan_core::passwords::HashingLimits::default()
        },
        smtp: None,
        log_retention_days: castellan::config::DEFAULT_LOG_RETENTION_DAYS,
        jwks_max_age_secs: castellan::config::DEFAULT_JWKS_MAX_AGE_SECS,
        keep_sessions_on_password_change: false,
        serve: castellan::http::serve::ServeLimits::default(),
        scripts: castellan_rules::Limits {
            // The worker processes run the server's binary, as `castellan serve` does.
            worker: castellan_rules::WorkerProgram::new(
                env!("CARGO_BIN_EXE_castellan"),
                &[castellan_rules::WORKER_ARG],
            ),
            ..castellan_rules::Limits::default()
        },
        geoip_database: None,
        metrics: castellan::config::MetricsSettings::default(),
        trusted_proxies: Default::default(),
        store: Default::default(),
        bootstrap: Some((ADMIN_ID.into(), Secret(ADMIN_SECRET.into()))),
    }
}

impl TestServer {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = database_url(dir.path()).await;
        let settings = settings(url, dir.path().to_path_buf());
        Self::start_with(settings, Arc::new(dir)).await
    }

    pub async fn start_with(settings: Settings, dir: Arc<tempfile::TempDir>) -> Self {
        let clock = ManualClock::starting_at(SystemClock.now());
        Self::start_with_clock(settings, dir, clock).await
    }

    /// Several servers on one database can share one clock, as the nodes of a cluster
    /// share the time.
    pub async fn start_with_clock(
        settings: Settings,
        dir: Arc<tempfile::TempDir>,
        clock: ManualClock,
    ) -> Self {
        let state = app::prepare(settings.clone(), Arc::new(clock.clone()))
            .await
            .unwrap();
        let running = app::start(state, std::future::pending()).await.unwrap();
        Self {
            base: format!("http://{}", running.addr),
            clock,
            settings,
            http: reqwest::Client::new(),
            running: Some(running),
            _dir: dir,
        }
    }

    /// Stops this server and starts a new one on the same database and data folder.
    pub async fn restart(mut self) -> Self {
        self.running.take().unwrap().stop().await.unwrap();
        Self::start_with_clock(self.settings.clone(), self._dir.clone(), self.clock.clone()).await
    }

    pub fn running(&self) -> &Running {
        self.running.as_ref().unwrap()
    }

    /// What the housekeeping task does every 30 s: reload the signing keys from the store.
    pub async fn refresh_keys(&self) {
        self.running().state.tokens.keyring.refresh().await.unwrap();
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// An unauthenticated GET answered with JSON.
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        self.http
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// An unauthenticated GET answered with text.
    pub async fn get_text(&self, path: &str) -> String {
        self.http
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Client credentials with a JSON body.
    pub async fn token_request(&self, body: Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(self.url("/oauth/token"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn token(
        &self,
        client_id: &str,
        secret: &str,
        audience: &str,
        scope: Option<&str>,
    ) -> String {
        let mut body = json!({
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
            "audience": audience,
        });
        if let Some(scope) = scope {
            body["scope"] = json!(scope);
        }
        let (status, body) = self.token_request(body).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["access_token"].as_str().unwrap().to_string()
    }

    /// A Management API token for the bootstrap administrator, optionally narrowed.
    pub async fn admin_token(&self, scope: Option<&str>) -> String {
        // MANAGEMENT_AUDIENCE, or this server's when a test gives it another issuer.
        let audience = format!("{}api/v2/", self.settings.issuer);
        self.token(ADMIN_ID, ADMIN_SECRET, &audience, scope).await
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, self.url(path)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// A Management API call as the all-powerful administrator.
    pub async fn admin(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let token = self.admin_token(None).await;
        self.call(method, &format!("/api/v2{path}"), &token, body)
            .await
    }

    /// Creates an enabled rule, which must be accepted.
    pub async fn add_rule(&self, name: &str, script: &str) {
        let (status, body) = self
            .admin(
                Method::POST,
                "/rules",
                Some(json!({"name": name, "script": script})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{name}: {body}");
    }

    /// Creates an API and a machine-to-machine client granted `scopes` on it;
    /// returns (client_id, client_secret).
    pub async fn m2m_client_for(&self, api: Value, scopes: &[&str]) -> (String, String) {
        let identifier = api["identifier"].as_str().unwrap().to_string();
        let (status, _) = self
            .admin(Method::POST, "/resource-servers", Some(api))
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let (status, client) = self
            .admin(
                Method::POST,
                "/clients",
                Some(json!({"name": "m2m", "app_type": "non_interactive"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let id = client["client_id"].as_str().unwrap().to_string();
        let grant = json!({"client_id": id, "audience": identifier, "scope": scopes});
        let (status, body) = self
            .admin(Method::POST, "/client-grants", Some(grant))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        (id, client["client_secret"].as_str().unwrap().to_string())
    }

    /// The `sapi` entries of the role `name`'s changes, oldest first, with the name and
    /// ids taken out: what every front end making the same change must write alike.
    pub async fn role_audit_entries(&self, name: &str) -> Vec<Value> {
        let (status, logs) = self
            .admin(
                Method::GET,
                "/logs?q=type:sapi&sort=date:1&per_page=100",
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{logs}");
        logs.as_array()
            .unwrap()
            .iter()
            .filter(|e| e["description"].as_str().unwrap().ends_with(name))
            .map(|e| {
                json!({
                    "action": e["details"]["action"],
                    "description": e["description"].as_str().unwrap().replace(name, "ROLE"),
                    "target": e["details"]["target"].as_object().unwrap().keys().collect::<Vec<_>>(),
                    "changes": e["details"]["changes"].to_string().replace(name, "ROLE"),
                })
            })
            .collect()
    }

    /// Takes the tenant log's table away, so that no audit entry can be stored: a test can
    /// then show that a change is stored with its entry or not at all.
    pub async fn refuse_audit_entries(&self) {
        use sqlx::Connection;
        let url = &self.settings.database_url;
        let rename = "ALTER TABLE logs RENAME TO logs_out_of_reach";
        if url.starts_with("sqlite:") {
            let mut db = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::raw_sql(rename).execute(&mut db).await.unwrap();
        } else {
            let mut db = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::raw_sql(rename).execute(&mut db).await.unwrap();
        }
    }
}

/// Decodes a JWT's payload without verifying it.
pub fn claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

pub fn header(token: &str) -> Value {
    use base64::Engine;
    let head = token.split('.').next().unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(head)
            .unwrap(),
    )
    .unwrap()
}

/// Verifies `token` with the independent `jsonwebtoken` crate against the published JWKS.
pub async fn verify_with_jwks(server: &TestServer, token: &str, audience: &str) -> Value {
    let jwks: jsonwebtoken::jwk::JwkSet = server.get_json("/.well-known/jwks.json").await;
    let head = jsonwebtoken::decode_header(token).unwrap();
    let jwk = jwks
        .find(head.kid.as_deref().unwrap())
        .expect("kid is published");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = jsonwebtoken::Validation::new(head.alg);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[audience]);
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .unwrap()
        .claims
}

pub const DATABASE: &str = "Username-Password-Authentication";

/// A user id as the SDKs put it in a path: `auth0%7C…`.
pub fn encoded(user_id: &str) -> String {
    user_id.replace('|', "%7C")
}

impl TestServer {
    /// Signs up through `POST /dbconnections/signup` with the test password.
    pub async fn sign_up(&self, client_id: &str, email: &str) -> (StatusCode, Value) {
        let body = json!({"client_id": client_id, "email": email,
                          "password": "correct horse battery", "connection": DATABASE});
        let response = self
            .http
            .post(self.url("/dbconnections/signup"))
            .json(&body)
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }

    /// Creates a user in the database connection through `POST /api/v2/users`; returns
    /// the user object.
    pub async fn create_user(&self, email: &str, extra: Value) -> Value {
        let mut body =
            json!({"connection": DATABASE, "email": email, "password": "correct horse battery"});
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        let (status, user) = self.admin(Method::POST, "/users", Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{user}");
        user
    }
}

impl TestServer {
    /// The `sapi` entries, oldest first.
    pub async fn sapi_entries(&self) -> Vec<Value> {
        let (status, logs) = self
            .admin(
                Method::GET,
                "/logs?q=type:sapi&sort=date:1&per_page=100",
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{logs}");
        logs.as_array().unwrap().clone()
    }

    /// The `sapi` entries whose sentence names `name`, oldest first, with the name and the
    /// target's ids taken out: what every front end making the same change to an object of
    /// that name must write alike.
    pub async fn audit_entries_naming(&self, name: &str) -> Vec<Value> {
        self.sapi_entries()
            .await
            .iter()
            .filter(|e| e["description"].as_str().unwrap().contains(name))
            .map(|e| {
                json!({
                    "action": e["details"]["action"],
                    "description": e["description"].as_str().unwrap().replace(name, "NAME"),
                    "target": e["details"]["target"].as_object().unwrap().keys().collect::<Vec<_>>(),
                    "changes": e["details"]["changes"].to_string().replace(name, "NAME"),
                })
            })
            .collect()
    }

    /// The `sapi` entries about the user `user_id`, oldest first, with the user's id taken
    /// out and without who made them or for which request: what every front end making the
    /// same change to a user must write alike.
    pub async fn user_audit_entries(&self, user_id: &str) -> Vec<Value> {
        self.sapi_entries()
            .await
            .iter()
            .filter(|e| e["details"]["target"]["user_id"] == user_id)
            .map(|e| {
                let mut target = e["details"]["target"].clone();
                target["user_id"] = json!("USER");
                json!({
                    "action": e["details"]["action"],
                    "description": e["description"],
                    "target": target,
                    "changes": e["details"]["changes"],
                })
            })
            .collect()
    }

    /// The `sapi` entries of `action`, oldest first, all but who made them and for which
    /// request: what every front end making the same change must write alike.
    pub async fn audit_entries_of(&self, action: &str) -> Vec<Value> {
        self.sapi_entries()
            .await
            .into_iter()
            .filter(|e| e["details"]["action"] == action)
            .map(|mut e| {
                let details = e["details"].as_object_mut().unwrap();
                details.remove("actor");
                details.remove("request_id");
                json!({"description": e["description"], "details": e["details"]})
            })
            .collect()
    }

    /// `castellan ARGS…` on this server's database and issuer, with none of the caller's
    /// `CASTELLAN_*` settings. Awaited, not blocked on: the server shares the test's
    /// runtime, and a transaction it has open must be able to finish while the command
    /// runs.
    pub async fn castellan(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_castellan"));
        cmd.args(args)
            .args(["--database", &self.settings.database_url])
            .args(["--issuer", &self.settings.issuer])
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::null());
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("CASTELLAN_")) {
            cmd.env_remove(k);
        }
        cmd.output().await.unwrap()
    }
}

impl TestServer {
    /// The `sapi` entries whose action is one of `actions`, oldest first, as
    /// `{action, description, target, changes}`: what every front end making the same
    /// change must write alike. Ids differ from one tenant to another, so each (a value of
    /// `target`, a `changes` value under a key ending in `id`, an item of `changes.actions`)
    /// becomes `#n`, numbered in order of first appearance.
    pub async fn change_entries(&self, actions: &[&str]) -> Vec<Value> {
        let (status, logs) = self
            .admin(
                Method::GET,
                "/logs?q=type:sapi&sort=date:1&per_page=100",
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{logs}");
        let mut ids: Vec<String> = Vec::new();
        let mut number = |value: &mut Value| {
            if let Some(id) = value.as_str() {
                let n = match ids.iter().position(|known| known == id) {
                    Some(n) => n,
                    None => {
                        ids.push(id.to_string());
                        ids.len() - 1
                    }
                };
                *value = json!(format!("#{}", n + 1));
            }
        };
        let mut out = Vec::new();
        for e in logs.as_array().unwrap() {
            let action = e["details"]["action"].as_str().unwrap_or_default();
            if !actions.contains(&action) {
                continue;
            }
            let mut target = e["details"]["target"].clone();
            let mut changes = e["details"]["changes"].clone();
            if let Some(fields) = target.as_object_mut() {
                fields.values_mut().for_each(&mut number);
            }
            if let Some(fields) = changes.as_object_mut() {
                for (key, value) in fields.iter_mut() {
                    if key.ends_with("id") {
                        number(value);
                    } else if key == "actions"
                        && let Some(items) = value.as_array_mut()
                    {
                        items.iter_mut().for_each(&mut number);
                    }
                }
            }
            out.push(json!({
                "action": action,
                "description": e["description"],
                "target": target,
                "changes": changes,
            }));
        }
        out
    }
}
