//! Users: search, create, and one user's page (roles, groups, effective permissions, recent
//! log events) with block/unblock, a new password, metadata edited as JSON, role
//! assignment and deletion.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use castellan_core::directory::users::{self, MetadataPatch, NewUser, Unblock, UserUpdate};
use castellan_core::directory::{effective, groups, logs, user_roles};
use castellan_core::login::console;
use castellan_core::model::{LogEvent, Role, User};
use castellan_core::paging::PageRequest;
use minijinja::context;
use serde::Deserialize;
use serde_json::{Map, Value as Json, json};

use super::{
    Admin, Confirm, ConsoleError, Outcome, Posted, done, done_or_again, finish, page, page_request,
    pager, pretty, segment, when,
};
use crate::app::AppState;
use crate::http::context::Context;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(list).post(create))
        .route("/admin/users/new", get(new_form))
        .route("/admin/users/{id}", get(show))
        .route("/admin/users/{id}/blocked", post(set_blocked))
        .route("/admin/users/{id}/password", post(set_password))
        .route("/admin/users/{id}/password-reset", post(send_reset))
        .route("/admin/users/{id}/metadata", post(set_metadata))
        .route("/admin/users/{id}/roles", post(assign_role))
        .route("/admin/users/{id}/roles/remove", post(remove_role))
        .route("/admin/users/{id}/delete", post(delete))
}

pub fn user_row(u: &User) -> Json {
    json!({
        "user_id": u.user_id,
        "link": format!("/admin/users/{}", segment(&u.user_id)),
        "email": u.email,
        "name": u.name,
        "connection": u.connection,
        "blocked": u.blocked,
        "logins_count": u.logins_count,
        "last_login": u.last_login.map(when),
        "created_at": when(u.created_at),
    })
}

pub fn role_row(r: &Role) -> Json {
    json!({
        "id": r.id,
        "name": r.name,
        "description": r.description,
        "link": format!("/admin/roles/{}", segment(&r.id)),
    })
}

pub fn log_row(e: &LogEvent) -> Json {
    json!({
        "log_id": e.log_id,
        "link": format!("/admin/logs/{}", segment(&e.log_id)),
        "date": when(e.date),
        "type": e.event_type,
        "description": e.description,
        "user_id": e.user_id,
        "user_name": e.user_name,
        "user_link": e.user_id.as_deref().map(|id| format!("/admin/users/{}", segment(id))),
        "client_name": e.client_name.clone().or_else(|| e.client_id.clone()),
        "ip": e.ip,
    })
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: u64,
}

async fn list(State(s): State<AppState>, admin: Admin, Query(query): Query<ListQuery>) -> Response {
    let text = query.q.trim();
    let filter = (!text.is_empty()).then_some(text);
    let found = users::search(
        s.store.as_ref(),
        filter,
        None,
        Some("created_at:-1"),
        page_request(query.page),
    )
    .await;
    let (status, rows, total, error) = match found {
        Ok(found) => (
            StatusCode::OK,
            found.items.iter().map(user_row).collect::<Vec<_>>(),
            found.total,
            None,
        ),
        Err(castellan_core::Error::InvalidQuery(e)) => {
            (StatusCode::BAD_REQUEST, Vec::new(), 0, Some(e))
        }
        Err(e) => return ConsoleError::from(e).respond(&s),
    };
    page(
        &s,
        &admin,
        status,
        "admin/users.html",
        "users",
        context! {
            q => text,
            users => super::to_value(&rows),
            pager => pager(query.page, total),
            error => error,
        },
    )
}

#[derive(Deserialize, Default)]
pub struct NewUserForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    connection: String,
    #[serde(default)]
    email_verified: Option<String>,
}

async fn connection_names(s: &AppState) -> Result<Vec<String>, ConsoleError> {
    Ok(s.store
        .list_connections(PageRequest::ALL)
        .await?
        .items
        .into_iter()
        .map(|c| c.name)
        .collect())
}

