//! Log-out: Auth0's `/v2/logout` and OpenID Connect RP-initiated logout (`/oidc/logout`).
//! The session ends either way; the browser goes back only to a URL the client allows.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use castellan_core::events::{self, LogEventExt};
use castellan_core::login::session;
use serde_json::Value;

use super::cookies;
use crate::app::AppState;
use crate::http::context::Context;
use crate::http::redirect;

async fn end_session(
    s: &AppState,
    headers: &HeaderMap,
    ctx: &castellan_core::events::RequestContext,
) {
    let Some(id) = cookies::get(headers, cookies::SESSION) else {
        return;
    };
    if let Ok(Some((_, user))) = session::resume(s.store.as_ref(), s.clock.as_ref(), id).await {
        let event = events::event("slo", "User successfully logged out", ctx).user(&user);
        events::record(s.store.as_ref(), s.clock.as_ref(), event).await;
    }
    if let Err(e) = session::end(s.store.as_ref(), id).await {
        tracing::warn!(cause = %e, "could not end a session");
    }
}

fn cleared(s: &AppState, response: Response) -> Response {
    let secure = s.settings.issuer.starts_with("https://");
    let mut response = response;
    response.headers_mut().append(
        axum::http::header::SET_COOKIE,
        cookies::clear(cookies::SESSION, secure),
    );
    response
}

/// Where a log-out asks to send the browser back to, and how to refuse it.
struct Return<'a> {
    parameter: &'static str,
    url: Option<&'a String>,
    client_id: Option<&'a str>,
    refusal: &'static str,
}

/// Ends the session and sends the browser back with `params`, or shows that it is logged
/// out when no URL was asked for; a URL the client does not allow changes nothing.
async fn log_out(
    s: &AppState,
    ctx: &castellan_core::events::RequestContext,
    headers: &HeaderMap,
    back: Return<'_>,
    params: &[(&str, &str)],
) -> Response {
    let location = match back.url.filter(|v| !v.is_empty()) {
        Some(url) if allowed_return(s, back.client_id, url).await => {
            match redirect::with_params(url, params) {
                Some(location) => Some(location),
                None => {
                    return s.pages.error(
                        StatusCode::BAD_REQUEST,
                        &format!("The {} is not an absolute URL.", back.parameter),
                    );
                }
            }
        }
        Some(_) => return s.pages.error(StatusCode::BAD_REQUEST, back.refusal),
        None => None,
    };
    end_session(s, headers, ctx).await;
    let response = match location {
        Some(location) => Redirect::to(&location).into_response(),
        None => s.pages.render(
            StatusCode::OK,
            "logged_out.html",
            minijinja::context! {},
            &[],
        ),
    };
    cleared(s, response)
}

async fn allowed_return(s: &AppState, client_id: Option<&str>, url: &str) -> bool {
    let Some(client_id) = client_id else {
        return false;
    };
    matches!(s.store.find_client(client_id).await, Ok(Some(c)) if c.allowed_logout_urls.iter().any(|u| u == url))
}

/// `GET /v2/logout?returnTo=&client_id=`
pub async fn v2_logout(
    State(s): State<AppState>,
    Context(ctx): Context,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let return_to = Return {
        parameter: "returnTo",
        url: params.get("returnTo"),
        client_id: params.get("client_id").map(String::as_str),
        refusal: "The returnTo URL is not one of the client's allowed logout URLs (and client_id is required with it).",
    };
    log_out(&s, &ctx, &headers, return_to, &[]).await
}

/// The `aud` of an ID token, read before its signature is checked against that client.
fn id_token_audience(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    match &claims["aud"] {
        Value::String(aud) => Some(aud.clone()),
        Value::Array(auds) => auds.first().and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

/// `GET /oidc/logout?id_token_hint=&post_logout_redirect_uri=&state=&client_id=`
/// (OpenID Connect RP-Initiated Logout 1.0 §2).
pub async fn oidc_logout(
    State(s): State<AppState>,
    Context(ctx): Context,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let hint = params.get("id_token_hint").filter(|v| !v.is_empty());
    let client_id = match (params.get("client_id").filter(|v| !v.is_empty()), hint) {
        (Some(id), _) => Some(id.clone()),
        (None, Some(token)) => id_token_audience(token),
        (None, None) => None,
    };
    if let (Some(token), Some(client_id)) = (hint, &client_id) {
        // The hint may have expired; its signature and audience must still be ours.
        let verified = s
            .tokens
            .verify_signed(token, std::slice::from_ref(client_id))
            .await;
        if matches!(verified, Err(ref e) if *e != castellan_core::oauth::access_token::TokenRejection::Expired)
        {
            return s
                .pages
                .error(StatusCode::BAD_REQUEST, "The id_token_hint is not valid.");
        }
    }
    let target = Return {
        parameter: "post_logout_redirect_uri",
        url: params.get("post_logout_redirect_uri"),
        client_id: client_id.as_deref(),
        refusal: "The post_logout_redirect_uri is not one of the client's allowed logout URLs.",
    };
    let state: Vec<(&str, &str)> = params
        .get("state")
        .map(|state| ("state", state.as_str()))
        .into_iter()
        .collect();
    log_out(&s, &ctx, &headers, target, &state).await
}
