//! Rules: the list in run order, and an editor per rule with a syntax check and a "try it"
//! panel. Trying runs what the next log-in would run (the enabled rules in order, then the
//! bound post-login actions), with the rule as it stands in the editor, against a chosen
//! user and application, as a dry run that writes nothing (what `castellan rules test`
//! does), and shows the token claims, scopes, role changes and console output.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use castellan_core::directory::rules::{self, NewRule, RuleUpdate};
use castellan_core::directory::users;
use castellan_core::events::RequestContext;
use castellan_core::model::{Client, Rule};
use castellan_core::paging::PageRequest;
use castellan_core::scripts::changes::{ChangeTarget, DryRunTarget, StoreTarget};
use castellan_core::scripts::engine::ScriptKind;
use castellan_core::scripts::shape::{self, LoginFacts};
use castellan_core::scripts::{
    PostLoginError, PostLoginRun, Protocol, Script, ScriptSet, logs_json,
};
use minijinja::context;
use serde::Deserialize;
use serde_json::{Map, Value as Json, json};

use super::{
    Admin, Confirm, ConsoleError, Outcome, Posted, done, finish, page, pretty, refused_or_failed,
    segment,
};
use crate::app::AppState;
use crate::http::context::Context;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/rules", get(list).post(create))
        .route("/admin/rules/new", get(new_rule))
        .route("/admin/rules/{id}", get(show).post(edit))
        .route("/admin/rules/{id}/delete", post(delete))
}

const TEMPLATE: &str = "function (user, context, callback) {\n  // context.accessToken['https://example.com/plan'] = user.app_metadata.plan;\n  callback(null, user, context);\n}\n";

fn row(r: &Rule) -> Json {
    json!({
        "id": r.id,
        "name": r.name,
        "order": r.order,
        "enabled": r.enabled,
        "link": format!("/admin/rules/{}", segment(&r.id)),
        "updated_at": super::when(r.updated_at),
    })
}

async fn list(State(s): State<AppState>, admin: Admin) -> Response {
    let outcome = async {
        let all = rules::list(s.store.as_ref(), None, PageRequest::ALL).await?;
        let rows: Vec<Json> = all.items.iter().map(row).collect();
        Ok(page(
            &s,
            &admin,
            StatusCode::OK,
            "admin/rules.html",
            "rules",
            context! { rules => super::to_value(&rows) },
        ))
    }
    .await;
    finish(&s, outcome)
}

/// The editor's fields as posted. `op` is the button pressed: `save`, `check` or `try`.
#[derive(Deserialize, Default, Clone)]
pub struct RuleForm {
    #[serde(default)]
    op: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    script: String,
    #[serde(default)]
    order: String,
    #[serde(default)]
    enabled: Option<String>,
    #[serde(default)]
    try_user: String,
    #[serde(default)]
    try_client: String,
}

impl RuleForm {
    fn of(rule: &Rule) -> RuleForm {
        RuleForm {
            name: rule.name.clone(),
            script: rule.script.clone(),
            order: rule.order.to_string(),
            enabled: rule.enabled.then(|| "on".into()),
            ..RuleForm::default()
        }
    }

    fn order(&self) -> Result<Option<i64>, ConsoleError> {
        let text = self.order.trim();
        if text.is_empty() {
            return Ok(None);
        }
        text.parse()
            .map(Some)
            .map_err(|_| ConsoleError::Refused(format!("order must be a number, not \"{text}\"")))
    }
}

/// What the editor shows besides the fields: an error, the syntax check's verdict, or the
/// report of a try.
#[derive(Default)]
struct Panel {
    error: Option<String>,
    checked: Option<String>,
    report: Option<Json>,
    refused: Option<String>,
}

async fn editor(
    s: &AppState,
    admin: &Admin,
    rule_id: Option<&str>,
    status: StatusCode,
    form: &RuleForm,
    panel: Panel,
) -> Outcome {
    let clients: Vec<Json> = s
        .store
        .list_clients(PageRequest::ALL)
        .await?
        .items
        .iter()
        .filter(|c| c.has_grant("authorization_code") || c.has_grant("password"))
        .map(|c| json!({"id": c.client_id, "name": c.name, "selected": c.client_id == form.try_client}))
        .collect();
    let action = match rule_id {
        Some(id) => format!("/admin/rules/{}", segment(id)),
        None => "/admin/rules".to_string(),
    };
    Ok(page(
        s,
        admin,
        status,
        "admin/rule.html",
        "rules",
        context! {
            is_new => rule_id.is_none(),
            action => action,
            name => form.name.as_str(),
            script => form.script.as_str(),
            order => form.order.as_str(),
            enabled => form.enabled.is_some(),
            try_user => form.try_user.as_str(),
            clients => super::to_value(&clients),
            error => panel.error,
            checked => panel.checked,
            report => panel.report.as_ref().map(pretty),
            refused => panel.refused,
        },
    ))
}

