//! `/logs`, `/logs/{id}` and `/users/{id}/logs`: the tenant log in Auth0's shape. Searches
//! come as `q` (Auth0's documentation, legacy SDK) or `search` (OpenAPI, Fern SDKs); `from`
//! (a log id) reads forward from that event and wins over a search, as in Auth0.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::Method;
use axum::routing::get;
use castellan_core::directory::logs;
use castellan_core::model::LogEvent;
use castellan_core::oidc::claims::rfc3339;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::fields::{Fields, select};
use super::paging::Listing;
use crate::app::AppState;
use crate::http::body::QueryParams;
use crate::http::endpoint::{Endpoint, Scopes::AnyOf, endpoint};
use crate::http::error::ApiError;
use crate::http::wire_schema::Shape;

/// Auth0 serves the first 1000 results of a log search.
const SEARCH_WINDOW: u64 = 1000;
const DEFAULT_TAKE: u64 = 50;
const MAX_TAKE: u64 = 100;
const SCOPES: &[&str] = &["read:logs", "read:logs_users"];

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        endpoint(
            Method::GET,
            "/logs",
            AnyOf(SCOPES),
            "Search the log",
            get(list),
        )
        .answers(200, Shape::listing_of::<LogEventResponse>("logs")),
        endpoint(
            Method::GET,
            "/logs/{id}",
            AnyOf(SCOPES),
            "Get a log event",
            get(read),
        )
        .answers(200, Shape::of::<LogEventResponse>()),
        endpoint(
            Method::GET,
            "/users/{id}/logs",
            AnyOf(SCOPES),
            "List a user's log events",
            get(user_logs),
        )
        .answers(200, Shape::listing_of::<LogEventResponse>("logs")),
    ]
}

/// Auth0's log event; attributes the event does not have are left out. Every attribute may
/// be missing from an answer, since `fields` chooses which are kept.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LogEvent)]
struct LogEventResponse {
    #[serde(rename = "_id")]
    #[schema(required = false)]
    id: String,
    #[schema(required = false)]
    log_id: String,
    /// RFC 3339.
    #[schema(required = false)]
    date: Option<String>,
    #[serde(rename = "type")]
    #[schema(required = false)]
    event_type: String,
    #[schema(required = false)]
    description: String,
    #[schema(required = false)]
    details: Value,
    #[serde(rename = "isMobile")]
    #[schema(required = false)]
    is_mobile: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    connection: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_agent: Option<String>,
}

fn wire(e: LogEvent) -> Value {
    let event = LogEventResponse {
        id: e.log_id.clone(),
        log_id: e.log_id,
        date: rfc3339(e.date),
        event_type: e.event_type,
        description: e.description,
        details: e.details,
        is_mobile: false,
        client_id: e.client_id,
        client_name: e.client_name,
        connection: e.connection,
        user_id: e.user_id,
        user_name: e.user_name,
        ip: e.ip,
        user_agent: e.user_agent,
    };
    serde_json::to_value(event).expect("a log event serializes to JSON")
}

/// `sort=date:1` (oldest first) or `date:-1` (newest first, the default).
fn oldest_first(q: &QueryParams) -> Result<bool, ApiError> {
    match q.get("sort") {
        None | Some("date:-1") => Ok(false),
        Some("date:1") => Ok(true),
        Some(other) => Err(ApiError::bad_request(
            "invalid_query_string",
            format!("Query validation error: sort must be date:1 or date:-1, not \"{other}\""),
        )),
    }
}

async fn list(State(s): State<AppState>, q: QueryParams) -> Result<Json<Value>, ApiError> {
    let fields = Fields::from_query(&q)?;
    if let Some(from) = q.get("from") {
        let take = q.number("take")?.unwrap_or(DEFAULT_TAKE);
        if take > MAX_TAKE {
            return Err(ApiError::bad_request(
                "invalid_query_string",
                format!("Query validation error: 'take' must be at most {MAX_TAKE}"),
            ));
        }
        let events = logs::after(s.store.as_ref(), from, take).await?;
        return Ok(Json(Value::Array(
            events
                .into_iter()
                .map(|e| select(&fields, wire(e)))
                .collect(),
        )));
    }
    let search = q.get("q").or_else(|| q.get("search"));
    let mut listing = Listing::from_query(&q, false)?;
    if search.is_some() {
        listing = listing.within(SEARCH_WINDOW)?;
    }
    let page = logs::search(
        s.store.as_ref(),
        search,
        None,
        oldest_first(&q)?,
        listing.request(),
    )
    .await?;
    Ok(listing.respond_counted("logs", page, |e| select(&fields, wire(e))))
}

async fn read(State(s): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    Ok(Json(wire(logs::get(s.store.as_ref(), &id).await?)))
}

/// The events about one user; a deleted user's events stay readable.
async fn user_logs(
    State(s): State<AppState>,
    Path(id): Path<String>,
    q: QueryParams,
) -> Result<Json<Value>, ApiError> {
    let listing = Listing::from_query(&q, false)?;
    let page = logs::search(
        s.store.as_ref(),
        None,
        Some(&id),
        oldest_first(&q)?,
        listing.request(),
    )
    .await?;
    Ok(listing.respond_counted("logs", page, wire))
}
