//! Applications (clients): the list with a form to create one, and an application's page
//! with its settings and secret rotation. A new secret is shown once, in the answer to the
//! post that made it, and never put in a URL: that answer is the one page of the console
//! that does not redirect after a change.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use castellan_core::directory::clients::{self, ClientFields, ClientWithSecret, RefreshTokenInput};
use castellan_core::login::console;
use castellan_core::model::{AppType, Client, ExpirationType, Named, RotationType};
use castellan_core::paging::PageRequest;
use minijinja::context;
use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::{
    Admin, Confirm, ConsoleError, Outcome, Posted, done, done_or_again, finish, page,
    refused_or_failed, segment,
};
use crate::app::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/applications", get(list).post(create))
        .route("/admin/applications/{id}", get(show).post(update))
        .route("/admin/applications/{id}/rotate-secret", post(rotate))
}

fn row(c: &Client) -> Json {
    json!({
        "client_id": c.client_id,
        "name": c.name,
        "app_type": c.app_type.name(),
        "first_party": c.is_first_party,
        "public": c.is_public(),
        "built_in": c.client_id == console::CLIENT_ID,
        "link": format!("/admin/applications/{}", segment(&c.client_id)),
    })
}

fn lines(list: &[String]) -> String {
    list.join("\n")
}

fn split_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[derive(Deserialize, Default)]
pub struct NewAppForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    app_type: String,
    #[serde(default)]
    callbacks: String,
}

async fn list_page(
    s: &AppState,
    admin: &Admin,
    status: StatusCode,
    form: &NewAppForm,
    error: Option<String>,
) -> Outcome {
    let all = s.store.list_clients(PageRequest::ALL).await?;
    let types: Vec<&str> = AppType::ALL.iter().map(|t| t.name()).collect();
    Ok(page(
        s,
        admin,
        status,
        "admin/applications.html",
        "applications",
        context! {
            applications => super::to_value(all.items.iter().map(row).collect::<Vec<_>>()),
            types => types,
            name => form.name.as_str(),
            app_type => form.app_type.as_str(),
            callbacks => form.callbacks.as_str(),
            error => error,
        },
    ))
}

async fn list(State(s): State<AppState>, admin: Admin) -> Response {
    let outcome = list_page(&s, &admin, StatusCode::OK, &NewAppForm::default(), None).await;
    finish(&s, outcome)
}

/// The page that shows a secret once.
fn secret_page(s: &AppState, admin: &Admin, made: ClientWithSecret, what: &str) -> Response {
    page(
        s,
        admin,
        StatusCode::OK,
        "admin/secret.html",
        "applications",
        context! {
            application => super::to_value(row(&made.client)),
            secret => made.secret,
            what => what,
        },
    )
}

async fn create(State(s): State<AppState>, posted: Posted<NewAppForm>) -> Response {
    let Posted { admin, form } = posted;
    let fields = ClientFields {
        name: Some(form.name.trim().to_string()),
        app_type: Some(form.app_type.clone()).filter(|t| !t.is_empty()),
        callbacks: Some(split_lines(&form.callbacks)),
        ..Default::default()
    };
    match clients::create(&admin.editor(&s), fields.into()).await {
        Ok(made) => {
            if made.secret.is_some() {
                secret_page(&s, &admin, made, "created")
            } else {
                done(
                    &format!("/admin/applications/{}", segment(&made.client.client_id)),
                    "created",
                )
            }
        }
        Err(e) => {
            refused_or_failed(&s, e.into(), |message| {
                list_page(&s, &admin, StatusCode::BAD_REQUEST, &form, Some(message))
            })
            .await
        }
    }
}

