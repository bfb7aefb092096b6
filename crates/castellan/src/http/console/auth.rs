//! Signing in to the console through the ordinary log-in page, and out of it.
//!
//! `/admin/login` sends the browser to `/authorize` as the console client with a fresh
//! `state` and PKCE challenge (kept, with the page to come back to, in a short-lived cookie),
//! and `prompt=login`, so the console always asks for the password even when a single
//! sign-on session exists. `/admin/callback` redeems the code, checks `castellan:admin`, and
//! starts a console session.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use castellan_core::login::console::{self, SignInError};
use castellan_core::secrets::{constant_time_eq, opaque_token};
use serde::Deserialize;

use super::session::{self, COOKIE, LOGIN_COOKIE, PATH, Posted, secure};
use crate::app::AppState;
use crate::http::pages::cookies;
use crate::http::redirect;

/// How long a log-in may take from the console's redirect to the callback.
const LOGIN_LIFETIME: i64 = 600;

#[derive(Deserialize)]
pub struct LoginQuery {
    return_to: Option<String>,
}

/// Only a console page: never another site, never a scheme-relative `//host`.
fn safe_return(path: Option<&str>) -> String {
    match path {
        Some(p)
            if (p == PATH || p.starts_with("/admin/") || p.starts_with("/admin?"))
                && !p.contains("//")
                && !p.contains('\\')
                && redirect::stays_under(p, PATH) =>
        {
            p.to_string()
        }
        _ => PATH.to_string(),
    }
}

pub async fn login(State(s): State<AppState>, Query(q): Query<LoginQuery>) -> Response {
    let state = opaque_token();
    let (verifier, challenge) = console::pkce_pair();
    let back = safe_return(q.return_to.as_deref());
    // state.verifier.return_to, the last part base64url so that the separator stays unique.
    let value = format!(
        "{state}.{verifier}.{}",
        URL_SAFE_NO_PAD.encode(back.as_bytes())
    );
    let params = [
        ("response_type", "code"),
        ("client_id", console::CLIENT_ID),
        ("redirect_uri", &console::callback(&s.settings.issuer)),
        ("scope", "openid profile email"),
        ("state", &state),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
        ("prompt", "login"),
    ];
    let cookie = cookies::scoped(
        LOGIN_COOKIE,
        &value,
        PATH,
        cookies::SameSite::Lax,
        LOGIN_LIFETIME,
        secure(&s),
    );
    cookies::attach(redirect::to_local("/authorize", &params), [cookie])
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

struct PendingLogin {
    state: String,
    verifier: String,
    return_to: String,
}

fn pending(headers: &HeaderMap) -> Option<PendingLogin> {
    let value = cookies::get(headers, LOGIN_COOKIE)?;
    let mut parts = value.splitn(3, '.');
    let state = parts.next()?.to_string();
    let verifier = parts.next()?.to_string();
    let back = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
    Some(PendingLogin {
        state,
        verifier,
        return_to: safe_return(String::from_utf8(back).ok().as_deref()),
    })
}

fn restart(s: &AppState, status: StatusCode, message: &str) -> Response {
    s.pages.render(
        status,
        "admin/message.html",
        minijinja::context! { title => "Console log-in", message => message, login_again => true },
        &[],
    )
}

pub async fn callback(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let clear_login = cookies::scoped(
        LOGIN_COOKIE,
        "",
        PATH,
        cookies::SameSite::Lax,
        0,
        secure(&s),
    );
    let response = complete(&s, &headers, q).await;
    cookies::attach(response, [clear_login])
}

async fn complete(s: &AppState, headers: &HeaderMap, q: CallbackQuery) -> Response {
    // Whoever links here chooses the query: its text is never shown, so the console cannot
    // be made to display an attacker's message.
    if q.error.is_some() {
        return restart(
            s,
            StatusCode::BAD_REQUEST,
            "The log-in did not complete. Start again.",
        );
    }
    let Some(login) = pending(headers) else {
        return restart(
            s,
            StatusCode::BAD_REQUEST,
            "This log-in was not started here or took too long.",
        );
    };
    let (Some(code), Some(state)) = (q.code, q.state) else {
        return restart(
            s,
            StatusCode::BAD_REQUEST,
            "The callback is missing its code.",
        );
    };
    if !constant_time_eq(state.as_bytes(), login.state.as_bytes()) {
        return restart(
            s,
            StatusCode::BAD_REQUEST,
            "This log-in was not started here or took too long.",
        );
    }
    let store = s.store.as_ref();
    let issuer = &s.settings.issuer;
    let user = match console::redeem(store, s.clock.as_ref(), issuer, &code, &login.verifier).await
    {
        Ok(user) => user,
        Err(SignInError::Failed(e)) => return super::ConsoleError::Failed(e).respond(s),
        Err(e) => return restart(s, StatusCode::BAD_REQUEST, &e.to_string()),
    };
    match console::is_admin(store, issuer, &user.user_id).await {
        Ok(true) => {}
        Ok(false) => return session::forbidden(s, &user),
        Err(e) => return super::ConsoleError::Failed(e).respond(s),
    }
    let id = match console::start_session(store, s.clock.as_ref(), &user).await {
        Ok(id) => id,
        Err(e) => return super::ConsoleError::Failed(e).respond(s),
    };
    let cookie = cookies::scoped(
        COOKIE,
        &id,
        PATH,
        cookies::SameSite::Strict,
        console::SESSION_LIFETIME,
        secure(s),
    );
    cookies::attach(Redirect::to(&login.return_to).into_response(), [cookie])
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn logout(
    State(s): State<AppState>,
    headers: HeaderMap,
    posted: Posted<Empty>,
) -> Response {
    let _ = posted.admin;
    if let Some(id) = cookies::get(&headers, COOKIE)
        && let Err(e) = console::end_session(s.store.as_ref(), id).await
    {
        tracing::warn!(cause = %e, "could not end a console session");
    }
    let cleared = cookies::scoped(COOKIE, "", PATH, cookies::SameSite::Strict, 0, secure(&s));
    let page = s.pages.render(
        StatusCode::OK,
        "admin/message.html",
        minijinja::context! { title => "Logged out", message => "You are logged out of the console.", login_again => true },
        &[],
    );
    cookies::attach(page, [cleared])
}

#[cfg(test)]
mod tests {
    use super::safe_return;

    #[test]
    fn only_console_paths_are_returned_to() {
        assert_eq!(safe_return(Some("/admin/users?q=a")), "/admin/users?q=a");
        for bad in [
            "https://evil.example/",
            "//evil.example/admin/",
            "/admin//evil",
            "/adminx",
            "/\\evil",
            "/admin/../evil",
            "/admin/%2e%2e/evil",
        ] {
            assert_eq!(safe_return(Some(bad)), "/admin", "{bad}");
        }
    }
}
