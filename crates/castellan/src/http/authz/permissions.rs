//! `/permissions`: the extension's permissions.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, post, put};
use castellan_core::directory::extension::permissions::{self, PermissionInput};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::AuthzError;
use super::extract::{Body, Query};
use super::groups::{filtered, required};
use super::wire::{self, PermissionRecordWire, PermissionWire};
use crate::app::AppState;
use crate::http::endpoint::{Endpoint, Scopes::AnyOf, endpoint};
use crate::http::guard::Caller;
use crate::http::wire_schema::Shape;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        endpoint(
            Method::GET,
            "/permissions",
            AnyOf(&["read:permissions"]),
            "List permissions",
            get(list),
        )
        .answers(200, Shape::of::<PermissionList>()),
        endpoint(
            Method::POST,
            "/permissions",
            AnyOf(&["create:permissions"]),
            "Create a permission",
            post(create),
        )
        .takes(Shape::of::<PermissionBody>())
        .answers(200, Shape::of::<PermissionRecordWire>()),
        endpoint(
            Method::GET,
            "/permissions/{id}",
            AnyOf(&["read:permissions"]),
            "Get a permission",
            get(read),
        )
        .answers(200, Shape::of::<PermissionWire>()),
        endpoint(
            Method::PUT,
            "/permissions/{id}",
            AnyOf(&["update:permissions"]),
            "Update a permission",
            put(update),
        )
        .takes(Shape::of::<PermissionBody>())
        .answers(200, Shape::of::<PermissionRecordWire>()),
        endpoint(
            Method::DELETE,
            "/permissions/{id}",
            AnyOf(&["delete:permissions"]),
            "Delete a permission",
            delete(remove),
        )
        .answers_empty(204),
    ]
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PermissionBody {
    name: Option<String>,
    description: Option<String>,
    application_type: Option<String>,
    application_id: Option<String>,
}

impl PermissionBody {
    fn input(self) -> Result<PermissionInput, AuthzError> {
        Ok(PermissionInput {
            name: self.name.ok_or_else(|| required("name"))?,
            description: self.description.ok_or_else(|| required("description"))?,
            application_type: self
                .application_type
                .ok_or_else(|| required("applicationType"))?,
            application_id: self
                .application_id
                .ok_or_else(|| required("applicationId"))?,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
struct PermissionList {
    permissions: Vec<PermissionRecordWire>,
    /// Before `q` filters.
    total: usize,
}

async fn list(State(s): State<AppState>, q: Query) -> Result<Json<PermissionList>, AuthzError> {
    let all = permissions::list(s.store.as_ref()).await?;
    let total = all.len();
    let items = filtered(all.iter().map(wire::permission_record).collect(), &q);
    Ok(Json(PermissionList {
        permissions: items,
        total,
    }))
}

async fn create(
    State(s): State<AppState>,
    caller: Caller,
    Body(body): Body<PermissionBody>,
) -> Result<Json<PermissionRecordWire>, AuthzError> {
    let p = permissions::create(&caller.editor(&s), body.input()?).await?;
    Ok(Json(wire::permission_record(&p)))
}

/// Only `{_id, name, description}`, as the extension answers.
async fn read(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<PermissionWire>, AuthzError> {
    Ok(Json(wire::permission(
        &permissions::find(s.store.as_ref(), &id).await?,
    )))
}

async fn update(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<PermissionBody>,
) -> Result<Json<PermissionRecordWire>, AuthzError> {
    let p = permissions::update(&caller.editor(&s), &id, body.input()?).await?;
    Ok(Json(wire::permission_record(&p)))
}

async fn remove(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, AuthzError> {
    permissions::delete(&caller.editor(&s), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
