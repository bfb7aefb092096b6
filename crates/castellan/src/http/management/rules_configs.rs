//! `/rules-configs`: secret values rules read as `configuration.KEY`. The API lists keys
//! only; values are sealed at rest with the master key.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, put};
use castellan_core::directory::rules_configs;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::body::JsonBody;
use crate::http::endpoint::{Endpoint, Scopes::AnyOf, endpoint};
use crate::http::error::ApiError;
use crate::http::guard::Caller;
use crate::http::wire_schema::Shape;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        endpoint(
            Method::GET,
            "/rules-configs",
            AnyOf(&["read:rules_configs"]),
            "List rules configuration keys",
            get(list),
        )
        .answers(200, Shape::list_of::<RulesConfigKey>()),
        endpoint(
            Method::PUT,
            "/rules-configs/{key}",
            AnyOf(&["update:rules_configs"]),
            "Set a rules configuration value",
            put(set),
        )
        .takes(Shape::of::<SetRequest>())
        .answers(200, Shape::of::<RulesConfig>()),
        endpoint(
            Method::DELETE,
            "/rules-configs/{key}",
            AnyOf(&["delete:rules_configs"]),
            "Delete a rules configuration value",
            delete(remove),
        )
        .answers_empty(204),
    ]
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRequest {
    value: String,
}

#[derive(Debug, Serialize, ToSchema)]
struct RulesConfigKey {
    key: String,
}

/// Answers `{key, value}` as Auth0 does: the caller sent the value, so nothing leaks.
#[derive(Debug, Serialize, ToSchema)]
struct RulesConfig {
    key: String,
    value: String,
}

/// The key is part of the path: a bad one is Auth0's `invalid_uri`.
fn checked_key(key: &str) -> Result<(), ApiError> {
    rules_configs::check_key(key)
        .map_err(|e| ApiError::bad_request("invalid_uri", format!("Path validation error: {e}")))
}

async fn list(State(s): State<AppState>) -> Result<Json<Vec<RulesConfigKey>>, ApiError> {
    let keys = rules_configs::keys(s.store.as_ref()).await?;
    Ok(Json(
        keys.into_iter().map(|key| RulesConfigKey { key }).collect(),
    ))
}

async fn set(
    State(s): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    JsonBody(body): JsonBody<SetRequest>,
) -> Result<Json<RulesConfig>, ApiError> {
    checked_key(&key)?;
    rules_configs::set(&caller.editor(&s), &s.master_key, &key, &body.value).await?;
    Ok(Json(RulesConfig {
        key,
        value: body.value,
    }))
}

async fn remove(
    State(s): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<StatusCode, ApiError> {
    checked_key(&key)?;
    rules_configs::delete(&caller.editor(&s), &key).await?;
    Ok(StatusCode::NO_CONTENT)
}
