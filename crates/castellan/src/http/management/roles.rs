//! `/roles`: roles and their permissions. Ids are `rol_…`; the Authorization Extension's
//! GUID of the same role is accepted too.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, patch, post};
use castellan_core::directory::roles::{self, NewRole, RoleUpdate};
use castellan_core::model::{Permission, Role};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::paging::Listing;
use super::permission_wire::{self, PermissionResponse};
use crate::app::AppState;
use crate::http::body::{JsonBody, QueryParams};
use crate::http::endpoint::{Endpoint, Scopes::AnyOf, endpoint};
use crate::http::error::ApiError;
use crate::http::guard::Caller;
use crate::http::wire_schema::Shape;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        endpoint(
            Method::GET,
            "/roles",
            AnyOf(&["read:roles"]),
            "List roles",
            get(list),
        )
        .answers(200, Shape::listing_of::<RoleResponse>("roles")),
        endpoint(
            Method::POST,
            "/roles",
            AnyOf(&["create:roles"]),
            "Create a role",
            post(create),
        )
        .takes(Shape::of::<RoleRequest>())
        .answers(200, Shape::of::<RoleResponse>()),
        endpoint(
            Method::GET,
            "/roles/{id}",
            AnyOf(&["read:roles"]),
            "Get a role",
            get(read),
        )
        .answers(200, Shape::of::<RoleResponse>()),
        endpoint(
            Method::PATCH,
            "/roles/{id}",
            AnyOf(&["update:roles"]),
            "Update a role",
            patch(update),
        )
        .takes(Shape::of::<RoleRequest>())
        .answers(200, Shape::of::<RoleResponse>()),
        endpoint(
            Method::DELETE,
            "/roles/{id}",
            AnyOf(&["delete:roles"]),
            "Delete a role",
            delete(remove),
        )
        .answers_empty(200),
        endpoint(
            Method::GET,
            "/roles/{id}/permissions",
            AnyOf(&["read:roles"]),
            "List a role's permissions",
            get(permissions),
        )
        .answers(200, Shape::listing_of::<PermissionResponse>("permissions")),
        endpoint(
            Method::POST,
            "/roles/{id}/permissions",
            AnyOf(&["update:roles"]),
            "Add permissions to a role",
            post(add_permissions),
        )
        .takes(Shape::of::<PermissionsRequest>())
        .answers_empty(201),
        endpoint(
            Method::DELETE,
            "/roles/{id}/permissions",
            AnyOf(&["update:roles"]),
            "Remove permissions from a role",
            delete(remove_permissions),
        )
        .takes(Shape::of::<PermissionsRequest>())
        .answers_empty(200),
    ]
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RoleRequest {
    name: Option<String>,
    description: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Role)]
pub(super) struct RoleResponse {
    id: String,
    name: String,
    description: String,
}

pub(super) fn wire(role: Role) -> RoleResponse {
    RoleResponse {
        id: role.id,
        name: role.name,
        description: role.description,
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PermissionsRequest {
    permissions: Vec<PermissionRequest>,
}

#[derive(Debug, Deserialize, ToSchema)]
struct PermissionRequest {
    resource_server_identifier: String,
    permission_name: String,
}

impl PermissionsRequest {
    pub(super) fn into_permissions(self) -> Vec<Permission> {
        self.permissions
            .into_iter()
            .map(|p| Permission {
                resource_server_identifier: p.resource_server_identifier,
                permission_name: p.permission_name,
            })
            .collect()
    }
}

async fn list(State(s): State<AppState>, q: QueryParams) -> Result<Json<Value>, ApiError> {
    let listing = Listing::from_query(&q, false)?;
    let page = s
        .store
        .list_roles(q.get("name_filter"), listing.request())
        .await
        .map_err(castellan_core::Error::from)?;
    Ok(listing.respond("roles", page, wire))
}

async fn create(
    State(s): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<RoleRequest>,
) -> Result<Json<RoleResponse>, ApiError> {
    let name = body.name.ok_or_else(|| {
        ApiError::bad_request("invalid_body", "Payload validation error: name is required")
    })?;
    let input = NewRole {
        name,
        description: body.description,
    };
    let role = roles::create(&caller.editor(&s), input).await?;
    Ok(Json(wire(role)))
}

async fn read(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<RoleResponse>, ApiError> {
    Ok(Json(wire(roles::get(s.store.as_ref(), &id).await?)))
}

async fn update(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RoleRequest>,
) -> Result<Json<RoleResponse>, ApiError> {
    let update = RoleUpdate {
        name: body.name,
        description: body.description,
    };
    let role = roles::update(&caller.editor(&s), &id, update).await?;
    Ok(Json(wire(role)))
}

async fn remove(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    roles::delete(&caller.editor(&s), &id).await?;
    Ok(StatusCode::OK)
}

async fn permissions(
    State(s): State<AppState>,
    Path(id): Path<String>,
    q: QueryParams,
) -> Result<Json<Value>, ApiError> {
    let listing = Listing::from_query(&q, false)?;
    let role = roles::get(s.store.as_ref(), &id).await?;
    let page = s
        .store
        .list_role_permissions(&role.id, listing.request())
        .await
        .map_err(castellan_core::Error::from)?;
    permission_wire::respond(&s, listing, page).await
}

async fn add_permissions(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PermissionsRequest>,
) -> Result<StatusCode, ApiError> {
    let permissions = body.into_permissions();
    roles::add_permissions(&caller.editor(&s), &id, &permissions).await?;
    Ok(StatusCode::CREATED)
}

async fn remove_permissions(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PermissionsRequest>,
) -> Result<StatusCode, ApiError> {
    let permissions = body.into_permissions();
    roles::remove_permissions(&caller.editor(&s), &id, &permissions).await?;
    Ok(StatusCode::OK)
}
