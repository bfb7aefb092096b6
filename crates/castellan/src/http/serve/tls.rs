//! HTTPS: the certificate chain and private key from PEM files, and a reloader that reads
//! them again on SIGHUP or when either file changes. New connections pick the pair up at
//! their handshake, so a renewed certificate needs no restart; a pair that fails to load
//! leaves the previous one in place.

use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_rustls::rustls::crypto::{CryptoProvider, aws_lc_rs};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::CertifiedKey;
use tokio_rustls::rustls::{ServerConfig, version};
use tokio_rustls::server::TlsStream;

use super::connection::Protocol;

/// How often the files' modification times are compared with those last loaded.
const POLL_INTERVAL: Duration = Duration::from_secs(2);

/// Where the certificate chain and its private key are (`--tls-cert`, `--tls-key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM: the server's certificate first, then any intermediates.
    pub cert: PathBuf,
    /// PEM: PKCS#8, PKCS#1 (RSA) or SEC1 (EC).
    pub key: PathBuf,
}

/// Why a certificate and key could not be used. No variant carries the key's contents,
/// nor a parser's message about them, so the error can be logged as it is.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the TLS {what} {path}: {cause}")]
    Read {
        what: &'static str,
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("the TLS certificate file {0} holds no PEM certificate")]
    NoCertificate(PathBuf),
    #[error("the TLS certificate file {0} is not valid PEM")]
    BadCertificatePem(PathBuf),
    #[error("the TLS key file {0} holds no PEM private key (PKCS#8, PKCS#1 or SEC1)")]
    NoKey(PathBuf),
    #[error("the TLS key {key} cannot be used with the certificate {cert}: {cause}")]
    Unusable {
        cert: PathBuf,
        key: PathBuf,
        cause: tokio_rustls::rustls::Error,
    },
    #[error("TLS: {0}")]
    Config(tokio_rustls::rustls::Error),
}

/// The pair that new handshakes are given; replaced whole on a successful reload.
#[derive(Debug)]
struct Current(RwLock<Arc<CertifiedKey>>);

impl Current {
    fn get(&self) -> Arc<CertifiedKey> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set(&self, pair: Arc<CertifiedKey>) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = pair;
    }
}

impl ResolvesServerCert for Current {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.get())
    }
}

/// The listener's TLS: an acceptor whose certificate can be replaced while it serves.
pub struct Tls {
    files: TlsFiles,
    provider: Arc<CryptoProvider>,
    current: Arc<Current>,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl Tls {
    /// Reads both files; an error names the file at fault.
    pub fn load(files: &TlsFiles) -> Result<Self, TlsError> {
        let provider = Arc::new(aws_lc_rs::default_provider());
        let pair = read_pair(files, &provider)?;
        let current = Arc::new(Current(RwLock::new(Arc::new(pair))));
        let mut config = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&version::TLS13, &version::TLS12])
            .map_err(TlsError::Config)?
            .with_no_client_auth()
            .with_cert_resolver(current.clone());
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Self {
            files: files.clone(),
            provider,
            current,
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        })
    }

    pub(super) fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        self.acceptor.clone()
    }

    /// Reads the files again; on failure the pair in use stays.
    fn reload(&self) -> Result<(), TlsError> {
        let pair = read_pair(&self.files, &self.provider)?;
        self.current.set(Arc::new(pair));
        Ok(())
    }

    /// Reloads on SIGHUP and whenever the files' modification times or sizes change,
    /// until dropped. A failed reload is logged (paths and reason only) and the old pair
    /// kept; it is tried again when the files change again.
    pub(super) async fn keep_fresh(self: Arc<Self>) {
        let mut seen = Stamps::of(&self.files);
        let mut hangups = hangups();
        let mut tick = tokio::time::interval(POLL_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let signalled = tokio::select! {
                () = hangup(&mut hangups) => true,
                _ = tick.tick() => false,
            };
            let now = Stamps::of(&self.files);
            if !signalled && now == seen {
                continue;
            }
            seen = now;
            let reason = if signalled {
                "SIGHUP"
            } else {
                "the files changed"
            };
            match self.reload() {
                Ok(()) => tracing::info!(
                    cert = %self.files.cert.display(),
                    reason,
                    "TLS certificate reloaded"
                ),
                Err(e) => tracing::warn!(
                    cause = %e,
                    reason,
                    "TLS certificate not reloaded; the previous one stays in use"
                ),
            }
        }
    }
}

