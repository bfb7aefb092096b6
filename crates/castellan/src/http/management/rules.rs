//! `/rules`: rules with their order and flag. Scripts are stored here and run by the rules
//! runtime at log-in.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{delete, get, patch, post};
use castellan_core::Error;
use castellan_core::directory::rules::{self, NewRule, RuleUpdate, STAGE};
use castellan_core::model::Rule;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::fields::{Fields, select};
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
            "/rules",
            AnyOf(&["read:rules"]),
            "List rules",
            get(list),
        )
        .answers(200, Shape::listing_of::<RuleWire>("rules")),
        endpoint(
            Method::POST,
            "/rules",
            AnyOf(&["create:rules"]),
            "Create a rule",
            post(create),
        )
        .takes(Shape::of::<CreateRuleRequest>())
        .answers(201, Shape::of::<RuleWire>()),
        endpoint(
            Method::GET,
            "/rules/{id}",
            AnyOf(&["read:rules"]),
            "Get a rule",
            get(read),
        )
        .answers(200, Shape::of::<RuleWire>()),
        endpoint(
            Method::PATCH,
            "/rules/{id}",
            AnyOf(&["update:rules"]),
            "Update a rule",
            patch(update),
        )
        .takes(Shape::of::<UpdateRuleRequest>())
        .answers(200, Shape::of::<RuleWire>()),
        endpoint(
            Method::DELETE,
            "/rules/{id}",
            AnyOf(&["delete:rules"]),
            "Delete a rule",
            delete(remove),
        )
        .answers_empty(204),
    ]
}

/// Auth0's rule. Any attribute may be missing from an answer that `fields` chose.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Rule)]
struct RuleWire {
    #[schema(required = false)]
    id: String,
    #[schema(required = false)]
    name: String,
    #[schema(required = false)]
    script: String,
    #[schema(required = false)]
    order: i64,
    #[schema(required = false)]
    enabled: bool,
    #[schema(required = false)]
    stage: String,
}

fn wire(rule: Rule) -> RuleWire {
    RuleWire {
        id: rule.id,
        name: rule.name,
        script: rule.script,
        order: rule.order,
        enabled: rule.enabled,
        stage: rule.stage,
    }
}

/// `wire`, with only the attributes `fields` asks for.
fn selected(fields: &Option<Fields>, rule: Rule) -> Value {
    select(
        fields,
        serde_json::to_value(wire(rule)).expect("a rule serializes to JSON"),
    )
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRuleRequest {
    name: Option<String>,
    script: Option<String>,
    order: Option<i64>,
    enabled: Option<bool>,
    stage: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRuleRequest {
    name: Option<String>,
    script: Option<String>,
    order: Option<i64>,
    enabled: Option<bool>,
}

fn required(field: &str, value: Option<String>) -> Result<String, Error> {
    value.ok_or_else(|| Error::Invalid(format!("{field} is required")))
}

async fn create(
    State(s): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateRuleRequest>,
) -> Result<impl IntoResponse, ApiError> {
    if let Some(stage) = body.stage.as_deref().filter(|st| *st != STAGE) {
        return Err(ApiError::bad_request(
            "invalid_body",
            format!("Payload validation error: stage must be {STAGE}, not \"{stage}\""),
        ));
    }
    let input = NewRule {
        name: required("name", body.name)?,
        script: required("script", body.script)?,
        order: body.order,
        enabled: body.enabled,
    };
    let rule = rules::create(&caller.editor(&s), &s.scripts, input).await?;
    Ok((StatusCode::CREATED, Json(wire(rule))))
}

async fn list(State(s): State<AppState>, q: QueryParams) -> Result<Json<Value>, ApiError> {
    let listing = Listing::from_query(&q, false)?;
    let fields = Fields::from_query(&q)?;
    let enabled = q.get("enabled").map(|_| q.flag("enabled")).transpose()?;
    let page = rules::list(s.store.as_ref(), enabled, listing.request()).await?;
    Ok(listing.respond("rules", page, |r| selected(&fields, r)))
}

async fn read(
    State(s): State<AppState>,
    Path(id): Path<String>,
    q: QueryParams,
) -> Result<Json<Value>, ApiError> {
    let fields = Fields::from_query(&q)?;
    let rule = rules::get(s.store.as_ref(), &id).await?;
    Ok(Json(selected(&fields, rule)))
}

async fn update(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<UpdateRuleRequest>,
) -> Result<Json<RuleWire>, ApiError> {
    let update = RuleUpdate {
        name: body.name,
        script: body.script,
        order: body.order,
        enabled: body.enabled,
    };
    let rule = rules::update(&caller.editor(&s), &s.scripts, &id, update).await?;
    Ok(Json(wire(rule)))
}

async fn remove(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    rules::delete(&caller.editor(&s), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
