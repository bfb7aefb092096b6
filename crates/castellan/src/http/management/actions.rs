//! `/actions`: actions (drafts, deployments) and each trigger's ordered bindings. Secrets
//! are accepted and listed by name; their values are sealed at rest and never answered.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{delete, get, patch, post};
use castellan_core::Error;
use castellan_core::directory::actions::{
    self, ActionRef, ActionUpdate, BindingInput, DEFAULT_RUNTIME, NewAction, RUNTIMES, SecretInput,
    TriggerRef,
};
use castellan_core::model::{Action, ActionBinding, ActionSecret, ActionVersion, Named, Trigger};
use castellan_core::oidc::claims::timestamp;
use castellan_core::store::ActionFilter;
use serde::Deserialize;
use serde_json::{Value, json};

use super::paging::Listing;
use crate::app::AppState;
use crate::http::body::{JsonBody, QueryParams};
use crate::http::endpoint::{Endpoint, Scopes::AnyOf, endpoint};
use crate::http::error::ApiError;
use crate::http::guard::Caller;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        endpoint(
            Method::GET,
            "/actions/actions",
            AnyOf(&["read:actions"]),
            "List actions",
            get(list),
        ),
        endpoint(
            Method::POST,
            "/actions/actions",
            AnyOf(&["create:actions"]),
            "Create an action",
            post(create),
        ),
        endpoint(
            Method::GET,
            "/actions/actions/{id}",
            AnyOf(&["read:actions"]),
            "Get an action",
            get(read),
        ),
        endpoint(
            Method::PATCH,
            "/actions/actions/{id}",
            AnyOf(&["update:actions"]),
            "Update an action",
            patch(update),
        ),
        endpoint(
            Method::DELETE,
            "/actions/actions/{id}",
            AnyOf(&["delete:actions"]),
            "Delete an action",
            delete(remove),
        ),
        endpoint(
            Method::POST,
            "/actions/actions/{id}/deploy",
            AnyOf(&["create:actions"]),
            "Deploy an action",
            post(deploy),
        ),
        endpoint(
            Method::GET,
            "/actions/triggers",
            AnyOf(&["read:actions"]),
            "List triggers",
            get(triggers),
        ),
        endpoint(
            Method::GET,
            "/actions/triggers/{trigger_id}/bindings",
            AnyOf(&["read:actions"]),
            "List a trigger's bindings",
            get(bindings),
        ),
        endpoint(
            Method::PATCH,
            "/actions/triggers/{trigger_id}/bindings",
            AnyOf(&["update:actions"]),
            "Replace a trigger's bindings",
            patch(replace_bindings),
        ),
    ]
}

fn supported_triggers(trigger: Trigger) -> Value {
    json!([{"id": trigger.name(), "version": trigger.version()}])
}

/// Names and dates only: a value is never answered.
fn secrets_wire(secrets: &[ActionSecret]) -> Value {
    secrets
        .iter()
        .map(|s| json!({"name": s.name, "updated_at": timestamp(s.updated_at)}))
        .collect()
}

fn version_wire(v: &ActionVersion, trigger: Trigger) -> Value {
    json!({
        "id": v.id,
        "action_id": v.action_id,
        "number": v.number,
        "code": v.code,
        "runtime": v.runtime,
        "dependencies": [],
        "secrets": secrets_wire(&v.secrets),
        "supported_triggers": supported_triggers(trigger),
        "deployed": true,
        "status": "built",
        "created_at": timestamp(v.created_at),
        "updated_at": timestamp(v.created_at),
        "built_at": timestamp(v.created_at),
    })
}

fn wire(a: &Action) -> Value {
    let mut body = json!({
        "id": a.id,
        "name": a.name,
        "supported_triggers": supported_triggers(a.trigger),
        "code": a.code,
        "dependencies": [],
        "runtime": a.runtime,
        "secrets": secrets_wire(&a.secrets),
        "status": "built",
        "all_changes_deployed": a.all_changes_deployed,
        "created_at": timestamp(a.created_at),
        "updated_at": timestamp(a.updated_at),
    });
    if let Some(v) = &a.deployed {
        body["deployed_version"] = version_wire(v, a.trigger);
    }
    body
}

