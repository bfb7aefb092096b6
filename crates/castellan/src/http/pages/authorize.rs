//! `GET /authorize` and the forms it shows: log-in, sign-up and consent. Each form carries
//! the original query (`q`), which is checked again on every post, and a CSRF token that
//! must equal the CSRF cookie.

use std::collections::HashMap;

use axum::extract::rejection::FormRejection;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use castellan_core::directory::signup::{self, SignupError, SignupRequest};
use castellan_core::events::{self, LogEventExt, RequestContext};
use castellan_core::login::authorize::{self, Answer, AuthorizeError, AuthorizeRequest, Prompt};
use castellan_core::login::password::{self, LoginError, PasswordLogin};
use castellan_core::login::redirect as login_redirect;
use castellan_core::login::session;
use castellan_core::model::{Client, Session, User};
use castellan_core::oauth::OAuthError;
use castellan_core::text::nul_refused;
use minijinja::context;
use serde::Deserialize;

use super::cookies;
use super::response_mode::{deliver, not_a_url};
use crate::app::AppState;
use crate::http::context::Context;
use crate::http::input::nul_in_pairs;
use crate::http::redirect;

pub(super) fn secure(s: &AppState) -> bool {
    s.settings.issuer.starts_with("https://")
}

pub(super) fn parse_query(q: &str) -> Result<HashMap<String, String>, AuthorizeError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q)
        .map_err(|_| AuthorizeError::Page("The request's query string is malformed.".into()))?;
    // The query comes back in every form's `q`, past the check of the request's own.
    if let Some(name) = nul_in_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
        return Err(AuthorizeError::Page(nul_refused(&name)));
    }
    authorize::single_valued(pairs)
}

/// The same query with `screen_hint` set (or removed), for the links between the pages.
pub(super) fn with_screen_hint(q: &str, signup: bool) -> String {
    let mut pairs: Vec<(String, String)> = serde_urlencoded::from_str(q).unwrap_or_default();
    pairs.retain(|(k, _)| k != "screen_hint" && k != "prompt");
    if signup {
        pairs.push(("screen_hint".into(), "signup".into()));
    }
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

pub(super) fn error_response(s: &AppState, error: AuthorizeError) -> Response {
    match error {
        AuthorizeError::Page(message) => s.pages.error(StatusCode::BAD_REQUEST, &message),
        AuthorizeError::Redirect {
            redirect_uri,
            mode,
            state,
            error,
            description,
        } => {
            let mut params = vec![
                ("error", error.to_string()),
                ("error_description", description),
            ];
            params.extend(state.map(|st| ("state", st)));
            deliver(s, &redirect_uri, mode, &params)
        }
    }
}

pub(super) async fn checked(s: &AppState, q: &str) -> Result<AuthorizeRequest, Response> {
    let params = parse_query(q).map_err(|e| error_response(s, e))?;
    let request = authorize::validate(s.store.as_ref(), &s.settings.issuer, &params)
        .await
        .map_err(|e| error_response(s, e))?;
    // Refused before any form is shown, rather than after the user has signed in.
    if redirect::with_params(&request.redirect_uri, &[]).is_none() {
        return Err(not_a_url(s));
    }
    Ok(request)
}

struct PageForm<'a> {
    q: &'a str,
    csrf: &'a str,
    error: Option<&'a str>,
    filled: &'a str,
}

/// The log-in page, or the sign-up page when asked for and the connection lets this
/// client's users sign up (otherwise neither the page nor its link is offered).
async fn credentials_page(
    s: &AppState,
    status: StatusCode,
    request: &AuthorizeRequest,
    signup: bool,
    form: PageForm<'_>,
) -> Response {
    let signup_allowed = match s.store.find_connection_by_name(&request.connection).await {
        Ok(found) => found.is_some_and(|c| signup::signup_enabled(&request.client, &c)),
        Err(e) => {
            tracing::warn!(cause = %e, "could not read the connection");
            false
        }
    };
    let targets = redirect::origin(&request.redirect_uri);
    let targets: Vec<&str> = targets.as_deref().into_iter().collect();
    let context = context! {
        client_name => request.client.name.clone(),
        q => form.q,
        csrf => form.csrf,
        error => form.error,
        username => form.filled,
        email => form.filled,
        q_signup => with_screen_hint(form.q, true),
        q_login => with_screen_hint(form.q, false),
        signup_allowed => signup_allowed,
    };
    let template = if signup && signup_allowed {
        "signup.html"
    } else {
        "login.html"
    };
    s.pages.render(status, template, context, &targets)
}

/// Where the user is when the request is answered.
struct Visit<'a> {
    q: &'a str,
    csrf: &'a str,
    ctx: &'a RequestContext,
}

