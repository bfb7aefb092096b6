//! `/users/{id}/effective-roles` and `/users/{id}/effective-permissions`: what a user holds
//! through direct assignments, groups (nested and mapped) and direct permissions, as the
//! token endpoint computes it.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::Method;
use axum::routing::get;
use castellan_core::directory::effective;
use serde_json::Value;

use super::paging::Listing;
use super::permission_wire::{self, PermissionResponse};
use super::roles::{RoleResponse, wire};
use crate::app::AppState;
use crate::http::body::QueryParams;
use crate::http::endpoint::{Endpoint, Scopes::AllOf, Scopes::AnyOf, endpoint};
use crate::http::error::ApiError;
use crate::http::wire_schema::Shape;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        endpoint(
            Method::GET,
            "/users/{id}/effective-roles",
            AllOf(&["read:users", "read:roles"]),
            "List the roles a user holds directly or through groups",
            get(roles),
        )
        .answers(200, Shape::listing_of::<RoleResponse>("roles")),
        endpoint(
            Method::GET,
            "/users/{id}/effective-permissions",
            AnyOf(&["read:users"]),
            "List the permissions a user holds through roles, groups or directly",
            get(permissions),
        )
        .answers(200, Shape::listing_of::<PermissionResponse>("permissions")),
    ]
}

async fn roles(
    State(s): State<AppState>,
    Path(id): Path<String>,
    q: QueryParams,
) -> Result<Json<Value>, ApiError> {
    let listing = Listing::from_query(&q, true)?;
    let page = effective::roles(s.store.as_ref(), &id, listing.request()).await?;
    Ok(listing.respond("roles", page, wire))
}

async fn permissions(
    State(s): State<AppState>,
    Path(id): Path<String>,
    q: QueryParams,
) -> Result<Json<Value>, ApiError> {
    let listing = Listing::from_query(&q, true)?;
    let page = effective::permissions(s.store.as_ref(), &id, listing.request()).await?;
    permission_wire::respond_held(&s, listing, page).await
}
