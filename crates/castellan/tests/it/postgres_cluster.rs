//! Several nodes on one PostgreSQL: two `castellan serve` processes started at once on a
//! fresh database share keys and clients; and a database that goes away turns requests
//! into 503 until it comes back, without a restart. Needs `CASTELLAN_TEST_POSTGRES_URL`.

use crate::common;

use std::net::TcpListener as StdListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

const BIN: &str = env!("CARGO_BIN_EXE_castellan");
const CLUSTER_ISSUER: &str = "http://castellan.cluster/";
const SECRET_KEY: &str = "4f1c0e6b2a3d5e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7";

async fn scratch_database() -> Option<String> {
    let admin = std::env::var("CASTELLAN_TEST_POSTGRES_URL").ok()?;
    Some(
        castellan_store::create_scratch_postgres_database(&admin)
            .await
            .unwrap(),
    )
}

struct Node {
    child: Child,
    base: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_node(database_url: &str, dir: &std::path::Path) -> Node {
    let port = StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(BIN)
        .current_dir(dir)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--issuer",
            CLUSTER_ISSUER,
        ])
        .env("CASTELLAN_DATABASE_URL", database_url)
        .env("CASTELLAN_SECRET_KEY", SECRET_KEY)
        .env("CASTELLAN_ADMIN_CLIENT_ID", ADMIN_ID)
        .env("CASTELLAN_ADMIN_CLIENT_SECRET", ADMIN_SECRET)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    Node {
        child,
        base: format!("http://127.0.0.1:{port}"),
    }
}

async fn wait_ready(http: &reqwest::Client, node: &Node) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(r) = http.get(format!("{}/readyz", node.base)).send().await
            && r.status() == StatusCode::OK
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("node {} did not become ready", node.base);
}