async fn new_user_page(
    s: &AppState,
    admin: &Admin,
    status: StatusCode,
    form: &NewUserForm,
    error: Option<String>,
) -> Outcome {
    Ok(page(
        s,
        admin,
        status,
        "admin/user_new.html",
        "users",
        context! {
            connections => connection_names(s).await?,
            email => form.email.as_str(),
            connection => form.connection.as_str(),
            error => error,
        },
    ))
}

async fn new_form(State(s): State<AppState>, admin: Admin) -> Response {
    let outcome = new_user_page(&s, &admin, StatusCode::OK, &NewUserForm::default(), None).await;
    finish(&s, outcome)
}

async fn create(State(s): State<AppState>, posted: Posted<NewUserForm>) -> Response {
    let Posted { admin, form } = posted;
    let request = NewUser {
        connection: form.connection.clone(),
        email: Some(form.email.clone()),
        password: Some(form.password.clone()),
        email_verified: form.email_verified.is_some(),
        ..Default::default()
    };
    match users::create(&admin.editor(&s), &s.passwords, request).await {
        Ok(user) => done(
            &format!("/admin/users/{}", segment(&user.user_id)),
            "created",
        ),
        Err(e) => {
            let message = match ConsoleError::from(e) {
                ConsoleError::Refused(m) => m,
                ConsoleError::NotFound("connection") => "No such connection.".into(),
                other => return other.respond(&s),
            };
            let outcome =
                new_user_page(&s, &admin, StatusCode::BAD_REQUEST, &form, Some(message)).await;
            finish(&s, outcome)
        }
    }
}

/// What a form on the user's page left to show again: its error, and the metadata as typed.
#[derive(Default)]
struct Feedback {
    error: Option<String>,
    app_metadata: Option<String>,
    user_metadata: Option<String>,
}

async fn user_page(
    s: &AppState,
    admin: &Admin,
    id: &str,
    status: StatusCode,
    feedback: Feedback,
) -> Outcome {
    let store = s.store.as_ref();
    let user = users::get(store, id).await?;
    let direct = user_roles::list(store, id, PageRequest::ALL).await?.items;
    let held = effective::roles(store, id, PageRequest::ALL).await?.items;
    let direct_groups = groups::of_user(store, id, PageRequest::ALL).await?.items;
    let permissions = effective::permissions(store, id, PageRequest::ALL)
        .await?
        .items;
    let recent = logs::search(
        store,
        None,
        Some(id),
        false,
        PageRequest {
            offset: 0,
            limit: 20,
        },
    )
    .await?
    .items;
    let all_roles = store.list_roles(None, PageRequest::ALL).await?.items;
    let factors = super::mfa::factor_rows(s, id).await?;
    let permissions: Vec<Json> = permissions
        .iter()
        .map(|p| {
            json!({
                "api": p.permission.resource_server_identifier,
                "name": p.permission.permission_name,
                "sources": p.sources.iter().map(|src| if src.source_type == "DIRECT" {
                    "direct".to_string()
                } else {
                    format!("role {}", src.source_name)
                }).collect::<Vec<_>>().join(", "),
            })
        })
        .collect();
    let groups: Vec<Json> = direct_groups
        .iter()
        .map(|g| json!({"name": g.name, "link": format!("/admin/groups/{}", segment(&g.id))}))
        .collect();
    let assignable: Vec<Json> = all_roles
        .iter()
        .filter(|r| !direct.iter().any(|d| d.id == r.id))
        .map(role_row)
        .collect();
    Ok(super::page(
        s,
        admin,
        status,
        "admin/user.html",
        "users",
        context! {
            user => super::to_value(user_row(&user)),
            link => format!("/admin/users/{}", segment(&user.user_id)),
            email_verified => user.email_verified,
            profile => pretty(&user.to_auth0_json()),
            app_metadata => feedback.app_metadata.unwrap_or_else(|| pretty(&user.app_metadata)),
            user_metadata => feedback.user_metadata.unwrap_or_else(|| pretty(&user.user_metadata)),
            roles => super::to_value(direct.iter().map(role_row).collect::<Vec<_>>()),
            effective_roles => super::to_value(held.iter().map(role_row).collect::<Vec<_>>()),
            groups => super::to_value(&groups),
            permissions => super::to_value(&permissions),
            logs => super::to_value(recent.iter().map(log_row).collect::<Vec<_>>()),
            assignable => super::to_value(&assignable),
            factors => super::to_value(&factors),
            error => feedback.error,
        },
    ))
}