/// The end of every path through the pages: consent where a third-party client needs it,
/// then the code or tokens back to the client.
async fn finish(
    s: &AppState,
    request: &AuthorizeRequest,
    user: &User,
    auth_time: i64,
    consent_given: bool,
    visit: Visit<'_>,
) -> Response {
    let Visit { q, csrf, ctx } = visit;
    // Whether to ask is read only when the user has not just answered.
    let wants_consent = if consent_given {
        authorize::remember_consent(s.store.as_ref(), s.clock.as_ref(), request, user)
            .await
            .map(|()| false)
    } else {
        authorize::needs_consent(s.store.as_ref(), request, user).await
    };
    let wants_consent = match wants_consent {
        Ok(wanted) => wanted,
        Err(e) => return store_failed(s, request, &e.into()),
    };
    if wants_consent {
        if request.prompt == Prompt::None {
            return error_response(s, request.error("consent_required", "Consent required"));
        }
        let targets = redirect::origin(&request.redirect_uri);
        let targets: Vec<&str> = targets.as_deref().into_iter().collect();
        let context = context! {
            client_name => request.client.name.clone(),
            user_name => user.email.clone().or_else(|| user.username.clone()),
            scopes => request.scope.clone(),
            q => q,
            csrf => csrf,
        };
        return s
            .pages
            .render(StatusCode::OK, "consent.html", context, &targets);
    }
    let state = login_redirect::new_state();
    match authorize::respond(&s.services(), request, user, auth_time, ctx, &state, None).await {
        Ok(Answer::Params(params)) => {
            deliver(s, &request.redirect_uri, request.response_mode, &params)
        }
        // Nowhere to show another site's page without the user (OpenID Connect Core
        // §3.1.2.6: `interaction_required`).
        Ok(Answer::Redirect(_)) if request.prompt == Prompt::None => error_response(
            s,
            request.error(
                "interaction_required",
                "A rule or action asked to redirect the user, which prompt=none does not allow",
            ),
        ),
        Ok(Answer::Redirect(suspension)) => {
            let at = login_redirect::LoginAt {
                q,
                client: &request.client,
                user,
                auth_time,
                ctx,
            };
            super::continue_login::send_away(s, request, at, &state, *suspension).await
        }
        Err(e) => refused(s, request, e),
    }
}

/// A log-in the scripts or the store refused at the end, told to the client.
pub(super) fn refused(s: &AppState, request: &AuthorizeRequest, e: OAuthError) -> Response {
    match e {
        // A rule's refusal (`UnauthorizedError` is Auth0's `unauthorized`), an action's, or a
        // user blocked meanwhile, goes back to the client.
        OAuthError::Unauthorized(description) => {
            error_response(s, request.error("unauthorized", description))
        }
        OAuthError::AccessDenied(description) => {
            error_response(s, request.error("access_denied", description))
        }
        e => {
            tracing::error!(cause = %e, "could not answer an authorization request");
            error_response(s, request.error("server_error", "Internal error"))
        }
    }
}

/// A failure of the store while answering: told to the client, which may try again.
fn store_failed(
    s: &AppState,
    request: &AuthorizeRequest,
    cause: &castellan_core::Error,
) -> Response {
    let (error, description) = match cause {
        castellan_core::Error::Unavailable => (
            "temporarily_unavailable",
            "The service is temporarily unavailable",
        ),
        _ => {
            tracing::error!(cause = %cause, "an authorization request failed");
            ("server_error", "Internal error")
        }
    };
    error_response(s, request.error(error, description))
}

pub(super) async fn current_session(s: &AppState, headers: &HeaderMap) -> Option<(Session, User)> {
    let id = cookies::get(headers, cookies::SESSION)?;
    match session::resume(s.store.as_ref(), s.clock.as_ref(), id).await {
        Ok(found) => found,
        Err(e) => {
            tracing::warn!(cause = %e, "could not read a session");
            None
        }
    }
}

