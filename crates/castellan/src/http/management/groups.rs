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
use castellan_core::oidc::claims::rfc3339;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::paging::Listing;
use super::roles::{RoleResponse, wire as role_wire};
use crate::app::AppState;
use crate::http::body::QueryParams;
use crate::http::endpoint::{Endpoint, Scopes::AnyOf, endpoint};
use crate::http::error::ApiError;
use crate::http::wire_schema::Shape;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        endpoint(
            Method::GET,
            "/groups",
            AnyOf(&["read:groups"]),
            "List groups",
            get(list),
        )
        .answers(200, Shape::listing_of::<GroupResponse>("groups")),
        endpoint(
            Method::GET,
            "/groups/{id}",
            AnyOf(&["read:groups"]),
            "Get a group",
            get(read),
        )
        .answers(200, Shape::of::<GroupResponse>()),
        endpoint(
            Method::GET,
            "/groups/{id}/members",
            AnyOf(&["read:group_members", "read:groups"]),
            "List a group's members",
            get(members),
        )
        .answers(200, Shape::listing_of::<GroupMember>("members")),
        endpoint(
            Method::GET,
            "/groups/{id}/roles",
            AnyOf(&["read:groups"]),
            "List a group's roles",
            get(roles),
        )
        .answers(200, Shape::listing_of::<RoleResponse>("roles")),
        endpoint(
            Method::GET,
            "/users/{id}/groups",
            AnyOf(&["read:groups"]),
            "List a user's groups",
            get(user_groups),
        )
        .answers(200, Shape::listing_of::<GroupResponse>("groups")),
    ]
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Group)]
struct GroupResponse {
    id: String,
    name: String,
    description: String,
    /// RFC 3339.
    created_at: Option<String>,
}

fn wire(g: Group) -> GroupResponse {
    GroupResponse {
        id: g.id,
        name: g.name,
        description: g.description,
        created_at: rfc3339(g.created_at),
    }
}

#[derive(Debug, Serialize, ToSchema)]
struct GroupMember {
    id: String,
    /// Always `user`: groups hold users only.
    member_type: &'static str,
    user_id: String,
    email: Option<String>,
    name: Option<String>,
    picture: Option<String>,
}

fn member(u: User) -> GroupMember {
    GroupMember {
        id: u.user_id.clone(),
        member_type: "user",
        user_id: u.user_id,
        email: u.email,
        name: u.name,
        picture: u.picture,
    }
}

async fn list(State(s): State<AppState>, q: QueryParams) -> Result<Json<Value>, ApiError> {
    let listing = Listing::from_query(&q, true)?;
    let page = groups::list(s.store.as_ref(), listing.request()).await?;
    Ok(listing.respond("groups", page, wire))
}

async fn read(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<GroupResponse>, ApiError> {
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