async fn show(State(s): State<AppState>, admin: Admin, Path(id): Path<String>) -> Response {
    let outcome = user_page(&s, &admin, &id, StatusCode::OK, Feedback::default()).await;
    finish(&s, outcome)
}

/// Runs a change; a refusal shows the user's page again with the reason (nothing changed),
/// success goes back to it with `notice`.
async fn changed(
    s: &AppState,
    admin: &Admin,
    id: &str,
    notice: &str,
    result: Result<(), ConsoleError>,
    typed: Feedback,
) -> Response {
    let path = format!("/admin/users/{}", segment(id));
    done_or_again(s, result, &path, notice, |message| {
        let feedback = Feedback {
            error: Some(message),
            ..typed
        };
        user_page(s, admin, id, StatusCode::BAD_REQUEST, feedback)
    })
    .await
}

/// After a change made by a form of another module on the user's page (its factors):
/// as [`changed`], with nothing typed to show again.
pub(super) async fn user_changed(
    s: &AppState,
    admin: &Admin,
    id: &str,
    notice: &str,
    result: Result<(), ConsoleError>,
) -> Response {
    changed(s, admin, id, notice, result, Feedback::default()).await
}

#[derive(Deserialize)]
pub struct BlockedForm {
    blocked: String,
}

async fn set_blocked(
    State(s): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<BlockedForm>,
) -> Response {
    let Posted { admin, form } = posted;
    let blocked = form.blocked == "true";
    let result = async {
        if blocked && admin.user.user_id == id {
            return Err(ConsoleError::Refused(
                "You cannot block yourself while logged in to the console.".into(),
            ));
        }
        let ed = admin.editor(&s);
        if blocked {
            users::block(&ed, &id).await?;
        } else {
            users::unblock(&ed, &id, Unblock::Everything).await?;
        }
        Ok(())
    }
    .await;
    let notice = if blocked { "blocked" } else { "unblocked" };
    changed(&s, &admin, &id, notice, result, Feedback::default()).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    password: String,
}

async fn set_password(
    State(s): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<PasswordForm>,
) -> Response {
    let Posted { admin, form } = posted;
    let result = users::set_password(&admin.editor(&s), &s.passwords, &id, &form.password)
        .await
        .map(|_| ())
        .map_err(ConsoleError::from);
    changed(&s, &admin, &id, "password", result, Feedback::default()).await
}

/// Mails the user a link to choose a password (the forgotten-password mail), sent in the
/// console's name.
async fn send_reset(
    State(s): State<AppState>,
    Context(ctx): Context,
    Path(id): Path<String>,
    posted: Posted<Confirm>,
) -> Response {
    let admin = posted.admin;
    let result = users::send_password_reset(
        &admin.editor(&s),
        &s.recovery(),
        console::CLIENT_ID,
        &id,
        &ctx,
    )
    .await
    .map(|_| ())
    .map_err(ConsoleError::from);
    changed(&s, &admin, &id, "reset-sent", result, Feedback::default()).await
}

#[derive(Deserialize)]
pub struct MetadataForm {
    app_metadata: String,
    user_metadata: String,
}

/// The JSON object typed in a metadata box; empty means `{}`.
fn object(field: &str, text: &str) -> Result<Map<String, Json>, ConsoleError> {
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str(text) {
        Ok(Json::Object(map)) => Ok(map),
        Ok(_) => Err(ConsoleError::Refused(format!(
            "{field} must be a JSON object"
        ))),
        Err(e) => Err(ConsoleError::Refused(format!(
            "{field} is not valid JSON: {e}"
        ))),
    }
}

