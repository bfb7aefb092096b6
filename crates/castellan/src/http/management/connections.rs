//! `/connections`: where users come from; the database connection exists from the first start.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, patch, post};
use castellan_core::directory::connections::{self, ConnectionFields};
use castellan_core::model::{AssignOn, Connection, DefaultAssignments, Named};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::paging::Listing;
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
            "/connections",
            AnyOf(&["read:connections"]),
            "List connections",
            get(list),
        )
        .answers(200, Shape::listing_of::<ConnectionResponse>("connections")),
        endpoint(
            Method::POST,
            "/connections",
            AnyOf(&["create:connections"]),
            "Create a connection",
            post(create),
        )
        .takes(Shape::of::<ConnectionRequest>())
        .answers(201, Shape::of::<ConnectionResponse>()),
        endpoint(
            Method::GET,
            "/connections/{id}",
            AnyOf(&["read:connections"]),
            "Get a connection",
            get(read),
        )
        .answers(200, Shape::of::<ConnectionResponse>()),
        endpoint(
            Method::PATCH,
            "/connections/{id}",
            AnyOf(&["update:connections"]),
            "Update a connection",
            patch(update),
        )
        .takes(Shape::of::<ConnectionRequest>())
        .answers(200, Shape::of::<ConnectionResponse>()),
        endpoint(
            Method::DELETE,
            "/connections/{id}",
            AnyOf(&["delete:connections"]),
            "Delete a connection",
            delete(remove),
        )
        .answers_empty(204),
    ]
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ConnectionRequest {
    name: Option<String>,
    strategy: Option<String>,
    options: Option<serde_json::Value>,
    enabled_clients: Option<Vec<String>>,
    /// Absent: unchanged; `null`: removed.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<DefaultAssignmentsWire>)]
    default_assignments: Option<Option<DefaultAssignmentsWire>>,
}

/// Tells an explicit `null` (`Some(None)`) from an absent field (`None`).
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = DefaultAssignments)]
pub struct DefaultAssignmentsWire {
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    on: Option<String>,
}

impl DefaultAssignmentsWire {
    fn into_model(self) -> Result<DefaultAssignments, ApiError> {
        let on = match self.on.as_deref() {
            None => AssignOn::Signup,
            Some(text) => AssignOn::parse(text).ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_body",
                    format!(
                        "default_assignments.on must be one of: {}",
                        AssignOn::expected()
                    ),
                )
            })?,
        };
        Ok(DefaultAssignments {
            roles: self.roles,
            groups: self.groups,
            on,
        })
    }

    fn from_model(d: DefaultAssignments) -> Self {
        DefaultAssignmentsWire {
            roles: d.roles,
            groups: d.groups,
            on: Some(d.on.name().to_string()),
        }
    }
}

impl ConnectionRequest {
    fn into_fields(self) -> Result<ConnectionFields, ApiError> {
        Ok(ConnectionFields {
            name: self.name,
            strategy: self.strategy,
            options: self.options,
            enabled_clients: self.enabled_clients,
            default_assignments: match self.default_assignments {
                None => None,
                Some(None) => Some(None),
                Some(Some(d)) => Some(Some(d.into_model()?)),
            },
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Connection)]
pub struct ConnectionResponse {
    id: String,
    name: String,
    strategy: String,
    options: serde_json::Value,
    enabled_clients: Vec<String>,
    is_domain_connection: bool,
    realms: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_assignments: Option<DefaultAssignmentsWire>,
}

fn wire(c: Connection) -> ConnectionResponse {
    ConnectionResponse {
        realms: vec![c.name.clone()],
        id: c.id,
        name: c.name,
        strategy: c.strategy,
        options: c.options,
        enabled_clients: c.enabled_clients,
        is_domain_connection: false,
        default_assignments: c
            .default_assignments
            .map(DefaultAssignmentsWire::from_model),
    }
}

async fn list(
    State(s): State<AppState>,
    q: QueryParams,
) -> Result<Json<serde_json::Value>, ApiError> {
    let listing = Listing::from_query(&q, true)?;
    let page = s
        .store
        .list_connections(listing.request())
        .await
        .map_err(castellan_core::Error::from)?;
    Ok(listing.respond("connections", page, wire))
}

async fn create(
    State(s): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<ConnectionRequest>,
) -> Result<(StatusCode, Json<ConnectionResponse>), ApiError> {
    let connection = connections::create(&caller.editor(&s), body.into_fields()?).await?;
    Ok((StatusCode::CREATED, Json(wire(connection))))
}

async fn read(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ConnectionResponse>, ApiError> {
    Ok(Json(wire(connections::get(s.store.as_ref(), &id).await?)))
}

async fn update(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ConnectionRequest>,
) -> Result<Json<ConnectionResponse>, ApiError> {
    let connection = connections::update(&caller.editor(&s), &id, body.into_fields()?).await?;
    Ok(Json(wire(connection)))
}

async fn remove(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    connections::delete(&caller.editor(&s), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
