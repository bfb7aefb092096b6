//! A log-in a rule or an action sent to another site, and `GET`/`POST /continue`, where
//! the browser brings the state back and the log-in resumes (Auth0: "resume
//! authentication by redirecting the user to the /continue endpoint and include the state
//! parameter"; without the original state "the user will not be able to log in due to an
//! invalid_request error").
//!
//! The browser sent away gets a transaction cookie, scoped to `/continue`; the state is
//! good only with it. The cookie is `SameSite=None` where the pages are served over https,
//! since the other site may post back to `/continue` (a `Lax` cookie would not come with a
//! cross-site POST); over plain http browsers refuse `SameSite=None` without `Secure`, so
//! it is `Lax` there.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use castellan_core::events::RequestContext;
use castellan_core::login::authorize::{self, Answer, AuthorizeRequest};
use castellan_core::login::redirect::{self as login_redirect, LIFETIME, LoginAt};
use castellan_core::scripts::redirect::Suspension;
use serde_json::{Map, Value};

use super::authorize::{checked, error_response, refused, secure};
use super::cookies::{self, SameSite};
use super::response_mode::deliver;
use crate::app::AppState;
use crate::http::context::Context;

const BROWSER: &str = "castellan_continue";
const PATH: &str = "/continue";

fn same_site(s: &AppState) -> SameSite {
    if secure(s) {
        SameSite::None
    } else {
        SameSite::Lax
    }
}

/// Keeps the log-in and sends the browser to the script's URL with the state.
pub(super) async fn send_away(
    s: &AppState,
    request: &AuthorizeRequest,
    at: LoginAt<'_>,
    state: &str,
    suspension: Suspension,
) -> Response {
    match login_redirect::suspend(s.store.as_ref(), s.clock.as_ref(), at, state, suspension).await {
        Ok(suspended) => {
            let cookie = cookies::scoped(
                BROWSER,
                &suspended.browser,
                PATH,
                same_site(s),
                LIFETIME,
                secure(s),
            );
            cookies::attach(Redirect::to(&suspended.location).into_response(), [cookie])
        }
        Err(e) => {
            tracing::error!(cause = %e, "could not keep a redirected log-in");
            error_response(
                s,
                request.error(
                    "temporarily_unavailable",
                    "The service is temporarily unavailable",
                ),
            )
        }
    }
}

/// Parameters as scripts read them (`context.request.query`/`body`): names to strings.
fn params(pairs: Vec<(String, String)>) -> Map<String, Value> {
    pairs
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect()
}

/// A posted form or JSON object; anything else is no parameters.
fn body_params(headers: &HeaderMap, body: &[u8]) -> Map<String, Value> {
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if kind.starts_with("application/json") {
        match serde_json::from_slice(body) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        }
    } else if kind.starts_with("application/x-www-form-urlencoded") {
        params(serde_urlencoded::from_bytes(body).unwrap_or_default())
    } else {
        Map::new()
    }
}

fn invalid(s: &AppState, message: &str) -> Response {
    s.pages.error(
        StatusCode::BAD_REQUEST,
        &format!("invalid_request: {message}"),
    )
}

pub async fn resume(
    State(s): State<AppState>,
    Context(ctx): Context,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let query =
        params(serde_urlencoded::from_str(q.as_deref().unwrap_or_default()).unwrap_or_default());
    let body = body_params(&headers, &body);
    let state = match query.get("state").or_else(|| body.get("state")) {
        Some(Value::String(state)) if !state.is_empty() => state.clone(),
        _ => return invalid(&s, "Missing required parameter: state"),
    };
    let Some(browser) = cookies::get(&headers, BROWSER) else {
        return invalid(
            &s,
            "This browser has no log-in waiting to continue. Start again from the application.",
        );
    };
    let taken = login_redirect::take(
        s.store.as_ref(),
        s.clock.as_ref(),
        &state,
        browser,
        query,
        body,
    )
    .await;
    let resumed = match taken {
        Ok(Some(resumed)) => resumed,
        Ok(None) => {
            return invalid(
                &s,
                "The state is invalid, expired or already used. Start again from the application.",
            );
        }
        Err(e) => {
            tracing::error!(cause = %e, "could not read a redirected log-in");
            return s.pages.error(
                StatusCode::SERVICE_UNAVAILABLE,
                "The service is temporarily unavailable.",
            );
        }
    };
    let clear = cookies::scoped(BROWSER, "", PATH, same_site(&s), 0, secure(&s));
    let response = finish(&s, resumed, &ctx, &state).await;
    cookies::attach(response, [clear])
}

async fn finish(
    s: &AppState,
    resumed: login_redirect::Resumed,
    ctx: &RequestContext,
    state: &str,
) -> Response {
    // The request is checked again, as every form of the log-in pages does: the client
    // may have been changed or removed meanwhile.
    let request = match checked(s, &resumed.q).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    let user = match s.store.find_user(&resumed.user_id).await {
        Ok(Some(user)) if !user.blocked => user,
        Ok(_) => {
            return error_response(s, request.error("access_denied", "user is blocked"));
        }
        Err(e) => {
            tracing::error!(cause = %e, "could not read the user of a redirected log-in");
            return error_response(
                s,
                request.error(
                    "temporarily_unavailable",
                    "The service is temporarily unavailable",
                ),
            );
        }
    };
    login_redirect::record_resumed(
        s.store.as_ref(),
        s.clock.as_ref(),
        &resumed,
        &request.client,
        &user,
        ctx,
    )
    .await;
    let answer = authorize::respond(
        &s.services(),
        &request,
        &user,
        resumed.auth_time,
        ctx,
        state,
        Some(resumed.resume),
    )
    .await;
    match answer {
        Ok(Answer::Params(params)) => {
            deliver(s, &request.redirect_uri, request.response_mode, &params)
        }
        // The pipeline refuses a second redirect; this is only a guard.
        Ok(Answer::Redirect(_)) => error_response(
            s,
            request.error("access_denied", "a log-in is redirected at most once"),
        ),
        Err(e) => refused(s, &request, e),
    }
}
