//! Serving connections: our own accept loop over hyper instead of `axum::serve`, because a
//! server facing the internet must bound what each connection may hold. Every connection
//! has a deadline for its request's headers, for its body, and for sitting idle; past
//! `max_connections` a new connection is answered 503 at once and closed (over TLS, only
//! closed), so idle or half-sent sockets can never exhaust the process's file descriptors.
//! With a certificate the same listener speaks HTTPS: each connection's task does its TLS
//! handshake under the header-read deadline, then serves HTTP/1.1 or, when the client
//! chose it by ALPN, HTTP/2, watched as a plain connection is.

mod connection;
mod deadline_body;
mod tls;

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use axum::Router;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};

pub use connection::ServeLimits;
pub use deadline_body::{BodyTimedOut, is_body_timeout};
pub use tls::{Tls, TlsError, TlsFiles};

use connection::Protocol;

/// Connections refused at once while at capacity; more than this are simply dropped, so
/// the refusals themselves cannot pile up file descriptors.
const MAX_PENDING_REFUSALS: usize = 64;
/// How long a refused connection is given to take its answer.
const REFUSAL_GRACE: Duration = Duration::from_secs(1);
/// After `accept` fails (out of descriptors, say), wait before trying again rather than spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The answer to a connection over capacity, in the shape of the OAuth errors.
static AT_CAPACITY: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let body = serde_json::json!({
        "error": "temporarily_unavailable",
        "error_description": "The server has too many open connections; try again shortly",
    })
    .to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         retry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
});

/// Serves `router` on `listener` until `stop` completes; then stops accepting, lets the
/// requests under way finish, and returns once every connection has closed. With `tls`,
/// connections are HTTPS and its certificate is reloaded while serving.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServeLimits,
    tls: Option<Tls>,
    stop: impl std::future::Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let acceptor = tls.as_ref().map(Tls::acceptor);
    let reloader = tls.map(|tls| tokio::spawn(Arc::new(tls).keep_fresh()));
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let refusals = Arc::new(Semaphore::new(MAX_PENDING_REFUSALS));
    // Each connection holds a receiver; the sender's `closed()` tells when all have ended.
    let (stopping, stop_seen) = watch::channel(false);
    let limits = Arc::new(limits);
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut stop => break,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                tracing::warn!(cause = %e, "accepting a connection failed");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            metrics::counter!("castellan_http_connections_refused_total").increment(1);
            // Over TLS the plain answer would read as a broken record, and a handshake
            // costs what an overloaded server lacks: the connection is just closed.
            if acceptor.is_some() {
                continue;
            }
            if let Ok(permit) = refusals.clone().try_acquire_owned() {
                tokio::spawn(async move {
                    refuse(stream).await;
                    drop(permit);
                });
            }
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let limits = limits.clone();
        let mut stop_seen = stop_seen.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            match acceptor {
                None => {
                    connection::drive(stream, Protocol::Http1, peer, router, &limits, stop_seen)
                        .await;
                }
                Some(acceptor) => {
                    let deadline = limits.header_read_timeout;
                    if let Some((stream, protocol)) =
                        tls::handshake(&acceptor, stream, deadline, &mut stop_seen).await
                    {
                        connection::drive(stream, protocol, peer, router, &limits, stop_seen).await;
                    }
                }
            }
            drop(slot);
        });
    }
    if let Some(reloader) = reloader {
        reloader.abort();
    }
    drop(listener);
    let _ = stopping.send(true);
    drop(stop_seen);
    stopping.closed().await;
    Ok(())
}

/// Three quarters of the process's open-file limit, less the descriptors that refusals
/// over capacity may hold at once, so that connections and refusals together can never
/// use up the descriptors the database, the log and the script workers need; at most
/// 16,384, and 1,024 where the limit is unknown or unlimited.
pub fn default_max_connections() -> usize {
    const UNKNOWN: usize = 1024;
    const MOST: usize = 16 * 1024;
    #[cfg(unix)]
    {
        let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile);
        limit.current.map_or(UNKNOWN, |files| {
            let files = usize::try_from(files).unwrap_or(usize::MAX);
            (files / 4 * 3)
                .saturating_sub(MAX_PENDING_REFUSALS)
                .clamp(1, MOST)
        })
    }
    #[cfg(not(unix))]
    UNKNOWN
}

/// Answers a connection over capacity with a 503 and closes it. The request, if any, is
/// read and discarded after the answer: closing with unread data would reset the
/// connection and could lose the answer on its way.
async fn refuse(mut stream: TcpStream) {
    let _ = tokio::time::timeout(REFUSAL_GRACE, async {
        stream.write_all(&AT_CAPACITY).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 1024];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<_, std::io::Error>(())
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn the_default_cap_stays_below_the_open_file_limit() {
        let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile);
        let cap = default_max_connections();
        if let Some(files) = limit.current {
            let held = (cap + MAX_PENDING_REFUSALS) as u64;
            assert!(held < files, "{held} sockets with {files} files");
        }
        assert!(cap >= 1);
    }

    #[test]
    fn the_refusal_is_a_well_formed_response() {
        let text = std::str::from_utf8(&AT_CAPACITY).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(body.len(), length);
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["error"], "temporarily_unavailable");
    }
}
