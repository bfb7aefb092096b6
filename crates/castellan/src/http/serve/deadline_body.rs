//! A request body that must arrive whole within a deadline counted from the end of its
//! headers. tower-http's `TimeoutBody` restarts its clock at every frame, so a client
//! sending one byte a second would hold the request forever; this one does not.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use tokio::time::Sleep;

/// The body did not arrive within the body timeout.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {0:?}")]
pub struct BodyTimedOut(Duration);

pub struct DeadlineBody {
    body: Incoming,
    timeout: Duration,
    /// Armed on the first poll that would wait; `None` for a body that never waits.
    deadline: Option<Pin<Box<Sleep>>>,
    started: tokio::time::Instant,
}

impl DeadlineBody {
    pub fn new(body: Incoming, timeout: Duration) -> Self {
        Self {
            body,
            timeout,
            deadline: None,
            started: tokio::time::Instant::now(),
        }
    }
}

impl Body for DeadlineBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match Pin::new(&mut self.body).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|f| f.map_err(Into::into))),
            Poll::Pending => {
                let at = self.started + self.timeout;
                let deadline = self
                    .deadline
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
                match deadline.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        metrics::counter!("castellan_http_connections_timed_out_total", "phase" => "body")
                            .increment(1);
                        Poll::Ready(Some(Err(Box::new(BodyTimedOut(self.timeout)))))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Whether `error`, or anything that caused it, is a body that came too slowly.
pub fn is_body_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if e.is::<BodyTimedOut>() {
            return true;
        }
        cause = e.source();
    }
    false
}
