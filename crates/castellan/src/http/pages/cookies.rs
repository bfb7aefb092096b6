//! The two cookies of the pages: the session (single sign-on) and the CSRF token. Both are
//! `HttpOnly` and `SameSite=Lax`, and `Secure` when the issuer is served over https.

use axum::http::{HeaderMap, HeaderValue, header};
use castellan_core::secrets::constant_time_eq;

pub const SESSION: &str = "castellan_session";
pub const CSRF: &str = "castellan_csrf";

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
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub fn clear(name: &str, secure: bool) -> HeaderValue {
    set(name, "", 0, secure)
}

/// The form's CSRF token equals the cookie's, compared in constant time.
pub fn csrf_matches(headers: &HeaderMap, presented: &str) -> bool {
    get(headers, CSRF)
        .is_some_and(|cookie| constant_time_eq(cookie.as_bytes(), presented.as_bytes()))
}