async fn token(
    http: &reqwest::Client,
    node: &Node,
    id: &str,
    secret: &str,
    audience: &str,
) -> (StatusCode, Value) {
    let response = http
        .post(format!("{}/oauth/token", node.base))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
            ("audience", audience),
        ])
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn two_nodes_on_one_database_serve_one_tenant() {
    let Some(url) = scratch_database().await else {
        eprintln!("CASTELLAN_TEST_POSTGRES_URL unset: the cluster test runs in CI");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // Both start at once on an empty database: they race to create the first keys.
    let a = spawn_node(&url, dir.path());
    let b = spawn_node(&url, dir.path());
    let http = reqwest::Client::new();
    wait_ready(&http, &a).await;
    wait_ready(&http, &b).await;
    let audience = format!("{CLUSTER_ISSUER}api/v2/");

    let (_, admin) = token(&http, &a, ADMIN_ID, ADMIN_SECRET, &audience).await;
    let admin = admin["access_token"].as_str().unwrap().to_string();
    let created: Value = http
        .post(format!("{}/api/v2/clients", a.base))
        .bearer_auth(&admin)
        .json(&json!({"name": "made on A", "app_type": "non_interactive"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["client_id"].as_str().unwrap();
    let grant = json!({"client_id": id, "audience": audience, "scope": ["read:clients"]});
    let response = http
        .post(format!("{}/api/v2/client-grants", a.base))
        .bearer_auth(&admin)
        .json(&grant)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);

    let (status, from_b) = token(
        &http,
        &b,
        id,
        created["client_secret"].as_str().unwrap(),
        &audience,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a client created on A gets tokens from B: {from_b}"
    );
    let minted_by_b = from_b["access_token"].as_str().unwrap();
    let on_a = http
        .get(format!("{}/api/v2/clients", a.base))
        .bearer_auth(minted_by_b)
        .send()
        .await
        .unwrap();
    assert_eq!(
        on_a.status(),
        StatusCode::OK,
        "a token minted by B is accepted by A"
    );
    let on_b = http
        .get(format!("{}/api/v2/clients", b.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(
        on_b.status(),
        StatusCode::OK,
        "a token minted by A is accepted by B"
    );

    let jwks = |node: &Node| {
        http.get(format!("{}/.well-known/jwks.json", node.base))
            .send()
    };
    let (ja, jb): (Value, Value) = (
        jwks(&a).await.unwrap().json().await.unwrap(),
        jwks(&b).await.unwrap().json().await.unwrap(),
    );
    assert_eq!(ja, jb);
    let store = castellan_store::open(&url).await.unwrap();
    let keys = store.list_signing_keys().await.unwrap();
    let current = keys.iter().filter(|k| k.current_since.is_some()).count();
    assert_eq!(
        (keys.len(), current),
        (6, 3),
        "one current and one next key per algorithm despite the race"
    );

    // A key published elsewhere (here: the next key a rotation by `castellan keys
    // rotate` adds) is picked up by B as soon as it meets a token signed with it.
    let master = castellan_core::secrets::MasterKey::parse(SECRET_KEY).unwrap();
    let clock = std::sync::Arc::new(castellan_core::clock::SystemClock);
    let now = castellan_core::clock::Clock::now(clock.as_ref());
    let keyring = castellan_core::oauth::keyring::Keyring::open(
        store.clone(),
        master.clone(),
        clock.clone(),
        300,
    )
    .await
    .unwrap();
    let editor = castellan_core::directory::Editor::cli(store.as_ref(), clock.as_ref());
    keyring
        .rotate(&editor, castellan_core::model::SigningAlg::Rs256)
        .await
        .unwrap();
    let records = store.list_signing_keys().await.unwrap();
    let record = records
        .iter()
        .find(|r| r.alg == castellan_core::model::SigningAlg::Rs256 && r.current_since.is_none())
        .unwrap();
    let signer = castellan_core::oauth::keys::Signer::from_record(record, &master).unwrap();
    let claims = json!({"iss": CLUSTER_ISSUER, "sub": format!("{id}@clients"), "aud": audience, "iat": now,
                        "exp": now + 60, "scope": "read:clients", "azp": id});
    let signed_with_new_key = signer.encode_jwt("JWT", &claims);
    let on_b = http
        .get(format!("{}/api/v2/clients", b.base))
        .bearer_auth(&signed_with_new_key)
        .send()
        .await
        .unwrap();
    assert_eq!(on_b.status(), StatusCode::OK);
}

/// A TCP proxy in front of PostgreSQL that the test can cut and restore.
struct Proxy {
    port: u16,
    down: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let down = Arc::new(AtomicBool::new(false));
        let links = Arc::new(Mutex::new(Vec::new()));
        let (d, l) = (down.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if d.load(Ordering::SeqCst) {
                    continue;
                }
                let upstream = upstream.clone();
                let link = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                l.lock().unwrap().push(link.abort_handle());
            }
        });
        Proxy { port, down, links }
    }

    fn cut(&self) {
        self.down.store(true, Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn database_outage_turns_into_503_and_service_resumes_by_itself() {
    let Some(url) = scratch_database().await else {
        eprintln!("CASTELLAN_TEST_POSTGRES_URL unset: the outage test runs in CI");
        return;
    };
    let (prefix, rest) = url.split_once('@').unwrap();
    let (host, db) = rest.split_once('/').unwrap();
    let proxy = Proxy::start(host.to_string()).await;
    let proxied = format!("{prefix}@127.0.0.1:{}/{db}", proxy.port);
    let dir = tempfile::tempdir().unwrap();
    let server =
        TestServer::start_with(settings(proxied, dir.path().to_path_buf()), Arc::new(dir)).await;
    let admin = server.admin_token(None).await;
    assert_eq!(
        server
            .call(Method::GET, "/api/v2/clients", &admin, None)
            .await
            .0,
        StatusCode::OK
    );

    proxy.cut();
    let ready = server.http.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let (status, body) = server
        .call(Method::GET, "/api/v2/clients", &admin, None)
        .await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Some("temporarily_unavailable")
        )
    );
    let (status, body) = server
        .token_request(json!({"grant_type": "client_credentials", "client_id": ADMIN_ID, "client_secret": ADMIN_SECRET, "audience": MANAGEMENT_AUDIENCE}))
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Some("temporarily_unavailable")
        )
    );
    // Tokens already issued still verify: keys are in memory.
    assert_eq!(
        server
            .http
            .get(server.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, _) = server
            .call(Method::GET, "/api/v2/clients", &admin, None)
            .await;
        if status == StatusCode::OK {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "service did not resume: {status}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A readiness verdict stands for a second; the next probe finds the store back.
    loop {
        let ready = server.http.get(server.url("/readyz")).send().await.unwrap();
        if ready.status() == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "not ready: {}", ready.status());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
