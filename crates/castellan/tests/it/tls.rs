//! HTTPS on the real binary (`serve --tls-cert --tls-key`), with certificates made here by
//! rcgen and clients that trust only them: discovery and a token over HTTP/1.1 and HTTP/2,
//! the certificate reloaded on SIGHUP and on a change of the files, the errors of a bad
//! start, and a connection that never says hello.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::AsyncReadExt;

use crate::common::{ADMIN_ID, ADMIN_SECRET, database_url};

const BIN: &str = env!("CARGO_BIN_EXE_castellan");
/// How long a test waits for what the server must do within a few seconds.
const PATIENCE: Duration = Duration::from_secs(15);

/// A certificate for 127.0.0.1 and localhost, its subject named `name`, and its key.
struct Pem {
    cert: String,
    key: String,
}

fn certificate(name: &str) -> Pem {
    let mut params =
        rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    Pem {
        cert: cert.pem(),
        key: key.serialize_pem(),
    }
}

fn write_pair(dir: &Path, pem: &Pem) -> (PathBuf, PathBuf) {
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, &pem.cert).unwrap();
    std::fs::write(&key, &pem.key).unwrap();
    (cert, key)
}

/// A client that trusts `pem`'s certificate and nothing else, and opens a new connection
/// for every request, so that each one sees the certificate served at that moment.
fn client_trusting(pem: &Pem) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(pem.cert.as_bytes()).unwrap()])
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The command for `castellan` with only the environment it is given here.
fn castellan(dir: &Path) -> Command {
    let mut command = Command::new(BIN);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("CASTELLAN_")) {
        command.env_remove(k);
    }
    command
        .current_dir(dir)
        .env("CASTELLAN_DATA_DIR", dir)
        .env("CASTELLAN_ADMIN_CLIENT_ID", ADMIN_ID)
        .env("CASTELLAN_ADMIN_CLIENT_SECRET", ADMIN_SECRET)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1");
    command
}

/// The real binary serving HTTPS; killed when dropped.
struct Server {
    child: Child,
    /// `https://127.0.0.1:PORT`
    base: String,
    port: u16,
    dir: tempfile::TempDir,
    log: PathBuf,
}

impl Server {
    /// Serves `pem` with `--tls-cert`/`--tls-key` and no `--issuer`, so the issuer is the
    /// one derived from the listen address.
    async fn start(pem: &Pem, env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = write_pair(dir.path(), pem);
        let port = free_port();
        let database = database_url(dir.path()).await;
        let log = dir.path().join("server.log");
        let child = castellan(dir.path())
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--database", &database])
            .arg("--tls-cert")
            .arg(&cert)
            .arg("--tls-key")
            .arg(&key)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut server = Server {
            child,
            base: format!("https://127.0.0.1:{port}"),
            port,
            dir,
            log,
        };
        let http = client_trusting(pem).build().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(r) = http.get(format!("{}/healthz", server.base)).send().await
                && r.status().is_success()
            {
                return server;
            }
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("the server exited ({status}):\n{}", server.log());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the server did not come up:\n{}", server.log());
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, then the exit code, or `None` if it has not exited within `within`.
    async fn terminate_within(&mut self, within: Duration) -> Option<i32> {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status.code().unwrap_or(-1));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }

