//! The wire shape of a permission, `{resource_server_identifier, permission_name,
//! resource_server_name, description}` and, for a user's, `sources`: names and descriptions
//! come from the APIs, read once per API on the page.

use std::collections::HashMap;

use axum::Json;
use castellan_core::model::{HeldPermission, Permission, PermissionSource, ResourceServer};
use castellan_core::paging::Page;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::paging::Listing;
use crate::app::AppState;
use crate::http::error::ApiError;

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Permission)]
pub struct PermissionResponse {
    resource_server_identifier: String,
    permission_name: String,
    resource_server_name: String,
    description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    sources: Option<Vec<SourceResponse>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PermissionSource)]
struct SourceResponse {
    source_id: String,
    source_name: String,
    source_type: String,
}

type Apis = HashMap<String, Option<ResourceServer>>;

/// The APIs named by `identifiers`.
async fn apis_of<'a>(
    s: &AppState,
    identifiers: impl Iterator<Item = &'a String>,
) -> Result<Apis, ApiError> {
    let mut apis = HashMap::new();
    for identifier in identifiers {
        if !apis.contains_key(identifier) {
            let api = s
                .store
                .find_resource_server_by_identifier(identifier)
                .await
                .map_err(castellan_core::Error::from)?;
            apis.insert(identifier.clone(), api);
        }
    }
    Ok(apis)
}

fn describe(
    apis: &Apis,
    p: Permission,
    sources: Option<Vec<PermissionSource>>,
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
        sources: sources.map(|list| {
            list.into_iter()
                .map(|s| SourceResponse {
                    source_id: s.source_id,
                    source_name: s.source_name,
                    source_type: s.source_type,
                })
                .collect()
        }),
    }
}

/// A page of a role's permissions in the shape the caller asked for.
pub async fn respond(
    s: &AppState,
    listing: Listing,
    page: Page<Permission>,
) -> Result<Json<Value>, ApiError> {
    let apis = apis_of(s, page.items.iter().map(|p| &p.resource_server_identifier)).await?;
    Ok(listing.respond("permissions", page, |p| describe(&apis, p, None)))
}

/// A page of a user's permissions, each with where it comes from.
pub async fn respond_held(
    s: &AppState,
    listing: Listing,
    page: Page<HeldPermission>,
) -> Result<Json<Value>, ApiError> {
    let apis = apis_of(
        s,
        page.items
            .iter()
            .map(|h| &h.permission.resource_server_identifier),
    )
    .await?;
    Ok(listing.respond("permissions", page, |h| {
        describe(&apis, h.permission, Some(h.sources))
    }))
}
