//! Smoke tests through the real `castellan` binary: serve and stop on SIGTERM, the command
//! line's one-line failures, `config print`, `migrate` and `keys rotate`.

use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_castellan");

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn castellan(dir: &std::path::Path, args: &[&str]) -> Command {
    castellan_under(&[], dir, args)
}

/// The binary started by `wrapper` (a program and its arguments, such as `prlimit`).
fn castellan_under(wrapper: &[&str], dir: &std::path::Path, args: &[&str]) -> Command {
    let mut cmd = match wrapper.split_first() {
        Some((program, options)) => {
            let mut cmd = Command::new(program);
            cmd.args(options).arg(BIN);
            cmd
        }
        None => Command::new(BIN),
    };
    cmd.current_dir(dir).args(args).env("RUST_LOG", "warn");
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("CASTELLAN_")) {
        cmd.env_remove(k);
    }
    cmd
}

fn run(mut cmd: impl std::borrow::BorrowMut<Command>) -> Output {
    cmd.borrow_mut().output().unwrap()
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(dir: &std::path::Path, extra: &[&str]) -> Server {
        Self::start_logging(dir, extra, "warn")
    }

    /// With `RUST_LOG` set to `log_level`.
    fn start_logging(dir: &std::path::Path, extra: &[&str], log_level: &str) -> Server {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut args = vec!["serve", "--listen", &listen];
        args.extend_from_slice(extra);
        let child = castellan(dir, &args)
            .env("RUST_LOG", log_level)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let server = Server {
            child,
            base: format!("http://{listen}"),
        };
        server.wait_ready();
        server
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if reqwest::blocking_get(&format!("{}/healthz", self.base))
                .is_ok_and(|status| status == 200)
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the server did not come up");
    }

    fn terminate(self) -> (i32, String, String) {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        let output = self.child.wait_with_output().unwrap();
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }
}

/// A tiny blocking GET without pulling in a blocking HTTP client.
mod reqwest {
    use std::io::{Read, Write};

    pub fn blocking_get(url: &str) -> std::io::Result<u16> {
        Ok(get(url)?.0)
    }

    pub fn get(url: &str) -> std::io::Result<(u16, String)> {
        let rest = url.strip_prefix("http://").unwrap();
        let (host, path) = rest
            .split_once('/')
            .map_or((rest, "/".to_string()), |(h, p)| (h, format!("/{p}")));
        let mut stream = std::net::TcpStream::connect(host)?;
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        let status = response
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        Ok((status, body))
    }
}

#[test]
fn serve_creates_the_data_folder_prints_the_admin_once_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    assert!(dir.path().join("castellan-data/castellan.db").exists());
    assert!(dir.path().join("castellan-data/secret.key").exists());
    let (_, jwks) = reqwest::get(&format!("{}/.well-known/jwks.json", server.base)).unwrap();
    let (code, stdout, stderr) = server.terminate();
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("CASTELLAN_ADMIN_CLIENT_SECRET="),
        "{stdout}"
    );
    assert!(
        !stderr.contains("CASTELLAN_ADMIN_CLIENT_SECRET"),
        "the secret never reaches the log"
    );

    // Second start: same keys, and no new administrator is printed.
    let server = Server::start(dir.path(), &[]);
    let (_, jwks_again) = reqwest::get(&format!("{}/.well-known/jwks.json", server.base)).unwrap();
    let (code, stdout, _) = server.terminate();
    assert_eq!(code, 0);
    assert!(!stdout.contains("CASTELLAN_ADMIN_CLIENT_SECRET="));
    assert_eq!(jwks, jwks_again);

    let rotated = run(castellan(dir.path(), &["keys", "rotate", "--alg", "RS256"]));
    assert!(
        rotated.status.success(),
        "{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    let said = String::from_utf8_lossy(&rotated.stdout);
    assert!(
        said.contains("once every verifier can have fetched it"),
        "the next key was published by the first start, moments ago: {said}"
    );
    let server = Server::start(dir.path(), &[]);
    let (_, jwks_rotated) =
        reqwest::get(&format!("{}/.well-known/jwks.json", server.base)).unwrap();
    server.terminate();
    assert_eq!(
        jwks_rotated.matches("\"kid\"").count(),
        3,
        "the old, the new and the next RS256 key: {jwks_rotated}"
    );
}

#[test]
fn unreachable_database_is_one_line_and_a_failure_exit() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(castellan(
        dir.path(),
        &[
            "serve",
            "--database",
            "postgres://postgres@127.0.0.1:1/none",
        ],
    ));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("castellan: cannot reach the database"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"));
}

