//! The pages behind mailed links and the forgotten-password form: choose a new password,
//! verify an email address, ask for a reset link.

use std::collections::HashMap;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use castellan_core::login::recovery::TicketError;
use minijinja::context;
use serde::Deserialize;

use super::authorize::{CredentialsForm, accepted, checked, secure, with_screen_hint};
use super::cookies;
use crate::app::AppState;
use crate::http::context::Context;

fn ticket_failure(s: &AppState, e: TicketError) -> Response {
    match e {
        TicketError::Invalid => s.pages.error(StatusCode::BAD_REQUEST, &e.to_string()),
        TicketError::WeakPassword(m) => s.pages.error(StatusCode::BAD_REQUEST, &m),
        TicketError::Failed(cause) => {
            tracing::error!(cause = %cause, "a mailed link failed");
            s.pages.error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Something went wrong; try again shortly.",
            )
        }
    }
}

fn reset_form(
    s: &AppState,
    status: StatusCode,
    ticket: &str,
    csrf: &str,
    error: Option<&str>,
) -> Response {
    let context = context! { ticket => ticket, csrf => csrf, error => error };
    s.pages.render(status, "reset_password.html", context, &[])
}

/// `GET /reset-password?ticket=`
pub async fn reset_page(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let ticket = q.get("ticket").cloned().unwrap_or_default();
    match s.recovery().reset_link_is_live(&ticket).await {
        Ok(true) => {
            let (csrf, cookie) = cookies::csrf_token(&headers, secure(&s));
            cookies::attach(reset_form(&s, StatusCode::OK, &ticket, &csrf, None), cookie)
        }
        Ok(false) => ticket_failure(&s, TicketError::Invalid),
        Err(e) => ticket_failure(&s, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct ResetForm {
    ticket: String,
    csrf: String,
    password: String,
}

/// `POST /reset-password`
pub async fn reset_submit(
    State(s): State<AppState>,
    Context(ctx): Context,
    headers: HeaderMap,
    form: Result<Form<ResetForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return s
            .pages
            .error(StatusCode::BAD_REQUEST, "The form is malformed.");
    };
    if !cookies::csrf_matches(&headers, &form.csrf, secure(&s)) {
        return s.pages.error(
            StatusCode::FORBIDDEN,
            "This form has expired or was not sent from this site.",
        );
    }
    match s
        .recovery()
        .reset_password(&s.passwords, &form.ticket, &form.password, &ctx)
        .await
    {
        Ok(_) => s.pages.message(
            StatusCode::OK,
            "Password changed",
            "You can now log in with your new password.",
        ),
        Err(TicketError::WeakPassword(m)) => reset_form(
            &s,
            StatusCode::BAD_REQUEST,
            &form.ticket,
            &form.csrf,
            Some(&m),
        ),
        Err(e) => ticket_failure(&s, e),
    }
}

/// `GET /verify-email?ticket=`
pub async fn verify_email(
    State(s): State<AppState>,
    Context(ctx): Context,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let ticket = q.get("ticket").cloned().unwrap_or_default();
    match s.recovery().verify_email(&ticket, &ctx).await {
        Ok(_) => s.pages.message(
            StatusCode::OK,
            "Email verified",
            "Thank you: your email address is confirmed.",
        ),
        Err(e) => ticket_failure(&s, e),
    }
}

/// `GET /authorize/forgot?{authorize query}`
pub async fn forgot_page(
    State(s): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let q = q.unwrap_or_default();
    if let Err(response) = checked(&s, &q).await {
        return response;
    }
    let (csrf, cookie) = cookies::csrf_token(&headers, secure(&s));
    let context = context! { q_login => with_screen_hint(&q, false), q => q, csrf => csrf };
    cookies::attach(
        s.pages.render(StatusCode::OK, "forgot.html", context, &[]),
        cookie,
    )
}

/// `POST /authorize/forgot`: the same answer whether or not the address has an account.
pub async fn forgot_submit(
    State(s): State<AppState>,
    Context(ctx): Context,
    headers: HeaderMap,
    form: Result<Form<CredentialsForm>, FormRejection>,
) -> Response {
    let (form, request) = match accepted(&s, &headers, form).await {
        Ok(ok) => ok,
        Err(response) => return response,
    };
    let checked = s
        .recovery()
        .check_reset_request(&request.client.client_id, &request.connection)
        .await;
    match checked {
        Ok(client) => {
            s.queue_reset(client, request.connection.clone(), form.email.clone(), ctx);
            s.pages.message(
            StatusCode::OK,
            "Check your email",
            "If an account exists for that address, we have sent it a link to choose a new password.",
            )
        }
        Err(e) => {
            tracing::warn!(cause = %e, "a password reset request failed");
            s.pages.error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Something went wrong; try again shortly.",
            )
        }
    }
}
