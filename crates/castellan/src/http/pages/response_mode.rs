//! Delivering an authorization answer (a code, tokens, or an error) to the client the way
//! its `response_mode` asks: in the redirect's query or fragment, as a form the browser
//! posts to the redirect URI (`form_post`), or as a message posted to the app's window
//! from a page in its iframe or pop-up (Auth0's `web_message`, which auth0-spa-js uses).

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use castellan_core::login::authorize::ResponseMode;
use castellan_core::secrets::opaque_token;
use minijinja::context;

use super::Policy;
use crate::app::AppState;
use crate::http::redirect;

pub fn deliver(
    s: &AppState,
    redirect_uri: &str,
    mode: ResponseMode,
    params: &[(&str, String)],
) -> Response {
    let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let location = match mode {
        ResponseMode::Query => redirect::with_params(redirect_uri, &pairs),
        ResponseMode::Fragment => redirect::with_fragment(redirect_uri, &pairs),
        ResponseMode::FormPost | ResponseMode::WebMessage => {
            return page(s, redirect_uri, mode, params);
        }
    };
    match location {
        Some(location) => Redirect::to(&location).into_response(),
        None => not_a_url(s),
    }
}

/// A registered callback that is not an absolute URL: nowhere to send the browser.
pub fn not_a_url(s: &AppState) -> Response {
    s.pages.error(
        StatusCode::BAD_REQUEST,
        "The redirect_uri is not an absolute URL.",
    )
}

/// The page that hands the answer over in the browser, running only its own script.
fn page(
    s: &AppState,
    redirect_uri: &str,
    mode: ResponseMode,
    params: &[(&str, String)],
) -> Response {
    let Some(origin) = redirect::origin(redirect_uri) else {
        return not_a_url(s);
    };
    let nonce = opaque_token();
    let targets = [origin.as_str()];
    if mode == ResponseMode::FormPost {
        let fields: Vec<Vec<String>> = params
            .iter()
            .map(|(k, v)| vec![k.to_string(), v.clone()])
            .collect();
        let policy = Policy {
            form_targets: &targets,
            script_nonce: Some(&nonce),
            framed_by: None,
        };
        let context = context! { action => redirect_uri, fields => fields, nonce => &nonce };
        return s
            .pages
            .render_with(StatusCode::OK, "form_post.html", context, &policy);
    }
    let response: BTreeMap<String, String> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let policy = Policy {
        form_targets: &[],
        script_nonce: Some(&nonce),
        framed_by: Some(&origin),
    };
    let context = context! { response => response, origin => &origin, nonce => &nonce };
    s.pages
        .render_with(StatusCode::OK, "web_message.html", context, &policy)
}
