//! The two cookies of the pages: the session (single sign-on) and the CSRF token. Both are
//! `HttpOnly` and `SameSite=Lax`, and `Secure` when the issuer is served over https; there
//! the CSRF cookie carries the `__Host-` prefix, so that no other host (a sibling
//! subdomain, say) can plant a token of its choosing for the double-submit check.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use castellan_core::secrets::{constant_time_eq, opaque_token};

pub const SESSION: &str = "castellan_session";
const CSRF: &str = "castellan_csrf";
const HOST_CSRF: &str = "__Host-castellan_csrf";

/// The CSRF cookie's name: host-only (`__Host-`, which browsers accept only with `Secure`,
/// `Path=/` and no `Domain`) wherever the pages are served over https.
fn csrf_cookie(secure: bool) -> &'static str {
    if secure { HOST_CSRF } else { CSRF }
}

pub fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

pub fn set(name: &str, value: &str, max_age: i64, secure: bool) -> HeaderValue {
    scoped(name, value, "/", "Lax", max_age, secure)
}

/// A cookie sent only under `path`, with the given `SameSite` policy.
pub fn scoped(
    name: &str,
    value: &str,
    path: &str,
    same_site: &str,
    max_age: i64,
    secure: bool,
) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite={same_site}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub fn clear(name: &str, secure: bool) -> HeaderValue {
    set(name, "", 0, secure)
}

/// The form's CSRF token equals the cookie's, compared in constant time.
pub fn csrf_matches(headers: &HeaderMap, presented: &str, secure: bool) -> bool {
    get(headers, csrf_cookie(secure))
        .is_some_and(|cookie| constant_time_eq(cookie.as_bytes(), presented.as_bytes()))
}

const CSRF_LIFETIME: i64 = 3600;

/// This browser's CSRF token, and the cookie to set when it had none yet.
pub fn csrf_token(headers: &HeaderMap, secure: bool) -> (String, Option<HeaderValue>) {
    let name = csrf_cookie(secure);
    match get(headers, name) {
        Some(token) => (token.to_string(), None),
        None => {
            let token = opaque_token();
            let cookie = set(name, &token, CSRF_LIFETIME, secure);
            (token, Some(cookie))
        }
    }
}

pub fn attach(mut response: Response, cookies: impl IntoIterator<Item = HeaderValue>) -> Response {
    for cookie in cookies {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}