    fn hang_up(&self) {
        let sent = Command::new("kill")
            .args(["-HUP", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether a new connection trusting only `pem` gets an answer.
async fn accepted(server: &Server, pem: &Pem) -> bool {
    answered(&client_trusting(pem).build().unwrap(), server).await
}

/// Whether `http` gets an answer (on a new connection, as `client_trusting` makes them).
async fn answered(http: &reqwest::Client, server: &Server) -> bool {
    http.get(format!("{}/healthz", server.base))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

/// Polls until `accepted(server, pem)` is `wanted`; panics after `PATIENCE`.
async fn until_accepted(server: &Server, pem: &Pem, wanted: bool, what: &str) {
    let deadline = Instant::now() + PATIENCE;
    while accepted(server, pem).await != wanted {
        assert!(
            Instant::now() < deadline,
            "{what} within {PATIENCE:?}:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn discovery_and_tokens_over_https_on_http1_and_http2() {
    let pem = certificate("castellan test");
    let server = Server::start(&pem, &[]).await;
    let issuer = format!("{}/", server.base);
    let discovery_url = format!("{}/.well-known/openid-configuration", server.base);

    let http1 = client_trusting(&pem).http1_only().build().unwrap();
    let negotiated = client_trusting(&pem).build().unwrap();
    let prior = client_trusting(&pem)
        .http2_prior_knowledge()
        .build()
        .unwrap();
    for (client, version) in [
        (&http1, reqwest::Version::HTTP_11),
        (&negotiated, reqwest::Version::HTTP_2),
        (&prior, reqwest::Version::HTTP_2),
    ] {
        let response = client.get(&discovery_url).send().await.unwrap();
        assert_eq!(response.version(), version);
        assert!(response.status().is_success());
        let discovery: Value = response.json().await.unwrap();
        assert_eq!(discovery["issuer"], issuer.as_str());
        for endpoint in ["token_endpoint", "jwks_uri", "authorization_endpoint"] {
            let url = discovery[endpoint].as_str().unwrap();
            assert!(url.starts_with(&issuer), "{endpoint}: {url}");
        }
    }

    for (client, version) in [
        (&http1, reqwest::Version::HTTP_11),
        (&negotiated, reqwest::Version::HTTP_2),
    ] {
        let response = client
            .post(format!("{}/oauth/token", server.base))
            .json(&json!({
                "grant_type": "client_credentials",
                "client_id": ADMIN_ID,
                "client_secret": ADMIN_SECRET,
                "audience": format!("{issuer}api/v2/"),
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.version(), version);
        let status = response.status();
        let answer: Value = response.json().await.unwrap();
        assert!(status.is_success(), "{status} {answer}");
        let token = answer["access_token"].as_str().unwrap();
        // The token works where it was meant to, over the same TLS.
        let clients = client
            .get(format!("{}/api/v2/clients", server.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert!(clients.status().is_success(), "{}", clients.status());
    }

    // Plain HTTP on the HTTPS port gets no answer.
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{}/healthz", server.port))
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());

    // A stop closes idle HTTP/1.1 and HTTP/2 connections at once, not after the idle
    // timeout (60 s).
    let keeping = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(pem.cert.as_bytes()).unwrap()])
        .build()
        .unwrap();
    let http1_keeping = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(pem.cert.as_bytes()).unwrap()])
        .http1_only()
        .build()
        .unwrap();
    for client in [&keeping, &http1_keeping] {
        let response = client.get(&discovery_url).send().await.unwrap();
        assert!(response.status().is_success());
        response.bytes().await.unwrap();
    }
    let mut server = server;
    let stopping = Instant::now();
    assert_eq!(
        server.terminate_within(PATIENCE).await,
        Some(0),
        "{}",
        server.log()
    );
    assert!(
        stopping.elapsed() < Duration::from_secs(10),
        "{:?}",
        stopping.elapsed()
    );
}

#[tokio::test]
async fn the_certificate_is_reloaded_on_sighup_and_when_the_files_change() {
    let first = certificate("first");
    let server = Server::start(&first, &[]).await;
    let second = certificate("second");
    assert!(!accepted(&server, &second).await);

    write_pair(server.dir.path(), &second);
    server.hang_up();
    until_accepted(
        &server,
        &second,
        true,
        "the second certificate after SIGHUP",
    )
    .await;
    assert!(
        !accepted(&server, &first).await,
        "the first certificate is no longer served"
    );
    let deadline = Instant::now() + PATIENCE;
    while !server.log().contains("TLS certificate reloaded") || !server.log().contains("SIGHUP") {
        assert!(
            Instant::now() < deadline,
            "no SIGHUP reload:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A broken pair keeps the certificate in use.
    std::fs::write(server.dir.path().join("key.pem"), "not a key").unwrap();
    server.hang_up();
    let deadline = Instant::now() + PATIENCE;
    while !server.log().contains("TLS certificate not reloaded") {
        assert!(Instant::now() < deadline, "no warning:\n{}", server.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(accepted(&server, &second).await);
    assert!(
        !server.log().contains(&second.key[40..80]),
        "key material in the log"
    );

    // No signal this time: the change of the files is noticed.
    let third = certificate("third");
    write_pair(server.dir.path(), &third);
    until_accepted(
        &server,
        &third,
        true,
        "the third certificate without a signal",
    )
    .await;
    assert!(!accepted(&server, &second).await);
}

#[tokio::test]
async fn a_silent_connection_is_closed_by_the_header_deadline_and_frees_its_slot() {
    let pem = certificate("castellan test");
    let server = Server::start(
        &pem,
        &[
            ("CASTELLAN_HTTP_HEADER_READ_TIMEOUT_SECS", "3"),
            ("CASTELLAN_HTTP_MAX_CONNECTIONS", "2"),
        ],
    )
    .await;
    let probe = client_trusting(&pem).build().unwrap();
    // The server notices that the start's own check has closed its connection.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let opened = Instant::now();
    let mut silent = Vec::new();
    for _ in 0..2 {
        silent.push(
            tokio::net::TcpStream::connect(("127.0.0.1", server.port))
                .await
                .unwrap(),
        );
    }
    // Both slots are taken by connections that never send a ClientHello.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!answered(&probe, &server).await, "no slot should be free");
    for stream in &mut silent {
        let mut buf = [0u8; 64];
        let read = tokio::time::timeout(PATIENCE, stream.read(&mut buf)).await;
        assert!(
            matches!(read, Ok(Ok(0) | Err(_))),
            "the server kept a silent connection open: {read:?}"
        );
        // Held for the deadline (3 s), not refused at once, and closed far sooner than
        // the idle timeout (60 s).
        let open_for = opened.elapsed();
        assert!(
            open_for >= Duration::from_secs(2) && open_for < Duration::from_secs(15),
            "{open_for:?}"
        );
    }
    until_accepted(
        &server,
        &pem,
        true,
        "a slot after the silent connections closed",
    )
    .await;
}

/// Runs `castellan serve` to its end: its exit status and standard error.
async fn serve_fails(args: &[&str]) -> (std::process::ExitStatus, String) {
    let dir = tempfile::tempdir().unwrap();
    let database = database_url(dir.path()).await;
    let mut command = castellan(dir.path());
    command
        .args(["serve", "--listen", &format!("127.0.0.1:{}", free_port())])
        .args(["--database", &database])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let output = tokio::task::spawn_blocking(move || {
        let child = command.spawn().unwrap();
        child.wait_with_output().unwrap()
    });
    let output = tokio::time::timeout(Duration::from_secs(60), output)
        .await
        .expect("castellan serve should have exited")
        .unwrap();
    (
        output.status,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn a_bad_certificate_or_a_lone_flag_stops_the_start_with_a_clear_error() {
    let pem = certificate("castellan test");
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = write_pair(dir.path(), &pem);
    let cert = cert.to_str().unwrap();
    let key = key.to_str().unwrap();

    let (status, stderr) = serve_fails(&["--tls-cert", cert]).await;
    assert!(!status.success());
    assert!(
        stderr.contains("http.tls_key") && stderr.contains("--tls-key"),
        "{stderr}"
    );

    let (status, stderr) = serve_fails(&["--tls-key", key]).await;
    assert!(!status.success());
    assert!(stderr.contains("http.tls_cert"), "{stderr}");

    let missing = dir.path().join("missing.pem");
    let missing = missing.to_str().unwrap();
    let (status, stderr) = serve_fails(&["--tls-cert", missing, "--tls-key", key]).await;
    assert!(!status.success());
    assert!(stderr.contains(missing), "{stderr}");

    let broken = dir.path().join("broken-key.pem");
    std::fs::write(&broken, "-----BEGIN PRIVATE KEY-----\nAAAA\n").unwrap();
    let broken = broken.to_str().unwrap();
    let (status, stderr) = serve_fails(&["--tls-cert", cert, "--tls-key", broken]).await;
    assert!(!status.success());
    assert!(stderr.contains(broken), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
