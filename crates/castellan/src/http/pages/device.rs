//! `/activate`, where the user of a device (RFC 8628 §3.3) types its code, signs in if
//! they have no session, and confirms or refuses. Like Auth0, the code comes first: it
//! names the application, whose database connection the log-in form then checks. The
//! log-in is the `/authorize` page's form posted here, so a user already signed in goes
//! straight to the confirmation. Every post carries the CSRF token of the cookie.

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use castellan_core::events::RequestContext;
use castellan_core::login::device::{self, ActivationError, PendingDevice};
use castellan_core::login::password::{self, PasswordLogin};
use castellan_core::model::{DATABASE_CONNECTION, User};
use castellan_core::oauth::device_code::display_user_code;
use minijinja::context;
use serde::Deserialize;

use super::authorize::{
    current_session, login_refusal, secure, start_session, unexpected, untrusted_form,
};
use super::cookies;
use crate::app::AppState;
use crate::http::context::Context;

#[derive(Debug, Default, Deserialize)]
pub struct ActivateQuery {
    #[serde(default)]
    user_code: String,
}

#[derive(Debug, Deserialize)]
pub struct ActivationForm {
    csrf: String,
    /// The code as typed, or as carried by the confirmation form.
    #[serde(default)]
    user_code: String,
    /// The log-in form's name for what it continues: here the normalized user code.
    #[serde(default)]
    q: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    decision: String,
}

fn code_page(
    s: &AppState,
    status: StatusCode,
    csrf: &str,
    typed: &str,
    error: Option<&str>,
) -> Response {
    let context = context! { csrf => csrf, user_code => typed, error => error };
    s.pages.render(status, "activate.html", context, &[])
}

/// A code the page cannot act on, told on the code page; a failure of ours, in general
/// words.
fn refused(s: &AppState, csrf: &str, typed: &str, error: ActivationError) -> Response {
    let (status, message) = match &error {
        ActivationError::Failed(cause) => unexpected(cause),
        other => (StatusCode::BAD_REQUEST, other.to_string()),
    };
    code_page(s, status, csrf, typed, Some(&message))
}

fn confirm_page(s: &AppState, csrf: &str, device: &PendingDevice, user: &User) -> Response {
    let context = context! {
        csrf => csrf,
        user_code => display_user_code(&device.user_code),
        client_name => device.client.name.clone(),
        user_name => user.email.clone().or_else(|| user.username.clone()),
        scopes => device.scope.clone(),
        audience => device.audience.clone(),
    };
    s.pages
        .render(StatusCode::OK, "device_confirm.html", context, &[])
}

fn login_page(
    s: &AppState,
    status: StatusCode,
    csrf: &str,
    device: &PendingDevice,
    username: &str,
    error: Option<&str>,
) -> Response {
    let context = context! {
        action => "/activate/login",
        client_name => device.client.name.clone(),
        q => device.user_code.clone(),
        csrf => csrf,
        error => error,
        username => username,
    };
    s.pages.render(status, "login.html", context, &[])
}

pub async fn activate(
    State(s): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<ActivateQuery>, QueryRejection>,
) -> Response {
    let typed = query.map(|Query(q)| q.user_code).unwrap_or_default();
    let typed = if typed.contains('\0') {
        String::new()
    } else {
        typed
    };
    let (csrf, new_cookie) = cookies::csrf_token(&headers, secure(&s));
    // Shown, not looked up: only a post, which is rate-limited, tells whether a code is live.
    let response = code_page(&s, StatusCode::OK, &csrf, &typed, None);
    cookies::attach(response, new_cookie)
}

/// The posted form, if its fields are storable and its CSRF token is the cookie's.
fn accepted(
    s: &AppState,
    headers: &HeaderMap,
    form: Result<Form<ActivationForm>, FormRejection>,
) -> Result<ActivationForm, Box<Response>> {
    let Ok(Form(form)) = form else {
        return Err(Box::new(
            s.pages
                .error(StatusCode::BAD_REQUEST, "The form is malformed."),
        ));
    };
    let fields = [
        ("csrf", form.csrf.as_str()),
        ("user_code", &form.user_code),
        ("q", &form.q),
        ("username", &form.username),
        ("password", &form.password),
        ("decision", &form.decision),
    ];
    match untrusted_form(s, headers, &form.csrf, &fields) {
        Some(refusal) => Err(Box::new(refusal)),
        None => Ok(form),
    }
}

