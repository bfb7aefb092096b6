//! `/configuration`: settings, status, the API key, export and import, and API access.

use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, patch, post};
use castellan_core::directory::extension::configuration;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::document;
use super::error::AuthzError;
use super::extract::Body;
use crate::app::AppState;
use crate::http::endpoint::{Endpoint, Scopes::AnyOf, endpoint};
use crate::http::guard::Caller;

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
        ),
        endpoint(
            Method::PATCH,
            "/configuration",
            update,
            "Update the configuration",
            patch(update_settings),
        ),
        endpoint(
            Method::GET,
            "/configuration/status",
            read,
            "Get the rule and storage status",
            get(status),
        ),
        endpoint(
            Method::PATCH,
            "/configuration/rotate-apikey",
            update,
            "Rotate the API key",
            patch(rotate),
        ),
        endpoint(
            Method::GET,
            "/configuration/export",
            read,
            "Export all data",
            get(export),
        ),
        endpoint(
            Method::POST,
            "/configuration/import",
            update,
            "Replace all data",
            post(import),
        ),
        endpoint(
            Method::GET,
            "/configuration/resource-server",
            AnyOf(&["read:resource-server"]),
            "Get API access",
            get(read_api),
        ),
        endpoint(
            Method::POST,
            "/configuration/resource-server",
            AnyOf(&["create:resource-server"]),
            "Enable API access",
            post(create_api),
        ),
        endpoint(
            Method::PATCH,
            "/configuration/resource-server",
            AnyOf(&["update:resource-server"]),
            "Update API access",
            patch(update_api),
        ),
        endpoint(
            Method::DELETE,
            "/configuration/resource-server",
            AnyOf(&["delete:resource-server"]),
            "Disable API access",
            delete(delete_api),
        ),
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
async fn status(State(s): State<AppState>) -> Result<Json<Value>, AuthzError> {
    let data = configuration::export(s.store.as_ref()).await?;
    let size = document::export(&data).to_string().len();
    Ok(Json(json!({
        "rule": {"exists": false, "enabled": false},
        "database": {"size": size, "type": "default"},
    })))
}

/// The new key, shown once: send it as `x-api-key` to the policy endpoint.
async fn rotate(State(s): State<AppState>, caller: Caller) -> Result<Json<Value>, AuthzError> {
    let key = configuration::rotate_api_key(&caller.editor(&s)).await?;
    Ok(Json(json!({"hash": key})))
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

fn api_record(api: &castellan_core::model::ResourceServer) -> Value {
    json!({
        "id": api.id,
        "name": api.name,
        "identifier": api.identifier,
        "token_lifetime": api.token_lifetime,
        "scopes": api.scopes.iter().map(|sc| json!({"value": sc.value, "description": sc.description})).collect::<Vec<_>>(),
    })
}

async fn read_api(State(s): State<AppState>) -> Result<Json<Value>, AuthzError> {
    let api = configuration::api(s.store.as_ref()).await?;
    Ok(Json(
        json!({"apiAccess": true, "token_lifetime": api.token_lifetime}),
    ))
}

/// The API exists from the first start; this returns it.
async fn create_api(State(s): State<AppState>) -> Result<Json<Value>, AuthzError> {
    Ok(Json(api_record(
        &configuration::api(s.store.as_ref()).await?,
    )))
}

#[derive(Debug, Deserialize)]
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