/// The TLS handshake, bounded by `deadline` (the header-read timeout: a client that never
/// finishes it must not hold a connection slot) and abandoned if the server stops.
pub(super) async fn handshake(
    acceptor: &tokio_rustls::TlsAcceptor,
    stream: TcpStream,
    deadline: Duration,
    stop: &mut watch::Receiver<bool>,
) -> Option<(TlsStream<TcpStream>, Protocol)> {
    let shaken = tokio::select! {
        shaken = tokio::time::timeout(deadline, acceptor.accept(stream)) => shaken,
        _ = stop.changed() => return None,
    };
    match shaken {
        Ok(Ok(stream)) => {
            let protocol = negotiated(stream.get_ref().1.alpn_protocol());
            Some((stream, protocol))
        }
        Ok(Err(e)) => {
            tracing::debug!(cause = %e, "TLS handshake failed");
            metrics::counter!("castellan_http_tls_handshakes_failed_total").increment(1);
            None
        }
        Err(_) => {
            metrics::counter!("castellan_http_connections_timed_out_total", "phase" => "handshake")
                .increment(1);
            None
        }
    }
}

/// HTTP/2 only when the client asked for it by ALPN (RFC 9113 §3.2); anything else is
/// HTTP/1.1, as for a client that sends no ALPN at all.
fn negotiated(alpn: Option<&[u8]>) -> Protocol {
    match alpn {
        Some(b"h2") => Protocol::Http2,
        _ => Protocol::Http1,
    }
}

fn read_pair(files: &TlsFiles, provider: &CryptoProvider) -> Result<CertifiedKey, TlsError> {
    let cert_pem = read(&files.cert, "certificate")?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| TlsError::BadCertificatePem(files.cert.clone()))?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate(files.cert.clone()));
    }
    let key_pem = read(&files.key, "key")?;
    // The parser's own message could quote the file; it is not passed on.
    let key =
        PrivateKeyDer::from_pem_slice(&key_pem).map_err(|_| TlsError::NoKey(files.key.clone()))?;
    CertifiedKey::from_der(chain, key, provider).map_err(|cause| TlsError::Unusable {
        cert: files.cert.clone(),
        key: files.key.clone(),
        cause,
    })
}

fn read(path: &Path, what: &'static str) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|cause| TlsError::Read {
        what,
        path: path.to_path_buf(),
        cause,
    })
}

/// What tells that a file was rewritten or replaced; `None` for a file that cannot be read.
#[derive(Debug, PartialEq, Eq)]
struct Stamps([Option<(SystemTime, u64)>; 2]);

impl Stamps {
    fn of(files: &TlsFiles) -> Self {
        let stamp = |path: &Path| {
            let meta = std::fs::metadata(path).ok()?;
            Some((meta.modified().ok()?, meta.len()))
        };
        Self([stamp(&files.cert), stamp(&files.key)])
    }
}

#[cfg(unix)]
type Hangups = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangups = ();

fn hangups() -> Hangups {
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
            Ok(signal) => Some(signal),
            Err(e) => {
                tracing::warn!(cause = %e, "no SIGHUP handler: TLS files reload on change only");
                None
            }
        }
    }
}

