//! One connection: hyper's HTTP/1.1 (or HTTP/2, when a TLS client chose it) over a stream
//! whose reads and writes are watched, so a connection that sends its headers too slowly,
//! or sits idle, is closed. hyper's own header timeout is not used: it starts counting when
//! the connection becomes idle, which would make the idle timeout and the header timeout
//! one and the same.
//!
//! HTTP/2 multiplexes requests and sends frames of its own (pings, settings, window
//! updates) at any time, so bytes on the socket tell nothing of a request's head there:
//! its connections are timed by their requests alone. One with no request under way for
//! the idle timeout is asked to close (GOAWAY), and dropped after another; a stream's
//! headers trickled in never make a request, so they are bounded the same way.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::graceful::GracefulConnection;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;
use tower::ServiceExt;

use super::deadline_body::DeadlineBody;
use super::tls::TlsFiles;

/// What one connection may hold, how many there may be, and whether they speak TLS
/// (`[http]` settings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeLimits {
    /// From a request's first byte to the end of its headers.
    pub header_read_timeout: Duration,
    /// From the end of a request's headers to the end of its body.
    pub body_timeout: Duration,
    /// A connection with no request under way and nothing sent or received for this long
    /// is closed.
    pub idle_timeout: Duration,
    /// Connections open at once; more are answered 503 and closed (over TLS, closed).
    pub max_connections: usize,
    /// HTTPS with this certificate and key; plain HTTP when `None`. Only the main
    /// listener's: the metrics listener, meant for a private network, stays plain.
    pub tls: Option<TlsFiles>,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: super::default_max_connections(),
            tls: None,
        }
    }
}

/// No coarser than this, so the timeouts hold within a second whatever they are.
const LONGEST_CHECK_INTERVAL: Duration = Duration::from_secs(1);
const SHORTEST_CHECK_INTERVAL: Duration = Duration::from_millis(50);
/// Requests one HTTP/2 connection may have under way at once; each holds a router task.
const MAX_CONCURRENT_STREAMS: u32 = 100;

/// What the connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Protocol {
    Http1,
    Http2,
}

/// What the watchdog knows of a connection, updated by its socket and its requests.
struct Activity {
    opened: Instant,
    /// Milliseconds since `opened` of the last byte read or written.
    last_io: AtomicU64,
    /// Milliseconds since `opened` (plus one; zero is "none") of the first byte of a
    /// request whose headers are not complete yet.
    head_started: AtomicU64,
    /// Requests handed to the router and not answered yet.
    in_flight: AtomicUsize,
    /// HTTP/2: the socket's bytes are not counted, only requests (see the module's doc).
    multiplexed: bool,
}

#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Fine,
    /// The headers of a request did not arrive in time: close at once.
    HeadersTooSlow,
    /// Nothing under way and nothing moved for the idle timeout.
    Idle,
}

impl Activity {
    fn new(protocol: Protocol) -> Self {
        Self {
            opened: Instant::now(),
            last_io: AtomicU64::new(0),
            head_started: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            multiplexed: protocol == Protocol::Http2,
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn read(&self) {
        if self.multiplexed {
            return;
        }
        let now = self.now_ms();
        self.last_io.store(now, Ordering::Relaxed);
        if self.in_flight.load(Ordering::Acquire) == 0 {
            // Bytes while no request is under way: the start of the next request's head.
            let _ =
                self.head_started
                    .compare_exchange(0, now + 1, Ordering::AcqRel, Ordering::Relaxed);
        }
    }

    fn wrote(&self) {
        if !self.multiplexed {
            self.touch();
        }
    }

    fn touch(&self) {
        self.last_io.store(self.now_ms(), Ordering::Relaxed);
    }

    /// hyper parsed a request's head and hands the request over.
    fn request_started(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.head_started.store(0, Ordering::Release);
        InFlight(self.clone())
    }

    fn verdict(&self, limits: &ServeLimits) -> Verdict {
        let now = self.now_ms();
        let head_started = self.head_started.load(Ordering::Acquire);
        if head_started != 0
            && Duration::from_millis(now.saturating_sub(head_started - 1))
                >= limits.header_read_timeout
        {
            return Verdict::HeadersTooSlow;
        }
        let quiet = Duration::from_millis(now.saturating_sub(self.last_io.load(Ordering::Relaxed)));
        if head_started == 0
            && self.in_flight.load(Ordering::Acquire) == 0
            && quiet >= limits.idle_timeout
        {
            return Verdict::Idle;
        }
        Verdict::Fine
    }
}

/// A request under way; dropped when the router has answered.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The stream, telling `Activity` of every byte that moves.
struct Watched<S> {
    stream: S,
    activity: Arc<Activity>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.read();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

fn check_interval(limits: &ServeLimits) -> Duration {
    (limits.header_read_timeout.min(limits.idle_timeout) / 4)
        .clamp(SHORTEST_CHECK_INTERVAL, LONGEST_CHECK_INTERVAL)
}

/// Serves one connection until the client closes it, a timeout closes it, or the server
/// stops (`stop` turns true: requests under way finish, then it closes). `stream` is the
/// socket, or the TLS session over it once its handshake is done.
pub(super) async fn drive<S>(
    stream: S,
    protocol: Protocol,
    peer: SocketAddr,
    router: Router,
    limits: &ServeLimits,
    stop: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity::new(protocol));
    let io = TokioIo::new(Watched {
        stream,
        activity: activity.clone(),
    });
    let body_timeout = limits.body_timeout;
    let requests = activity.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let in_flight = requests.request_started();
        let mut request = request.map(|body| Body::new(DeadlineBody::new(body, body_timeout)));
        request.extensions_mut().insert(ConnectInfo(peer));
        let answered = router.clone().oneshot(request);
        async move {
            let response = answered.await;
            drop(in_flight);
            response
        }
    });
    match protocol {
        Protocol::Http1 => {
            let connection = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(io, service);
            watch_over(connection, &activity, limits, stop).await;
        }
        Protocol::Http2 => {
            let connection = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                .max_concurrent_streams(MAX_CONCURRENT_STREAMS)
                .serve_connection(io, service);
            watch_over(connection, &activity, limits, stop).await;
        }
    }
}

