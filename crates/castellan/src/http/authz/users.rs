//! `/users`: the user list (over Castellan's users), a user's groups and roles, and the
//! policy the extension's rule asks for at every log-in. User ids arrive raw (`auth0|…`, as
//! the rule sends them) or percent-encoded.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, patch, post};
use castellan_core::directory::extension::{groups as ext_groups, policy, users};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::AuthzError;
use super::extract::{Body, Query};
use super::wire::{self, ExpandedRoleWire, GroupWire, UserRoleWire, UserWire};
use crate::app::AppState;
use crate::http::endpoint::{Endpoint, Scopes::AllOf, Scopes::AnyOf, endpoint};
use crate::http::guard::Caller;
use crate::http::wire_schema::Shape;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        endpoint(
            Method::GET,
            "/users",
            AnyOf(&["read:users"]),
            "List users",
            get(list),
        )
        .answers(200, Shape::of::<UserPage>()),
        endpoint(
            Method::GET,
            "/users/{id}",
            AnyOf(&["read:users"]),
            "Get a user",
            get(read),
        )
        .answers(200, Shape::of::<UserWire>()),
        endpoint(
            Method::GET,
            "/users/{id}/groups",
            AnyOf(&["read:groups"]),
            "List a user's groups",
            get(groups),
        )
        .answers(200, Shape::of::<UserGroups>()),
        endpoint(
            Method::PATCH,
            "/users/{id}/groups",
            AnyOf(&["update:groups"]),
            "Add a user to groups",
            patch(add_groups),
        )
        .takes(Shape::strings())
        .answers_empty(204),
        endpoint(
            Method::GET,
            "/users/{id}/groups/calculate",
            AnyOf(&["read:groups"]),
            "List a user's groups with their ancestors",
            get(calculated_groups),
        )
        .answers(200, Shape::list_of::<GroupWire>()),
        endpoint(
            Method::GET,
            "/users/{id}/roles",
            AnyOf(&["read:roles"]),
            "List a user's roles",
            get(roles),
        )
        .answers(200, Shape::list_of::<UserRoleWire>()),
        // `update:roles`, as the extension's code requires (its documentation says `update:users`).
        endpoint(
            Method::PATCH,
            "/users/{id}/roles",
            AnyOf(&["update:roles"]),
            "Add a user to roles",
            patch(add_roles),
        )
        .takes(Shape::strings())
        .answers_empty(204),
        endpoint(
            Method::DELETE,
            "/users/{id}/roles",
            AnyOf(&["update:roles"]),
            "Remove a user from roles",
            delete(remove_roles),
        )
        .takes(Shape::strings())
        .answers_empty(204),
        endpoint(
            Method::GET,
            "/users/{id}/roles/calculate",
            AnyOf(&["read:roles"]),
            "List a user's roles, direct and through groups",
            get(calculated_roles),
        )
        .answers(200, Shape::list_of::<UserRoleWire>()),
        // No scope: any machine-to-machine token for this API, or the `x-api-key`.
        endpoint(
            Method::POST,
            "/users/{id}/policy/{client_id}",
            AllOf(&[]),
            "Compute a user's groups, roles and permissions for an application",
            post(compute_policy),
        )
        .takes(Shape::of::<PolicyBody>())
        .answers(200, Shape::of::<Policy>()),
    ]
}

/// `per_page` 1-100 (default 100), `page` effectively 1-based; `q` in `field` (or anywhere).
#[derive(Debug, Serialize, ToSchema)]
struct UserPage {
    start: u64,
    limit: u64,
    length: usize,
    total: u64,
    users: Vec<UserWire>,
}

async fn list(State(s): State<AppState>, q: Query) -> Result<Json<UserPage>, AuthzError> {
    let per_page = q.number("per_page", 100, 1, 100)?;
    let page = q.number("page", 0, 0, u64::from(u32::MAX))?;
    let request = ext_groups::member_page(page, per_page);
    let found = users::search(s.store.as_ref(), q.get("field"), q.get("q"), request).await?;
    let users: Vec<UserWire> = found.items.iter().map(wire::user).collect();
    Ok(Json(UserPage {
        start: request.offset,
        limit: per_page,
        length: users.len(),
        total: found.total,
        users,
    }))
}

