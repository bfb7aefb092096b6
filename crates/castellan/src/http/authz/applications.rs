//! `/applications` and `/connections`: what the extension's screens pick from.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::Method;
use axum::routing::get;
use castellan_core::model::{AppType, Named};
use castellan_core::paging::PageRequest;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::AuthzError;
use crate::app::AppState;
use crate::http::endpoint::{Endpoint, Scopes::AnyOf, endpoint};
use crate::http::wire_schema::Shape;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        endpoint(
            Method::GET,
            "/applications",
            AnyOf(&["read:applications"]),
            "List applications",
            get(list),
        )
        .answers(200, Shape::list_of::<ApplicationSummary>()),
        endpoint(
            Method::GET,
            "/applications/{client_id}",
            AnyOf(&["read:applications"]),
            "Get an application",
            get(read),
        )
        .answers(200, Shape::of::<Application>()),
        endpoint(
            Method::GET,
            "/connections",
            AnyOf(&["read:connections"]),
            "List connections",
            get(connections),
        )
        .answers(200, Shape::list_of::<ConnectionSummary>()),
    ]
}

#[derive(Debug, Serialize, ToSchema)]
struct ApplicationSummary {
    client_id: String,
    name: String,
    callbacks: Vec<String>,
    app_type: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
struct Application {
    client_id: String,
    name: String,
    description: String,
    app_type: &'static str,
    is_first_party: bool,
    callbacks: Vec<String>,
    allowed_logout_urls: Vec<String>,
    web_origins: Vec<String>,
    allowed_origins: Vec<String>,
    grant_types: Vec<String>,
    token_endpoint_auth_method: &'static str,
    client_metadata: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, ToSchema)]
struct ConnectionSummary {
    id: String,
    name: String,
    strategy: String,
}

/// Applications people log in to (SPA, native, regular web), sorted by name.
async fn list(State(s): State<AppState>) -> Result<Json<Vec<ApplicationSummary>>, AuthzError> {
    let mut clients = s
        .store
        .list_clients(PageRequest::ALL)
        .await
        .map_err(castellan_core::Error::from)?
        .items;
    clients.retain(|c| c.app_type != AppType::NonInteractive);
    clients.sort_by_key(|c| c.name.to_lowercase());
    Ok(Json(
        clients
            .iter()
            .map(|c| ApplicationSummary {
                client_id: c.client_id.clone(),
                name: c.name.clone(),
                callbacks: c.callbacks.clone(),
                app_type: c.app_type.name(),
            })
            .collect(),
    ))
}

async fn read(
    State(s): State<AppState>,
    Path(client_id): Path<String>,
) -> Result<Json<Application>, AuthzError> {
    let c = s
        .store
        .find_client(&client_id)
        .await
        .map_err(castellan_core::Error::from)?
        .ok_or_else(
            || castellan_core::directory::extension::ExtensionError::NotFound {
                collection: "applications",
                id: client_id.clone(),
            },
        )?;
    Ok(Json(Application {
        app_type: c.app_type.name(),
        token_endpoint_auth_method: c.token_endpoint_auth_method.name(),
        client_id: c.client_id,
        name: c.name,
        description: c.description,
        is_first_party: c.is_first_party,
        callbacks: c.callbacks,
        allowed_logout_urls: c.allowed_logout_urls,
        web_origins: c.web_origins,
        allowed_origins: c.allowed_origins,
        grant_types: c.grant_types,
        client_metadata: c.client_metadata,
    }))
}

async fn connections(
    State(s): State<AppState>,
) -> Result<Json<Vec<ConnectionSummary>>, AuthzError> {
    let mut all = s
        .store
        .list_connections(PageRequest::ALL)
        .await
        .map_err(castellan_core::Error::from)?
        .items;
    all.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Json(
        all.iter()
            .map(|c| ConnectionSummary {
                id: c.id.clone(),
                name: c.name.clone(),
                strategy: c.strategy.clone(),
            })
            .collect(),
    ))
}
