//! `/clients`: applications, with `rotate-secret`. The secret is shown in the answers to
//! creation and rotation only, since only its hash is stored.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, patch, post};
use castellan_core::directory::clients::{self, ClientFields, ClientWithSecret, RefreshTokenInput};
use castellan_core::model::{Client, Named, RefreshTokenSettings};
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
            "/clients",
            AnyOf(&["read:clients", "read:client_keys", "read:client_summary"]),
            "List clients",
            get(list),
        )
        .answers(200, Shape::listing_of::<ClientResponse>("clients")),
        endpoint(
            Method::POST,
            "/clients",
            AnyOf(&["create:clients"]),
            "Create a client",
            post(create),
        )
        .takes(Shape::of::<ClientRequest>())
        .answers(201, Shape::of::<ClientResponse>()),
        endpoint(
            Method::GET,
            "/clients/{id}",
            AnyOf(&["read:clients", "read:client_keys"]),
            "Get a client",
            get(read),
        )
        .answers(200, Shape::of::<ClientResponse>()),
        endpoint(
            Method::PATCH,
            "/clients/{id}",
            AnyOf(&["update:clients", "update:client_keys"]),
            "Update a client",
            patch(update),
        )
        .takes(Shape::of::<ClientRequest>())
        .answers(200, Shape::of::<ClientResponse>()),
        endpoint(
            Method::DELETE,
            "/clients/{id}",
            AnyOf(&["delete:clients"]),
            "Delete a client",
            delete(remove),
        )
        .answers_empty(204),
        endpoint(
            Method::POST,
            "/clients/{id}/rotate-secret",
            AnyOf(&["update:client_keys"]),
            "Rotate a client's secret",
            post(rotate_secret),
        )
        .answers(200, Shape::of::<ClientResponse>()),
    ]
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ClientRequest {
    name: Option<String>,
    description: Option<String>,
    app_type: Option<String>,
    is_first_party: Option<bool>,
    grant_types: Option<Vec<String>>,
    callbacks: Option<Vec<String>>,
    allowed_logout_urls: Option<Vec<String>>,
    web_origins: Option<Vec<String>>,
    /// Origins whose browser code may call the authentication API (CORS), each
    /// `scheme://host[:port]`; the host may begin with `*.` for any one label.
    allowed_origins: Option<Vec<String>>,
    token_endpoint_auth_method: Option<String>,
    /// How refresh tokens rotate and end. `rotation_type` and `expiration_type` are
    /// required; the other settings left out take Auth0's defaults for those types, the
    /// idle lifetime no longer than the lifetime.
    /// Rotating tokens must expire, within a year; idleness may not outlast the lifetime.
    refresh_token: Option<RefreshTokenInput>,
    client_metadata: Option<BTreeMap<String, String>>,
}

impl From<ClientRequest> for ClientFields {
    fn from(r: ClientRequest) -> Self {
        ClientFields {
            name: r.name,
            description: r.description,
            app_type: r.app_type,
            is_first_party: r.is_first_party,
            grant_types: r.grant_types,
            callbacks: r.callbacks,
            allowed_logout_urls: r.allowed_logout_urls,
            web_origins: r.web_origins,
            allowed_origins: r.allowed_origins,
            token_endpoint_auth_method: r.token_endpoint_auth_method,
            refresh_token: r.refresh_token,
            client_metadata: r.client_metadata,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Client)]
pub struct ClientResponse {
    client_id: String,
    name: String,
    description: String,
    app_type: &'static str,
    is_first_party: bool,
    oidc_conformant: bool,
    global: bool,
    grant_types: Vec<String>,
    callbacks: Vec<String>,
    allowed_logout_urls: Vec<String>,
    web_origins: Vec<String>,
    /// Origins whose browser code may call the authentication API (CORS), each
    /// `scheme://host[:port]`; the host may begin with `*.` for any one label.
    allowed_origins: Vec<String>,
    token_endpoint_auth_method: &'static str,
    refresh_token: RefreshTokenSettings,
    client_metadata: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
}

fn wire(client: Client) -> ClientResponse {
    ClientResponse {
        client_id: client.client_id,
        name: client.name,
        description: client.description,
        app_type: client.app_type.name(),
        is_first_party: client.is_first_party,
        oidc_conformant: true,
        global: false,
        grant_types: client.grant_types,
        callbacks: client.callbacks,
        allowed_logout_urls: client.allowed_logout_urls,
        web_origins: client.web_origins,
        allowed_origins: client.allowed_origins,
        token_endpoint_auth_method: client.token_endpoint_auth_method.name(),
        refresh_token: client.refresh_token,
        client_metadata: client.client_metadata,
        client_secret: None,
    }
}

fn with_secret(created: ClientWithSecret) -> ClientResponse {
    ClientResponse {
        client_secret: created.secret,
        ..wire(created.client)
    }
}

async fn list(
    State(s): State<AppState>,
    q: QueryParams,
) -> Result<Json<serde_json::Value>, ApiError> {
    let listing = Listing::from_query(&q, false)?;
    let page = s
        .store
        .list_clients(listing.request())
        .await
        .map_err(castellan_core::Error::from)?;
    Ok(listing.respond("clients", page, wire))
}

async fn create(
    State(s): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<ClientRequest>,
) -> Result<(StatusCode, Json<ClientResponse>), ApiError> {
    let fields = ClientFields::from(body);
    let created = clients::create(&caller.editor(&s), fields.into()).await?;
    Ok((StatusCode::CREATED, Json(with_secret(created))))
}

async fn read(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ClientResponse>, ApiError> {
    Ok(Json(wire(clients::get(s.store.as_ref(), &id).await?)))
}

async fn update(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ClientRequest>,
) -> Result<Json<ClientResponse>, ApiError> {
    let fields = ClientFields::from(body);
    let guard = super::admin_guard(&s);
    let updated = clients::update(&caller.editor(&s), &id, fields.into(), &guard).await?;
    Ok(Json(with_secret(updated)))
}

async fn remove(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    clients::delete(&caller.editor(&s), &id, &super::admin_guard(&s)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn rotate_secret(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ClientResponse>, ApiError> {
    let rotated = clients::rotate_secret(&caller.editor(&s), &id).await?;
    Ok(Json(with_secret(rotated)))
}
