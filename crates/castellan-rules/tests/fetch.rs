//! `fetch` goes only where the allow-list says: allowed hosts answer, others, redirects to
//! others, oversized bodies and slow servers are refused.

use std::time::Duration;

use castellan_rules::{AllowList, Limits, Sandbox, ScriptError, WorkerProgram};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The defaults, with this crate's worker program (the server runs its own binary).
fn defaults() -> Limits {
    Limits {
        worker: WorkerProgram::new(env!("CARGO_BIN_EXE_castellan-rules-worker"), &[]),
        ..Limits::default()
    }
}

/// A tiny HTTP server: `/json`, `/redirect` (to `localhost`, not allowed), `/big`, `/host`
/// (the `Host` header it got), `/slow`.
async fn server() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 4096];
                let n = socket.read(&mut buffer).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buffer[..n]).to_string();
                let path = request.split(' ').nth(1).unwrap_or("/").to_owned();
                let (head, body) = match path.as_str() {
                    "/json" => (
                        "200 OK\r\nContent-Type: application/json".to_owned(),
                        format!(
                            r#"{{"plan":"gold","auth":"{}"}}"#,
                            request.contains("authorization: Bearer t0ken")
                        ),
                    ),
                    "/redirect" => (
                        format!("302 Found\r\nLocation: http://localhost:{port}/json"),
                        String::new(),
                    ),
                    "/big" => ("200 OK".to_owned(), "x".repeat(2 * 1024 * 1024)),
                    "/host" => {
                        let host = request
                            .lines()
                            .filter(|l| l.to_ascii_lowercase().starts_with("host:"))
                            .map(|l| l[5..].trim().to_owned())
                            .collect::<Vec<_>>();
                        ("200 OK".to_owned(), serde_json::to_string(&host).unwrap())
                    }
                    _ => {
                        tokio::time::sleep(Duration::from_secs(3)).await;
                        ("200 OK".to_owned(), "late".to_owned())
                    }
                };
                let response = format!(
                    "HTTP/1.1 {head}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    port
}

fn sandbox(port: u16) -> Sandbox {
    sandbox_allowing(&[format!("http://127.0.0.1:{port}")])
}

fn sandbox_allowing(entries: &[String]) -> Sandbox {
    Sandbox::new(Limits {
        workers: 1,
        per_rule: Duration::from_millis(500),
        fetch_allow: AllowList::new(entries),
        ..defaults()
    })
}

async fn run(sandbox: &Sandbox, url: &str) -> Result<serde_json::Value, ScriptError> {
    let src = format!(
        "function (u, c, cb) {{ fetch('{url}', {{headers: {{authorization: 'Bearer t0ken', Host: 'internal.example'}}}})\
         .then(function (r) {{ u.status = r.status; u.type = r.headers.get('Content-Type'); return r.json(); }})\
         .then(function (j) {{ u.answer = j; cb(null, u, c); }})\
         .catch(function (e) {{ cb(new Error(e.message)); }}); }}"
    );
    sandbox
        .run_rule("fetching", &src, json!({}), json!({}))
        .await
        .map(|o| o.user)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_hosts_answer_and_everything_else_is_refused() {
    let port = server().await;
    let sandbox = sandbox(port);
    let user = run(&sandbox, &format!("http://127.0.0.1:{port}/json"))
        .await
        .unwrap();
    assert_eq!(user["status"], 200);
    assert_eq!(user["type"], "application/json");
    assert_eq!(user["answer"], json!({"plan": "gold", "auth": "true"}));

    for (url, expected) in [
        (
            "https://example.com/".to_owned(),
            "fetch to example.com is not allowed",
        ),
        (
            format!("http://127.0.0.1:{}/json", port + 1),
            "is not allowed",
        ),
        (
            format!("http://127.0.0.1:{port}/redirect"),
            "redirect to a host that is not allowed",
        ),
        (format!("http://127.0.0.1:{port}/big"), "exceeds 1024 KiB"),
    ] {
        match run(&sandbox, &url).await {
            Err(ScriptError::Failed { message, .. }) => {
                assert!(message.contains(expected), "{url}: {message}")
            }
            other => panic!("{url}: {other:?}"),
        }
    }
    // A slow server cannot hold the worker past the script's deadline.
    let started = std::time::Instant::now();
    assert!(
        run(&sandbox, &format!("http://127.0.0.1:{port}/slow"))
            .await
            .is_err()
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

/// Without an allow-list and without the server's own origin there is no `fetch`; with
/// the server's origin alone there is one, and it reaches the server (by a name that
/// resolves to loopback, which only the own origin may) and nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_allow_list_there_is_no_fetch() {
    let sandbox = Sandbox::new(defaults());
    let out = sandbox
        .run_rule(
            "probe",
            "function (u, c, cb) { u.fetch = typeof fetch; cb(null, u, c); }",
            json!({}),
            json!({}),
        )
        .await
        .unwrap();
    assert_eq!(out.user["fetch"], "undefined");

    let port = server().await;
    let own = Sandbox::new(Limits {
        workers: 1,
        per_rule: Duration::from_millis(500),
        fetch_allow: AllowList::default().with_own_origin(&format!("http://localhost:{port}/")),
        ..defaults()
    });
    let user = run(&own, &format!("http://localhost:{port}/json"))
        .await
        .unwrap();
    assert_eq!(user["answer"], json!({"plan": "gold", "auth": "true"}));
    for elsewhere in [
        format!("http://127.0.0.1:{port}/json"),
        format!("http://localhost:{}/json", port + 1),
        format!("https://localhost:{port}/json"),
        "https://example.com/".to_owned(),
    ] {
        match run(&own, &elsewhere).await {
            Err(ScriptError::Failed { message, .. }) => {
                assert!(message.contains("is not allowed"), "{elsewhere}: {message}")
            }
            other => panic!("{elsewhere}: {other:?}"),
        }
    }
}

/// An entry allows its own port only (the scheme's when it names none).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_without_a_port_allows_the_default_port_only() {
    let port = server().await;
    let sandbox = sandbox_allowing(&["http://127.0.0.1".to_owned()]);
    match run(&sandbox, &format!("http://127.0.0.1:{port}/json")).await {
        Err(ScriptError::Failed { message, .. }) => {
            assert!(message.contains("is not allowed"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

/// The `Host` a script sets is dropped: the request names the allowed host.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_cannot_set_the_host_header() {
    let port = server().await;
    let sandbox = sandbox(port);
    let user = run(&sandbox, &format!("http://127.0.0.1:{port}/host"))
        .await
        .unwrap();
    assert_eq!(user["answer"], json!([format!("127.0.0.1:{port}")]));
}

/// A name is checked once resolved: `localhost` is allowed as a host, but resolves to a
/// loopback address, which only an address range entry admits (a name rebound to an
/// internal address is refused the same way).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_that_resolves_to_a_private_address_is_refused_unless_its_range_is_named() {
    let port = server().await;
    let url = format!("http://localhost:{port}/json");
    let named = sandbox_allowing(&[format!("http://localhost:{port}")]);
    match run(&named, &url).await {
        Err(ScriptError::Failed { message, .. }) => {
            assert!(message.contains("resolves to"), "{message}");
            assert!(message.contains("private or special address"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let with_range = sandbox_allowing(&[
        format!("http://localhost:{port}"),
        "127.0.0.0/8".to_owned(),
        "::1/128".to_owned(),
    ]);
    let user = run(&with_range, &url).await.unwrap();
    assert_eq!(user["status"], 200);
}
