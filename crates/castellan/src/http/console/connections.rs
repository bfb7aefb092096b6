//! Connections and their default assignments: the roles and groups each new user of the
//! connection receives once, on sign-up, first log-in or email verification.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use castellan_core::directory::connections::{self, ConnectionFields};
use castellan_core::model::{AssignOn, Connection, DefaultAssignments, Named};
use castellan_core::paging::PageRequest;
use minijinja::context;
use serde_json::{Value as Json, json};

use super::{Admin, ConsoleError, Outcome, Posted, done_or_again, finish, page, segment};
use crate::app::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/connections", get(list))
        .route("/admin/connections/{id}", get(show))
        .route("/admin/connections/{id}/defaults", post(set_defaults))
}

fn defaults_json(d: Option<&DefaultAssignments>) -> Json {
    d.map_or(
        Json::Null,
        |d| json!({"roles": d.roles, "groups": d.groups, "on": d.on.name()}),
    )
}

fn row(c: &Connection) -> Json {
    json!({
        "id": c.id,
        "name": c.name,
        "strategy": c.strategy,
        "link": format!("/admin/connections/{}", segment(&c.id)),
        "clients": c.enabled_clients.len(),
        "defaults": defaults_json(c.default_assignments.as_ref()),
    })
}

async fn list(State(s): State<AppState>, admin: Admin) -> Response {
    let outcome = async {
        let all = s.store.list_connections(PageRequest::ALL).await?;
        let rows: Vec<Json> = all.items.iter().map(row).collect();
        Ok(page(
            &s,
            &admin,
            StatusCode::OK,
            "admin/connections.html",
            "connections",
            context! { connections => super::to_value(&rows) },
        ))
    }
    .await;
    finish(&s, outcome)
}

async fn connection_page(
    s: &AppState,
    admin: &Admin,
    id: &str,
    status: StatusCode,
    error: Option<String>,
) -> Outcome {
    let store = s.store.as_ref();
    let connection = connections::get(store, id).await?;
    let current = connection
        .default_assignments
        .clone()
        .unwrap_or(DefaultAssignments {
            roles: vec![],
            groups: vec![],
            on: AssignOn::Signup,
        });
    // Defaults are kept as written (names or ids): a role is ticked when either matches.
    let roles: Vec<Json> = store
        .list_roles(None, PageRequest::ALL)
        .await?
        .items
        .iter()
        .map(|r| {
            let checked = current
                .roles
                .iter()
                .any(|x| *x == r.id || *x == r.name || *x == r.guid);
            json!({"id": r.id, "name": r.name, "checked": checked})
        })
        .collect();
    let groups: Vec<Json> = store
        .list_groups(PageRequest::ALL)
        .await?
        .items
        .iter()
        .map(|g| {
            let checked = current
                .groups
                .iter()
                .any(|x| *x == g.id || *x == g.name || *x == g.guid);
            json!({"id": g.id, "name": g.name, "checked": checked})
        })
        .collect();
    let triggers: Vec<Json> = AssignOn::ALL
        .iter()
        .map(|t| json!({"name": t.name(), "selected": *t == current.on}))
        .collect();
    let clients: Vec<Json> = {
        let mut names = Vec::new();
        for client_id in &connection.enabled_clients {
            let name = store
                .find_client(client_id)
                .await?
                .map_or_else(|| client_id.clone(), |c| c.name);
            names.push(json!({"name": name, "link": format!("/admin/applications/{}", segment(client_id))}));
        }
        names
    };
    Ok(page(
        s,
        admin,
        status,
        "admin/connection.html",
        "connections",
        context! {
            connection => super::to_value(row(&connection)),
            options => super::pretty(&connection.options),
            roles => super::to_value(&roles),
            groups => super::to_value(&groups),
            triggers => super::to_value(&triggers),
            clients => super::to_value(&clients),
            error => error,
        },
    ))
}

async fn show(State(s): State<AppState>, admin: Admin, Path(id): Path<String>) -> Response {
    let outcome = connection_page(&s, &admin, &id, StatusCode::OK, None).await;
    finish(&s, outcome)
}

/// The form posts `role` and `group` once per ticked box, so it is read as pairs.
async fn set_defaults(
    State(s): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<Vec<(String, String)>>,
) -> Response {
    let Posted { admin, form } = posted;
    let values = |key: &str| -> Vec<String> {
        form.iter()
            .filter(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.clone())
            .collect()
    };
    let (roles, groups) = (values("role"), values("group"));
    let on_text = values("on").into_iter().next().unwrap_or_default();
    let result =
        async {
            let on = AssignOn::parse(&on_text).ok_or_else(|| {
                ConsoleError::Refused(format!(
                    "\"{on_text}\" is not one of {}",
                    AssignOn::expected()
                ))
            })?;
            let defaults = (!roles.is_empty() || !groups.is_empty())
                .then_some(DefaultAssignments { roles, groups, on });
            let fields = ConnectionFields {
                default_assignments: Some(defaults),
                ..Default::default()
            };
            connections::update(&admin.editor(&s), &id, fields).await?;
            Ok(())
        }
        .await;
    let path = format!("/admin/connections/{}", segment(&id));
    done_or_again(&s, result, &path, "saved", |message| {
        connection_page(&s, &admin, &id, StatusCode::BAD_REQUEST, Some(message))
    })
    .await
}
