//! `/groups`: groups with their nested groups, members, roles and mappings.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, patch, post, put};
use castellan_core::directory::extension::groups;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::AuthzError;
use super::extract::{Body, Query};
use super::wire;
use crate::app::AppState;
use crate::http::endpoint::{Endpoint, Scopes::AnyOf, endpoint};
use crate::http::guard::Caller;

const READ: crate::http::endpoint::Scopes = AnyOf(&["read:groups"]);
const UPDATE: crate::http::endpoint::Scopes = AnyOf(&["update:groups"]);

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        endpoint(Method::GET, "/groups", READ, "List groups", get(list)),
        endpoint(
            Method::POST,
            "/groups",
            AnyOf(&["create:groups"]),
            "Create a group",
            post(create),
        ),
        endpoint(Method::GET, "/groups/{id}", READ, "Get a group", get(read)),
        endpoint(
            Method::PUT,
            "/groups/{id}",
            UPDATE,
            "Update a group",
            put(update),
        ),
        endpoint(
            Method::DELETE,
            "/groups/{id}",
            AnyOf(&["delete:groups"]),
            "Delete a group",
            delete(remove),
        ),
        endpoint(
            Method::GET,
            "/groups/{id}/nested",
            READ,
            "List nested groups",
            get(nested),
        ),
        endpoint(
            Method::PATCH,
            "/groups/{id}/nested",
            UPDATE,
            "Add nested groups",
            patch(add_nested),
        ),
        endpoint(
            Method::DELETE,
            "/groups/{id}/nested",
            UPDATE,
            "Remove nested groups",
            delete(remove_nested),
        ),
        endpoint(
            Method::GET,
            "/groups/{id}/members",
            READ,
            "List group members",
            get(members),
        ),
        endpoint(
            Method::PATCH,
            "/groups/{id}/members",
            UPDATE,
            "Add group members",
            patch(add_members),
        ),
        endpoint(
            Method::DELETE,
            "/groups/{id}/members",
            UPDATE,
            "Remove group members",
            delete(remove_members),
        ),
        endpoint(
            Method::GET,
            "/groups/{id}/members/nested",
            READ,
            "List members of the group and its nested groups",
            get(nested_members),
        ),
        endpoint(
            Method::GET,
            "/groups/{id}/roles",
            READ,
            "List group roles",
            get(roles),
        ),
        endpoint(
            Method::PATCH,
            "/groups/{id}/roles",
            UPDATE,
            "Add group roles",
            patch(add_roles),
        ),
        endpoint(
            Method::DELETE,
            "/groups/{id}/roles",
            UPDATE,
            "Remove group roles",
            delete(remove_roles),
        ),
        endpoint(
            Method::GET,
            "/groups/{id}/roles/nested",
            READ,
            "List roles of the group and its parents",
            get(nested_roles),
        ),
        endpoint(
            Method::GET,
            "/groups/{id}/mappings",
            READ,
            "List group mappings",
            get(mappings),
        ),
        endpoint(
            Method::PATCH,
            "/groups/{id}/mappings",
            UPDATE,
            "Add group mappings",
            patch(add_mappings),
        ),
        endpoint(
            Method::DELETE,
            "/groups/{id}/mappings",
            UPDATE,
            "Remove group mappings",
            delete(remove_mappings),
        ),
    ]
}

/// The extension's `q`/`field` filter: a case-insensitive substring of `item[field]` (the
/// name when no field is given). `total` counts before filtering, as the extension does.
pub(super) fn filtered(items: Vec<Value>, q: &Query) -> Vec<Value> {
    let Some(needle) = q.get("q").map(str::to_lowercase) else {
        return items;
    };
    let field = q.get("field").unwrap_or("name");
    items
        .into_iter()
        .filter(|item| {
            item[field]
                .as_str()
                .is_some_and(|v| v.to_lowercase().contains(&needle))
        })
        .collect()
}

