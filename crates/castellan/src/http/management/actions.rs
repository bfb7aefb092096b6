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
use castellan_core::oidc::claims::rfc3339;
use castellan_core::store::ActionFilter;
use serde::{Deserialize, Serialize};
use serde_json::Value;
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
            "/actions/actions",
            AnyOf(&["read:actions"]),
            "List actions",
            get(list),
        )
        .answers(200, Shape::of::<ActionsPage>()),
        endpoint(
            Method::POST,
            "/actions/actions",
            AnyOf(&["create:actions"]),
            "Create an action",
            post(create),
        )
        .takes(Shape::of::<ActionRequest>())
        .answers(201, Shape::of::<ActionWire>()),
        endpoint(
            Method::GET,
            "/actions/actions/{id}",
            AnyOf(&["read:actions"]),
            "Get an action",
            get(read),
        )
        .answers(200, Shape::of::<ActionWire>()),
        endpoint(
            Method::PATCH,
            "/actions/actions/{id}",
            AnyOf(&["update:actions"]),
            "Update an action",
            patch(update),
        )
        .takes(Shape::of::<ActionRequest>())
        .answers(200, Shape::of::<ActionWire>()),
        endpoint(
            Method::DELETE,
            "/actions/actions/{id}",
            AnyOf(&["delete:actions"]),
            "Delete an action",
            delete(remove),
        )
        .answers_empty(204),
        endpoint(
            Method::POST,
            "/actions/actions/{id}/deploy",
            AnyOf(&["create:actions"]),
            "Deploy an action",
            post(deploy),
        )
        .answers(202, Shape::of::<Deployment>()),
        endpoint(
            Method::GET,
            "/actions/triggers",
            AnyOf(&["read:actions"]),
            "List triggers",
            get(triggers),
        )
        .answers(200, Shape::of::<Triggers>()),
        endpoint(
            Method::GET,
            "/actions/triggers/{trigger_id}/bindings",
            AnyOf(&["read:actions"]),
            "List a trigger's bindings",
            get(bindings),
        )
        .answers(200, Shape::of::<BindingsPage>()),
        endpoint(
            Method::PATCH,
            "/actions/triggers/{trigger_id}/bindings",
            AnyOf(&["update:actions"]),
            "Replace a trigger's bindings",
            patch(replace_bindings),
        )
        .takes(Shape::of::<BindingsRequest>())
        .answers(200, Shape::of::<Bindings>()),
    ]
}

/// A trigger an action is for, as `supported_triggers` lists it.
#[derive(Debug, Serialize, ToSchema)]
struct TriggerWire {
    id: &'static str,
    version: &'static str,
}

fn supported_triggers(trigger: Trigger) -> Vec<TriggerWire> {
    vec![TriggerWire {
        id: trigger.name(),
        version: trigger.version(),
    }]
}

/// A secret by name and date: a value is never answered.
#[derive(Debug, Serialize, ToSchema)]
struct SecretWire {
    name: String,
    updated_at: Option<String>,
}

fn secrets_wire(secrets: &[ActionSecret]) -> Vec<SecretWire> {
    secrets
        .iter()
        .map(|s| SecretWire {
            name: s.name.clone(),
            updated_at: rfc3339(s.updated_at),
        })
        .collect()
}

/// Auth0's action, as its draft stands, with the version last deployed.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Action)]
struct ActionWire {
    id: String,
    name: String,
    supported_triggers: Vec<TriggerWire>,
    code: String,
    /// Always empty: modules are the runtime's, not installed per action.
    dependencies: Vec<Value>,
    runtime: String,
    secrets: Vec<SecretWire>,
    /// Always `built`: code is compiled when it is saved.
    status: &'static str,
    all_changes_deployed: bool,
    created_at: Option<String>,
    updated_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deployed_version: Option<VersionWire>,
}

/// A deployed version of an action.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ActionVersion)]
struct VersionWire {
    id: String,
    action_id: String,
    number: i64,
    code: String,
    runtime: String,
    dependencies: Vec<Value>,
    secrets: Vec<SecretWire>,
    supported_triggers: Vec<TriggerWire>,
    deployed: bool,
    status: &'static str,
    created_at: Option<String>,
    updated_at: Option<String>,
    built_at: Option<String>,
}

/// A deployment's answer: the version deployed, naming its action.
#[derive(Debug, Serialize, ToSchema)]
struct Deployment {
    #[serde(flatten)]
    version: VersionWire,
    action: ActionWire,
}

fn version_wire(v: &ActionVersion, trigger: Trigger) -> VersionWire {
    VersionWire {
        id: v.id.clone(),
        action_id: v.action_id.clone(),
        number: v.number,
        code: v.code.clone(),
        runtime: v.runtime.clone(),
        dependencies: Vec::new(),
        secrets: secrets_wire(&v.secrets),
        supported_triggers: supported_triggers(trigger),
        deployed: true,
        status: "built",
        created_at: rfc3339(v.created_at),
        updated_at: rfc3339(v.created_at),
        built_at: rfc3339(v.created_at),
    }
}

fn wire(a: &Action) -> ActionWire {
    ActionWire {
        id: a.id.clone(),
        name: a.name.clone(),
        supported_triggers: supported_triggers(a.trigger),
        code: a.code.clone(),
        dependencies: Vec::new(),
        runtime: a.runtime.clone(),
        secrets: secrets_wire(&a.secrets),
        status: "built",
        all_changes_deployed: a.all_changes_deployed,
        created_at: rfc3339(a.created_at),
        updated_at: rfc3339(a.updated_at),
        deployed_version: a.deployed.as_ref().map(|v| version_wire(v, a.trigger)),
    }
}

