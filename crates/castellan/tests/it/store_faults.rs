//! What clients and health checkers see when the database cannot serve: a full disk
//! (SQLite on a tmpfs the test fills), a PostgreSQL that stops answering (a relay the test
//! cuts), a write lock held elsewhere. Answers are 503 with `Retry-After`, in time; the
//! server recovers without a restart and loses nothing it acknowledged, tenant-log events
//! included.

use crate::common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use castellan_core::model::LogEvent;
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection;

const REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";
const PASSWORD: &str = "correct horse battery";
/// A health checker's timeout: `/readyz` must answer well within it.
const CHECKER_TIMEOUT: Duration = Duration::from_millis(2500);

/// A tmpfs mounted for one test, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// `None`, with the reason printed, where tmpfs cannot be mounted (not root, or no
    /// `CAP_SYS_ADMIN` in a container).
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output();
        match out {
            Ok(out) if out.status.success() => Some(Tmpfs { dir }),
            Ok(out) => {
                println!(
                    "SKIPPED: cannot mount a tmpfs to fill (needs root): {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
                None
            }
            Err(e) => {
                println!("SKIPPED: cannot run mount to make a tmpfs to fill: {e}");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file until the file system is full; returns its path.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let path = self.path().join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        for chunk in [1 << 20, 4096, 1] {
            let bytes = vec![0u8; chunk];
            while file.write_all(&bytes).is_ok() {}
        }
        let _ = file.sync_all();
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazily: the server's files may still be open.
        let _ = Command::new("umount").arg("-l").arg(self.path()).status();
    }
}

struct Answer {
    status: StatusCode,
    retry_after: Option<String>,
    body: Value,
}

async fn answer(response: reqwest::Response) -> Answer {
    Answer {
        status: response.status(),
        retry_after: response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_string()),
        body: response.json().await.unwrap_or(Value::Null),
    }
}

