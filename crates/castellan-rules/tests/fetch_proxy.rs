//! `fetch` through an outbound proxy: plain http goes to it in absolute form, https as a
//! `CONNECT`; the allow-list still decides before anything reaches the proxy, and the
//! proxy, not the server, resolves the destination's name.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use castellan_rules::{AllowList, Limits, Sandbox, ScriptError, WorkerProgram};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Reads one request head (this test's requests have no body).
async fn head(socket: &mut TcpStream) -> String {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buffer.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
    String::from_utf8_lossy(&buffer).into_owned()
}

/// A server that answers every request with the path it was asked for.
async fn target() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let request = head(&mut socket).await;
                let path = request.split(' ').nth(1).unwrap_or("").to_owned();
                let body = json!({"path": path}).to_string();
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    port
}

/// A forward proxy that records each request line it gets, with the credentials it was
/// shown. `GET http://host:port/path`
/// is sent on to 127.0.0.1 at that port in origin form (whatever the host: the proxy
/// resolves names, here every name to the local target); `CONNECT` is refused with a 403
/// once recorded, so nothing leaves the machine.
async fn proxy() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let record = Arc::clone(&record);
            tokio::spawn(async move {
                let request = head(&mut client).await;
                let line = request.lines().next().unwrap_or("").to_owned();
                let auth = request
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("proxy-authorization")
                            .then(|| value.trim().to_owned())
                    })
                    .map_or_else(String::new, |value| format!(" ({value})"));
                record.lock().unwrap().push(format!("{line}{auth}"));
                let target = line.split(' ').nth(1).unwrap_or("");
                let Some(rest) = target.strip_prefix("http://") else {
                    let _ = client
                        .write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                        .await;
                    return;
                };
                let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
                let port = authority.rsplit(':').next().unwrap_or("80");
                let Ok(mut upstream) = TcpStream::connect(format!("127.0.0.1:{port}")).await else {
                    return;
                };
                let forwarded =
                    request.replacen(target, if path.is_empty() { "/" } else { path }, 1);
                if upstream.write_all(forwarded.as_bytes()).await.is_ok() {
                    let _ = tokio::io::copy(&mut upstream, &mut client).await;
                }
            });
        }
    });
    (port, seen)
}

fn sandbox(allow: &[String], proxy: &str) -> Sandbox {
    Sandbox::new(Limits {
        workers: 1,
        per_rule: Duration::from_millis(1000),
        fetch_allow: AllowList::new(allow),
        fetch_proxy: Some(proxy.parse().unwrap()),
        worker: WorkerProgram::new(env!("CARGO_BIN_EXE_castellan-rules-worker"), &[]),
        ..Limits::default()
    })
}

async fn fetch(sandbox: &Sandbox, url: &str) -> Result<serde_json::Value, ScriptError> {
    let src = format!(
        "function (u, c, cb) {{ fetch('{url}').then(function (r) {{ u.status = r.status; \
         return r.status === 200 ? r.json() : null; }})\
         .then(function (j) {{ u.answer = j; cb(null, u, c); }})\
         .catch(function (e) {{ cb(new Error(e.message)); }}); }}"
    );
    sandbox
        .run_rule("through the proxy", &src, json!({}), json!({}))
        .await
        .map(|o| o.user)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_goes_through_the_proxy_and_the_allow_list_still_decides() {
    let port = target().await;
    let (proxy_port, seen) = proxy().await;
    let sandbox = sandbox(
        &[
            format!("http://127.0.0.1:{port}"),
            // Resolves to loopback: refused without a proxy unless its range is named;
            // through one, the proxy resolves it.
            format!("http://localhost:{port}"),
            "hooks.example.com".to_owned(),
        ],
        &format!("http://egress:s3cret@127.0.0.1:{proxy_port}"),
    );

    let user = fetch(&sandbox, &format!("http://127.0.0.1:{port}/hello?x=1"))
        .await
        .unwrap();
    assert_eq!(user["answer"], json!({"path": "/hello?x=1"}));
    let user = fetch(&sandbox, &format!("http://localhost:{port}/named"))
        .await
        .unwrap();
    assert_eq!(user["answer"], json!({"path": "/named"}));
    // https is tunnelled: the proxy is asked to CONNECT (and this one refuses).
    assert!(
        fetch(&sandbox, "https://hooks.example.com/x")
            .await
            .is_err()
    );
    // The credentials of the proxy's URL: `egress:s3cret`.
    let auth = "(Basic ZWdyZXNzOnMzY3JldA==)";
    assert_eq!(
        *seen.lock().unwrap(),
        [
            format!("GET http://127.0.0.1:{port}/hello?x=1 HTTP/1.1 {auth}"),
            format!("GET http://localhost:{port}/named HTTP/1.1 {auth}"),
            format!("CONNECT hooks.example.com:443 HTTP/1.1 {auth}"),
        ]
    );

    // Not on the list: refused before anything reaches the proxy.
    for refused in [
        format!("http://127.0.0.1:{}/x", port + 1),
        "https://example.com/".to_owned(),
        format!("https://127.0.0.1:{port}/x"),
    ] {
        match fetch(&sandbox, &refused).await {
            Err(ScriptError::Failed { message, .. }) => {
                assert!(message.contains("is not allowed"), "{refused}: {message}")
            }
            other => panic!("{refused}: {other:?}"),
        }
    }
    assert_eq!(seen.lock().unwrap().len(), 3);
}

/// The server's own origin is reached directly, not through the proxy, which may well
/// not route back to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_own_origin_is_reached_without_the_proxy() {
    let port = target().await;
    let (proxy_port, seen) = proxy().await;
    let sandbox = Sandbox::new(Limits {
        workers: 1,
        per_rule: Duration::from_millis(1000),
        fetch_allow: AllowList::default().with_own_origin(&format!("http://127.0.0.1:{port}/")),
        fetch_proxy: Some(format!("http://127.0.0.1:{proxy_port}").parse().unwrap()),
        worker: WorkerProgram::new(env!("CARGO_BIN_EXE_castellan-rules-worker"), &[]),
        ..Limits::default()
    });
    let user = fetch(&sandbox, &format!("http://127.0.0.1:{port}/api/v2/users"))
        .await
        .unwrap();
    assert_eq!(user["answer"], json!({"path": "/api/v2/users"}));
    assert!(seen.lock().unwrap().is_empty());
}