pub async fn authorize(
    State(s): State<AppState>,
    Context(ctx): Context,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let q = q.unwrap_or_default();
    let request = match checked(&s, &q).await {
        Ok(r) => r,
        Err(response) => return response,
    };
    let (csrf, new_cookie) = cookies::csrf_token(&headers, secure(&s));
    let hinted = match hinted_subject(&s, &request).await {
        Ok(subject) => subject,
        Err(response) => return response,
    };
    let now = s.clock.now();
    let signed_in = current_session(&s, &headers)
        .await
        .filter(|(session, _)| authorize::session_serves(&request, session, hinted.as_deref(), now))
        .map(|(session, user)| (session.auth_time, user));
    let response = match (signed_in, request.prompt) {
        (None, Prompt::None) => {
            error_response(&s, request.error("login_required", "Login required"))
        }
        (Some((auth_time, user)), prompt) if prompt != Prompt::Login => {
            let visit = Visit {
                q: &q,
                csrf: &csrf,
                ctx: &ctx,
            };
            finish(&s, &request, &user, auth_time, false, visit).await
        }
        _ => {
            let hint = request.login_hint.clone().unwrap_or_default();
            let form = PageForm {
                q: &q,
                csrf: &csrf,
                error: None,
                filled: &hint,
            };
            credentials_page(&s, StatusCode::OK, &request, request.signup, form).await
        }
    };
    cookies::attach(response, new_cookie)
}

/// The user an `id_token_hint` names: a token this server issued to this client, however
/// old; anything else is refused back to the client.
async fn hinted_subject(
    s: &AppState,
    request: &AuthorizeRequest,
) -> Result<Option<String>, Response> {
    let Some(hint) = &request.id_token_hint else {
        return Ok(None);
    };
    let audience = [request.client.client_id.clone()];
    let subject = s
        .tokens
        .verify_signature(hint, &audience)
        .await
        .ok()
        .and_then(|claims| claims.get("sub")?.as_str().map(str::to_string));
    match subject {
        Some(subject) => Ok(Some(subject)),
        None => Err(error_response(
            s,
            request.error("invalid_request", "The id_token_hint is not valid"),
        )),
    }
}

#[derive(Debug, Deserialize)]
pub struct CredentialsForm {
    pub(super) q: String,
    pub(super) csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    pub(super) email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    decision: String,
}

/// The posted form, its CSRF token checked, and its authorization request checked again.
pub(super) async fn accepted(
    s: &AppState,
    headers: &HeaderMap,
    form: Result<axum::extract::Form<CredentialsForm>, FormRejection>,
) -> Result<(CredentialsForm, AuthorizeRequest), Response> {
    let Ok(axum::extract::Form(form)) = form else {
        return Err(s
            .pages
            .error(StatusCode::BAD_REQUEST, "The form is malformed."));
    };
    let fields = [
        ("username", form.username.as_str()),
        ("email", &form.email),
        ("password", &form.password),
        ("decision", &form.decision),
        ("csrf", &form.csrf),
        ("q", &form.q),
    ];
    if let Some(refusal) = untrusted_form(s, headers, &form.csrf, &fields) {
        return Err(refusal);
    }
    let request = checked(s, &form.q).await?;
    Ok((form, request))
}

/// The refusal of a posted form whose fields cannot be stored or whose CSRF token is not
/// the cookie's; none for a form to act on.
pub(super) fn untrusted_form(
    s: &AppState,
    headers: &HeaderMap,
    csrf: &str,
    fields: &[(&str, &str)],
) -> Option<Response> {
    if let Some(name) = nul_in_pairs(fields.iter().copied()) {
        return Some(s.pages.error(StatusCode::BAD_REQUEST, &nul_refused(&name)));
    }
    (!cookies::csrf_matches(headers, csrf, secure(s))).then(|| {
        s.pages.error(
            StatusCode::FORBIDDEN,
            "This form has expired or was not sent from this site. Go back and try again.",
        )
    })
}

/// After a log-in for `client`: the user's new session, recorded as Auth0's `s`, and the
/// cookie that carries it.
pub(super) async fn start_session(
    s: &AppState,
    client: &Client,
    user: &User,
    ctx: &RequestContext,
) -> Result<(Session, HeaderValue), Response> {
    let (id, session) = match session::start(s.store.as_ref(), s.clock.as_ref(), user, "pwd").await
    {
        Ok(started) => started,
        Err(e) => {
            tracing::error!(cause = %e, "could not start a session");
            return Err(s.pages.error(
                StatusCode::SERVICE_UNAVAILABLE,
                "The service is temporarily unavailable.",
            ));
        }
    };
    let event = events::event("s", "Success Login", ctx)
        .client(client)
        .user(user);
    events::record(s.store.as_ref(), s.clock.as_ref(), event).await;
    let cookie = cookies::set(cookies::SESSION, &id, session::SESSION_LIFETIME, secure(s));
    Ok((session, cookie))
}

/// How a refused password log-in is told on the log-in page.
pub(super) fn login_refusal(e: &LoginError) -> (StatusCode, String) {
    match e {
        LoginError::TooManyAttempts => (StatusCode::TOO_MANY_REQUESTS, e.to_string()),
        LoginError::Failed(cause) => unexpected(cause),
        _ => (StatusCode::UNAUTHORIZED, e.to_string()),
    }
}

