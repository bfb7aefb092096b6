//! Actions: each trigger's bound actions in order, the list of actions with a form to create
//! one, and an action's page with its code (checked on save), deployment, and binding or
//! unbinding it at the end of its trigger's list. Secret values are never shown.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use castellan_core::directory::actions::{
    self, ActionRef, ActionUpdate, BindingInput, NewAction, TriggerRef,
};
use castellan_core::model::{Action, Named, Trigger};
use castellan_core::paging::PageRequest;
use castellan_core::store::ActionFilter;
use minijinja::context;
use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::{
    Admin, Confirm, ConsoleError, Outcome, Posted, done, done_or_again, finish, page,
    refused_or_failed, segment, when,
};
use crate::app::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/actions", get(list).post(create))
        .route("/admin/actions/{id}", get(show).post(save))
        .route("/admin/actions/{id}/deploy", post(deploy))
        .route("/admin/actions/{id}/bind", post(bind))
        .route("/admin/actions/{id}/unbind", post(unbind))
}

const POST_LOGIN_TEMPLATE: &str = "exports.onExecutePostLogin = async (event, api) => {\n};\n";
const POST_REGISTRATION_TEMPLATE: &str =
    "exports.onExecutePostUserRegistration = async (event, api) => {\n};\n";

fn row(a: &Action) -> Json {
    json!({
        "id": a.id,
        "name": a.name,
        "trigger": a.trigger.name(),
        "deployed": a.deployed.as_ref().map(|v| v.number),
        "all_changes_deployed": a.all_changes_deployed,
        "updated_at": when(a.updated_at),
        "link": format!("/admin/actions/{}", segment(&a.id)),
    })
}

#[derive(Deserialize, Default)]
pub struct NewActionForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    trigger: String,
}

async fn list_page(
    s: &AppState,
    admin: &Admin,
    status: StatusCode,
    form: &NewActionForm,
    error: Option<String>,
) -> Outcome {
    let store = s.store.as_ref();
    let all = actions::list(store, &ActionFilter::default(), PageRequest::ALL).await?;
    let mut triggers = Vec::new();
    for trigger in Trigger::ALL {
        let bound: Vec<Json> = actions::bindings(store, *trigger)
            .await?
            .iter()
            .map(|(b, a)| json!({"display_name": b.display_name, "action": row(a)}))
            .collect();
        triggers.push(json!({"name": trigger.name(), "bound": bound}));
    }
    Ok(page(
        s,
        admin,
        status,
        "admin/actions.html",
        "actions",
        context! {
            actions => super::to_value(all.items.iter().map(row).collect::<Vec<_>>()),
            triggers => super::to_value(&triggers),
            trigger_names => Trigger::ALL.iter().map(|t| t.name()).collect::<Vec<_>>(),
            name => form.name.as_str(),
            trigger => form.trigger.as_str(),
            error => error,
        },
    ))
}

async fn list(State(s): State<AppState>, admin: Admin) -> Response {
    let outcome = list_page(&s, &admin, StatusCode::OK, &NewActionForm::default(), None).await;
    finish(&s, outcome)
}

async fn create(State(s): State<AppState>, posted: Posted<NewActionForm>) -> Response {
    let Posted { admin, form } = posted;
    let code = match Trigger::parse(&form.trigger) {
        Some(Trigger::PostUserRegistration) => POST_REGISTRATION_TEMPLATE,
        _ => POST_LOGIN_TEMPLATE,
    };
    let input = NewAction {
        name: form.name.trim().to_string(),
        supported_triggers: vec![TriggerRef {
            id: form.trigger.clone(),
            version: None,
        }],
        code: code.into(),
        runtime: None,
        dependencies: None,
        secrets: Vec::new(),
    };
    match actions::create(&admin.editor(&s), &s.master_key, &s.scripts, input).await {
        Ok(action) => done(
            &format!("/admin/actions/{}", segment(&action.id)),
            "created",
        ),
        Err(e) => {
            refused_or_failed(&s, e.into(), |message| {
                list_page(&s, &admin, StatusCode::BAD_REQUEST, &form, Some(message))
            })
            .await
        }
    }
}

