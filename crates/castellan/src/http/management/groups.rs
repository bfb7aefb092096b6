//! Auth0's read views over groups: `/groups`, a group's members and roles, and a user's
//! groups. Groups are changed through the Authorization Extension API. Members need
//! `read:group_members` or `read:groups` (a `read:groups` token can list groups, so hiding
//! their members from it would protect nothing). Lists page like the rest of the API: `page`/
//! `per_page`/`include_totals`, or `from`/`take`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::Method;
use axum::routing::get;
use castellan_core::directory::groups;
use castellan_core::model::{Group, User};
use castellan_core::oidc::claims::timestamp;
use serde_json::{Value, json};

use super::paging::Listing;
use super::roles::wire as role_wire;
use crate::app::AppState;
use crate::http::body::QueryParams;
use crate::http::endpoint::{Endpoint, Scopes::AnyOf, endpoint};
use crate::http::error::ApiError;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        endpoint(
            Method::GET,
            "/groups",
            AnyOf(&["read:groups"]),
            "List groups",
            get(list),
        ),
        endpoint(
            Method::GET,
            "/groups/{id}",
            AnyOf(&["read:groups"]),
            "Get a group",
            get(read),
        ),
        endpoint(
            Method::GET,
            "/groups/{id}/members",
            AnyOf(&["read:group_members", "read:groups"]),
            "List a group's members",
            get(members),
        ),
        endpoint(
            Method::GET,
            "/groups/{id}/roles",
            AnyOf(&["read:groups"]),
            "List a group's roles",
            get(roles),
        ),
        endpoint(
            Method::GET,
            "/users/{id}/groups",
            AnyOf(&["read:groups"]),
            "List a user's groups",
            get(user_groups),
        ),
    ]
}

fn wire(g: Group) -> Value {
    json!({
        "id": g.id,
        "name": g.name,
        "description": g.description,
        "created_at": timestamp(g.created_at),
    })
}

fn member(u: User) -> Value {
    json!({
        "id": u.user_id,
        "member_type": "user",
        "user_id": u.user_id,
        "email": u.email,
        "name": u.name,
        "picture": u.picture,
    })
}

async fn list(State(s): State<AppState>, q: QueryParams) -> Result<Json<Value>, ApiError> {
    let listing = Listing::from_query(&q, true)?;
    let page = groups::list(s.store.as_ref(), listing.request()).await?;
    Ok(listing.respond("groups", page, wire))
}

async fn read(State(s): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    Ok(Json(wire(groups::get(s.store.as_ref(), &id).await?)))
}

async fn members(
    State(s): State<AppState>,
    Path(id): Path<String>,
    q: QueryParams,
) -> Result<Json<Value>, ApiError> {
    let listing = Listing::from_query(&q, true)?;
    let page = groups::members(s.store.as_ref(), &id, listing.request()).await?;
    Ok(listing.respond("members", page, member))
}

async fn roles(
    State(s): State<AppState>,
    Path(id): Path<String>,
    q: QueryParams,
) -> Result<Json<Value>, ApiError> {
    let listing = Listing::from_query(&q, true)?;
    let page = groups::roles(s.store.as_ref(), &id, listing.request()).await?;
    Ok(listing.respond("roles", page, role_wire))
}

async fn user_groups(
    State(s): State<AppState>,
    Path(id): Path<String>,
    q: QueryParams,
) -> Result<Json<Value>, ApiError> {
    let listing = Listing::from_query(&q, true)?;
    let page = groups::of_user(s.store.as_ref(), &id, listing.request()).await?;
    Ok(listing.respond("groups", page, wire))
}
