//! `/users/{id}/roles`: roles assigned to a user directly. Ids arrive percent-encoded
//! (`auth0%7C…`) or raw; role ids may be `rol_…` or the extension's GUIDs.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, post};
use castellan_core::directory::user_roles;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::paging::Listing;
use super::roles::{RoleResponse, wire};
use crate::app::AppState;
use crate::http::body::{JsonBody, QueryParams};
use crate::http::endpoint::{Endpoint, Scopes::AllOf, Scopes::AnyOf, endpoint};
use crate::http::error::ApiError;
use crate::http::guard::Caller;
use crate::http::wire_schema::Shape;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        endpoint(
            Method::GET,
            "/users/{id}/roles",
            AllOf(&["read:users", "read:roles"]),
            "List a user's roles",
            get(list),
        )
        .answers(200, Shape::listing_of::<RoleResponse>("roles")),
        endpoint(
            Method::POST,
            "/users/{id}/roles",
            AnyOf(&["update:users", "create:role_members"]),
            "Assign roles to a user",
            post(assign),
        )
        .takes(Shape::of::<RolesRequest>())
        .answers_empty(204),
        endpoint(
            Method::DELETE,
            "/users/{id}/roles",
            AnyOf(&["update:users", "delete:role_members"]),
            "Remove roles from a user",
            delete(remove),
        )
        .takes(Shape::of::<RolesRequest>())
        .answers_empty(204),
    ]
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RolesRequest {
    roles: Vec<String>,
}

async fn list(
    State(s): State<AppState>,
    Path(id): Path<String>,
    q: QueryParams,
) -> Result<Json<Value>, ApiError> {
    let listing = Listing::from_query(&q, false)?;
    let page = user_roles::list(s.store.as_ref(), &id, listing.request()).await?;
    Ok(listing.respond("roles", page, wire))
}

async fn assign(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RolesRequest>,
) -> Result<StatusCode, ApiError> {
    user_roles::assign(&caller.editor(&s), &id, &body.roles).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RolesRequest>,
) -> Result<StatusCode, ApiError> {
    user_roles::remove(&caller.editor(&s), &id, &body.roles).await?;
    Ok(StatusCode::NO_CONTENT)
}