async fn action_page(
    s: &AppState,
    admin: &Admin,
    id: &str,
    status: StatusCode,
    code: Option<&str>,
    error: Option<String>,
) -> Outcome {
    let store = s.store.as_ref();
    let action = actions::get(store, id).await?;
    let bound = actions::bindings(store, action.trigger)
        .await?
        .iter()
        .any(|(b, _)| b.action_id == action.id);
    Ok(page(
        s,
        admin,
        status,
        "admin/action.html",
        "actions",
        context! {
            action => super::to_value(row(&action)),
            code => code.unwrap_or(&action.code),
            secrets => action.secrets.iter().map(|x| x.name.clone()).collect::<Vec<_>>(),
            bound => bound,
            error => error,
        },
    ))
}

async fn show(State(s): State<AppState>, admin: Admin, Path(id): Path<String>) -> Response {
    let outcome = action_page(&s, &admin, &id, StatusCode::OK, None, None).await;
    finish(&s, outcome)
}

async fn changed(
    s: &AppState,
    admin: &Admin,
    id: &str,
    notice: &str,
    result: Result<(), ConsoleError>,
    code: Option<&str>,
) -> Response {
    let path = format!("/admin/actions/{}", segment(id));
    done_or_again(s, result, &path, notice, |message| {
        action_page(s, admin, id, StatusCode::BAD_REQUEST, code, Some(message))
    })
    .await
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

async fn save(
    State(s): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<CodeForm>,
) -> Response {
    let Posted { admin, form } = posted;
    let result = async {
        let update = ActionUpdate {
            code: Some(form.code.clone()),
            ..Default::default()
        };
        actions::update(&admin.editor(&s), &s.master_key, &s.scripts, &id, update).await?;
        Ok(())
    }
    .await;
    changed(&s, &admin, &id, "saved", result, Some(&form.code)).await
}

async fn deploy(
    State(s): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<Confirm>,
) -> Response {
    let admin = posted.admin;
    let result = async {
        actions::deploy(&admin.editor(&s), &id).await?;
        Ok(())
    }
    .await;
    changed(&s, &admin, &id, "deployed", result, None).await
}

async fn rebind(
    s: &AppState,
    admin: &Admin,
    trigger: Trigger,
    keep: Vec<BindingInput>,
) -> Result<(), ConsoleError> {
    actions::replace_bindings(&admin.editor(s), trigger, keep).await?;
    Ok(())
}

async fn current_bindings(
    s: &AppState,
    trigger: Trigger,
) -> Result<Vec<(String, BindingInput)>, ConsoleError> {
    Ok(actions::bindings(s.store.as_ref(), trigger)
        .await?
        .into_iter()
        .map(|(b, a)| {
            (
                a.id.clone(),
                BindingInput {
                    action: ActionRef::Id(a.id),
                    display_name: Some(b.display_name),
                },
            )
        })
        .collect())
}

async fn bind(
    State(s): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<Confirm>,
) -> Response {
    let admin = posted.admin;
    let result = async {
        let action = actions::get(s.store.as_ref(), &id).await?;
        let mut list: Vec<BindingInput> = current_bindings(&s, action.trigger)
            .await?
            .into_iter()
            .filter(|(bound, _)| *bound != action.id)
            .map(|(_, b)| b)
            .collect();
        list.push(BindingInput {
            action: ActionRef::Id(action.id.clone()),
            display_name: None,
        });
        rebind(&s, &admin, action.trigger, list).await
    }
    .await;
    changed(&s, &admin, &id, "assigned", result, None).await
}

async fn unbind(
    State(s): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<Confirm>,
) -> Response {
    let admin = posted.admin;
    let result = async {
        let action = actions::get(s.store.as_ref(), &id).await?;
        let list: Vec<BindingInput> = current_bindings(&s, action.trigger)
            .await?
            .into_iter()
            .filter(|(bound, _)| *bound != action.id)
            .map(|(_, b)| b)
            .collect();
        rebind(&s, &admin, action.trigger, list).await
    }
    .await;
    changed(&s, &admin, &id, "removed", result, None).await
}
