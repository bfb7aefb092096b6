//! Request ids: taken from `x-request-id` or made up (tower-http's `SetRequestId`), echoed
//! in the response (`PropagateRequestId`), held by the request's log span (`TraceLayer`),
//! and readable while the request is handled, for error bodies.

use std::time::Duration;

use std::convert::Infallible;

use axum::extract::Request;
use axum::http::HeaderName;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::Route;
use tower::{Layer, Service, ServiceBuilder};
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;
use tracing::Span;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static CURRENT: String;
}

/// The id of the request being handled, if any.
pub fn current() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}

/// The request-id layers, outermost first; everything inside them, a panic's answer
/// included, has an id on its span, its response and its error body.
pub fn layers() -> impl Layer<
    Route,
    Service = impl Service<
        Request,
        Response = Response,
        Error = Infallible,
        Future = impl Send + 'static,
    > + Clone
              + Send
              + Sync
              + 'static,
> + Clone
+ Send
+ Sync
+ 'static {
    ServiceBuilder::new()
        .layer(middleware::map_request(unacceptable_removed))
        .layer(SetRequestIdLayer::new(HEADER, MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(span)
                // One line per request, when it is answered; headers (credentials, cookies),
                // the query and the body are never logged.
                .on_request(())
                .on_response(|response: &Response, latency: Duration, _: &Span| {
                    tracing::info!(
                        status = response.status().as_u16(),
                        latency_ms = latency.as_millis() as u64,
                        "handled"
                    );
                })
                .on_body_chunk(())
                .on_eos(())
                // A 5xx is logged with its cause where it is mapped (http/error.rs).
                .on_failure(()),
        )
        .layer(PropagateRequestIdLayer::new(HEADER))
        .layer(middleware::from_fn(readable))
}

fn id_of(request: &Request) -> &str {
    request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or_default()
}

fn span(request: &Request) -> Span {
    tracing::info_span!(
        "request",
        request_id = %id_of(request),
        method = %request.method(),
        path = %request.uri().path(),
    )
}

/// An id the client sent is kept only when it is short printable ASCII, so a log line or
/// an error body cannot be made to carry anything else; otherwise one is made up.
async fn unacceptable_removed(mut request: Request) -> Request {
    let acceptable =
        |id: &[u8]| !id.is_empty() && id.len() <= 128 && id.iter().all(u8::is_ascii_graphic);
    if let Some(id) = request.headers().get(&HEADER)
        && !acceptable(id.as_bytes())
    {
        request.headers_mut().remove(&HEADER);
    }
    request
}

/// Makes the id readable by error responses, which are built far from the request.
async fn readable(request: Request, next: Next) -> Response {
    let id = id_of(&request).to_string();
    CURRENT.scope(id, next.run(request)).await
}
