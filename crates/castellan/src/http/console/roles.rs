//! Roles: the list with a form to create one, and a role's page with its permissions (added
//! from the scopes of an API), the users holding it directly, renaming and deletion.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use castellan_core::directory::roles::{NewRole, RoleUpdate};
use castellan_core::directory::{role_users, roles};
use castellan_core::model::Permission;
use castellan_core::paging::PageRequest;
use minijinja::context;
use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::users::{role_row, user_row};
use super::{
    Admin, Confirm, ConsoleError, Outcome, Posted, done, done_or_again, finish, page, page_request,
    pager, refused_or_failed, segment,
};
use crate::app::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/roles", get(list).post(create))
        .route("/admin/roles/{id}", get(show).post(update))
        .route("/admin/roles/{id}/permissions", post(add_permission))
        .route(
            "/admin/roles/{id}/permissions/remove",
            post(remove_permission),
        )
        .route("/admin/roles/{id}/delete", post(delete))
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    page: u64,
}

#[derive(Deserialize, Default)]
pub struct RoleForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
}

async fn list_page(
    s: &AppState,
    admin: &Admin,
    status: StatusCode,
    at: u64,
    form: &RoleForm,
    error: Option<String>,
) -> Outcome {
    let found = s.store.list_roles(None, page_request(at)).await?;
    let rows: Vec<Json> = found.items.iter().map(role_row).collect();
    Ok(page(
        s,
        admin,
        status,
        "admin/roles.html",
        "roles",
        context! {
            roles => super::to_value(&rows),
            pager => pager(at, found.total),
            name => form.name.as_str(),
            description => form.description.as_str(),
            error => error,
        },
    ))
}

async fn list(State(s): State<AppState>, admin: Admin, Query(q): Query<ListQuery>) -> Response {
    let outcome = list_page(
        &s,
        &admin,
        StatusCode::OK,
        q.page,
        &RoleForm::default(),
        None,
    )
    .await;
    finish(&s, outcome)
}

async fn create(State(s): State<AppState>, posted: Posted<RoleForm>) -> Response {
    let Posted { admin, form } = posted;
    let description = Some(form.description.clone()).filter(|d| !d.is_empty());
    let input = NewRole {
        name: form.name.trim().to_string(),
        description,
    };
    match roles::create(&admin.editor(&s), input).await {
        Ok(role) => done(&format!("/admin/roles/{}", segment(&role.id)), "created"),
        Err(e) => {
            refused_or_failed(&s, e.into(), |message| {
                list_page(&s, &admin, StatusCode::BAD_REQUEST, 0, &form, Some(message))
            })
            .await
        }
    }
}

async fn role_page(
    s: &AppState,
    admin: &Admin,
    id: &str,
    status: StatusCode,
    error: Option<String>,
) -> Outcome {
    let store = s.store.as_ref();
    let role = roles::get(store, id).await?;
    let permissions = store
        .list_role_permissions(&role.id, PageRequest::ALL)
        .await?
        .items;
    let holders = role_users::list(
        store,
        &role.id,
        PageRequest {
            offset: 0,
            limit: 100,
        },
    )
    .await?;
    let apis: Vec<Json> = store
        .list_resource_servers(PageRequest::ALL)
        .await?
        .items
        .iter()
        .map(|api| {
            json!({
                "identifier": api.identifier,
                "name": api.name,
                "scopes": api.scopes.iter().map(|sc| &sc.value).collect::<Vec<_>>(),
            })
        })
        .collect();
    let permissions: Vec<Json> = permissions
        .iter()
        .map(|p| json!({"api": p.resource_server_identifier, "name": p.permission_name}))
        .collect();
    Ok(page(
        s,
        admin,
        status,
        "admin/role.html",
        "roles",
        context! {
            role => super::to_value(role_row(&role)),
            permissions => super::to_value(&permissions),
            users => super::to_value(holders.items.iter().map(user_row).collect::<Vec<_>>()),
            users_total => holders.total,
            apis => super::to_value(&apis),
            error => error,
        },
    ))
}

async fn show(State(s): State<AppState>, admin: Admin, Path(id): Path<String>) -> Response {
    let outcome = role_page(&s, &admin, &id, StatusCode::OK, None).await;
    finish(&s, outcome)
}

async fn changed(
    s: &AppState,
    admin: &Admin,
    id: &str,
    notice: &str,
    result: Result<(), ConsoleError>,
) -> Response {
    let path = format!("/admin/roles/{}", segment(id));
    done_or_again(s, result, &path, notice, |message| {
        role_page(s, admin, id, StatusCode::BAD_REQUEST, Some(message))
    })
    .await
}

async fn update(
    State(s): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<RoleForm>,
) -> Response {
    let Posted { admin, form } = posted;
    let result = async {
        let update = RoleUpdate {
            name: Some(form.name.trim().to_string()),
            description: Some(form.description.clone()),
        };
        roles::update(&admin.editor(&s), &id, update).await?;
        Ok(())
    }
    .await;
    changed(&s, &admin, &id, "saved", result).await
}

#[derive(Deserialize)]
pub struct PermissionForm {
    #[serde(default)]
    api: String,
    #[serde(default)]
    permission: String,
}

impl PermissionForm {
    fn permission(&self) -> Permission {
        Permission {
            resource_server_identifier: self.api.trim().to_string(),
            permission_name: self.permission.trim().to_string(),
        }
    }
}

async fn add_permission(
    State(s): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<PermissionForm>,
) -> Response {
    let Posted { admin, form } = posted;
    let permission = form.permission();
    let result = async {
        roles::add_permissions(&admin.editor(&s), &id, std::slice::from_ref(&permission))
            .await
            .map_err(|e| match e {
                castellan_core::Error::NotFound {
                    kind: "resource server",
                } => ConsoleError::Refused(format!("There is no API \"{}\".", form.api)),
                other => other.into(),
            })?;
        Ok(())
    }
    .await;
    changed(&s, &admin, &id, "assigned", result).await
}

async fn remove_permission(
    State(s): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<PermissionForm>,
) -> Response {
    let Posted { admin, form } = posted;
    let permission = form.permission();
    let result = async {
        roles::remove_permissions(&admin.editor(&s), &id, std::slice::from_ref(&permission))
            .await?;
        Ok(())
    }
    .await;
    changed(&s, &admin, &id, "removed", result).await
}

async fn delete(
    State(s): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<Confirm>,
) -> Response {
    let admin = posted.admin;
    let result = async {
        roles::delete(&admin.editor(&s), &id).await?;
        Ok::<_, ConsoleError>(())
    }
    .await;
    match result {
        Ok(()) => done("/admin/roles", "deleted"),
        Err(e) => e.respond(&s),
    }
}
