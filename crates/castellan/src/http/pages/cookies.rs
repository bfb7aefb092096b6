//! The two cookies of the pages: the session (single sign-on) and the CSRF token. Both are
//! `HttpOnly` and `SameSite=Lax`, and `Secure` when the issuer is served over https; there
//! the CSRF cookie carries the `__Host-` prefix, so that no other host (a sibling
//! subdomain, say) can plant a token of its choosing for the double-submit check.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use castellan_core::secrets::{constant_time_eq, opaque_token};
use cookie::Cookie;
pub use cookie::SameSite;
use time::Duration;

pub const SESSION: &str = "castellan_session";
const CSRF: &str = "castellan_csrf";
const HOST_CSRF: &str = "__Host-castellan_csrf";

/// The CSRF cookie's name: host-only (`__Host-`, which browsers accept only with `Secure`,
/// `Path=/` and no `Domain`) wherever the pages are served over https.
fn csrf_cookie(secure: bool) -> &'static str {
    if secure { HOST_CSRF } else { CSRF }
}

/// The first cookie called `name` that the browser sent, unless its value is empty (the
/// value a cleared cookie is left with).
pub fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .and_then(|c| c.value_raw())
        .filter(|v| !v.is_empty())
}

pub fn set(name: &str, value: &str, max_age: i64, secure: bool) -> HeaderValue {
    scoped(name, value, "/", SameSite::Lax, max_age, secure)
}

/// A cookie sent only under `path`, with the given `SameSite` policy; always `HttpOnly`.
pub fn scoped(
    name: &str,
    value: &str,
    path: &str,
    same_site: SameSite,
    max_age: i64,
    secure: bool,
) -> HeaderValue {
    let cookie = Cookie::build((name, value))
        .path(path)
        .max_age(Duration::seconds(max_age))
        .http_only(true)
        .same_site(same_site)
        .secure(secure)
        .build();
    HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(cookie: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(cookie).unwrap());
        headers
    }

    #[test]
    fn reading_the_cookie_header() {
        let headers = sent("other=1;  castellan_session=abc=def ; castellan_session=second");
        assert_eq!(get(&headers, SESSION), Some("abc=def"));
        assert_eq!(
            get(&sent("a=1; novalue; castellan_session=x"), SESSION),
            Some("x")
        );
        assert_eq!(get(&sent("castellan_session="), SESSION), None);
        assert_eq!(
            get(
                &sent("castellan_sessionx=1; x_castellan_session=2"),
                SESSION
            ),
            None
        );
        assert_eq!(
            get(&sent("castellan_session=\"quoted\""), SESSION),
            Some("\"quoted\"")
        );
    }

    #[test]
    fn attributes_are_those_of_today() {
        assert_eq!(
            set(SESSION, "tok", 3600, false),
            "castellan_session=tok; HttpOnly; SameSite=Lax; Path=/; Max-Age=3600"
        );
        assert_eq!(
            scoped("castellan_admin", "", "/admin", SameSite::Strict, 0, true),
            "castellan_admin=; HttpOnly; SameSite=Strict; Secure; Path=/admin; Max-Age=0"
        );
    }

    /// Browsers accept a `__Host-` cookie only with `Secure`, `Path=/` and no `Domain`.
    #[test]
    fn the_host_prefix_only_with_its_attributes() {
        let (_, cookie) = csrf_token(&HeaderMap::new(), true);
        let cookie = cookie.unwrap();
        let cookie = Cookie::parse(cookie.to_str().unwrap()).unwrap();
        assert_eq!(cookie.name(), HOST_CSRF);
        assert_eq!(cookie.secure(), Some(true));
        assert_eq!(cookie.path(), Some("/"));
        assert_eq!(cookie.domain(), None);
        let (_, plain) = csrf_token(&HeaderMap::new(), false);
        assert!(
            plain
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("castellan_csrf=")
        );
    }
}
