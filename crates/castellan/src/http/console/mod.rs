//! The admin console at `/admin`: server-rendered pages in the style of the log-in pages (no
//! script, strict Content-Security-Policy), for administrators holding `castellan:admin` on
//! the Management API. They sign in through the ordinary `/authorize` pages with the
//! built-in console client (`castellan_core::login::console`); a console session is its own
//! short-lived cookie, scoped to `/admin`, and every form carries that session's CSRF token.
//! Changes are posted, then redirected to a page that shows them (post-redirect-get); each
//! goes through the same use case as the Management API and is audited with the
//! administrator as the actor.

mod actions;
mod apis;
mod applications;
mod auth;
mod connections;
mod groups;
mod logs;
mod mfa;
mod roles;
mod rules;
mod session;
mod users;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::Value;

use crate::app::AppState;
pub use session::{Admin, Posted};

macro_rules! console_templates {
    ($($name:literal),* $(,)?) => {
        &[$((concat!("admin/", $name), include_str!(concat!("../../../templates/admin/", $name)))),*]
    };
}

/// The console's templates, loaded with the log-in pages' (and replaceable the same way).
pub const TEMPLATES: &[(&str, &str)] = console_templates![
    "layout.html",
    "macros.html",
    "message.html",
    "users.html",
    "user.html",
    "user_new.html",
    "roles.html",
    "role.html",
    "groups.html",
    "group.html",
    "apis.html",
    "api.html",
    "applications.html",
    "application.html",
    "secret.html",
    "connections.html",
    "connection.html",
    "rules.html",
    "rule.html",
    "actions.html",
    "action.html",
    "logs.html",
    "log.html",
    "mfa.html",
];

const STYLESHEET: &str = include_str!("../../../templates/admin/console.css");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(|| async { Redirect::to("/admin/users") }))
        .route("/admin/static/console.css", get(stylesheet))
        .route("/admin/login", get(auth::login))
        .route("/admin/callback", get(auth::callback))
        .route("/admin/logout", post(auth::logout))
        .merge(users::routes())
        .merge(roles::routes())
        .merge(groups::routes())
        .merge(apis::routes())
        .merge(applications::routes())
        .merge(connections::routes())
        .merge(rules::routes())
        .merge(actions::routes())
        .merge(logs::routes())
        .merge(mfa::routes())
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// Why a console request did not do what it asked. Mapped to a page in one place,
/// [`ConsoleError::respond`].
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// The input was refused and nothing changed; the text says why.
    #[error("{0}")]
    Refused(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error(transparent)]
    Failed(castellan_core::Error),
}

impl From<castellan_core::Error> for ConsoleError {
    fn from(e: castellan_core::Error) -> Self {
        use castellan_core::Error as E;
        match e {
            E::NotFound { kind } => ConsoleError::NotFound(kind),
            E::Conflict(m)
            | E::Invalid(m)
            | E::InvalidQuery(m)
            | E::WeakPassword(m)
            | E::Forbidden(m) => ConsoleError::Refused(m),
            other => ConsoleError::Failed(other),
        }
    }
}

impl From<castellan_core::store::StoreError> for ConsoleError {
    fn from(e: castellan_core::store::StoreError) -> Self {
        castellan_core::Error::from(e).into()
    }
}

impl ConsoleError {
    pub fn respond(self, s: &AppState) -> Response {
        let (status, message) = match &self {
            ConsoleError::Refused(m) => (StatusCode::BAD_REQUEST, m.clone()),
            ConsoleError::NotFound(kind) => (StatusCode::NOT_FOUND, format!("No such {kind}.")),
            ConsoleError::Failed(castellan_core::Error::Unavailable) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "The store is unavailable; try again shortly.".to_string(),
            ),
            ConsoleError::Failed(cause) => {
                tracing::error!(cause = %cause, "a console request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong; the cause is in the server's log.".to_string(),
                )
            }
        };
        s.pages.error(status, &message)
    }
}

/// What a console handler returns: a page, a redirect, or an error shown as a page.
pub type Outcome = Result<Response, ConsoleError>;

/// Turns an outcome into the response, rendering errors with the error page.
pub fn finish(s: &AppState, outcome: Outcome) -> Response {
    outcome.unwrap_or_else(|e| e.respond(s))
}