/// Runs `connection` until it ends, closing it when `activity` breaks a deadline.
async fn watch_over<C: GracefulConnection>(
    connection: C,
    activity: &Activity,
    limits: &ServeLimits,
    mut stop: watch::Receiver<bool>,
) {
    tokio::pin!(connection);
    let mut tick = tokio::time::interval(check_interval(limits));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut winding_down = false;
    // When an idle connection was asked to close; if it still has not after another idle
    // timeout (a client that never reads its answer), it is dropped.
    let mut asked_to_close: Option<Instant> = None;
    loop {
        tokio::select! {
            _ = connection.as_mut() => return,
            _ = stop.changed(), if !winding_down => {
                winding_down = true;
                connection.as_mut().graceful_shutdown();
            }
            _ = tick.tick() => match activity.verdict(limits) {
                Verdict::Fine => asked_to_close = None,
                Verdict::HeadersTooSlow => {
                    metrics::counter!("castellan_http_connections_timed_out_total", "phase" => "headers")
                        .increment(1);
                    return;
                }
                Verdict::Idle => match asked_to_close {
                    None => {
                        winding_down = true;
                        asked_to_close = Some(Instant::now());
                        connection.as_mut().graceful_shutdown();
                    }
                    Some(asked) if asked.elapsed() >= limits.idle_timeout => {
                        metrics::counter!("castellan_http_connections_timed_out_total", "phase" => "idle")
                            .increment(1);
                        return;
                    }
                    Some(_) => {}
                },
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ServeLimits {
        ServeLimits {
            header_read_timeout: Duration::from_millis(40),
            body_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_millis(80),
            max_connections: 1,
            tls: None,
        }
    }

    #[test]
    fn a_head_in_progress_is_timed_from_its_first_byte() {
        let activity = Arc::new(Activity::new(Protocol::Http1));
        activity.read();
        assert_eq!(activity.verdict(&limits()), Verdict::Fine);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(activity.verdict(&limits()), Verdict::HeadersTooSlow);
        let in_flight = activity.request_started();
        assert_eq!(
            activity.verdict(&limits()),
            Verdict::Fine,
            "headers arrived"
        );
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(
            activity.verdict(&limits()),
            Verdict::Fine,
            "a request under way is never idle"
        );
        activity.read();
        assert_eq!(
            activity.verdict(&limits()),
            Verdict::Fine,
            "body bytes are not a new head"
        );
        drop(in_flight);
        std::thread::sleep(Duration::from_millis(90));
        assert_eq!(activity.verdict(&limits()), Verdict::Idle);
    }

    #[test]
    fn http2_is_timed_by_its_requests_not_its_frames() {
        let activity = Arc::new(Activity::new(Protocol::Http2));
        activity.read();
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(
            activity.verdict(&limits()),
            Verdict::Fine,
            "frames are not a request head"
        );
        std::thread::sleep(Duration::from_millis(40));
        activity.read();
        activity.wrote();
        assert_eq!(
            activity.verdict(&limits()),
            Verdict::Idle,
            "pings do not keep a connection without requests open"
        );
        drop(activity.request_started());
        assert_eq!(activity.verdict(&limits()), Verdict::Fine);
        std::thread::sleep(Duration::from_millis(90));
        assert_eq!(activity.verdict(&limits()), Verdict::Idle);
    }
}