fn binding_wire(b: &ActionBinding, action: &Action) -> Value {
    json!({
        "id": b.id,
        "trigger_id": b.trigger.name(),
        "display_name": b.display_name,
        "action": wire(action),
        "created_at": timestamp(b.created_at),
        "updated_at": timestamp(b.updated_at),
    })
}

fn invalid(message: String) -> ApiError {
    ApiError::bad_request(
        "invalid_body",
        format!("Payload validation error: {message}"),
    )
}

/// A trigger as `supported_triggers` names it; other fields Auth0 answers with (`status`,
/// `runtimes`, ...) are ignored, so an action read back can be sent again.
#[derive(Debug, Deserialize)]
pub struct TriggerItem {
    id: String,
    version: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    name: Option<String>,
    supported_triggers: Option<Vec<TriggerItem>>,
    code: Option<String>,
    runtime: Option<String>,
    dependencies: Option<Vec<Value>>,
    secrets: Option<Vec<Value>>,
}

/// `{name, value}`: both strings; without a value an update keeps the current one. Other
/// fields (`updated_at` of an action read back) are ignored.
fn secret_input(i: usize, secret: &Value) -> Result<SecretInput, ApiError> {
    let name = secret
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("secrets[{i}].name must be a string")))?;
    let value = match secret.get("value") {
        None => None,
        Some(Value::String(value)) => Some(value.clone()),
        Some(_) => return Err(invalid(format!("secrets[{i}].value must be a string"))),
    };
    Ok(SecretInput {
        name: name.to_string(),
        value,
    })
}

/// A module as `name@version` for the refusal, whatever shape it was given in.
fn dependency_label(dependency: &Value) -> String {
    match (
        dependency.get("name").and_then(Value::as_str),
        dependency.get("version").and_then(Value::as_str),
    ) {
        (Some(name), Some(version)) => format!("{name}@{version}"),
        (Some(name), None) => name.to_string(),
        _ => dependency.to_string(),
    }
}

impl ActionRequest {
    /// A create needs a name, a trigger and code.
    fn new_action(self) -> Result<NewAction, ApiError> {
        let required = |field: &str| ApiError::from(Error::Invalid(format!("{field} is required")));
        let update = self.update()?;
        Ok(NewAction {
            name: update.name.ok_or_else(|| required("name"))?,
            supported_triggers: update
                .supported_triggers
                .ok_or_else(|| required("supported_triggers"))?,
            code: update.code.ok_or_else(|| required("code"))?,
            runtime: update.runtime,
            dependencies: update.dependencies,
            secrets: update.secrets.unwrap_or_default(),
        })
    }

    fn update(self) -> Result<ActionUpdate, ApiError> {
        let secrets = self
            .secrets
            .map(|list| {
                list.iter()
                    .enumerate()
                    .map(|(i, s)| secret_input(i, s))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        Ok(ActionUpdate {
            name: self.name,
            supported_triggers: self.supported_triggers.map(|list| {
                list.into_iter()
                    .map(|t| TriggerRef {
                        id: t.id,
                        version: t.version,
                    })
                    .collect()
            }),
            code: self.code,
            runtime: self.runtime,
            dependencies: self
                .dependencies
                .map(|list| list.iter().map(dependency_label).collect()),
            secrets,
        })
    }
}

async fn create(
    State(s): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<ActionRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let input = body.new_action()?;
    let action = actions::create(&caller.editor(&s), &s.master_key, &s.scripts, input).await?;
    Ok((StatusCode::CREATED, Json(wire(&action))))
}

fn query_trigger(q: &QueryParams, name: &str) -> Result<Option<Trigger>, ApiError> {
    q.get(name)
        .map(|id| {
            actions::trigger(id).ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_query_string",
                    format!(
                        "Query validation error: '{name}' must be one of: {}",
                        Trigger::expected()
                    ),
                )
            })
        })
        .transpose()
}

/// Auth0 answers these lists as `{<collection>, total, page, per_page}` always.
fn paged(listing: Listing, collection: &str, items: Vec<Value>, total: u64) -> Json<Value> {
    let (page, per_page) = match listing {
        Listing::Offset { page, per_page, .. } => (page, per_page),
        Listing::Checkpoint { from, take } => (from / take.max(1), take),
    };
    Json(json!({collection: items, "total": total, "page": page, "per_page": per_page}))
}