/// The typed code: on to the confirmation if signed in, to the log-in form if not.
pub async fn submit_code(
    State(s): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<ActivationForm>, FormRejection>,
) -> Response {
    let form = match accepted(&s, &headers, form) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    let device = match device::pending(s.store.as_ref(), s.clock.as_ref(), &form.user_code).await {
        Ok(device) => device,
        Err(e) => return refused(&s, &form.csrf, &form.user_code, e),
    };
    match current_session(&s, &headers).await {
        Some((_, user)) => confirm_page(&s, &form.csrf, &device, &user),
        None => login_page(&s, StatusCode::OK, &form.csrf, &device, "", None),
    }
}

pub async fn login(
    State(s): State<AppState>,
    Context(ctx): Context,
    headers: HeaderMap,
    form: Result<Form<ActivationForm>, FormRejection>,
) -> Response {
    let form = match accepted(&s, &headers, form) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    let device = match device::pending(s.store.as_ref(), s.clock.as_ref(), &form.q).await {
        Ok(device) => device,
        Err(e) => return refused(&s, &form.csrf, "", e),
    };
    let failed = |status: StatusCode, message: &str| {
        login_page(
            &s,
            status,
            &form.csrf,
            &device,
            &form.username,
            Some(message),
        )
    };
    match s.store.find_connection_by_name(DATABASE_CONNECTION).await {
        Ok(Some(c)) if c.enabled_clients.contains(&device.client.client_id) => {}
        Ok(_) => {
            return s.pages.error(
                StatusCode::BAD_REQUEST,
                "This application has no database connection to log in with.",
            );
        }
        Err(e) => {
            let (status, message) = unexpected(&e.into());
            return failed(status, &message);
        }
    }
    let login = PasswordLogin {
        connection: DATABASE_CONNECTION,
        identifier: &form.username,
        password: &form.password,
    };
    let authenticated = password::authenticate(
        s.store.as_ref(),
        &s.passwords,
        s.clock.as_ref(),
        login,
        &ctx,
    )
    .await;
    match authenticated {
        Ok(user) => signed_in(&s, &form, &device, &user, &ctx).await,
        Err(e) => {
            let (status, message) = login_refusal(&e);
            failed(status, &message)
        }
    }
}

async fn signed_in(
    s: &AppState,
    form: &ActivationForm,
    device: &PendingDevice,
    user: &User,
    ctx: &RequestContext,
) -> Response {
    let (_, cookie) = match start_session(s, &device.client, user, ctx).await {
        Ok(started) => started,
        Err(refusal) => return refusal,
    };
    cookies::attach(confirm_page(s, &form.csrf, device, user), [cookie])
}

pub async fn confirm(
    State(s): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<ActivationForm>, FormRejection>,
) -> Response {
    let form = match accepted(&s, &headers, form) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    let Some((session, user)) = current_session(&s, &headers).await else {
        return s.pages.error(
            StatusCode::UNAUTHORIZED,
            "Your session has ended. Enter the code again.",
        );
    };
    let (store, clock) = (s.store.as_ref(), s.clock.as_ref());
    let approve = form.decision == "allow";
    let decided = match device::pending(store, clock, &form.user_code).await {
        Ok(device) => {
            device::decide(store, clock, &device, &user, session.auth_time, approve).await
        }
        Err(e) => Err(e),
    };
    match decided {
        Ok(()) if approve => s.pages.message(
            StatusCode::OK,
            "Your device is connected",
            "You can return to your device.",
        ),
        Ok(()) => s.pages.message(
            StatusCode::OK,
            "Access refused",
            "The device was not given access. You can return to your device.",
        ),
        Err(e) => refused(&s, &form.csrf, "", e),
    }
}
