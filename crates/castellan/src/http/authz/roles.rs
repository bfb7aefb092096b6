//! `/roles`: the shared roles, bound to an application, with the extension's permissions.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, post, put};
use castellan_core::directory::extension::roles::{self, RoleInput};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::AuthzError;
use super::extract::{Body, Query};
use super::groups::{filtered, required};
use super::wire::{self, RoleRecordWire, RoleWire};
use crate::app::AppState;
use crate::http::endpoint::{Endpoint, Scopes::AnyOf, endpoint};
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
        .answers(200, Shape::of::<RoleList>()),
        endpoint(
            Method::POST,
            "/roles",
            AnyOf(&["create:roles"]),
            "Create a role",
            post(create),
        )
        .takes(Shape::of::<RoleBody>())
        .answers(200, Shape::of::<RoleRecordWire>()),
        endpoint(
            Method::GET,
            "/roles/{id}",
            AnyOf(&["read:roles"]),
            "Get a role",
            get(read),
        )
        .answers(200, Shape::of::<RoleWire>()),
        endpoint(
            Method::PUT,
            "/roles/{id}",
            AnyOf(&["update:roles"]),
            "Update a role",
            put(update),
        )
        .takes(Shape::of::<RoleBody>())
        .answers(200, Shape::of::<RoleRecordWire>()),
        endpoint(
            Method::DELETE,
            "/roles/{id}",
            AnyOf(&["delete:roles"]),
            "Delete a role",
            delete(remove),
        )
        .answers_empty(204),
    ]
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleBody {
    name: Option<String>,
    description: Option<String>,
    application_type: Option<String>,
    application_id: Option<String>,
    #[serde(default)]
    permissions: Vec<String>,
}

impl RoleBody {
    fn input(self) -> Result<RoleInput, AuthzError> {
        Ok(RoleInput {
            name: self.name.ok_or_else(|| required("name"))?,
            description: self.description.ok_or_else(|| required("description"))?,
            application_type: self
                .application_type
                .ok_or_else(|| required("applicationType"))?,
            application_id: self
                .application_id
                .ok_or_else(|| required("applicationId"))?,
            permissions: self.permissions,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
struct RoleList {
    roles: Vec<RoleRecordWire>,
    /// Before `q` filters.
    total: usize,
}

async fn list(State(s): State<AppState>, q: Query) -> Result<Json<RoleList>, AuthzError> {
    let records = roles::records(s.store.as_ref()).await?;
    let total = records.len();
    let items = filtered(records.iter().map(wire::role_record).collect(), &q);
    Ok(Json(RoleList {
        roles: items,
        total,
    }))
}

async fn create(
    State(s): State<AppState>,
    caller: Caller,
    Body(body): Body<RoleBody>,
) -> Result<Json<RoleRecordWire>, AuthzError> {
    let record = roles::create(&caller.editor(&s), body.input()?).await?;
    Ok(Json(wire::role_record(&record)))
}

/// Only `{_id, name, description}`, as the extension answers.
async fn read(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<RoleWire>, AuthzError> {
    Ok(Json(wire::role(&roles::find(s.store.as_ref(), &id).await?)))
}

async fn update(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<RoleBody>,
) -> Result<Json<RoleRecordWire>, AuthzError> {
    let record = roles::update(&caller.editor(&s), &id, body.input()?).await?;
    Ok(Json(wire::role_record(&record)))
}

async fn remove(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, AuthzError> {
    roles::delete(&caller.editor(&s), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
