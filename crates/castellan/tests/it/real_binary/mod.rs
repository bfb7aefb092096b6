//! The real `castellan` binary for tests that drive it from outside (client libraries,
//! a browser): a server on a free port with its log in a file, the Management API as its
//! bootstrap administrator, and a script run to its end or its deadline.

// Each test file uses a part of it.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{ADMIN_ID, ADMIN_SECRET, database_url};

const BIN: &str = env!("CARGO_BIN_EXE_castellan");

/// The real binary on a free port, its log in a file; killed when dropped.
pub struct Server {
    child: Child,
    pub base: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    pub async fn start() -> Server {
        Self::start_with_env(&[]).await
    }

    /// With these environment variables besides the test's own settings.
    pub async fn start_with_env(env: &[(&str, &str)]) -> Server {
        Self::launch(None, env).await
    }

    /// Serving HTTPS (`--tls-cert`, `--tls-key`) with this PEM certificate, which must be
    /// valid for 127.0.0.1, and its key; the issuer is `https://127.0.0.1:PORT/`.
    pub async fn start_tls(cert: &str, key: &str) -> Server {
        Self::launch(Some((cert, key)), &[]).await
    }

    async fn launch(tls: Option<(&str, &str)>, env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let listen = format!("127.0.0.1:{port}");
        let scheme = if tls.is_some() { "https" } else { "http" };
        let base = format!("{scheme}://{listen}");
        let database = database_url(dir.path()).await;
        let log = dir.path().join("server.log");
        let mut command = Command::new(BIN);
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("CASTELLAN_")) {
            command.env_remove(k);
        }
        // Health checks trust the server's own certificate and nothing else.
        let mut http = reqwest::Client::builder();
        command.arg("serve");
        if let Some((cert, key)) = tls {
            let (cert_file, key_file) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
            std::fs::write(&cert_file, cert).unwrap();
            std::fs::write(&key_file, key).unwrap();
            command.arg("--tls-cert").arg(&cert_file);
            command.arg("--tls-key").arg(&key_file);
            http = http.tls_certs_only([reqwest::Certificate::from_pem(cert.as_bytes()).unwrap()]);
        }
        let http = http.build().unwrap();
        let child = command
            .current_dir(dir.path())
            .args(["--listen", &listen])
            .args(["--issuer", &format!("{base}/")])
            .args(["--database", &database])
            .env("CASTELLAN_DATA_DIR", dir.path())
            .env("CASTELLAN_ADMIN_CLIENT_ID", ADMIN_ID)
            .env("CASTELLAN_ADMIN_CLIENT_SECRET", ADMIN_SECRET)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
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
            if let Ok(r) = http.get(format!("{}/healthz", server.base)).send().await
                && r.status().is_success()
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the server did not come up:\n{}", server.log());
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits at most `within` for the server to exit: its exit code, or
    /// `None` when it is still running then.
    pub async fn terminate_within(&mut self, within: Duration) -> Option<i32> {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status.code().unwrap_or(-1));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }
}

/// The processes whose parent is `pid`.
pub fn children_of(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| stat(*child).is_some_and(|(_, parent)| parent == pid))
        .collect()
}

/// Whether a process is there and not a zombie (killed, or ended, and not yet waited for;
/// it uses no CPU).
pub fn running(pid: u32) -> bool {
    stat(pid).is_some_and(|(state, _)| !matches!(state, 'Z' | 'X'))
}

/// A process's state letter and parent, from `/proc/PID/stat`.
fn stat(pid: u32) -> Option<(char, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (name) state parent ...`: the name may hold spaces and parentheses.
    let mut rest = stat.rsplit_once(')')?.1.split_whitespace();
    let state = rest.next()?.chars().next()?;
    let parent = rest.next()?.parse().ok()?;
    Some((state, parent))
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Management API with the bootstrap administrator's token.
pub struct Admin {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Admin {
    pub async fn new(server: &Server) -> Admin {
        Self::with_http(server, reqwest::Client::new()).await
    }

    /// Through `http`: for a server on HTTPS, a client that trusts its certificate.
    pub async fn with_http(server: &Server, http: reqwest::Client) -> Admin {
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
        let token = answer["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no admin token: {answer}"))
            .to_string();
        Admin {
            http,
            base: server.base.clone(),
            token,
        }
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
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
        assert!(
            status.is_success(),
            "POST /api/v2/{path} {body}: {status} {answer}"
        );
        answer
    }

    /// A new client: its id and its secret (empty for a public client).
    pub async fn client(&self, body: Value) -> (String, String) {
        let client = self.post("clients", body).await;
        (
            client["client_id"].as_str().unwrap().to_string(),
            client["client_secret"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        )
    }
}

/// Runs a script in `dir` to its end, or stops it at `timeout`: its output, as `Err` when
/// it failed.
pub async fn run_script(
    what: &str,
    mut command: Command,
    dir: &Path,
    timeout: Duration,
) -> Result<String, String> {
    // One file for both streams, through one shared offset, so that lines interleave.
    let out = tempfile::NamedTempFile::new().unwrap();
    let file = out.reopen().unwrap();
    let mut child = command
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {what} ({command:?}): {e}"));
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let output = std::fs::read_to_string(out.path()).unwrap_or_default();
    match status {
        Some(status) if status.success() => {
            println!("=== {what} passed:\n{output}");
            Ok(output)
        }
        Some(status) => Err(format!("=== {what} failed ({status}):\n{output}")),
        None => Err(format!(
            "=== {what} did not finish within {timeout:?}:\n{output}"
        )),
    }
}
