//! `/applications` and `/connections`: what the extension's screens pick from.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::Method;
use axum::routing::get;
use castellan_core::model::{AppType, Named};
use castellan_core::paging::PageRequest;
use serde_json::{Value, json};

use super::error::AuthzError;
use crate::app::AppState;
use crate::http::endpoint::{Endpoint, Scopes::AnyOf, endpoint};

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        endpoint(
            Method::GET,
            "/applications",
            AnyOf(&["read:applications"]),
            "List applications",
            get(list),
        ),
        endpoint(
            Method::GET,
            "/applications/{client_id}",
            AnyOf(&["read:applications"]),
            "Get an application",
            get(read),
        ),
        endpoint(
            Method::GET,
            "/connections",
            AnyOf(&["read:connections"]),
            "List connections",
            get(connections),
        ),
    ]
}

/// Applications people log in to (SPA, native, regular web), sorted by name.
async fn list(State(s): State<AppState>) -> Result<Json<Value>, AuthzError> {
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
            .map(|c| json!({"client_id": c.client_id, "name": c.name, "callbacks": c.callbacks, "app_type": c.app_type.name()}))
            .collect(),
    ))
}

async fn read(
    State(s): State<AppState>,
    Path(client_id): Path<String>,
) -> Result<Json<Value>, AuthzError> {
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
    Ok(Json(json!({
        "client_id": c.client_id,
        "name": c.name,
        "description": c.description,
        "app_type": c.app_type.name(),
        "is_first_party": c.is_first_party,
        "callbacks": c.callbacks,
        "allowed_logout_urls": c.allowed_logout_urls,
        "web_origins": c.web_origins,
        "grant_types": c.grant_types,
        "token_endpoint_auth_method": c.token_endpoint_auth_method.name(),
        "client_metadata": c.client_metadata,
    })))
}

async fn connections(State(s): State<AppState>) -> Result<Json<Value>, AuthzError> {
    let mut all = s
        .store
        .list_connections(PageRequest::ALL)
        .await
        .map_err(castellan_core::Error::from)?
        .items;
    all.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Json(
        all.iter()
            .map(|c| json!({"id": c.id, "name": c.name, "strategy": c.strategy}))
            .collect(),
    ))
}