async fn sign_up(server: &TestServer, client_id: &str, email: &str) -> Answer {
    let body = json!({"client_id": client_id, "email": email, "password": PASSWORD, "connection": DATABASE});
    answer(
        server
            .http
            .post(server.url("/dbconnections/signup"))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// Sent as a health checker with a short timeout sends it: the answer must come.
async fn in_time(request: reqwest::RequestBuilder) -> Answer {
    let response = request
        .timeout(CHECKER_TIMEOUT)
        .send()
        .await
        .unwrap_or_else(|e| panic!("no answer within {CHECKER_TIMEOUT:?}: {e}"));
    answer(response).await
}

async fn readyz(server: &TestServer) -> Answer {
    in_time(server.http.get(server.url("/readyz"))).await
}

/// `/readyz` until it says `status`: a verdict stands for a second, so the answer after
/// a change may still be the one before it. Every call is answered in time.
async fn readyz_turns(server: &TestServer, status: StatusCode) -> Answer {
    within(
        Duration::from_secs(3),
        &format!("/readyz says {status}"),
        || async {
            let answer = readyz(server).await;
            (answer.status == status).then_some(answer)
        },
    )
    .await
}

fn assert_unavailable(what: &str, a: &Answer) {
    assert_eq!(
        a.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{what}: {}",
        a.body
    );
    assert!(a.retry_after.is_some(), "{what}: no Retry-After");
}

async fn metric(server: &TestServer, name: &str) -> f64 {
    let text = server.get_text("/metrics").await;
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics:\n{text}"))
}

/// Polls `attempt` until it gives `Some`, for at most `within`.
async fn within<T, F: std::future::Future<Output = Option<T>>>(
    within: Duration,
    what: &str,
    mut attempt: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(done) = attempt().await {
            return done;
        }
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_full_disk_answers_503_and_everything_works_again_once_space_is_back() {
    if std::env::var("CASTELLAN_TEST_BACKEND").as_deref() == Ok("postgres") {
        println!("SKIPPED: the full disk is SQLite's; this run is PostgreSQL's");
        return;
    }
    let Some(tmpfs) = Tmpfs::mount("24m") else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/castellan.db", tmpfs.path().display());
    let server =
        TestServer::start_with(settings(url, data.path().to_path_buf()), Arc::new(data)).await;
    let (_, app) = server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "Web", "grant_types": [REALM]})),
        )
        .await;
    let app_id = app["client_id"].as_str().unwrap().to_string();
    let app_secret = app["client_secret"].as_str().unwrap().to_string();
    let api = json!({"name": "Orders", "identifier": "https://orders.example"});
    let (m2m_id, m2m_secret) = server.m2m_client_for(api, &[]).await;
    let admin = server.admin_token(None).await;

    let mut acknowledged = Vec::new();
    for n in 0..3 {
        let email = format!("before{n}@example.com");
        assert_eq!(
            sign_up(&server, &app_id, &email).await.status,
            StatusCode::OK
        );
        acknowledged.push(email);
    }

    let filler = tmpfs.fill();
    let mut refused = None;
    for n in 0..50 {
        let email = format!("during{n}@example.com");
        let a = sign_up(&server, &app_id, &email).await;
        match a.status {
            StatusCode::OK => acknowledged.push(email),
            _ => {
                refused = Some(a);
                break;
            }
        }
    }
    let refused = refused.expect("a sign-up refused while the disk is full");
    assert_unavailable("a sign-up on a full disk", &refused);
    assert_eq!(
        refused.body["code"], "temporarily_unavailable",
        "{}",
        refused.body
    );
    let not_ready = readyz_turns(&server, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_unavailable("/readyz on a full disk", &not_ready);

    // Reads still work; their log events wait in the queue for the disk.
    let exchanges = 5;
    for _ in 0..exchanges {
        let token = json!({"grant_type": "client_credentials", "client_id": m2m_id,
                           "client_secret": m2m_secret, "audience": "https://orders.example"});
        let (status, body) = server.token_request(token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    within(Duration::from_secs(10), "a retried log batch", || async {
        (metric(&server, "castellan_log_batch_retries_total").await > 0.0).then_some(())
    })
    .await;

    std::fs::remove_file(filler).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    for attempt in 0.. {
        let email = format!("retry{attempt}@example.com");
        let a = sign_up(&server, &app_id, &email).await;
        if a.status == StatusCode::OK {
            acknowledged.push(email);
            break;
        }
        assert_unavailable("a sign-up while space comes back", &a);
        assert!(
            Instant::now() < deadline,
            "sign-ups still fail 10 s after space came back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for n in 0..10 {
        let email = format!("after{n}@example.com");
        let a = sign_up(&server, &app_id, &email).await;
        assert_eq!(
            a.status,
            StatusCode::OK,
            "sign-up {n} after recovery: {}",
            a.body
        );
        acknowledged.push(email);
    }
    for email in [&acknowledged[0], acknowledged.last().unwrap()] {
        let login = json!({"grant_type": REALM, "client_id": app_id, "client_secret": app_secret,
                           "username": email, "password": PASSWORD, "realm": DATABASE});
        let (status, body) = server.token_request(login).await;
        assert_eq!(status, StatusCode::OK, "log-in of {email}: {body}");
    }
    readyz_turns(&server, StatusCode::OK).await;

    for email in &acknowledged {
        let (status, users) = server
            .call(
                Method::GET,
                &format!("/api/v2/users-by-email?email={email}"),
                &admin,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            users.as_array().map(Vec::len),
            Some(1),
            "{email} was acknowledged"
        );
    }
    let (status, events) = server
        .call(
            Method::GET,
            &format!("/api/v2/logs?q=client_id:%22{m2m_id}%22&per_page=100"),
            &admin,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{events}");
    assert_eq!(
        events.as_array().map(Vec::len),
        Some(exchanges),
        "every exchange made while the disk was full is in the log: {events}"
    );
}

/// Holds the store's write lock (SQLite) or the readiness row (PostgreSQL) from another
/// connection, as a long migration, a backup tool or a stuck transaction would.
enum Holder {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl Holder {
    async fn take(url: &str) -> Holder {
        if url.starts_with("sqlite:") {
            let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::raw_sql("BEGIN IMMEDIATE")
                .execute(&mut conn)
                .await
                .unwrap();
            Holder::Sqlite(conn)
        } else {
            let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::raw_sql("BEGIN; LOCK TABLE readiness IN EXCLUSIVE MODE")
                .execute(&mut conn)
                .await
                .unwrap();
            Holder::Postgres(conn)
        }
    }

    async fn release(self) {
        match self {
            Holder::Sqlite(mut c) => drop(sqlx::raw_sql("ROLLBACK").execute(&mut c).await),
            Holder::Postgres(mut c) => drop(sqlx::raw_sql("ROLLBACK").execute(&mut c).await),
        }
    }
}

#[tokio::test]
async fn readiness_is_a_write_and_answers_within_a_second() {
    let server = TestServer::start().await;
    assert_eq!(readyz(&server).await.status, StatusCode::OK);
    let holder = Holder::take(&server.settings.database_url).await;
    let refused = readyz_turns(&server, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_unavailable("/readyz while another connection holds the write", &refused);
    holder.release().await;
    readyz_turns(&server, StatusCode::OK).await;
}

#[tokio::test]
async fn the_log_queue_is_in_the_metrics() {
    let server = TestServer::start().await;
    assert_eq!(
        metric(&server, "castellan_log_queue_capacity").await,
        10_000.0
    );
    for reason in ["queue_full", "refused"] {
        let name = format!("castellan_log_events_dropped_total{{reason=\"{reason}\"}}");
        assert!(metric(&server, &name).await >= 0.0);
    }
    assert!(metric(&server, "castellan_log_batch_retries_total").await >= 0.0);
}

/// A TCP relay to PostgreSQL that the test can cut: cut, it closes what it relays and
/// takes new connections without ever answering, as a frozen server or a dropped route.
struct Relay {
    addr: SocketAddr,
    cut: tokio::sync::watch::Sender<bool>,
}

impl Relay {
    async fn to(upstream: String) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (cut, watch) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                if *watch.borrow() {
                    held.push(inbound);
                    continue;
                }
                let upstream = upstream.clone();
                let mut watch = watch.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = watch.wait_for(|cut| *cut) => {}
                    }
                });
            }
        });
        Relay { addr, cut }
    }

    fn cut(&self, cut: bool) {
        self.cut.send_replace(cut);
    }
}