async fn new_rule(State(s): State<AppState>, admin: Admin) -> Response {
    let form = RuleForm {
        script: TEMPLATE.into(),
        enabled: Some("on".into()),
        ..RuleForm::default()
    };
    let outcome = editor(&s, &admin, None, StatusCode::OK, &form, Panel::default()).await;
    finish(&s, outcome)
}

async fn show(State(s): State<AppState>, admin: Admin, Path(id): Path<String>) -> Response {
    let outcome = async {
        let rule = rules::get(s.store.as_ref(), &id).await?;
        editor(
            &s,
            &admin,
            Some(&rule.id),
            StatusCode::OK,
            &RuleForm::of(&rule),
            Panel::default(),
        )
        .await
    }
    .await;
    finish(&s, outcome)
}

async fn create(
    State(s): State<AppState>,
    Context(ctx): Context,
    posted: Posted<RuleForm>,
) -> Response {
    let Posted { admin, form } = posted;
    if form.op != "save" {
        return tool(&s, &admin, None, &form, &ctx).await;
    }
    let result = async {
        let input = NewRule {
            name: form.name.trim().to_string(),
            script: form.script.clone(),
            order: form.order()?,
            enabled: Some(form.enabled.is_some()),
        };
        Ok(rules::create(&admin.editor(&s), &s.scripts, input).await?)
    }
    .await;
    saved(&s, &admin, None, &form, result).await
}

async fn edit(
    State(s): State<AppState>,
    Context(ctx): Context,
    Path(id): Path<String>,
    posted: Posted<RuleForm>,
) -> Response {
    let Posted { admin, form } = posted;
    if form.op != "save" {
        return tool(&s, &admin, Some(&id), &form, &ctx).await;
    }
    let result = async {
        let update = RuleUpdate {
            name: Some(form.name.trim().to_string()),
            script: Some(form.script.clone()),
            order: form.order()?,
            enabled: Some(form.enabled.is_some()),
        };
        Ok(rules::update(&admin.editor(&s), &s.scripts, &id, update).await?)
    }
    .await;
    saved(&s, &admin, Some(&id), &form, result).await
}

async fn saved(
    s: &AppState,
    admin: &Admin,
    id: Option<&str>,
    form: &RuleForm,
    result: Result<Rule, ConsoleError>,
) -> Response {
    match result {
        Ok(rule) => done(&format!("/admin/rules/{}", segment(&rule.id)), "saved"),
        Err(e) => {
            refused_or_failed(s, e, |message| {
                let panel = Panel {
                    error: Some(message),
                    ..Panel::default()
                };
                editor(s, admin, id, StatusCode::BAD_REQUEST, form, panel)
            })
            .await
        }
    }
}

/// "Check syntax" and "Try it": nothing is saved; the editor comes back with the verdict.
async fn tool(
    s: &AppState,
    admin: &Admin,
    id: Option<&str>,
    form: &RuleForm,
    request: &RequestContext,
) -> Response {
    let name = Some(form.name.trim())
        .filter(|n| !n.is_empty())
        .unwrap_or("edited rule");
    let syntax = s
        .scripts
        .check_syntax(ScriptKind::Rule, name, &form.script)
        .await;
    let panel = match (form.op.as_str(), syntax) {
        (_, Err(e)) => match ConsoleError::from(e) {
            ConsoleError::Refused(message) => Panel {
                error: Some(message),
                ..Panel::default()
            },
            other => return other.respond(s),
        },
        ("try", Ok(())) => match try_rule(s, id, name, form, request).await {
            Ok(panel) => panel,
            Err(ConsoleError::Refused(message)) => Panel {
                error: Some(message),
                ..Panel::default()
            },
            Err(e) => return e.respond(s),
        },
        (_, Ok(())) => Panel {
            checked: Some("The script compiles.".into()),
            ..Panel::default()
        },
    };
    let status = if panel.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let outcome = editor(s, admin, id, status, form, panel).await;
    finish(s, outcome)
}

/// A user by id, or by email address when the text holds an `@`.
async fn chosen_user(
    s: &AppState,
    text: &str,
) -> Result<castellan_core::model::User, ConsoleError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ConsoleError::Refused(
            "Choose the user to try the rules with (a user id or an email address).".into(),
        ));
    }
    let found = if text.contains('@') {
        users::by_email(s.store.as_ref(), text)
            .await?
            .into_iter()
            .next()
    } else {
        s.store.find_user(text).await?
    };
    found.ok_or_else(|| ConsoleError::Refused(format!("There is no user \"{text}\".")))
}

