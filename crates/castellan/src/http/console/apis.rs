//! APIs (resource servers) and their scopes: the list with a form to create one, and an
//! API's page with its scopes (added and removed one at a time) and token settings.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use castellan_core::directory::resource_servers::{self, ResourceServerFields};
use castellan_core::model::{Named, ResourceServer, Scope, SigningAlg, TokenDialect};
use castellan_core::paging::PageRequest;
use minijinja::context;
use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::{
    Admin, ConsoleError, Outcome, Posted, done, done_or_again, finish, page, refused_or_failed,
    segment,
};
use crate::app::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/apis", get(list).post(create))
        .route("/admin/apis/{id}", get(show).post(settings))
        .route("/admin/apis/{id}/scopes", post(add_scope))
        .route("/admin/apis/{id}/scopes/remove", post(remove_scope))
}

fn row(api: &ResourceServer) -> Json {
    json!({
        "id": api.id,
        "name": api.name,
        "identifier": api.identifier,
        "system": api.is_system,
        "scopes": api.scopes.len(),
        "link": format!("/admin/apis/{}", segment(&api.id)),
    })
}

#[derive(Deserialize, Default)]
pub struct NewApiForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    identifier: String,
}

async fn list_page(
    s: &AppState,
    admin: &Admin,
    status: StatusCode,
    form: &NewApiForm,
    error: Option<String>,
) -> Outcome {
    let all = s.store.list_resource_servers(PageRequest::ALL).await?;
    Ok(page(
        s,
        admin,
        status,
        "admin/apis.html",
        "apis",
        context! {
            apis => super::to_value(all.items.iter().map(row).collect::<Vec<_>>()),
            name => form.name.as_str(),
            identifier => form.identifier.as_str(),
            error => error,
        },
    ))
}

async fn list(State(s): State<AppState>, admin: Admin) -> Response {
    let outcome = list_page(&s, &admin, StatusCode::OK, &NewApiForm::default(), None).await;
    finish(&s, outcome)
}

async fn create(State(s): State<AppState>, posted: Posted<NewApiForm>) -> Response {
    let Posted { admin, form } = posted;
    let fields = ResourceServerFields {
        name: Some(form.name.trim().to_string()),
        identifier: Some(form.identifier.trim().to_string()),
        ..Default::default()
    };
    match resource_servers::create(&admin.editor(&s), fields).await {
        Ok(api) => done(&format!("/admin/apis/{}", segment(&api.id)), "created"),
        Err(e) => {
            refused_or_failed(&s, e.into(), |message| {
                list_page(&s, &admin, StatusCode::BAD_REQUEST, &form, Some(message))
            })
            .await
        }
    }
}

async fn api_page(
    s: &AppState,
    admin: &Admin,
    id: &str,
    status: StatusCode,
    error: Option<String>,
) -> Outcome {
    let api = resource_servers::get(s.store.as_ref(), id).await?;
    let algs: Vec<Json> = SigningAlg::ALL
        .iter()
        .map(|a| json!({"name": a.name(), "selected": *a == api.signing_alg}))
        .collect();
    let dialects: Vec<Json> = TokenDialect::ALL
        .iter()
        .map(|d| json!({"name": d.name(), "selected": *d == api.token_dialect}))
        .collect();
    Ok(page(
        s,
        admin,
        status,
        "admin/api.html",
        "apis",
        context! {
            api => super::to_value(row(&api)),
            scopes => super::to_value(&api.scopes),
            token_lifetime => api.token_lifetime,
            enforce_policies => api.enforce_policies,
            allow_offline_access => api.allow_offline_access,
            algs => super::to_value(&algs),
            dialects => super::to_value(&dialects),
            error => error,
        },
    ))
}

async fn show(State(s): State<AppState>, admin: Admin, Path(id): Path<String>) -> Response {
    let outcome = api_page(&s, &admin, &id, StatusCode::OK, None).await;
    finish(&s, outcome)
}

async fn update(
    s: &AppState,
    admin: &Admin,
    id: &str,
    fields: ResourceServerFields,
) -> Result<(), ConsoleError> {
    resource_servers::update(&admin.editor(s), id, fields).await?;
    Ok(())
}

async fn changed(
    s: &AppState,
    admin: &Admin,
    id: &str,
    notice: &str,
    result: Result<(), ConsoleError>,
) -> Response {
    let path = format!("/admin/apis/{}", segment(id));
    done_or_again(s, result, &path, notice, |message| {
        api_page(s, admin, id, StatusCode::BAD_REQUEST, Some(message))
    })
    .await
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    token_lifetime: String,
    #[serde(default)]
    signing_alg: String,
    #[serde(default)]
    token_dialect: String,
    #[serde(default)]
    enforce_policies: Option<String>,
    #[serde(default)]
    allow_offline_access: Option<String>,
}

async fn settings(
    State(s): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<SettingsForm>,
) -> Response {
    let Posted { admin, form } = posted;
    let result = async {
        let lifetime: i64 = form.token_lifetime.trim().parse().map_err(|_| {
            ConsoleError::Refused(format!(
                "token_lifetime must be a number of seconds, not \"{}\"",
                form.token_lifetime
            ))
        })?;
        let api = resource_servers::get(s.store.as_ref(), &id).await?;
        // A system API takes only some settings: the others are not sent for it.
        let fields = ResourceServerFields {
            token_lifetime: Some(lifetime),
            signing_alg: Some(form.signing_alg.clone()),
            allow_offline_access: Some(form.allow_offline_access.is_some()),
            enforce_policies: (!api.is_system).then_some(form.enforce_policies.is_some()),
            token_dialect: (!api.is_system).then(|| form.token_dialect.clone()),
            ..Default::default()
        };
        update(&s, &admin, &api.id, fields).await
    }
    .await;
    changed(&s, &admin, &id, "saved", result).await
}

#[derive(Deserialize)]
pub struct ScopeForm {
    #[serde(default)]
    value: String,
    #[serde(default)]
    description: String,
}

async fn add_scope(
    State(s): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<ScopeForm>,
) -> Response {
    let Posted { admin, form } = posted;
    let result = async {
        let api = resource_servers::get(s.store.as_ref(), &id).await?;
        let value = form.value.trim().to_string();
        if api.scopes.iter().any(|sc| sc.value == value) {
            return Err(ConsoleError::Refused(format!(
                "The API already has the scope \"{value}\"."
            )));
        }
        let mut scopes = api.scopes.clone();
        scopes.push(Scope {
            value: value.clone(),
            description: form.description.trim().to_string(),
        });
        let fields = ResourceServerFields {
            scopes: Some(scopes),
            ..Default::default()
        };
        update(&s, &admin, &api.id, fields).await
    }
    .await;
    changed(&s, &admin, &id, "assigned", result).await
}

async fn remove_scope(
    State(s): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<ScopeForm>,
) -> Response {
    let Posted { admin, form } = posted;
    let result = async {
        let api = resource_servers::get(s.store.as_ref(), &id).await?;
        let scopes: Vec<Scope> = api
            .scopes
            .iter()
            .filter(|sc| sc.value != form.value)
            .cloned()
            .collect();
        let fields = ResourceServerFields {
            scopes: Some(scopes),
            ..Default::default()
        };
        update(&s, &admin, &api.id, fields).await
    }
    .await;
    changed(&s, &admin, &id, "removed", result).await
}