/// The merge patch that makes `stored` into `wanted` under the API's one-level merge:
/// every wanted key set, every other stored key removed.
fn replacement(stored: &Map<String, Json>, wanted: Map<String, Json>) -> Json {
    if wanted.is_empty() {
        return json!({});
    }
    let mut patch = wanted;
    for key in stored.keys() {
        patch.entry(key.clone()).or_insert(Json::Null);
    }
    Json::Object(patch)
}

/// `replacement`'s patch, which is always an object.
fn merge_patch(patch: Json) -> MetadataPatch {
    match patch {
        Json::Object(changes) => MetadataPatch::Merge(changes),
        _ => MetadataPatch::Clear,
    }
}

async fn set_metadata(
    State(s): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<MetadataForm>,
) -> Response {
    let Posted { admin, form } = posted;
    let result = async {
        let app = object("app_metadata", &form.app_metadata)?;
        let user_meta = object("user_metadata", &form.user_metadata)?;
        let stored = users::get(s.store.as_ref(), &id).await?;
        let mut input = UserUpdate::default();
        if app != stored.app_metadata {
            input.app_metadata = Some(merge_patch(replacement(&stored.app_metadata, app)));
        }
        if user_meta != stored.user_metadata {
            input.user_metadata = Some(merge_patch(replacement(&stored.user_metadata, user_meta)));
        }
        if input != UserUpdate::default() {
            users::update(&admin.editor(&s), &s.passwords, &id, input).await?;
        }
        Ok(())
    }
    .await;
    let typed = Feedback {
        error: None,
        app_metadata: Some(form.app_metadata),
        user_metadata: Some(form.user_metadata),
    };
    changed(&s, &admin, &id, "saved", result, typed).await
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

/// A role named by id or by name; an unknown one is refused by name.
async fn role_id(s: &AppState, reference: &str) -> Result<String, ConsoleError> {
    let found = s
        .store
        .resolve_role_refs(std::slice::from_ref(&reference.to_string()))
        .await?;
    found
        .into_iter()
        .flatten()
        .next()
        .ok_or_else(|| ConsoleError::Refused(format!("There is no role \"{reference}\".")))
}

async fn assign_role(
    State(s): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<RoleForm>,
) -> Response {
    let Posted { admin, form } = posted;
    let result = async {
        let role = role_id(&s, form.role.trim()).await?;
        let roles = vec![role];
        user_roles::assign(&admin.editor(&s), &id, &roles).await?;
        Ok(())
    }
    .await;
    changed(&s, &admin, &id, "assigned", result, Feedback::default()).await
}

async fn remove_role(
    State(s): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<RoleForm>,
) -> Response {
    let Posted { admin, form } = posted;
    let result = async {
        let roles = vec![role_id(&s, form.role.trim()).await?];
        user_roles::remove(&admin.editor(&s), &id, &roles).await?;
        Ok(())
    }
    .await;
    changed(&s, &admin, &id, "removed", result, Feedback::default()).await
}

async fn delete(
    State(s): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<Confirm>,
) -> Response {
    let admin = posted.admin;
    if admin.user.user_id == id {
        let result = Err(ConsoleError::Refused(
            "You cannot delete yourself while logged in to the console.".into(),
        ));
        return changed(&s, &admin, &id, "deleted", result, Feedback::default()).await;
    }
    match users::delete(&admin.editor(&s), &id).await {
        Ok(_) => done("/admin/users", "deleted"),
        Err(e) => ConsoleError::from(e).respond(&s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_replacement_removes_keys_not_typed() {
        let stored = json!({"a": 1, "b": 2}).as_object().unwrap().clone();
        let wanted = json!({"b": 3, "c": 4}).as_object().unwrap().clone();
        assert_eq!(
            replacement(&stored, wanted),
            json!({"a": null, "b": 3, "c": 4})
        );
        assert_eq!(replacement(&stored, Map::new()), json!({}));
    }

    #[test]
    fn metadata_must_be_an_object() {
        assert!(object("m", "").unwrap().is_empty());
        assert!(object("m", "[1]").is_err());
        assert!(object("m", "{oops").is_err());
        assert_eq!(object("m", r#"{"a":1}"#).unwrap().len(), 1);
    }
}
