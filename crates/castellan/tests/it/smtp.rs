//! With `[smtp]` configured, mail goes to the SMTP server instead of the outbox. A small
//! SMTP server in the test receives it.

use crate::common;

use std::sync::{Arc, Mutex};

use castellan::config::{SmtpSettings, SmtpTls};
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Accepts SMTP sessions and keeps each message's DATA.
async fn smtp_sink() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let sink = received.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let sink = sink.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(body) = data.as_mut() {
                        if line == "." {
                            sink.lock().unwrap().push(data.take().unwrap());
                            write.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            body.push_str(&line);
                            body.push('\n');
                        }
                        continue;
                    }
                    let verb = line
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250-sink\r\n250 8BITMIME\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.unwrap();
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, received)
}

#[tokio::test]
async fn verification_mail_goes_through_smtp() {
    let (port, received) = smtp_sink().await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings(database_url(dir.path()).await, dir.path().to_path_buf());
    settings.smtp = Some(SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        username: None,
        password: None,
        from: "Castellan <noreply@castellan.test>".into(),
        tls: SmtpTls::None,
    });
    let server = TestServer::start_with(settings, Arc::new(dir)).await;
    let (_, client) = server
        .admin(Method::POST, "/clients", Some(json!({"name": "web"})))
        .await;
    let body = json!({"client_id": client["client_id"], "email": "ada@example.com", "password": "correct horse battery",
                      "connection": "Username-Password-Authentication"});
    let response = server
        .http
        .post(server.url("/dbconnections/signup"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // What a mail reader shows: quoted-printable soft breaks and escapes undone.
    let mail: Vec<String> = received
        .lock()
        .unwrap()
        .iter()
        .map(|m| m.replace("=\n", "").replace("=3D", "="))
        .collect();
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert!(mail[0].contains("To: ada@example.com"), "{}", mail[0]);
    assert!(mail[0].contains("Subject: Verify your email"));
    let link_start = mail[0]
        .find("/verify-email?ticket=")
        .expect("a verification link");
    let path: String = mail[0][link_start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    let verified = server.http.get(server.url(&path)).send().await.unwrap();
    assert_eq!(verified.status(), StatusCode::OK, "{path} from {}", mail[0]);
    assert!(
        server
            .running()
            .state
            .store
            .list_mail()
            .await
            .unwrap()
            .is_empty(),
        "nothing in the outbox"
    );
}
