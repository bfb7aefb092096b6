//! `/groups`: groups with their nested groups, members, roles and mappings.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, patch, post, put};
use castellan_core::directory::extension::groups;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::AuthzError;
use super::extract::{Body, Query};
use super::wire::{self, GroupRecordWire, GroupWire, MappingWire, RoleRecordWire, UserWire};
use crate::app::AppState;
use crate::http::endpoint::{Endpoint, Scopes::AnyOf, endpoint};
use crate::http::guard::Caller;
use crate::http::wire_schema::Shape;

const READ: crate::http::endpoint::Scopes = AnyOf(&["read:groups"]);
const UPDATE: crate::http::endpoint::Scopes = AnyOf(&["update:groups"]);

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        endpoint(Method::GET, "/groups", READ, "List groups", get(list))
            .answers(200, Shape::of::<GroupList>()),
        endpoint(
            Method::POST,
            "/groups",
            AnyOf(&["create:groups"]),
            "Create a group",
            post(create),
        )
        .takes(Shape::of::<GroupBody>())
        .answers(200, Shape::of::<GroupWire>()),
        endpoint(Method::GET, "/groups/{id}", READ, "Get a group", get(read))
            .answers(200, Shape::of::<GroupWire>()),
        endpoint(
            Method::PUT,
            "/groups/{id}",
            UPDATE,
            "Update a group",
            put(update),
        )
        .takes(Shape::of::<GroupBody>())
        .answers(200, Shape::of::<GroupRecordWire>()),
        endpoint(
            Method::DELETE,
            "/groups/{id}",
            AnyOf(&["delete:groups"]),
            "Delete a group",
            delete(remove),
        )
        .answers_empty(204),
        endpoint(
            Method::GET,
            "/groups/{id}/nested",
            READ,
            "List nested groups",
            get(nested),
        )
        .answers(200, Shape::list_of::<GroupRecordWire>()),
        endpoint(
            Method::PATCH,
            "/groups/{id}/nested",
            UPDATE,
            "Add nested groups",
            patch(add_nested),
        )
        .takes(Shape::strings())
        .answers_empty(204),
        endpoint(
            Method::DELETE,
            "/groups/{id}/nested",
            UPDATE,
            "Remove nested groups",
            delete(remove_nested),
        )
        .takes(Shape::strings())
        .answers_empty(204),
        endpoint(
            Method::GET,
            "/groups/{id}/members",
            READ,
            "List group members",
            get(members),
        )
        .answers(200, Shape::of::<MemberPage>()),
        endpoint(
            Method::PATCH,
            "/groups/{id}/members",
            UPDATE,
            "Add group members",
            patch(add_members),
        )
        .takes(Shape::strings())
        .answers_empty(204),
        endpoint(
            Method::DELETE,
            "/groups/{id}/members",
            UPDATE,
            "Remove group members",
            delete(remove_members),
        )
        .takes(Shape::strings())
        .answers_empty(204),
        endpoint(
            Method::GET,
            "/groups/{id}/members/nested",
            READ,
            "List members of the group and its nested groups",
            get(nested_members),
        )
        .answers(200, Shape::of::<NestedMemberPage>()),
        endpoint(
            Method::GET,
            "/groups/{id}/roles",
            READ,
            "List group roles",
            get(roles),
        )
        .answers(200, Shape::list_of::<RoleRecordWire>()),
        endpoint(
            Method::PATCH,
            "/groups/{id}/roles",
            UPDATE,
            "Add group roles",
            patch(add_roles),
        )
        .takes(Shape::strings())
        .answers_empty(204),
        endpoint(
            Method::DELETE,
            "/groups/{id}/roles",
            UPDATE,
            "Remove group roles",
            delete(remove_roles),
        )
        .takes(Shape::strings())
        .answers_empty(204),
        endpoint(
            Method::GET,
            "/groups/{id}/roles/nested",
            READ,
            "List roles of the group and its parents",
            get(nested_roles),
        )
        .answers(200, Shape::list_of::<GrantedRole>()),
        endpoint(
            Method::GET,
            "/groups/{id}/mappings",
            READ,
            "List group mappings",
            get(mappings),
        )
        .answers(200, Shape::list_of::<MappingWire>()),
        endpoint(
            Method::PATCH,
            "/groups/{id}/mappings",
            UPDATE,
            "Add group mappings",
            patch(add_mappings),
        )
        .takes(Shape::list_of::<MappingBody>())
        .answers_empty(204),
        endpoint(
            Method::DELETE,
            "/groups/{id}/mappings",
            UPDATE,
            "Remove group mappings",
            delete(remove_mappings),
        )
        .takes(Shape::strings())
        .answers_empty(204),
    ]
}

/// The extension's `q`/`field` filter: a case-insensitive substring of `item[field]` (the
/// name when no field is given). `total` counts before filtering, as the extension does.
pub(super) fn filtered<T: Serialize>(items: Vec<T>, q: &Query) -> Vec<T> {
    let Some(needle) = q.get("q").map(str::to_lowercase) else {
        return items;
    };
    let field = q.get("field").unwrap_or("name");
    items
        .into_iter()
        .filter(|item| {
            serde_json::to_value(item).unwrap_or_default()[field]
                .as_str()
                .is_some_and(|v| v.to_lowercase().contains(&needle))
        })
        .collect()
}