async fn app_page(
    s: &AppState,
    admin: &Admin,
    id: &str,
    status: StatusCode,
    error: Option<String>,
) -> Outcome {
    let client = clients::get(s.store.as_ref(), id).await?;
    let grants = client.grant_types.clone();
    Ok(page(
        s,
        admin,
        status,
        "admin/application.html",
        "applications",
        context! {
            application => super::to_value(row(&client)),
            description => client.description,
            grant_types => grants,
            callbacks => lines(&client.callbacks),
            allowed_logout_urls => lines(&client.allowed_logout_urls),
            web_origins => lines(&client.web_origins),
            allowed_origins => lines(&client.allowed_origins),
            auth_method => client.token_endpoint_auth_method.name(),
            refresh_token => super::to_value(&client.refresh_token),
            error => error,
        },
    ))
}

async fn show(State(s): State<AppState>, admin: Admin, Path(id): Path<String>) -> Response {
    let outcome = app_page(&s, &admin, &id, StatusCode::OK, None).await;
    finish(&s, outcome)
}

#[derive(Deserialize)]
pub struct AppForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    callbacks: String,
    #[serde(default)]
    allowed_logout_urls: String,
    #[serde(default)]
    web_origins: String,
    #[serde(default)]
    allowed_origins: String,
    /// The refresh-token settings, all sent together; a form without them keeps them.
    rotation_type: Option<RotationType>,
    expiration_type: Option<ExpirationType>,
    leeway: Option<String>,
    token_lifetime: Option<String>,
    /// A checkbox: present when ticked.
    infinite_token_lifetime: Option<String>,
    idle_token_lifetime: Option<String>,
    infinite_idle_token_lifetime: Option<String>,
}

impl AppForm {
    fn refresh_token(&self) -> Result<Option<RefreshTokenInput>, ConsoleError> {
        let (Some(rotation_type), Some(expiration_type)) =
            (self.rotation_type, self.expiration_type)
        else {
            return Ok(None);
        };
        let seconds = |field: &str, value: &Option<String>| match value.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                ConsoleError::Refused(format!("{field} must be a whole number of seconds"))
            }),
        };
        Ok(Some(RefreshTokenInput {
            rotation_type,
            expiration_type,
            leeway: seconds("leeway", &self.leeway)?,
            token_lifetime: seconds("token_lifetime", &self.token_lifetime)?,
            infinite_token_lifetime: Some(self.infinite_token_lifetime.is_some()),
            idle_token_lifetime: seconds("idle_token_lifetime", &self.idle_token_lifetime)?,
            infinite_idle_token_lifetime: Some(self.infinite_idle_token_lifetime.is_some()),
        }))
    }
}

async fn update(
    State(s): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<AppForm>,
) -> Response {
    let Posted { admin, form } = posted;
    let result = async {
        if id == console::CLIENT_ID {
            return Err(ConsoleError::Refused(
                "The console's own application is kept as the server needs it; it cannot be changed here.".into(),
            ));
        }
        let fields = ClientFields {
            name: Some(form.name.trim().to_string()),
            description: Some(form.description.trim().to_string()),
            callbacks: Some(split_lines(&form.callbacks)),
            allowed_logout_urls: Some(split_lines(&form.allowed_logout_urls)),
            web_origins: Some(split_lines(&form.web_origins)),
            allowed_origins: Some(split_lines(&form.allowed_origins)),
            refresh_token: form.refresh_token()?,
            ..Default::default()
        };
        let guard = crate::http::management::admin_guard(&s);
        clients::update(&admin.editor(&s), &id, fields.into(), &guard).await?;
        Ok(())
    }
    .await;
    let path = format!("/admin/applications/{}", segment(&id));
    done_or_again(&s, result, &path, "saved", |message| {
        app_page(&s, &admin, &id, StatusCode::BAD_REQUEST, Some(message))
    })
    .await
}

async fn rotate(
    State(s): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<Confirm>,
) -> Response {
    let admin = posted.admin;
    match clients::rotate_secret(&admin.editor(&s), &id).await {
        Ok(made) => secret_page(&s, &admin, made, "rotated"),
        Err(e) => {
            refused_or_failed(&s, e.into(), |message| {
                app_page(&s, &admin, &id, StatusCode::BAD_REQUEST, Some(message))
            })
            .await
        }
    }
}