#[test]
fn config_print_layers_and_redacts_and_unknown_keys_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.toml"), "issuer = \"https://id.example\"\n[bootstrap]\nclient_id = \"a\"\nclient_secret = \"s3cr3t\"\n").unwrap();
    let output = run(
        castellan(dir.path(), &["--config", "c.toml", "config", "print"])
            .env("CASTELLAN_LISTEN", "127.0.0.1:9999")
            .env(
                "CASTELLAN_SECRET_KEY",
                "0011223344556677889900112233445566778899001122334455667788990011",
            ),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    assert!(
        stdout.contains("issuer = \"https://id.example/\""),
        "{stdout}"
    );
    assert!(stdout.contains("listen = \"127.0.0.1:9999\""));
    assert!(
        !stdout.contains("s3cr3t") && !stdout.contains("00112233"),
        "{stdout}"
    );

    std::fs::write(dir.path().join("bad.toml"), "listn = \"x\"\n").unwrap();
    let output = run(castellan(
        dir.path(),
        &["--config", "bad.toml", "config", "print"],
    ));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown field `listn`"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1);
}

#[test]
fn migrate_creates_the_schema_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(castellan(
        dir.path(),
        &["migrate", "--database", "sqlite://db/x.db"],
    ));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.path().join("db/x.db").exists());
}

#[test]
fn sigterm_lets_an_in_flight_request_finish() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let host = server.base.strip_prefix("http://").unwrap().to_string();
    let body = "grant_type=client_credentials&client_id=nobody&client_secret=x&audience=urn%3Ax";
    let mut stream = std::net::TcpStream::connect(&host).unwrap();
    write!(
        stream,
        "POST /oauth/token HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        body.len(),
        &body[..10]
    )
    .unwrap();
    stream.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // The listener is closed to new connections, but this request is still served.
    assert!(
        std::net::TcpStream::connect(&host).is_err(),
        "no new connections after SIGTERM"
    );
    stream.write_all(&body.as_bytes()[10..]).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 401"), "{response}");
    let (code, _, stderr) = server.terminate();
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn json_logs_carry_the_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_logging(dir.path(), &["--log-format", "json"], "info");
    let (code, _, stderr) = server.terminate();
    assert_eq!(code, 0);
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).expect(l))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["span"]["request_id"].is_string() && l["message"] == "handled"),
        "{stderr}"
    );
}

#[test]
fn outbox_prints_what_is_waiting() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(castellan(dir.path(), &["outbox"]));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("The outbox is empty."));
}

fn corpus(name: &str) -> String {
    format!("{}/tests/rules/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The dry run shows a rule's demand for a second factor, as it shows a redirect.
#[test]
fn rules_test_reports_a_rule_that_asks_for_mfa() {
    let dir = tempfile::tempdir().unwrap();
    let user = dir.path().join("user.json");
    std::fs::write(
        &user,
        r#"{"user_id": "auth0|ci", "email": "ci@example.com"}"#,
    )
    .unwrap();
    let rule = corpus("mfa-for-clients.js");
    let args = [
        "rules",
        "test",
        "--user",
        user.to_str().unwrap(),
        &rule,
        "--config-value",
        "MFA_CLIENTS=rules-test-client",
    ];
    let output = run(castellan(dir.path(), &args));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&String::from_utf8_lossy(&output.stdout)).unwrap();
    assert_eq!(report["multifactor"]["provider"], "any", "{report}");

    // Not asked for this client: nothing shown.
    let mut other = args;
    other[6] = "MFA_CLIENTS=another-client";
    let output = run(castellan(dir.path(), &other));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&String::from_utf8_lossy(&output.stdout)).unwrap();
    assert!(report.get("multifactor").is_none(), "{report}");
}