async fn signed_in(
    s: &AppState,
    request: &AuthorizeRequest,
    user: &User,
    form: &CredentialsForm,
    ctx: &RequestContext,
) -> Response {
    let (session, cookie) = match start_session(s, &request.client, user, ctx).await {
        Ok(started) => started,
        Err(refusal) => return refusal,
    };
    let visit = Visit {
        q: &form.q,
        csrf: &form.csrf,
        ctx,
    };
    let response = finish(s, request, user, session.auth_time, false, visit).await;
    cookies::attach(response, [cookie])
}

/// A failure that is not the user's: logged, and told in general words.
pub(super) fn unexpected(cause: &castellan_core::Error) -> (StatusCode, String) {
    let status = match cause {
        castellan_core::Error::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => {
            tracing::error!(cause = %cause, "a page's request failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    (
        status,
        "Something went wrong; try again shortly.".to_string(),
    )
}

pub async fn login(
    State(s): State<AppState>,
    Context(ctx): Context,
    headers: HeaderMap,
    form: Result<axum::extract::Form<CredentialsForm>, FormRejection>,
) -> Response {
    let (form, request) = match accepted(&s, &headers, form).await {
        Ok(ok) => ok,
        Err(response) => return response,
    };
    let login = PasswordLogin {
        connection: &request.connection,
        identifier: &form.username,
        password: &form.password,
    };
    match password::authenticate(
        s.store.as_ref(),
        &s.passwords,
        s.clock.as_ref(),
        login,
        &ctx,
    )
    .await
    {
        Ok(user) => signed_in(&s, &request, &user, &form, &ctx).await,
        Err(e) => {
            let (status, message) = login_refusal(&e);
            let page = PageForm {
                q: &form.q,
                csrf: &form.csrf,
                error: Some(&message),
                filled: &form.username,
            };
            credentials_page(&s, status, &request, false, page).await
        }
    }
}

pub async fn signup(
    State(s): State<AppState>,
    Context(ctx): Context,
    headers: HeaderMap,
    form: Result<axum::extract::Form<CredentialsForm>, FormRejection>,
) -> Response {
    let (form, request) = match accepted(&s, &headers, form).await {
        Ok(ok) => ok,
        Err(response) => return response,
    };
    let new_user = SignupRequest {
        client_id: request.client.client_id.clone(),
        connection: request.connection.clone(),
        email: form.email.clone(),
        password: form.password.clone(),
        ..Default::default()
    };
    let result = signup::signup(
        s.store.as_ref(),
        &s.passwords,
        s.clock.as_ref(),
        &s.scripts,
        new_user,
        &ctx,
    )
    .await;
    let user = match result {
        Ok(user) => user,
        Err(e) => {
            let (status, message) = match &e {
                SignupError::Failed(cause) => unexpected(cause),
                other => (StatusCode::BAD_REQUEST, other.to_string()),
            };
            let page = PageForm {
                q: &form.q,
                csrf: &form.csrf,
                error: Some(&message),
                filled: &form.email,
            };
            return credentials_page(&s, status, &request, true, page).await;
        }
    };
    crate::http::dbconnections::send_verification(&s, &user, &request.client.client_id).await;
    match castellan_core::login::first_login::record_login(
        s.store.as_ref(),
        s.clock.as_ref(),
        &user,
        &ctx.ip,
    )
    .await
    {
        Ok(user) => signed_in(&s, &request, &user, &form, &ctx).await,
        Err(e) => {
            tracing::error!(cause = %e, "could not record the first log-in");
            s.pages.error(
                StatusCode::SERVICE_UNAVAILABLE,
                "The service is temporarily unavailable.",
            )
        }
    }
}

pub async fn consent(
    State(s): State<AppState>,
    Context(ctx): Context,
    headers: HeaderMap,
    form: Result<axum::extract::Form<CredentialsForm>, FormRejection>,
) -> Response {
    let (form, request) = match accepted(&s, &headers, form).await {
        Ok(ok) => ok,
        Err(response) => return response,
    };
    let Some((Session { auth_time, .. }, user)) = current_session(&s, &headers).await else {
        return s.pages.error(
            StatusCode::UNAUTHORIZED,
            "Your session has ended. Start again from the application.",
        );
    };
    if form.decision != "allow" {
        return error_response(
            &s,
            request.error("access_denied", "User did not authorize the request"),
        );
    }
    let visit = Visit {
        q: &form.q,
        csrf: &form.csrf,
        ctx: &ctx,
    };
    finish(&s, &request, &user, auth_time, true, visit).await
}