async fn chosen_client(s: &AppState, client_id: &str) -> Result<Client, ConsoleError> {
    let id = if client_id.is_empty() {
        castellan_core::login::console::CLIENT_ID
    } else {
        client_id
    };
    s.store
        .find_client(id)
        .await?
        .ok_or_else(|| ConsoleError::Refused(format!("There is no application \"{id}\".")))
}

async fn try_rule(
    s: &AppState,
    id: Option<&str>,
    name: &str,
    form: &RuleForm,
    request: &RequestContext,
) -> Result<Panel, ConsoleError> {
    let store = s.store.as_ref();
    let user = chosen_user(s, &form.try_user).await?;
    let client = chosen_client(s, &form.try_client).await?;
    let stored_name = match id {
        Some(id) => Some(rules::get(store, id).await?.name),
        None => None,
    };
    let mut set: ScriptSet = ScriptSet::load(store, &s.scripts).await?;
    let edited = Script {
        name: name.to_string(),
        source: form.script.clone(),
        secrets: Map::new(),
    };
    let position = set
        .rules
        .iter()
        .position(|r| Some(&r.name) == stored_name.as_ref() || r.name == name);
    match position {
        Some(at) => set.rules[at] = edited,
        None => set.rules.push(edited),
    }
    if set.configuration.is_empty() {
        set.configuration =
            castellan_core::directory::rules_configs::open_all(store, &s.master_key)
                .await?
                .into_iter()
                .map(|(k, v)| (k, Json::String(v)))
                .collect();
    }
    let connection = store.find_connection_by_name(&user.connection).await?;
    let scopes: Vec<String> = ["openid", "profile", "email"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    let facts = LoginFacts {
        client: &client,
        user: &user,
        connection: connection.as_ref(),
        protocol: Protocol::AuthorizationCode,
        request,
        hostname: s.scripts.hostname(),
        audience: None,
        requested_scopes: &scopes,
        granted_scopes: &scopes,
        auth_time: s.clock.now(),
    };
    let stored = StoreTarget {
        store,
        clock: s.clock.as_ref(),
    };
    let target = DryRunTarget::new(stored.held(&user).await?);
    let outcome = PostLoginRun {
        scripts: &s.scripts,
        set: &set,
        target: &target,
        user: user.clone(),
        user_json: user.to_auth0_json(),
        context: shape::context(&facts),
        event: shape::event(&facts),
        // A dry run changes nothing: its rules get no token that could.
        access_token: None,
        // A dry run may show a redirect: the run stops there, as a log-in would.
        redirect_state: Some("dry-run".to_owned()),
        resume: None,
    }
    .run()
    .await;
    let changes: Vec<Json> = target
        .edits()
        .into_iter()
        .map(|(script, edit)| json!({"script": script, "changes": edit.describe()}))
        .collect();
    let held = target.held_now();
    let mut report = json!({
        "user_id": user.user_id,
        "client_id": client.client_id,
        "rules": set.rules.iter().map(|r| &r.name).collect::<Vec<_>>(),
        "actions": set.post_login.iter().map(|a| &a.name).collect::<Vec<_>>(),
        "changes": changes,
        "roles": held.roles,
        "groups": held.groups,
    });
    let refused = match outcome {
        Ok(outcome) => {
            if let Some(asked) = &outcome.multifactor {
                report["multifactor"] = serde_json::json!(asked);
            }
            if let Some(redirect) = &outcome.redirect {
                report["redirect"] =
                    serde_json::json!({"url": redirect.url, "script": redirect.script});
            }
            report["access_token_claims"] = Json::Object(outcome.access_claims);
            report["id_token_claims"] = Json::Object(outcome.id_claims);
            report["scope"] = json!(outcome.scopes.apply(scopes).join(" "));
            report["app_metadata"] = json!(outcome.user.app_metadata);
            report["user_metadata"] = json!(outcome.user.user_metadata);
            report["logs"] = logs_json(&outcome.logs);
            None
        }
        Err(PostLoginError::Stopped { stop, logs }) => {
            report["logs"] = logs_json(&logs);
            Some(stop.description().to_string())
        }
        Err(PostLoginError::Store(e)) => return Err(e.into()),
    };
    Ok(Panel {
        report: Some(report),
        refused,
        ..Panel::default()
    })
}

async fn delete(
    State(s): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<Confirm>,
) -> Response {
    let admin = posted.admin;
    let result = async {
        rules::delete(&admin.editor(&s), &id).await?;
        Ok::<_, ConsoleError>(())
    }
    .await;
    match result {
        Ok(()) => done("/admin/rules", "deleted"),
        Err(e) => e.respond(&s),
    }
}