async fn list(State(s): State<AppState>, q: QueryParams) -> Result<Json<Value>, ApiError> {
    let listing = Listing::from_query(&q, false)?;
    let filter = ActionFilter {
        trigger: query_trigger(&q, "triggerId")?,
        name: q.get("actionName").map(String::from),
        deployed: q.get("deployed").map(|_| q.flag("deployed")).transpose()?,
    };
    let page = actions::list(s.store.as_ref(), &filter, listing.request()).await?;
    let items = page.items.iter().map(wire).collect();
    Ok(paged(listing, "actions", items, page.total))
}

async fn read(State(s): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let action = actions::get(s.store.as_ref(), &id).await?;
    Ok(Json(wire(&action)))
}

async fn update(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ActionRequest>,
) -> Result<Json<Value>, ApiError> {
    let update = body.update()?;
    let action =
        actions::update(&caller.editor(&s), &s.master_key, &s.scripts, &id, update).await?;
    Ok(Json(wire(&action)))
}

async fn remove(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    q: QueryParams,
) -> Result<StatusCode, ApiError> {
    let force = q.flag("force")?;
    actions::delete(&caller.editor(&s), &id, force)
        .await
        .map_err(|e| match e {
            // The remedy is in the query string (`force=true`), not in a body.
            Error::Invalid(message) => ApiError::bad_request("invalid_request", message),
            e => e.into(),
        })?;
    Ok(StatusCode::NO_CONTENT)
}

/// Auth0 answers 202: the version is built (here at once) and deployed.
async fn deploy(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let version = actions::deploy(&caller.editor(&s), &id).await?;
    let action = actions::get(s.store.as_ref(), &id).await?;
    let mut body = version_wire(&version, action.trigger);
    body["action"] = wire(&action);
    Ok((StatusCode::ACCEPTED, Json(body)))
}

async fn triggers() -> Json<Value> {
    let list: Vec<Value> = Trigger::ALL
        .iter()
        .map(|t| {
            json!({
                "id": t.name(),
                "version": t.version(),
                "status": "CURRENT",
                "runtimes": RUNTIMES,
                "default_runtime": DEFAULT_RUNTIME,
                "compatible_triggers": [],
                "binding_policy": "trigger-bound",
            })
        })
        .collect();
    Json(json!({"triggers": list}))
}

fn path_trigger(id: &str) -> Result<Trigger, ApiError> {
    actions::trigger(id).ok_or_else(|| Error::NotFound { kind: "trigger" }.into())
}

async fn bindings(
    State(s): State<AppState>,
    Path(trigger_id): Path<String>,
    q: QueryParams,
) -> Result<Json<Value>, ApiError> {
    let trigger = path_trigger(&trigger_id)?;
    let listing = Listing::from_query(&q, false)?;
    let all = actions::bindings(s.store.as_ref(), trigger).await?;
    let total = all.len() as u64;
    let range = listing.request();
    let items = all
        .iter()
        .skip(usize::try_from(range.offset).unwrap_or(usize::MAX))
        .take(usize::try_from(range.limit).unwrap_or(usize::MAX))
        .map(|(b, a)| binding_wire(b, a))
        .collect();
    Ok(paged(listing, "bindings", items, total))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindingsRequest {
    bindings: Option<Vec<BindingItem>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindingItem {
    #[serde(rename = "ref")]
    reference: BindingRef,
    display_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindingRef {
    #[serde(rename = "type")]
    kind: String,
    value: String,
}

async fn replace_bindings(
    State(s): State<AppState>,
    caller: Caller,
    Path(trigger_id): Path<String>,
    JsonBody(body): JsonBody<BindingsRequest>,
) -> Result<Json<Value>, ApiError> {
    let trigger = path_trigger(&trigger_id)?;
    let wanted = body
        .bindings
        .ok_or_else(|| invalid("bindings is required".into()))?
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let action = match item.reference.kind.as_str() {
                "action_id" => ActionRef::Id(item.reference.value),
                "action_name" => ActionRef::Name(item.reference.value),
                other => {
                    return Err(invalid(format!(
                        "bindings[{i}].ref.type must be action_id or action_name, not \"{other}\""
                    )));
                }
            };
            Ok(BindingInput {
                action,
                display_name: item.display_name,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let bound = actions::replace_bindings(&caller.editor(&s), trigger, wanted).await?;
    Ok(Json(json!({
        "bindings": bound.iter().map(|(b, a)| binding_wire(b, a)).collect::<Vec<_>>(),
    })))
}
