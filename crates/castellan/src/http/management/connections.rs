//! `/connections`: where users come from; the database connection exists from the first start.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, patch, post};
use castellan_core::directory::connections::{self, ConnectionFields};
use castellan_core::model::Connection;
use serde::{Deserialize, Serialize};

use super::paging::Listing;
use crate::app::AppState;
use crate::http::body::{JsonBody, QueryParams};
use crate::http::endpoint::{Endpoint, Scopes::AnyOf, endpoint};
use crate::http::error::ApiError;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        endpoint(
            Method::GET,
            "/connections",
            AnyOf(&["read:connections"]),
            "List connections",
            get(list),
        ),
        endpoint(
            Method::POST,
            "/connections",
            AnyOf(&["create:connections"]),
            "Create a connection",
            post(create),
        ),
        endpoint(
            Method::GET,
            "/connections/{id}",
            AnyOf(&["read:connections"]),
            "Get a connection",
            get(read),
        ),
        endpoint(
            Method::PATCH,
            "/connections/{id}",
            AnyOf(&["update:connections"]),
            "Update a connection",
            patch(update),
        ),
        endpoint(
            Method::DELETE,
            "/connections/{id}",
            AnyOf(&["delete:connections"]),
            "Delete a connection",
            delete(remove),
        ),
    ]
}

#[derive(Debug, Default, Deserialize)]
pub struct ConnectionRequest {
    name: Option<String>,
    strategy: Option<String>,
    options: Option<serde_json::Value>,
    enabled_clients: Option<Vec<String>>,
}

impl From<ConnectionRequest> for ConnectionFields {
    fn from(r: ConnectionRequest) -> Self {
        ConnectionFields {
            name: r.name,
            strategy: r.strategy,
            options: r.options,
            enabled_clients: r.enabled_clients,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ConnectionResponse {
    id: String,
    name: String,
    strategy: String,
    options: serde_json::Value,
    enabled_clients: Vec<String>,
    is_domain_connection: bool,
    realms: Vec<String>,
}

fn wire(c: Connection) -> ConnectionResponse {
    ConnectionResponse {
        realms: vec![c.name.clone()],
        id: c.id,
        name: c.name,
        strategy: c.strategy,
        options: c.options,
        enabled_clients: c.enabled_clients,
        is_domain_connection: false,
    }
}

async fn list(
    State(s): State<AppState>,
    q: QueryParams,
) -> Result<Json<serde_json::Value>, ApiError> {
    let listing = Listing::from_query(&q, true)?;
    let page = s
        .store
        .list_connections(listing.request())
        .await
        .map_err(castellan_core::Error::from)?;
    Ok(listing.respond("connections", page, wire))
}

async fn create(
    State(s): State<AppState>,
    JsonBody(body): JsonBody<ConnectionRequest>,
) -> Result<(StatusCode, Json<ConnectionResponse>), ApiError> {
    let connection = connections::create(s.store.as_ref(), body.into()).await?;
    Ok((StatusCode::CREATED, Json(wire(connection))))
}

async fn read(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ConnectionResponse>, ApiError> {
    Ok(Json(wire(connections::get(s.store.as_ref(), &id).await?)))
}

async fn update(
    State(s): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ConnectionRequest>,
) -> Result<Json<ConnectionResponse>, ApiError> {
    Ok(Json(wire(
        connections::update(s.store.as_ref(), &id, body.into()).await?,
    )))
}

async fn remove(State(s): State<AppState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    connections::delete(s.store.as_ref(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
