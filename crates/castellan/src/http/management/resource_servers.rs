//! `/resource-servers`: APIs, addressed by id or by (URL-encoded) identifier.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, patch, post};
use castellan_core::directory::resource_servers::{self, ResourceServerFields};
use castellan_core::model::{Named, ResourceServer, Scope};
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
            "/resource-servers",
            AnyOf(&["read:resource_servers"]),
            "List APIs",
            get(list),
        )
        .answers(
            200,
            Shape::listing_of::<ResourceServerResponse>("resource_servers"),
        ),
        endpoint(
            Method::POST,
            "/resource-servers",
            AnyOf(&["create:resource_servers"]),
            "Create an API",
            post(create),
        )
        .takes(Shape::of::<ResourceServerRequest>())
        .answers(201, Shape::of::<ResourceServerResponse>()),
        endpoint(
            Method::GET,
            "/resource-servers/{id}",
            AnyOf(&["read:resource_servers"]),
            "Get an API by id or identifier",
            get(read),
        )
        .answers(200, Shape::of::<ResourceServerResponse>()),
        endpoint(
            Method::PATCH,
            "/resource-servers/{id}",
            AnyOf(&["update:resource_servers"]),
            "Update an API",
            patch(update),
        )
        .takes(Shape::of::<ResourceServerRequest>())
        .answers(200, Shape::of::<ResourceServerResponse>()),
        endpoint(
            Method::DELETE,
            "/resource-servers/{id}",
            AnyOf(&["delete:resource_servers"]),
            "Delete an API",
            delete(remove),
        )
        .answers_empty(204),
    ]
}

/// A scope as the wire carries it (`description` may be left out of a request).
#[derive(ToSchema)]
#[schema(as = ResourceServerScope)]
#[allow(dead_code)]
struct ScopeWire {
    value: String,
    #[schema(required = false)]
    description: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ResourceServerRequest {
    name: Option<String>,
    identifier: Option<String>,
    #[schema(value_type = Option<Vec<ScopeWire>>)]
    scopes: Option<Vec<Scope>>,
    token_lifetime: Option<i64>,
    signing_alg: Option<String>,
    enforce_policies: Option<bool>,
    token_dialect: Option<String>,
    allow_offline_access: Option<bool>,
    skip_consent_for_verifiable_first_party_clients: Option<bool>,
}

impl From<ResourceServerRequest> for ResourceServerFields {
    fn from(r: ResourceServerRequest) -> Self {
        ResourceServerFields {
            name: r.name,
            identifier: r.identifier,
            scopes: r.scopes,
            token_lifetime: r.token_lifetime,
            signing_alg: r.signing_alg,
            enforce_policies: r.enforce_policies,
            token_dialect: r.token_dialect,
            allow_offline_access: r.allow_offline_access,
            skip_consent_for_verifiable_first_party_clients: r
                .skip_consent_for_verifiable_first_party_clients,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ResourceServer)]
pub struct ResourceServerResponse {
    id: String,
    name: String,
    identifier: String,
    #[schema(value_type = Vec<ScopeWire>)]
    scopes: Vec<Scope>,
    token_lifetime: i64,
    token_lifetime_for_web: i64,
    signing_alg: &'static str,
    enforce_policies: bool,
    token_dialect: &'static str,
    allow_offline_access: bool,
    skip_consent_for_verifiable_first_party_clients: bool,
    is_system: bool,
}

fn wire(api: ResourceServer) -> ResourceServerResponse {
    ResourceServerResponse {
        id: api.id,
        name: api.name,
        identifier: api.identifier,
        scopes: api.scopes,
        token_lifetime: api.token_lifetime,
        token_lifetime_for_web: api.token_lifetime,
        signing_alg: api.signing_alg.name(),
        enforce_policies: api.enforce_policies,
        token_dialect: api.token_dialect.name(),
        allow_offline_access: api.allow_offline_access,
        skip_consent_for_verifiable_first_party_clients: api
            .skip_consent_for_verifiable_first_party_clients,
        is_system: api.is_system,
    }
}

async fn list(
    State(s): State<AppState>,
    q: QueryParams,
) -> Result<Json<serde_json::Value>, ApiError> {
    let listing = Listing::from_query(&q, false)?;
    let page = s
        .store
        .list_resource_servers(listing.request())
        .await
        .map_err(castellan_core::Error::from)?;
    Ok(listing.respond("resource_servers", page, wire))
}

async fn create(
    State(s): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<ResourceServerRequest>,
) -> Result<(StatusCode, Json<ResourceServerResponse>), ApiError> {
    let api = resource_servers::create(&caller.editor(&s), body.into()).await?;
    Ok((StatusCode::CREATED, Json(wire(api))))
}

async fn read(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ResourceServerResponse>, ApiError> {
    Ok(Json(wire(
        resource_servers::get(s.store.as_ref(), &id).await?,
    )))
}

async fn update(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ResourceServerRequest>,
) -> Result<Json<ResourceServerResponse>, ApiError> {
    Ok(Json(wire(
        resource_servers::update(&caller.editor(&s), &id, body.into()).await?,
    )))
}

async fn remove(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    resource_servers::delete(&caller.editor(&s), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
