//! The admin console and the log-in pages in a real browser: headless Chromium (Debian's
//! `chromium`) driven by playwright-core, both installed by `compat/setup.sh`, against the
//! real binary. The story is `compat/browser/console.mjs`: an administrator logs in, creates
//! a role, makes it the sign-up default, a new user signs up through the log-in page, the
//! administrator sees the role on that user, and a rule written in the console changes the
//! user's next token. Screenshots of every page go to `target/browser-artifacts/`.
//!
//! Without Chromium or playwright-core this test fails and says to run `compat/setup.sh`.

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_castellan");
const BROWSER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../compat/browser");
const ARTIFACTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../target/browser-artifacts"
);
const CHROMIUM: &str = "/usr/bin/chromium";
const ADMIN_ID: &str = "browser-admin";
const ADMIN_SECRET: &str = "browser-admin-secret-that-is-long-enough";
const ADMIN_EMAIL: &str = "console-admin@example.com";
const ADMIN_PASSWORD: &str = "a console administrator's passphrase";
const API: &str = "https://api.castellan.example";
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(240);

/// Chromium and playwright-core must be there: a missing install is a failure, never a skip.
fn require_installed() {
    let missing: Vec<String> = [
        PathBuf::from(CHROMIUM),
        Path::new(BROWSER).join("node_modules/playwright-core/package.json"),
    ]
    .into_iter()
    .filter(|p| !p.exists())
    .map(|p| p.display().to_string())
    .collect();
    assert!(
        missing.is_empty(),
        "the browser tests need Debian's chromium and playwright-core (missing {missing:?}): \
         run compat/setup.sh from the workspace root first"
    );
}

/// The real binary on a free port, its log in a file; killed when dropped.
struct Server {
    child: Child,
    base: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let listen = format!("127.0.0.1:{port}");
        let base = format!("http://{listen}");
        let database = common::database_url(dir.path()).await;
        let log = dir.path().join("server.log");
        let mut command = Command::new(BIN);
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("CASTELLAN_")) {
            command.env_remove(k);
        }
        let child = command
            .current_dir(dir.path())
            .args(["serve", "--listen", &listen])
            .args(["--issuer", &format!("{base}/")])
            .args(["--database", &database])
            .env("CASTELLAN_DATA_DIR", dir.path())
            .env("CASTELLAN_ADMIN_CLIENT_ID", ADMIN_ID)
            .env("CASTELLAN_ADMIN_CLIENT_SECRET", ADMIN_SECRET)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let server = Server {
            child,
            base,
            log,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(r) = reqwest::get(format!("{}/healthz", server.base)).await
                && r.status().is_success()
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the server did not come up:\n{}", server.log());
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Management API calls as the bootstrap administrator.
struct Management {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Management {
    async fn new(server: &Server) -> Management {
        let http = reqwest::Client::new();
        let answer: Value = http
            .post(format!("{}/oauth/token", server.base))
            .json(&json!({
                "grant_type": "client_credentials",
                "client_id": ADMIN_ID,
                "client_secret": ADMIN_SECRET,
                "audience": format!("{}/api/v2/", server.base),
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Management {
            http,
            base: server.base.clone(),
            token: answer["access_token"].as_str().unwrap().to_string(),
        }
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let response = self
            .http
            .post(format!("{}/api/v2/{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "POST {path} {body}: {status} {answer}");
        answer
    }
}

/// The administrator the story logs in as: a user holding `castellan:admin` through a role.
async fn administrator(api: &Management, base: &str) {
    let user = api
        .post(
            "users",
            json!({"connection": "Username-Password-Authentication", "email": ADMIN_EMAIL,
                   "password": ADMIN_PASSWORD, "email_verified": true}),
        )
        .await;
    let role = api.post("roles", json!({"name": "castellan-admin"})).await;
    let role_id = role["id"].as_str().unwrap();
    api.post(
        &format!("roles/{role_id}/permissions"),
        json!({"permissions": [{"resource_server_identifier": format!("{base}/api/v2/"),
                                "permission_name": "castellan:admin"}]}),
    )
    .await;
    let user_id = user["user_id"].as_str().unwrap().replace('|', "%7C");
    api.post(
        &format!("users/{user_id}/roles"),
        json!({"roles": [role_id]}),
    )
    .await;
}

#[tokio::test]
async fn the_console_story_in_headless_chromium() {
    require_installed();
    let server = Server::start().await;
    let api = Management::new(&server).await;
    administrator(&api, &server.base).await;
    api.post(
        "resource-servers",
        json!({"name": "Example API", "identifier": API, "scopes": [{"value": "read:reports"}]}),
    )
    .await;
    let callback = format!("{}/app/callback", server.base);
    let app = api
        .post(
            "clients",
            json!({"name": "Example web app", "app_type": "regular_web",
                   "grant_types": ["authorization_code", "refresh_token"], "callbacks": [callback]}),
        )
        .await;

    let artifacts = Path::new(ARTIFACTS);
    let _ = std::fs::remove_dir_all(artifacts);
    let out = tempfile::NamedTempFile::new().unwrap();
    let file = out.reopen().unwrap();
    let mut child = Command::new("node")
        .arg(Path::new(BROWSER).join("console.mjs"))
        .arg(format!("--base={}", server.base))
        .arg(format!("--admin-email={ADMIN_EMAIL}"))
        .arg(format!("--admin-password={ADMIN_PASSWORD}"))
        .arg(format!("--app-id={}", app["client_id"].as_str().unwrap()))
        .arg(format!(
            "--app-secret={}",
            app["client_secret"].as_str().unwrap()
        ))
        .arg(format!("--redirect-uri={callback}"))
        .arg(format!("--audience={API}"))
        .arg(format!("--artifacts={}", artifacts.display()))
        .arg(format!("--chromium={CHROMIUM}"))
        .current_dir(BROWSER)
        .stdin(Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .spawn()
        .expect("node runs the browser script");
    let deadline = Instant::now() + SCRIPT_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let output = std::fs::read_to_string(out.path()).unwrap_or_default();
    println!("{output}");
    assert!(
        status.is_some_and(|s| s.success()),
        "the browser story failed ({status:?}):\n{output}\n=== server log:\n{}",
        server.log()
    );
    let shots = std::fs::read_dir(artifacts)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "png"))
                .count()
        })
        .unwrap_or(0);
    assert!(shots >= 20, "a screenshot of each page, found {shots}");
}