async fn list(State(s): State<AppState>, q: Query) -> Result<Json<Value>, AuthzError> {
    let records = groups::records(s.store.as_ref()).await?;
    let total = records.len();
    let items = filtered(records.iter().map(wire::group_record).collect(), &q);
    Ok(Json(json!({"groups": items, "total": total})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupBody {
    name: Option<String>,
    description: Option<String>,
}

impl GroupBody {
    fn fields(&self) -> Result<(&str, &str), AuthzError> {
        let name = self.name.as_deref().ok_or_else(|| required("name"))?;
        let description = self
            .description
            .as_deref()
            .ok_or_else(|| required("description"))?;
        Ok((name, description))
    }
}

pub(super) fn required(field: &str) -> AuthzError {
    AuthzError::validation(format!("\"{field}\" is required"))
}

async fn create(
    State(s): State<AppState>,
    caller: Caller,
    Body(body): Body<GroupBody>,
) -> Result<Json<Value>, AuthzError> {
    let (name, description) = body.fields()?;
    let group = groups::create(&caller.editor(&s), name, description).await?;
    Ok(Json(wire::group(&group)))
}

async fn read(
    State(s): State<AppState>,
    Path(id): Path<String>,
    q: Query,
) -> Result<Json<Value>, AuthzError> {
    let store = s.store.as_ref();
    let group = groups::find(store, &id).await?;
    let mut body = wire::group(&group);
    if q.truthy("expand") {
        let roles = groups::expanded_roles(store, &id).await?;
        body["roles"] = roles
            .iter()
            .map(|(r, p)| wire::expanded_role(r, p))
            .collect();
    }
    Ok(Json(body))
}

async fn update(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<GroupBody>,
) -> Result<Json<Value>, AuthzError> {
    let (name, description) = body.fields()?;
    let group = groups::update(&caller.editor(&s), &id, name, description).await?;
    // The extension merges into the stored record, so the answer carries everything.
    let record = groups::records(s.store.as_ref())
        .await?
        .into_iter()
        .find(|r| r.group.id == group.id);
    Ok(Json(
        record
            .as_ref()
            .map_or_else(|| wire::group(&group), wire::group_record),
    ))
}

async fn remove(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, AuthzError> {
    groups::delete(&caller.editor(&s), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn nested(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, AuthzError> {
    let records = groups::nested(s.store.as_ref(), &id).await?;
    Ok(Json(records.iter().map(wire::group_record).collect()))
}

async fn add_nested(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(ids): Body<Vec<String>>,
) -> Result<StatusCode, AuthzError> {
    groups::add_nested(&caller.editor(&s), &id, &ids).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_nested(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(ids): Body<Vec<String>>,
) -> Result<StatusCode, AuthzError> {
    groups::remove_nested(&caller.editor(&s), &id, &ids).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `per_page` 1-25 (default 25) and `page`, effectively 1-based, as in the extension.
fn member_paging(q: &Query) -> Result<castellan_core::paging::PageRequest, AuthzError> {
    let per_page = q.number("per_page", 25, 1, 25)?;
    let page = q.number("page", 0, 0, u64::from(u32::MAX))?;
    Ok(groups::member_page(page, per_page))
}

async fn members(
    State(s): State<AppState>,
    Path(id): Path<String>,
    q: Query,
) -> Result<Json<Value>, AuthzError> {
    let page = groups::members(s.store.as_ref(), &id, member_paging(&q)?).await?;
    let users: Vec<Value> = page.items.iter().map(wire::user).collect();
    Ok(Json(json!({"total": page.total, "users": users})))
}

async fn nested_members(
    State(s): State<AppState>,
    Path(id): Path<String>,
    q: Query,
) -> Result<Json<Value>, AuthzError> {
    let page = groups::nested_members(s.store.as_ref(), &id, member_paging(&q)?).await?;
    let nested: Vec<Value> = page
        .items
        .iter()
        .map(|m| {
            json!({
                "user": {"user_id": m.user.user_id, "name": m.user.name, "nickname": m.user.nickname, "email": m.user.email},
                "group": wire::group(&m.group),
            })
        })
        .collect();
    Ok(Json(json!({"total": page.total, "nested": nested})))
}

async fn add_members(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(ids): Body<Vec<String>>,
) -> Result<StatusCode, AuthzError> {
    groups::add_members(&caller.editor(&s), &id, &ids).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_members(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(ids): Body<Vec<String>>,
) -> Result<StatusCode, AuthzError> {
    groups::remove_members(&caller.editor(&s), &id, &ids).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn roles(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, AuthzError> {
    let records = groups::roles(s.store.as_ref(), &id).await?;
    Ok(Json(records.iter().map(wire::role_record).collect()))
}

async fn nested_roles(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, AuthzError> {
    let store = s.store.as_ref();
    let granted = groups::nested_roles(store, &id).await?;
    let roles = castellan_core::directory::extension::roles::records(store).await?;
    let groups = groups::records(store).await?;
    let body: Vec<Value> = granted
        .iter()
        .filter_map(|g| {
            let role = roles.iter().find(|r| r.role.id == g.role.id)?;
            let group = groups.iter().find(|r| r.group.id == g.group.id)?;
            Some(json!({"role": wire::role_record(role), "group": wire::group_record(group)}))
        })
        .collect();
    Ok(Json(Value::Array(body)))
}

async fn add_roles(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(ids): Body<Vec<String>>,
) -> Result<StatusCode, AuthzError> {
    groups::add_roles(&caller.editor(&s), &id, &ids).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_roles(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(ids): Body<Vec<String>>,
) -> Result<StatusCode, AuthzError> {
    groups::remove_roles(&caller.editor(&s), &id, &ids).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn mappings(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, AuthzError> {
    let mappings = groups::mappings(s.store.as_ref(), &id).await?;
    let body: Vec<Value> = mappings
        .iter()
        .map(|(m, c)| {
            json!({"_id": m.id, "groupName": m.group_name, "connectionName": format!("{} ({})", c.name, c.strategy)})
        })
        .collect();
    Ok(Json(Value::Array(body)))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MappingBody {
    group_name: String,
    connection_name: String,
}

async fn add_mappings(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(entries): Body<Vec<MappingBody>>,
) -> Result<StatusCode, AuthzError> {
    let entries: Vec<(String, String)> = entries
        .into_iter()
        .map(|m| (m.group_name, m.connection_name))
        .collect();
    groups::add_mappings(&caller.editor(&s), &id, &entries).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_mappings(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(ids): Body<Vec<String>>,
) -> Result<StatusCode, AuthzError> {
    groups::remove_mappings(&caller.editor(&s), &id, &ids).await?;
    Ok(StatusCode::NO_CONTENT)
}