#[test]
fn rules_test_runs_files_against_a_user_without_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let user = dir.path().join("user.json");
    std::fs::write(
        &user,
        r#"{"user_id": "auth0|ci", "email": "ci@example.com", "email_verified": true,
            "logins_count": 1, "app_metadata": {"plan": "free"}}"#,
    )
    .unwrap();
    let files: Vec<String> = [
        "deny-unverified-email.js",
        "first-login-timestamp.js",
        "default-role-on-first-login.js",
        "roles-into-claims.js",
        "actions/roles-claim.js",
    ]
    .iter()
    .map(|f| corpus(f))
    .collect();
    let mut args = vec!["rules", "test", "--user", user.to_str().unwrap()];
    args.extend(files.iter().map(String::as_str));
    args.extend([
        "--config-value",
        "DEFAULT_ROLE=member",
        "--config-value",
        "PLAN=gold",
        "--secret",
        "DENY_CLIENT=another-client",
    ]);
    let output = run(castellan(dir.path(), &args));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["roles"], serde_json::json!(["member"]));
    assert_eq!(
        report["changes"][1]["script"],
        "default-role-on-first-login"
    );
    assert_eq!(report["app_metadata"]["plan"], "free");
    assert!(report["app_metadata"]["first_login_at"].is_string());
    assert_eq!(report["app_metadata"]["last_client"], "rules-test-client");
    let id = &report["id_token_claims"];
    assert_eq!(
        id["https://example.com/roles"],
        serde_json::json!(["member"])
    );
    assert_eq!(
        id["https://example.com/action_roles"],
        serde_json::json!(["member"])
    );
    assert_eq!(id["https://example.com/plan"], "gold");
    assert_eq!(
        report["access_token_claims"]["https://example.com/client"],
        "rules test"
    );
    assert!(
        !dir.path().join("data").exists(),
        "nothing was written: {:?}",
        std::fs::read_dir(dir.path()).unwrap().collect::<Vec<_>>()
    );

    // The action denies this client: the exit code says so, the report says why.
    let denied_args: Vec<&str> = args
        .iter()
        .map(|a| {
            if *a == "DENY_CLIENT=another-client" {
                "DENY_CLIENT=rules-test-client"
            } else {
                a
            }
        })
        .collect();
    let output = run(castellan(dir.path(), &denied_args));
    assert!(!output.status.success());
    let report: serde_json::Value =
        serde_json::from_str(&String::from_utf8_lossy(&output.stdout)).unwrap();
    assert_eq!(report["error"], "this application is closed");
    assert!(String::from_utf8_lossy(&output.stderr).contains("refused"));
}

/// Under a small open-file limit (256), 300 silent connections: the default cap (three
/// quarters of the limit less 64 for refusals, so 128) holds as many, every other one is
/// answered 503 or closed at once (none is left unaccepted), the process never runs out
/// of descriptors, and once the idle timeout has closed the silent ones the server
/// answers again, while their clients still hold them open.
#[test]
fn silent_connections_cannot_use_up_a_small_open_file_limit() {
    use std::io::{ErrorKind, Read};

    let dir = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let mut command = castellan_under(
        &["prlimit", "--nofile=256"],
        dir.path(),
        &["serve", "--listen", &listen],
    );
    command
        .env("CASTELLAN_HTTP_IDLE_TIMEOUT_SECS", "4")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let server = Server {
        child: command.spawn().unwrap(),
        base: format!("http://{listen}"),
    };
    server.wait_ready();

    let silent: Vec<std::net::TcpStream> = (0..300)
        .map(|_| std::net::TcpStream::connect(&listen).unwrap())
        .collect();
    // Refusals are written at once; give them a moment to arrive.
    std::thread::sleep(Duration::from_millis(1500));
    let (mut held, mut refused, mut closed) = (0, 0, 0);
    for stream in &silent {
        stream.set_nonblocking(true).unwrap();
        let mut answer = Vec::new();
        match (&*stream).read_to_end(&mut answer) {
            Err(e) if e.kind() == ErrorKind::WouldBlock && answer.is_empty() => held += 1,
            _ if answer.starts_with(b"HTTP/1.1 503") => refused += 1,
            Ok(0) => closed += 1,
            other => panic!("unexpected {other:?}: {}", String::from_utf8_lossy(&answer)),
        }
    }
    assert_eq!(held, 128, "held ({refused} refused, {closed} closed)");
    assert!(refused > 0, "{closed} closed unanswered");

    // The silent ones are closed after the idle timeout; the database was never starved.
    let deadline = Instant::now() + Duration::from_secs(20);
    let ready = loop {
        match reqwest::get(&format!("{}/readyz", server.base)) {
            Ok((200, _)) => break true,
            _ if Instant::now() > deadline => break false,
            _ => std::thread::sleep(Duration::from_millis(200)),
        }
    };
    assert!(
        ready,
        "the server answers again once the silent connections time out"
    );
    drop(silent);
    let (status, _, stderr) = server.terminate();
    assert_eq!(status, 0, "{stderr}");
    assert!(!stderr.contains("Too many open files"), "{stderr}");
}