/// After a change failed. A refusal changed nothing, so the page with the form is shown
/// again with the reason, for the administrator to correct the input: `again` renders it
/// from the message. Any other error is shown with the error page.
pub async fn refused_or_failed<Again, Shown>(
    s: &AppState,
    error: ConsoleError,
    again: Again,
) -> Response
where
    Again: FnOnce(String) -> Shown,
    Shown: Future<Output = Outcome>,
{
    match error {
        ConsoleError::Refused(message) => finish(s, again(message).await),
        other => other.respond(s),
    }
}

/// After a change: on to `path` with `notice` when it was made, otherwise as
/// [`refused_or_failed`] says.
pub async fn done_or_again<Again, Shown>(
    s: &AppState,
    result: Result<(), ConsoleError>,
    path: &str,
    notice: &str,
    again: Again,
) -> Response
where
    Again: FnOnce(String) -> Shown,
    Shown: Future<Output = Outcome>,
{
    match result {
        Ok(()) => done(path, notice),
        Err(error) => refused_or_failed(s, error, again).await,
    }
}

/// Renders a console page with what every page shows (the administrator, the CSRF token for
/// its forms, the section of the navigation, the notice of the change just made).
pub fn page(
    s: &AppState,
    admin: &Admin,
    status: StatusCode,
    template: &str,
    section: &str,
    context: Value,
) -> Response {
    let common = minijinja::context! {
        admin_name => admin.user.email.clone().or_else(|| admin.user.name.clone()).unwrap_or_else(|| admin.user.user_id.clone()),
        csrf => admin.csrf.clone(),
        section => section,
        notice => admin.notice,
    };
    let merged = minijinja::context! { ..common, ..context };
    s.pages.render(status, template, merged, &[])
}

/// A form that carries nothing but the CSRF token, which [`Posted`] checks: the
/// confirmation behind a button such as Delete or Deploy.
#[derive(serde::Deserialize)]
pub struct Confirm {}

/// After a change: back to the page that shows it, with a notice (post-redirect-get).
pub fn done(path: &str, notice: &str) -> Response {
    crate::http::redirect::to_local(path, &[("done", notice)])
}

/// The fixed messages a redirect may ask for: a query cannot make the page say anything else.
fn notice_text(key: &str) -> Option<&'static str> {
    Some(match key {
        "created" => "Created.",
        "saved" => "Saved.",
        "deleted" => "Deleted.",
        "blocked" => "The user is blocked.",
        "unblocked" => "The user is unblocked; failed log-in blocks are lifted.",
        "password" => "The password is changed.",
        "reset-sent" => "A link to choose a new password is on its way to the user.",
        "assigned" => "Assigned.",
        "removed" => "Removed.",
        "deployed" => "Deployed.",
        "mfa-reset" => {
            "Multi-factor authentication is reset: every factor is removed and remembered browsers are forgotten."
        }
        "browsers-forgotten" => {
            "Remembered browsers are forgotten: each asks for a second factor again."
        }
        _ => return None,
    })
}

/// A path segment for a link (user ids hold `|`).
pub fn segment(id: &str) -> String {
    // Form encoding leaves only `*-._` and alphanumerics as they are; a space must be `%20`
    // in a path, not `+`.
    url::form_urlencoded::byte_serialize(id.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// Any serializable value, for a template.
pub fn to_value<T: serde::Serialize>(value: T) -> Value {
    Value::from(minijinja::value::Serde(value))
}

/// A JSON value as the console shows it.
pub fn pretty(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// A Unix time as the console shows it (UTC, to the second).
pub fn when(seconds: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second]"
            ))
            .ok()
        })
        .unwrap_or_default()
}

/// Paging of console lists: `page` from the query (0-based), fifty rows a page.
pub const PER_PAGE: u64 = 50;

pub fn page_request(page: u64) -> castellan_core::paging::PageRequest {
    castellan_core::paging::PageRequest {
        offset: page * PER_PAGE,
        limit: PER_PAGE,
    }
}

/// Previous and next page numbers, for the list templates.
pub fn pager(page: u64, total: u64) -> Value {
    minijinja::context! {
        page => page,
        previous => page.checked_sub(1),
        next => ((page + 1) * PER_PAGE < total).then_some(page + 1),
        total => total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_encode_user_ids() {
        assert_eq!(segment("auth0|abc"), "auth0%7Cabc");
        assert_eq!(segment("a b/c"), "a%20b%2Fc");
    }

    #[test]
    fn only_known_notices_are_shown() {
        assert!(notice_text("saved").is_some());
        assert!(notice_text("Call this number").is_none());
    }
}