async fn read(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<UserWire>, AuthzError> {
    Ok(Json(wire::user(&users::find(s.store.as_ref(), &id).await?)))
}

/// A user's groups; with `?expand`, their ancestors too and the roles they grant.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
enum UserGroups {
    Plain(Vec<GroupWire>),
    Expanded {
        groups: Vec<GroupWire>,
        roles: Vec<ExpandedRoleWire>,
    },
}

async fn groups(
    State(s): State<AppState>,
    Path(id): Path<String>,
    q: Query,
) -> Result<Json<UserGroups>, AuthzError> {
    let store = s.store.as_ref();
    if q.truthy("expand") {
        let (groups, roles) = users::expanded_groups(store, &id).await?;
        return Ok(Json(UserGroups::Expanded {
            groups: groups.iter().map(wire::group).collect(),
            roles: roles
                .iter()
                .map(|(r, p)| wire::expanded_role(r, p))
                .collect(),
        }));
    }
    let groups = users::groups(store, &id).await?;
    Ok(Json(UserGroups::Plain(
        groups.iter().map(wire::group).collect(),
    )))
}

async fn add_groups(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(refs): Body<Vec<String>>,
) -> Result<StatusCode, AuthzError> {
    users::add_groups(&caller.editor(&s), &id, &refs).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn calculated_groups(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<GroupWire>>, AuthzError> {
    let groups = users::calculated_groups(s.store.as_ref(), &id).await?;
    Ok(Json(groups.iter().map(wire::group).collect()))
}

async fn roles(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<UserRoleWire>>, AuthzError> {
    let roles = users::roles(s.store.as_ref(), &id).await?;
    Ok(Json(roles.iter().map(wire::user_role).collect()))
}

async fn add_roles(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(refs): Body<Vec<String>>,
) -> Result<StatusCode, AuthzError> {
    users::add_roles(&caller.editor(&s), &id, &refs).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_roles(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(refs): Body<Vec<String>>,
) -> Result<StatusCode, AuthzError> {
    users::remove_roles(&caller.editor(&s), &id, &refs).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn calculated_roles(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<UserRoleWire>>, AuthzError> {
    let roles = users::calculated_roles(s.store.as_ref(), &id).await?;
    Ok(Json(roles.iter().map(wire::user_role).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyBody {
    connection_name: Option<String>,
    #[serde(default)]
    groups: GroupsField,
}

/// The rule sends an array; an identity provider's comma- or space-separated string is split.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(untagged)]
enum GroupsField {
    #[default]
    None,
    List(Vec<String>),
    Text(String),
}

impl GroupsField {
    fn names(self) -> Vec<String> {
        match self {
            GroupsField::None => vec![],
            GroupsField::List(list) => list,
            GroupsField::Text(text) => text
                .split([',', ' '])
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        }
    }
}

async fn compute_policy(
    State(s): State<AppState>,
    Path((id, client_id)): Path<(String, String)>,
    Body(body): Body<PolicyBody>,
) -> Result<Json<Policy>, AuthzError> {
    let connection = body
        .connection_name
        .ok_or_else(|| super::groups::required("connectionName"))?;
    let p = policy::compute(
        s.store.as_ref(),
        &id,
        &client_id,
        &connection,
        &body.groups.names(),
    )
    .await?;
    Ok(Json(Policy {
        groups: p.groups,
        roles: p.roles,
        permissions: p.permissions,
    }))
}

/// What the extension's rule puts in the user's token: names, for the application.
#[derive(Debug, Serialize, ToSchema)]
struct Policy {
    groups: Vec<String>,
    roles: Vec<String>,
    permissions: Vec<String>,
}
