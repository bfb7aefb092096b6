//! The internet as the gallery's templates see it: an HTTP proxy that answers for every
//! host itself. Plain `http://` requests come to it in absolute form; for `https://` it
//! accepts `CONNECT`, then speaks TLS as the host asked for, with a certificate made on the
//! spot and signed by a certificate authority of its own ([`Internet::ca_pem`], which the
//! sandbox is told to trust). It records every request and answers with what the test's
//! function says, so a template runs unmodified against its real service URLs.
// Each test binary that includes this file uses a part of it.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::http_wire::{self, read_request};

/// One request a template made.
#[derive(Debug, Clone)]
pub struct Seen {
    pub scheme: &'static str,
    pub host: String,
    pub method: String,
    /// The path with its query.
    pub path: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The status and JSON body a request gets.
pub type Answer = Arc<dyn Fn(&Seen) -> (u16, String) + Send + Sync>;

pub struct Internet {
    /// `http://127.0.0.1:PORT`, for the sandbox's proxy setting.
    pub proxy_url: String,
    /// The certificate authority whose certificates the proxy shows for HTTPS hosts.
    pub ca_pem: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

struct Authority {
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl Authority {
    fn new() -> (Authority, String) {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "gallery test authority");
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let key = rcgen::KeyPair::generate().unwrap();
        let pem = params.self_signed(&key).unwrap().pem();
        let issuer = rcgen::Issuer::new(params, key);
        (Authority { issuer }, pem)
    }

    fn acceptor(&self, host: &str) -> TlsAcceptor {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec![host.to_owned()])
            .unwrap()
            .signed_by(&key, &self.issuer)
            .unwrap();
        let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(cert.der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .unwrap();
        TlsAcceptor::from(Arc::new(config))
    }
}

impl Internet {
    pub async fn start(answer: Answer) -> Internet {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy_url = format!("http://{}", listener.local_addr().unwrap());
        let (authority, ca_pem) = Authority::new();
        let authority = Arc::new(authority);
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let recorded = Arc::clone(&seen);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (authority, answer, seen) = (
                    Arc::clone(&authority),
                    Arc::clone(&answer),
                    Arc::clone(&recorded),
                );
                tokio::spawn(async move {
                    let _ = serve(stream, &authority, &answer, &seen).await;
                });
            }
        });
        Internet {
            proxy_url,
            ca_pem,
            seen,
        }
    }

    /// Every request so far, oldest first; forgotten once read.
    pub fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

async fn serve(
    mut stream: TcpStream,
    authority: &Authority,
    answer: &Answer,
    seen: &Mutex<Vec<Seen>>,
) -> std::io::Result<()> {
    let (head, body) = read_request(&mut stream).await?;
    let mut words = head.lines().next().unwrap_or_default().split(' ');
    let (method, target) = (
        words.next().unwrap_or_default(),
        words.next().unwrap_or_default(),
    );
    if method == "CONNECT" {
        let host = target
            .rsplit_once(':')
            .map_or(target, |(h, _)| h)
            .to_owned();
        stream
            .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            .await?;
        let mut tls = authority.acceptor(&host).accept(stream).await?;
        // One request per connection: the answer says `Connection: close`.
        let (head, body) = read_request(&mut tls).await?;
        let request = parse("https", &host, &head, body);
        return respond(&mut tls, answer, seen, request).await;
    }
    // `GET http://host:port/path HTTP/1.1`
    let without_scheme = target.strip_prefix("http://").unwrap_or(target);
    let (authority_part, path) = without_scheme
        .split_once('/')
        .map_or((without_scheme, "/".to_owned()), |(a, p)| {
            (a, format!("/{p}"))
        });
    let host = authority_part
        .rsplit_once(':')
        .map_or(authority_part, |(h, _)| h)
        .to_owned();
    let mut request = parse("http", &host, &head, body);
    request.path = path;
    respond(&mut stream, answer, seen, request).await
}

async fn respond(
    stream: &mut (impl AsyncWrite + Unpin),
    answer: &Answer,
    seen: &Mutex<Vec<Seen>>,
    request: Seen,
) -> std::io::Result<()> {
    let (status, body) = answer(&request);
    seen.lock().unwrap().push(request);
    let response = format!(
        "HTTP/1.1 {status} Answer\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

fn parse(scheme: &'static str, host: &str, head: &str, body: Vec<u8>) -> Seen {
    let mut words = head.lines().next().unwrap_or_default().split(' ');
    let method = words.next().unwrap_or_default().to_owned();
    let path = words.next().unwrap_or_default().to_owned();
    let headers = http_wire::headers(head);
    Seen {
        scheme,
        host: host.to_owned(),
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}
