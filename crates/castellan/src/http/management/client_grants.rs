//! `/client-grants`: which scopes of an API a client gets through client credentials.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, patch, post};
use castellan_core::directory::client_grants::{self, NewClientGrant};
use castellan_core::model::ClientGrant;
use castellan_core::store::ClientGrantFilter;
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
            "/client-grants",
            AnyOf(&["read:client_grants"]),
            "List client grants",
            get(list),
        )
        .answers(
            200,
            Shape::listing_of::<ClientGrantResponse>("client_grants"),
        ),
        endpoint(
            Method::POST,
            "/client-grants",
            AnyOf(&["create:client_grants"]),
            "Create a client grant",
            post(create),
        )
        .takes(Shape::of::<CreateRequest>())
        .answers(201, Shape::of::<ClientGrantResponse>()),
        endpoint(
            Method::GET,
            "/client-grants/{id}",
            AnyOf(&["read:client_grants"]),
            "Get a client grant",
            get(read),
        )
        .answers(200, Shape::of::<ClientGrantResponse>()),
        endpoint(
            Method::PATCH,
            "/client-grants/{id}",
            AnyOf(&["update:client_grants"]),
            "Change a client grant's scopes",
            patch(update),
        )
        .takes(Shape::of::<UpdateRequest>())
        .answers(200, Shape::of::<ClientGrantResponse>()),
        endpoint(
            Method::DELETE,
            "/client-grants/{id}",
            AnyOf(&["delete:client_grants"]),
            "Delete a client grant",
            delete(remove),
        )
        .answers_empty(204),
    ]
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = ClientGrantCreate)]
pub struct CreateRequest {
    client_id: String,
    audience: String,
    scope: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = ClientGrantUpdate)]
pub struct UpdateRequest {
    scope: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ClientGrant)]
pub struct ClientGrantResponse {
    id: String,
    client_id: String,
    audience: String,
    scope: Vec<String>,
}

fn wire(g: ClientGrant) -> ClientGrantResponse {
    ClientGrantResponse {
        id: g.id,
        client_id: g.client_id,
        audience: g.audience,
        scope: g.scope,
    }
}

async fn list(
    State(s): State<AppState>,
    q: QueryParams,
) -> Result<Json<serde_json::Value>, ApiError> {
    let listing = Listing::from_query(&q, true)?;
    let audience = match q.get("audience") {
        Some(a) => Some(
            castellan_core::oauth::audience::resolve(s.store.as_ref(), &s.settings.issuer, a)
                .await?
                .map_or_else(|| a.to_string(), |api| api.identifier),
        ),
        None => None,
    };
    let filter = ClientGrantFilter {
        client_id: q.get("client_id").map(str::to_string),
        audience,
    };
    let page = s
        .store
        .list_client_grants(&filter, listing.request())
        .await
        .map_err(castellan_core::Error::from)?;
    Ok(listing.respond("client_grants", page, wire))
}

async fn create(
    State(s): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateRequest>,
) -> Result<(StatusCode, Json<ClientGrantResponse>), ApiError> {
    let input = NewClientGrant {
        client_id: body.client_id,
        audience: body.audience,
        scope: body.scope,
    };
    let grant = client_grants::create(&caller.editor(&s), &s.settings.issuer, input).await?;
    Ok((StatusCode::CREATED, Json(wire(grant))))
}

async fn read(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ClientGrantResponse>, ApiError> {
    Ok(Json(wire(client_grants::get(s.store.as_ref(), &id).await?)))
}

async fn update(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<UpdateRequest>,
) -> Result<Json<ClientGrantResponse>, ApiError> {
    let grant = client_grants::update_scope(
        &caller.editor(&s),
        &s.settings.issuer,
        &id,
        body.scope,
        &super::admin_guard(&s),
    )
    .await?;
    Ok(Json(wire(grant)))
}

async fn remove(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    client_grants::delete(&caller.editor(&s), &id, &super::admin_guard(&s)).await?;
    Ok(StatusCode::NO_CONTENT)
}
