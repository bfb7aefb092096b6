//! `/guardian/factors` and `/guardian/policies`: which second factors the tenant offers,
//! and whether every log-in must pass one (Auth0's "Require Multi-factor Auth").

use axum::Json;
use axum::extract::{Path, State};
use axum::http::Method;
use axum::routing::{get, put};
use castellan_core::directory::guardian;
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
            "/guardian/factors",
            AnyOf(&["read:guardian_factors"]),
            "List the MFA factors and whether each is enabled",
            get(factors),
        )
        .answers(200, Shape::list_of::<GuardianFactor>()),
        endpoint(
            Method::PUT,
            "/guardian/factors/{name}",
            AnyOf(&["update:guardian_factors"]),
            "Enable or disable an MFA factor",
            put(set_factor),
        )
        .takes(Shape::of::<FactorSetting>())
        .answers(200, Shape::of::<FactorSetting>()),
        endpoint(
            Method::GET,
            "/guardian/policies",
            AnyOf(&["read:mfa_policies"]),
            "The tenant's MFA policies: [] or [\"all-applications\"]",
            get(policies),
        )
        .answers(200, Shape::strings()),
        endpoint(
            Method::PUT,
            "/guardian/policies",
            AnyOf(&["update:mfa_policies"]),
            "Set the tenant's MFA policies: [] or [\"all-applications\"]",
            put(set_policies),
        )
        .takes(Shape::strings())
        .answers(200, Shape::strings()),
    ]
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GuardianFactor {
    name: &'static str,
    enabled: bool,
    /// Always false: nothing here is a trial.
    trial_expired: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FactorSetting {
    enabled: bool,
}

async fn factors(State(s): State<AppState>) -> Result<Json<Vec<GuardianFactor>>, ApiError> {
    let listed = guardian::factors(s.store.as_ref()).await?;
    Ok(Json(
        listed
            .into_iter()
            .map(|(name, enabled)| GuardianFactor {
                name,
                enabled,
                trial_expired: false,
            })
            .collect(),
    ))
}

async fn set_factor(
    State(s): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<FactorSetting>,
) -> Result<Json<FactorSetting>, ApiError> {
    let enabled = guardian::set_factor(&caller.editor(&s), &name, body.enabled).await?;
    Ok(Json(FactorSetting { enabled }))
}

async fn policies(State(s): State<AppState>) -> Result<Json<Vec<String>>, ApiError> {
    Ok(Json(guardian::policies(s.store.as_ref()).await?))
}

async fn set_policies(
    State(s): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<Vec<String>>,
) -> Result<Json<Vec<String>>, ApiError> {
    Ok(Json(
        guardian::set_policies(&caller.editor(&s), &body).await?,
    ))
}
