//! The wire shape of a permission, `{resource_server_identifier, permission_name,
//! resource_server_name, description}`: names and descriptions come from the APIs, read once
//! per API on the page.

use std::collections::HashMap;

use axum::Json;
use castellan_core::model::{Permission, ResourceServer};
use castellan_core::paging::Page;
use serde::Serialize;
use serde_json::Value;

use super::paging::Listing;
use crate::app::AppState;
use crate::http::error::ApiError;

#[derive(Debug, Serialize)]
pub struct PermissionResponse {
    resource_server_identifier: String,
    permission_name: String,
    resource_server_name: String,
    description: String,
}

/// The APIs the page's permissions are on, to describe them with `describe`.
pub async fn apis_of(
    s: &AppState,
    page: &Page<Permission>,
) -> Result<HashMap<String, Option<ResourceServer>>, ApiError> {
    let mut apis = HashMap::new();
    for p in &page.items {
        if !apis.contains_key(&p.resource_server_identifier) {
            let api = s
                .store
                .find_resource_server_by_identifier(&p.resource_server_identifier)
                .await
                .map_err(castellan_core::Error::from)?;
            apis.insert(p.resource_server_identifier.clone(), api);
        }
    }
    Ok(apis)
}

/// A page of permissions in the shape the caller asked for.
pub async fn respond(
    s: &AppState,
    listing: Listing,
    page: Page<Permission>,
) -> Result<Json<Value>, ApiError> {
    let apis = apis_of(s, &page).await?;
    Ok(listing.respond("permissions", page, |p| describe(&apis, p)))
}

pub fn describe(
    apis: &HashMap<String, Option<ResourceServer>>,
    p: Permission,
) -> PermissionResponse {
    let api = apis
        .get(&p.resource_server_identifier)
        .and_then(Option::as_ref);
    PermissionResponse {
        resource_server_name: api.map(|a| a.name.clone()).unwrap_or_default(),
        description: api
            .and_then(|a| a.scopes.iter().find(|sc| sc.value == p.permission_name))
            .map(|sc| sc.description.clone())
            .unwrap_or_default(),
        resource_server_identifier: p.resource_server_identifier,
        permission_name: p.permission_name,
    }
}
