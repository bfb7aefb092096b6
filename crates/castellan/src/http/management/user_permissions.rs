//! `/users/{id}/permissions`: permissions given to a user directly. Under RBAC they count
//! towards the user's tokens like the permissions of their roles; as in Auth0, the list
//! shows both, each with its `sources`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, post};
use castellan_core::directory::{effective, user_permissions};
use serde_json::Value;

use super::paging::Listing;
use super::permission_wire::{self, PermissionResponse};
use super::roles::PermissionsRequest;
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
            "/users/{id}/permissions",
            AnyOf(&["read:users"]),
            "List a user's permissions, direct and through roles, with their sources",
            get(list),
        )
        .answers(200, Shape::listing_of::<PermissionResponse>("permissions")),
        endpoint(
            Method::POST,
            "/users/{id}/permissions",
            AnyOf(&["update:users"]),
            "Give permissions to a user",
            post(add),
        )
        .takes(Shape::of::<PermissionsRequest>())
        .answers_empty(201),
        endpoint(
            Method::DELETE,
            "/users/{id}/permissions",
            AnyOf(&["update:users"]),
            "Take permissions from a user",
            delete(remove),
        )
        .takes(Shape::of::<PermissionsRequest>())
        .answers_empty(204),
    ]
}

async fn list(
    State(s): State<AppState>,
    Path(id): Path<String>,
    q: QueryParams,
) -> Result<Json<Value>, ApiError> {
    let listing = Listing::from_query(&q, false)?;
    let page = effective::permissions(s.store.as_ref(), &id, listing.request()).await?;
    permission_wire::respond_held(&s, listing, page).await
}

async fn add(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PermissionsRequest>,
) -> Result<StatusCode, ApiError> {
    let permissions = body.into_permissions();
    user_permissions::add(&caller.editor(&s), &id, &permissions).await?;
    Ok(StatusCode::CREATED)
}

async fn remove(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PermissionsRequest>,
) -> Result<StatusCode, ApiError> {
    let permissions = body.into_permissions();
    user_permissions::remove(&caller.editor(&s), &id, &permissions).await?;
    Ok(StatusCode::NO_CONTENT)
}
