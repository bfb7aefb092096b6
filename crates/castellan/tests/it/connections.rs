//! Connection deadlines and the connection cap, spoken to with raw sockets: a half-sent
//! request head, a stalled body, an idle connection and too many connections are each
//! closed, and the server keeps answering others.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use castellan::http::serve::ServeLimits;
use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a test waits for something the server must do within a second or two; far
/// beyond the deadlines set here, so that only a server that never acts fails.
const PATIENCE: Duration = Duration::from_secs(15);

async fn server(limits: ServeLimits) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings(database_url(dir.path()).await, dir.path().to_path_buf());
    settings.serve = limits;
    TestServer::start_with(settings, Arc::new(dir)).await
}

fn short(max_connections: usize) -> ServeLimits {
    ServeLimits {
        header_read_timeout: Duration::from_secs(1),
        body_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(1),
        max_connections,
        tls: None,
    }
}

async fn connect(server: &TestServer) -> TcpStream {
    TcpStream::connect(server.running().addr).await.unwrap()
}

/// Everything the server sends until it closes the connection; panics if it never does.
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let read = tokio::time::timeout(PATIENCE, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the server kept the connection open; it sent {:?}",
        String::from_utf8_lossy(&out)
    );
    String::from_utf8_lossy(&out).into_owned()
}

async fn healthy(server: &TestServer) {
    let response = server
        .http
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
}

#[tokio::test]
async fn a_half_sent_request_head_is_closed() {
    let server = server(short(64)).await;
    let mut streams = Vec::new();
    for _ in 0..20 {
        let mut stream = connect(&server).await;
        stream
            .write_all(b"POST /oauth/token HTTP/1.1\r\nHost: castellan.test\r\nX-Slow: ")
            .await
            .unwrap();
        streams.push(stream);
    }
    // One more byte now and then does not keep a head alive past its deadline.
    tokio::time::sleep(Duration::from_millis(600)).await;
    for stream in &mut streams {
        stream.write_all(b"a").await.unwrap();
    }
    for stream in &mut streams {
        let answer = read_until_closed(stream).await;
        assert!(!answer.contains("200 OK"), "{answer}");
    }
    healthy(&server).await;
}

#[tokio::test]
async fn a_stalled_body_is_answered_408_and_closed() {
    let server = server(short(64)).await;
    let mut stream = connect(&server).await;
    stream
        .write_all(
            b"POST /oauth/token HTTP/1.1\r\nHost: castellan.test\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n\
              grant_type=pass",
        )
        .await
        .unwrap();
    let answer = read_until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");

    // A JSON API names the timeout.
    let token = server.admin_token(None).await;
    let mut stream = connect(&server).await;
    let head = format!(
        "POST /api/v2/roles HTTP/1.1\r\nHost: castellan.test\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 50\r\n\r\n{{\"name\":"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let answer = read_until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
    let (status, roles) = server.admin(reqwest::Method::GET, "/roles", None).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    assert_eq!(
        roles.as_array().map(Vec::len),
        Some(0),
        "nothing was created"
    );
}

#[tokio::test]
async fn a_body_sent_a_byte_at_a_time_does_not_outlive_its_deadline() {
    let server = server(short(64)).await;
    let mut stream = connect(&server).await;
    stream
        .write_all(
            b"POST /oauth/token HTTP/1.1\r\nHost: castellan.test\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n",
        )
        .await
        .unwrap();
    let drip = async {
        for _ in 0..100 {
            if stream.write_all(b"a").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    // 100 bytes at 5 a second would take 20 s; the server gives up after one.
    let finished = tokio::time::timeout(PATIENCE, drip).await;
    assert!(finished.is_ok(), "the drip ran for the whole patience");
    let answer = read_until_closed(&mut stream).await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 4"),
        "{answer}"
    );
}

#[tokio::test]
async fn an_idle_connection_is_closed_after_a_request_and_before_one() {
    let server = server(short(64)).await;
    let mut kept_alive = connect(&server).await;
    kept_alive
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: castellan.test\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut kept_alive).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let mut silent = connect(&server).await;
    assert_eq!(read_until_closed(&mut silent).await, "");
}

#[tokio::test]
async fn connections_beyond_the_cap_are_refused_with_503_and_the_server_recovers() {
    let server = server(short(4)).await;
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(connect(&server).await);
    }
    // Let the server take them before the next arrive.
    tokio::time::sleep(Duration::from_millis(200)).await;
    for _ in 0..20 {
        let mut extra = connect(&server).await;
        let answer = read_until_closed(&mut extra).await;
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        assert!(answer.contains("retry-after: 1"), "{answer}");
        assert!(answer.contains("temporarily_unavailable"), "{answer}");
    }
    // The idle ones time out, and then there is room again.
    for stream in &mut idle {
        read_until_closed(stream).await;
    }
    healthy(&server).await;
}
