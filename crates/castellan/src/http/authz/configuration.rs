//! `/configuration`: settings, status, the API key, export and import, and API access.

use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, patch, post};
use castellan_core::directory::extension::configuration;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::document;
use super::error::AuthzError;
use super::extract::Body;
use crate::app::AppState;
use crate::http::endpoint::{Endpoint, Scopes::AnyOf, endpoint};
use crate::http::guard::Caller;
use crate::http::wire_schema::Shape;

pub fn endpoints() -> Vec<Endpoint> {
    let read = AnyOf(&["read:configuration"]);
    let update = AnyOf(&["update:configuration"]);
    vec![
        endpoint(
            Method::GET,
            "/configuration",
            read,
            "Get the configuration",
            get(read_settings),
        )
        .answers(200, Shape::object(true)),
        endpoint(
            Method::PATCH,
            "/configuration",
            update,
            "Update the configuration",
            patch(update_settings),
        )
        .takes(Shape::object(false))
        .answers(200, Shape::object(false)),
        endpoint(
            Method::GET,
            "/configuration/status",
            read,
            "Get the rule and storage status",
            get(status),
        )
        .answers(200, Shape::of::<Status>()),
        endpoint(
            Method::PATCH,
            "/configuration/rotate-apikey",
            update,
            "Rotate the API key",
            patch(rotate),
        )
        .answers(200, Shape::of::<ApiKey>()),
        endpoint(
            Method::GET,
            "/configuration/export",
            read,
            "Export all data",
            get(export),
        )
        .answers(200, Shape::object(false)),
        endpoint(
            Method::POST,
            "/configuration/import",
            update,
            "Replace all data",
            post(import),
        )
        .takes(Shape::object(false))
        .answers_empty(204),
        endpoint(
            Method::GET,
            "/configuration/resource-server",
            AnyOf(&["read:resource-server"]),
            "Get API access",
            get(read_api),
        )
        .answers(200, Shape::of::<ApiAccess>()),
        endpoint(
            Method::POST,
            "/configuration/resource-server",
            AnyOf(&["create:resource-server"]),
            "Enable API access",
            post(create_api),
        )
        .answers(200, Shape::of::<ApiRecord>()),
        endpoint(
            Method::PATCH,
            "/configuration/resource-server",
            AnyOf(&["update:resource-server"]),
            "Update API access",
            patch(update_api),
        )
        .takes(Shape::of::<ApiAccessBody>())
        .answers_empty(204),
        endpoint(
            Method::DELETE,
            "/configuration/resource-server",
            AnyOf(&["delete:resource-server"]),
            "Disable API access",
            delete(delete_api),
        )
        .answers_empty(204),
    ]
}

/// The stored record, or null. Castellan keeps only a digest of the API key, so unlike the
/// extension the answer never holds the key.
async fn read_settings(State(s): State<AppState>) -> Result<Json<Value>, AuthzError> {
    let settings = configuration::settings(s.store.as_ref()).await?;
    Ok(Json(
        settings.map_or(Value::Null, document::configuration_record),
    ))
}

async fn update_settings(
    State(s): State<AppState>,
    caller: Caller,
    Body(patch): Body<Map<String, Value>>,
) -> Result<Json<Value>, AuthzError> {
    let saved = configuration::update_settings(&caller.editor(&s), &patch).await?;
    Ok(Json(document::configuration_record(saved)))
}

/// No rule is installed by Castellan (its log-in pipeline reads the data directly), so the
/// rule does not exist; the database size is that of the exported document.
async fn status(State(s): State<AppState>) -> Result<Json<Status>, AuthzError> {
    let data = configuration::export(s.store.as_ref()).await?;
    let size = document::export(&data).to_string().len();
    Ok(Json(Status {
        rule: RuleStatus {
            exists: false,
            enabled: false,
        },
        database: DatabaseStatus {
            size,
            kind: "default",
        },
    }))
}

#[derive(Debug, Serialize, ToSchema)]
struct Status {
    rule: RuleStatus,
    database: DatabaseStatus,
}

#[derive(Debug, Serialize, ToSchema)]
struct RuleStatus {
    exists: bool,
    enabled: bool,
}

#[derive(Debug, Serialize, ToSchema)]
struct DatabaseStatus {
    /// Bytes of the exported document.
    size: usize,
    #[serde(rename = "type")]
    kind: &'static str,
}

/// The new key, shown once: send it as `x-api-key` to the policy endpoint.
async fn rotate(State(s): State<AppState>, caller: Caller) -> Result<Json<ApiKey>, AuthzError> {
    let key = configuration::rotate_api_key(&caller.editor(&s)).await?;
    Ok(Json(ApiKey { hash: key }))
}

/// The extension calls the new key `hash`.
#[derive(Debug, Serialize, ToSchema)]
struct ApiKey {
    hash: String,
}

async fn export(State(s): State<AppState>) -> Result<Json<Value>, AuthzError> {
    let data = configuration::export(s.store.as_ref()).await?;
    Ok(Json(document::export(&data)))
}

async fn import(
    State(s): State<AppState>,
    caller: Caller,
    Body(doc): Body<Value>,
) -> Result<StatusCode, AuthzError> {
    let data = document::import(&doc, s.clock.now())?;
    configuration::import(&caller.editor(&s), &data).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
struct ApiRecord {
    id: String,
    name: String,
    identifier: String,
    token_lifetime: i64,
    scopes: Vec<ApiScope>,
}

#[derive(Debug, Serialize, ToSchema)]
struct ApiScope {
    value: String,
    description: String,
}

fn api_record(api: &castellan_core::model::ResourceServer) -> ApiRecord {
    ApiRecord {
        id: api.id.clone(),
        name: api.name.clone(),
        identifier: api.identifier.clone(),
        token_lifetime: api.token_lifetime,
        scopes: api
            .scopes
            .iter()
            .map(|sc| ApiScope {
                value: sc.value.clone(),
                description: sc.description.clone(),
            })
            .collect(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
struct ApiAccess {
    #[serde(rename = "apiAccess")]
    api_access: bool,
    token_lifetime: i64,
}

async fn read_api(State(s): State<AppState>) -> Result<Json<ApiAccess>, AuthzError> {
    let api = configuration::api(s.store.as_ref()).await?;
    Ok(Json(ApiAccess {
        api_access: true,
        token_lifetime: api.token_lifetime,
    }))
}

/// The API exists from the first start; this returns it.
async fn create_api(State(s): State<AppState>) -> Result<Json<ApiRecord>, AuthzError> {
    Ok(Json(api_record(
        &configuration::api(s.store.as_ref()).await?,
    )))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiAccessBody {
    api_access: Option<bool>,
    #[serde(rename = "token_lifetime")]
    token_lifetime: Option<i64>,
}

async fn update_api(
    State(s): State<AppState>,
    caller: Caller,
    Body(body): Body<ApiAccessBody>,
) -> Result<StatusCode, AuthzError> {
    let access = body
        .api_access
        .ok_or_else(|| super::groups::required("apiAccess"))?;
    configuration::update_api_access(&caller.editor(&s), access, body.token_lifetime).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn delete_api() -> Result<StatusCode, AuthzError> {
    Err(configuration::built_in().into())
}