/// The next SIGHUP; never, where there is none.
async fn hangup(hangups: &mut Hangups) {
    #[cfg(unix)]
    if let Some(signal) = hangups
        && signal.recv().await.is_some()
    {
        return;
    }
    #[cfg(not(unix))]
    let _ = hangups;
    std::future::pending().await
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Written {
        _dir: tempfile::TempDir,
        files: TlsFiles,
    }

    fn write(cert: &[u8], key: &[u8]) -> Written {
        let dir = tempfile::tempdir().unwrap();
        let files = TlsFiles {
            cert: dir.path().join("cert.pem"),
            key: dir.path().join("key.pem"),
        };
        std::fs::write(&files.cert, cert).unwrap();
        std::fs::write(&files.key, key).unwrap();
        Written { _dir: dir, files }
    }

    fn self_signed(name: &str) -> (String, String) {
        let made = rcgen::generate_simple_self_signed(vec![name.to_string()]).unwrap();
        (made.cert.pem(), made.signing_key.serialize_pem())
    }

    #[test]
    fn only_an_h2_choice_is_http2() {
        assert_eq!(negotiated(Some(b"h2")), Protocol::Http2);
        assert_eq!(negotiated(Some(b"http/1.1")), Protocol::Http1);
        assert_eq!(negotiated(None), Protocol::Http1);
    }

    #[test]
    fn a_pair_loads_and_a_reload_replaces_it() {
        let (cert, key) = self_signed("localhost");
        let written = write(cert.as_bytes(), key.as_bytes());
        let tls = Tls::load(&written.files).unwrap();
        let first = tls.current.get();
        let (cert2, key2) = self_signed("other.localhost");
        std::fs::write(&written.files.cert, &cert2).unwrap();
        std::fs::write(&written.files.key, &key2).unwrap();
        tls.reload().unwrap();
        assert_ne!(tls.current.get().cert, first.cert);
    }

    #[test]
    fn a_failed_reload_keeps_the_pair_in_use() {
        let (cert, key) = self_signed("localhost");
        let written = write(cert.as_bytes(), key.as_bytes());
        let tls = Tls::load(&written.files).unwrap();
        let before = tls.current.get();
        let (_, other_key) = self_signed("localhost");
        std::fs::write(&written.files.key, &other_key).unwrap();
        assert!(matches!(tls.reload(), Err(TlsError::Unusable { .. })));
        assert_eq!(tls.current.get().cert, before.cert);
    }

    #[test]
    fn errors_name_the_file_and_never_quote_the_key() {
        let (cert, key) = self_signed("localhost");
        let missing = TlsFiles {
            cert: PathBuf::from("/nonexistent/cert.pem"),
            key: PathBuf::from("/nonexistent/key.pem"),
        };
        let e = Tls::load(&missing).err().unwrap().to_string();
        assert!(e.contains("/nonexistent/cert.pem"), "{e}");

        let garbage = write(b"not a certificate", key.as_bytes());
        let e = Tls::load(&garbage.files).err().unwrap();
        assert!(matches!(e, TlsError::NoCertificate(_)), "{e}");

        let body = key.lines().nth(1).unwrap();
        let broken_key = key.replace(body, &body[..body.len() / 2]);
        let broken = write(cert.as_bytes(), broken_key.as_bytes());
        let e = Tls::load(&broken.files).err().unwrap().to_string();
        assert!(e.contains(&*broken.files.key.to_string_lossy()), "{e}");
        assert!(!e.contains(&body[..body.len() / 2]), "{e}");

        let swapped = write(key.as_bytes(), cert.as_bytes());
        let e = Tls::load(&swapped.files).err().unwrap().to_string();
        assert!(e.contains("cert.pem"), "{e}");
    }

    #[test]
    fn stamps_change_with_the_files() {
        let written = write(b"a", b"b");
        let before = Stamps::of(&written.files);
        assert_eq!(before, Stamps::of(&written.files));
        std::fs::write(&written.files.cert, b"longer").unwrap();
        assert_ne!(before, Stamps::of(&written.files));
        std::fs::remove_file(&written.files.key).unwrap();
        assert_eq!(Stamps::of(&written.files).0[1], None);
    }
}