#[tokio::test]
async fn a_postgresql_that_stops_answering_gets_503_in_time_and_the_log_waits_for_it() {
    let (Ok("postgres"), Ok(admin_url)) = (
        std::env::var("CASTELLAN_TEST_BACKEND").as_deref(),
        std::env::var("CASTELLAN_TEST_POSTGRES_URL"),
    ) else {
        println!("SKIPPED: needs CASTELLAN_TEST_BACKEND=postgres and CASTELLAN_TEST_POSTGRES_URL");
        return;
    };
    let url = castellan_store::create_scratch_postgres_database(&admin_url)
        .await
        .unwrap();
    let mut relayed = reqwest::Url::parse(&url).unwrap();
    let upstream = format!(
        "{}:{}",
        relayed.host_str().unwrap(),
        relayed.port().unwrap_or(5432)
    );
    let relay = Relay::to(upstream).await;
    relayed.set_ip_host(relay.addr.ip()).unwrap();
    relayed.set_port(Some(relay.addr.port())).unwrap();
    // One server waits long for a connection, so that only `/readyz`'s own deadline can
    // answer it in time; the other is set to give up on the database after a second.
    // Two nodes of one tenant: one data folder, so one secret key.
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let start = |acquire_timeout: u64| {
        let mut settings = settings(relayed.to_string(), dir.path().to_path_buf());
        settings.store.acquire_timeout = Some(Duration::from_secs(acquire_timeout));
        TestServer::start_with(settings, dir.clone())
    };
    let patient = start(10).await;
    let server = start(1).await;
    let admin = server.admin_token(None).await;
    let store = server.running().state.store.clone();

    relay.cut(true);
    assert_unavailable(
        "/readyz while PostgreSQL does not answer",
        &readyz_turns(&patient, StatusCode::SERVICE_UNAVAILABLE).await,
    );
    // The acquire timeout setting (1 s) answers an API call in time.
    let users = in_time(
        server
            .http
            .get(server.url("/api/v2/users"))
            .bearer_auth(&admin),
    )
    .await;
    assert_unavailable("a read while PostgreSQL does not answer", &users);

    // An event the server logs meanwhile (as a log-in would) waits for the database.
    let event = LogEvent {
        log_id: "waits-for-the-database".into(),
        date: 1,
        event_type: "s".into(),
        description: "logged while the database was away".into(),
        details: json!({}),
        ..Default::default()
    };
    let retries = metric(&server, "castellan_log_batch_retries_total").await;
    store.append_log(&event).await.unwrap();
    within(Duration::from_secs(10), "a failed log batch", || async {
        (metric(&server, "castellan_log_batch_retries_total").await > retries).then_some(())
    })
    .await;

    relay.cut(false);
    within(Duration::from_secs(15), "the event written", || async {
        store.find_log(&event.log_id).await.ok().flatten()
    })
    .await;
    readyz_turns(&server, StatusCode::OK).await;
}
