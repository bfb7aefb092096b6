//! `/roles/{id}/users`: who holds a role directly. Listed with offset paging or, as the
//! SDKs do, with checkpoints (`from`/`take` → `{next, users}`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{get, post};
use castellan_core::directory::role_users;
use castellan_core::model::User;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::paging::Listing;
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
            "/roles/{id}/users",
            AllOf(&["read:users", "read:roles"]),
            "List the users holding a role",
            get(list),
        )
        .answers(200, Shape::listing_of::<RoleUser>("users")),
        endpoint(
            Method::POST,
            "/roles/{id}/users",
            AnyOf(&["update:roles", "create:role_members"]),
            "Give a role to users",
            post(add),
        )
        .takes(Shape::of::<UsersRequest>())
        .answers_empty(200),
    ]
}

/// Auth0's short user object in role listings.
#[derive(Debug, Serialize, ToSchema)]
struct RoleUser {
    user_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    picture: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
}

fn wire(user: User) -> RoleUser {
    RoleUser {
        user_id: user.user_id,
        picture: user.picture,
        name: user.name,
        email: user.email,
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UsersRequest {
    users: Vec<String>,
}

async fn list(
    State(s): State<AppState>,
    Path(id): Path<String>,
    q: QueryParams,
) -> Result<Json<Value>, ApiError> {
    let listing = Listing::from_query(&q, true)?;
    let page = role_users::list(s.store.as_ref(), &id, listing.request()).await?;
    Ok(listing.respond("users", page, wire))
}

async fn add(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<UsersRequest>,
) -> Result<StatusCode, ApiError> {
    role_users::add(&caller.editor(&s), &id, &body.users).await?;
    Ok(StatusCode::OK)
}