#[derive(Debug, Serialize, ToSchema)]
struct GroupList {
    groups: Vec<GroupRecordWire>,
    /// Before `q` filters.
    total: usize,
}

async fn list(State(s): State<AppState>, q: Query) -> Result<Json<GroupList>, AuthzError> {
    let records = groups::records(s.store.as_ref()).await?;
    let total = records.len();
    let groups = filtered(records.iter().map(wire::group_record).collect(), &q);
    Ok(Json(GroupList { groups, total }))
}

#[derive(Debug, Deserialize, ToSchema)]
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
) -> Result<Json<GroupWire>, AuthzError> {
    let (name, description) = body.fields()?;
    let group = groups::create(&caller.editor(&s), name, description).await?;
    Ok(Json(wire::group(&group)))
}

async fn read(
    State(s): State<AppState>,
    Path(id): Path<String>,
    q: Query,
) -> Result<Json<GroupWire>, AuthzError> {
    let store = s.store.as_ref();
    let group = groups::find(store, &id).await?;
    let mut body = wire::group(&group);
    if q.truthy("expand") {
        let roles = groups::expanded_roles(store, &id).await?;
        body.roles = Some(
            roles
                .iter()
                .map(|(r, p)| wire::expanded_role(r, p))
                .collect(),
        );
    }
    Ok(Json(body))
}

async fn update(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<GroupBody>,
) -> Result<Json<GroupRecordWire>, AuthzError> {
    let (name, description) = body.fields()?;
    let group = groups::update(&caller.editor(&s), &id, name, description).await?;
    // The extension merges into the stored record, so the answer carries everything.
    let record = groups::records(s.store.as_ref())
        .await?
        .into_iter()
        .find(|r| r.group.id == group.id)
        .unwrap_or_else(|| castellan_core::model::GroupRecord {
            group,
            members: vec![],
            roles: vec![],
            nested: vec![],
            mappings: vec![],
        });
    Ok(Json(wire::group_record(&record)))
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
) -> Result<Json<Vec<GroupRecordWire>>, AuthzError> {
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
) -> Result<Json<MemberPage>, AuthzError> {
    let page = groups::members(s.store.as_ref(), &id, member_paging(&q)?).await?;
    let users = page.items.iter().map(wire::user).collect();
    Ok(Json(MemberPage {
        total: page.total,
        users,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub(super) struct MemberPage {
    pub total: u64,
    pub users: Vec<UserWire>,
}

/// The short user of a nested membership.
#[derive(Debug, Serialize, ToSchema)]
struct NestedUser {
    user_id: String,
    name: Option<String>,
    nickname: Option<String>,
    email: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
struct NestedMember {
    user: NestedUser,
    /// The group, this one or a nested one, that holds the user.
    group: GroupWire,
}

#[derive(Debug, Serialize, ToSchema)]
struct NestedMemberPage {
    total: u64,
    nested: Vec<NestedMember>,
}

async fn nested_members(
    State(s): State<AppState>,
    Path(id): Path<String>,
    q: Query,
) -> Result<Json<NestedMemberPage>, AuthzError> {
    let page = groups::nested_members(s.store.as_ref(), &id, member_paging(&q)?).await?;
    let nested = page
        .items
        .into_iter()
        .map(|m| NestedMember {
            group: wire::group(&m.group),
            user: NestedUser {
                user_id: m.user.user_id,
                name: m.user.name,
                nickname: m.user.nickname,
                email: m.user.email,
            },
        })
        .collect();
    Ok(Json(NestedMemberPage {
        total: page.total,
        nested,
    }))
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
) -> Result<Json<Vec<RoleRecordWire>>, AuthzError> {
    let records = groups::roles(s.store.as_ref(), &id).await?;
    Ok(Json(records.iter().map(wire::role_record).collect()))
}

async fn nested_roles(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<GrantedRole>>, AuthzError> {
    let store = s.store.as_ref();
    let granted = groups::nested_roles(store, &id).await?;
    let roles = castellan_core::directory::extension::roles::records(store).await?;
    let groups = groups::records(store).await?;
    let body = granted
        .iter()
        .filter_map(|g| {
            let role = roles.iter().find(|r| r.role.id == g.role.id)?;
            let group = groups.iter().find(|r| r.group.id == g.group.id)?;
            Some(GrantedRole {
                role: wire::role_record(role),
                group: wire::group_record(group),
            })
        })
        .collect();
    Ok(Json(body))
}

/// A role and the group, this one or an ancestor, that grants it.
#[derive(Debug, Serialize, ToSchema)]
struct GrantedRole {
    role: RoleRecordWire,
    group: GroupRecordWire,
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
) -> Result<Json<Vec<MappingWire>>, AuthzError> {
    let mappings = groups::mappings(s.store.as_ref(), &id).await?;
    let body = mappings
        .iter()
        .map(|(m, c)| MappingWire {
            connection_name: format!("{} ({})", c.name, c.strategy),
            ..wire::mapping(m)
        })
        .collect();
    Ok(Json(body))
}

#[derive(Debug, Deserialize, ToSchema)]
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