/// A place in a trigger's list, with the action bound there.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ActionBinding)]
struct BindingWire {
    id: String,
    trigger_id: &'static str,
    display_name: String,
    action: ActionWire,
    created_at: Option<String>,
    updated_at: Option<String>,
}

fn binding_wire(b: &ActionBinding, action: &Action) -> BindingWire {
    BindingWire {
        id: b.id.clone(),
        trigger_id: b.trigger.name(),
        display_name: b.display_name.clone(),
        action: wire(action),
        created_at: rfc3339(b.created_at),
        updated_at: rfc3339(b.updated_at),
    }
}

fn invalid(message: String) -> ApiError {
    ApiError::bad_request(
        "invalid_body",
        format!("Payload validation error: {message}"),
    )
}

/// A trigger as `supported_triggers` names it; other fields Auth0 answers with (`status`,
/// `runtimes`, ...) are ignored, so an action read back can be sent again.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TriggerItem {
    id: String,
    version: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
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
#[derive(Debug, Serialize, ToSchema)]
struct Page {
    total: u64,
    page: u64,
    per_page: u64,
}

impl Page {
    fn of(listing: Listing, total: u64) -> Page {
        let (page, per_page) = match listing {
            Listing::Offset { page, per_page, .. } => (page, per_page),
            Listing::Checkpoint { from, take } => (from / take.max(1), take),
        };
        Page {
            total,
            page,
            per_page,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
struct ActionsPage {
    actions: Vec<ActionWire>,
    #[serde(flatten)]
    page: Page,
}

#[derive(Debug, Serialize, ToSchema)]
struct BindingsPage {
    bindings: Vec<BindingWire>,
    #[serde(flatten)]
    page: Page,
}

/// The trigger's bindings after a replacement.
#[derive(Debug, Serialize, ToSchema)]
struct Bindings {
    bindings: Vec<BindingWire>,
}

async fn list(State(s): State<AppState>, q: QueryParams) -> Result<Json<ActionsPage>, ApiError> {
    let listing = Listing::from_query(&q, false)?;
    let filter = ActionFilter {
        trigger: query_trigger(&q, "triggerId")?,
        name: q.get("actionName").map(String::from),
        deployed: q.get("deployed").map(|_| q.flag("deployed")).transpose()?,
    };
    let page = actions::list(s.store.as_ref(), &filter, listing.request()).await?;
    let actions = page.items.iter().map(wire).collect();
    Ok(Json(ActionsPage {
        actions,
        page: Page::of(listing, page.total),
    }))
}

async fn read(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ActionWire>, ApiError> {
    let action = actions::get(s.store.as_ref(), &id).await?;
    Ok(Json(wire(&action)))
}

async fn update(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ActionRequest>,
) -> Result<Json<ActionWire>, ApiError> {
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
    let body = Deployment {
        version: version_wire(&version, action.trigger),
        action: wire(&action),
    };
    Ok((StatusCode::ACCEPTED, Json(body)))
}

#[derive(Debug, Serialize, ToSchema)]
struct Triggers {
    triggers: Vec<TriggerDescription>,
}

/// A trigger with the one version of it that is served.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Trigger)]
struct TriggerDescription {
    id: &'static str,
    version: &'static str,
    status: &'static str,
    runtimes: &'static [&'static str],
    default_runtime: &'static str,
    compatible_triggers: Vec<TriggerWire>,
    binding_policy: &'static str,
}

async fn triggers() -> Json<Triggers> {
    let triggers = Trigger::ALL
        .iter()
        .map(|t| TriggerDescription {
            id: t.name(),
            version: t.version(),
            status: "CURRENT",
            runtimes: RUNTIMES,
            default_runtime: DEFAULT_RUNTIME,
            compatible_triggers: Vec::new(),
            binding_policy: "trigger-bound",
        })
        .collect();
    Json(Triggers { triggers })
}

fn path_trigger(id: &str) -> Result<Trigger, ApiError> {
    actions::trigger(id).ok_or_else(|| Error::NotFound { kind: "trigger" }.into())
}

async fn bindings(
    State(s): State<AppState>,
    Path(trigger_id): Path<String>,
    q: QueryParams,
) -> Result<Json<BindingsPage>, ApiError> {
    let trigger = path_trigger(&trigger_id)?;
    let listing = Listing::from_query(&q, false)?;
    let all = actions::bindings(s.store.as_ref(), trigger).await?;
    let total = all.len() as u64;
    let range = listing.request();
    let bindings = all
        .iter()
        .skip(usize::try_from(range.offset).unwrap_or(usize::MAX))
        .take(usize::try_from(range.limit).unwrap_or(usize::MAX))
        .map(|(b, a)| binding_wire(b, a))
        .collect();
    Ok(Json(BindingsPage {
        bindings,
        page: Page::of(listing, total),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BindingsRequest {
    bindings: Option<Vec<BindingItem>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BindingItem {
    #[serde(rename = "ref")]
    reference: BindingRef,
    display_name: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
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
) -> Result<Json<Bindings>, ApiError> {
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
    let bindings = bound.iter().map(|(b, a)| binding_wire(b, a)).collect();
    Ok(Json(Bindings { bindings }))
}
