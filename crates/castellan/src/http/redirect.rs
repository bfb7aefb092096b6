//! URLs we send browsers to: a client's callback or logout URL with our parameters added,
//! a console page after a change, and the origin a page's forms may lead to. Matching a
//! URL against the client's list stays exact string comparison (done before we get here);
//! building and reading one goes through `url`, so an existing query is kept, parameters
//! land in the query and never in a fragment, and every value is form-encoded.

use axum::response::{IntoResponse, Redirect, Response};
use url::{Origin, Position, Url};

/// `uri` with `params` appended to its query, or `None` when it is not an absolute URL.
pub fn with_params(uri: &str, params: &[(&str, &str)]) -> Option<String> {
    let mut url = Url::parse(uri).ok()?;
    if !params.is_empty() {
        url.query_pairs_mut().extend_pairs(params);
    }
    Some(url.into())
}

/// `uri` with `params` as its fragment (replacing any), or `None` when it is not an
/// absolute URL: where tokens go, since a fragment never reaches a server.
pub fn with_fragment(uri: &str, params: &[(&str, &str)]) -> Option<String> {
    let mut url = Url::parse(uri).ok()?;
    let encoded = serde_urlencoded::to_string(params).ok()?;
    url.set_fragment(Some(&encoded));
    Some(url.into())
}

/// What paths of our own are resolved against: any base will do, since only the path,
/// query and fragment are kept, and a result on another origin is not ours.
fn local_base() -> Url {
    Url::parse("http://localhost/").expect("a constant URL")
}

/// A redirect (303) to a page of our own, `path` with `params` added to its query.
pub fn to_local(path: &str, params: &[(&str, &str)]) -> Response {
    let location = match local_base().join(path) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(params);
            url[Position::BeforePath..].to_string()
        }
        Err(_) => "/".to_string(),
    };
    Redirect::to(&location).into_response()
}

/// Whether `path`, resolved as a browser would (`..` segments, percent-encoded dots,
/// backslashes), is a page of our own at `prefix` or under it.
pub fn stays_under(path: &str, prefix: &str) -> bool {
    let base = local_base();
    base.join(path).is_ok_and(|url| {
        url.origin() == base.origin()
            && url
                .path()
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// `scheme://host[:port]` of a URL, for a Content-Security-Policy source list: `None` for
/// a URL without a host, or whose origin holds a character that would end the source
/// expression (a `;` or `,` would start a directive or a policy of the URL's choosing).
pub fn origin(uri: &str) -> Option<String> {
    let url = Url::parse(uri).ok()?;
    let host = url.host_str().filter(|h| !h.is_empty())?;
    let origin = match url.origin() {
        tuple @ Origin::Tuple(..) => tuple.ascii_serialization(),
        // A native app's custom scheme has no web origin; its scheme and host still name
        // where the form's redirect may go.
        Origin::Opaque(_) => match url.port() {
            Some(port) => format!("{}://{host}:{port}", url.scheme()),
            None => format!("{}://{host}", url.scheme()),
        },
    };
    origin
        .bytes()
        .all(|b| b.is_ascii_graphic() && !matches!(b, b';' | b',' | b'\''))
        .then_some(origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_go_into_the_query_kept_and_before_any_fragment() {
        let code: &[(&str, &str)] = &[("code", "c1"), ("state", "a b&c=d")];
        let cases = [
            (
                "https://app.example/cb",
                code,
                "https://app.example/cb?code=c1&state=a+b%26c%3Dd",
            ),
            (
                "https://app.example/cb?x=1",
                code,
                "https://app.example/cb?x=1&code=c1&state=a+b%26c%3Dd",
            ),
            (
                "https://app.example/cb?",
                &code[..1],
                "https://app.example/cb?code=c1",
            ),
            (
                "https://app.example/cb#section",
                &code[..1],
                "https://app.example/cb?code=c1#section",
            ),
            (
                "https://app.example/cb?x=1#a?b",
                &code[..1],
                "https://app.example/cb?x=1&code=c1#a?b",
            ),
            (
                "com.example.app://callback",
                &code[..1],
                "com.example.app://callback?code=c1",
            ),
            ("https://spa.example/bye", &[], "https://spa.example/bye"),
        ];
        for (registered, params, expected) in cases {
            assert_eq!(with_params(registered, params).as_deref(), Some(expected));
        }
        assert_eq!(with_params("/relative/cb", code), None);
        assert_eq!(with_params("not a url", &[]), None);
    }

    #[test]
    fn local_redirects_keep_the_path_and_query() {
        let location = |r: Response| r.headers()["location"].to_str().unwrap().to_string();
        assert_eq!(
            location(to_local("/admin/users/auth0%7C1", &[("done", "saved")])),
            "/admin/users/auth0%7C1?done=saved"
        );
        assert_eq!(
            location(to_local("/admin/users?page=2", &[("done", "deleted")])),
            "/admin/users?page=2&done=deleted"
        );
    }

    #[test]
    fn paths_that_stay_under_a_prefix() {
        for good in ["/admin", "/admin?x=1", "/admin/users/a%2Fb", "/admin/"] {
            assert!(stays_under(good, "/admin"), "{good}");
        }
        for bad in [
            "/admin/../evil",
            "/admin/%2e%2e/evil",
            "/adminx",
            "//evil.example/admin",
            "/\\evil.example/admin",
            "https://evil.example/admin",
        ] {
            assert!(!stays_under(bad, "/admin"), "{bad}");
        }
    }

    #[test]
    fn origins_for_the_content_security_policy() {
        for (url, expected) in [
            ("https://app.example/cb?x=1#y", "https://app.example"),
            ("http://localhost:3000", "http://localhost:3000"),
            ("https://App.Example:443/cb", "https://app.example"),
            (
                "https://user:pw@app.example:8443/cb",
                "https://app.example:8443",
            ),
            ("com.example.app://callback/x", "com.example.app://callback"),
        ] {
            assert_eq!(origin(url).as_deref(), Some(expected), "{url}");
        }
        assert_eq!(origin("myapp:/callback"), None);
        assert_eq!(origin("/callback"), None);
        assert_eq!(origin("https://a.example;script-src/cb"), None);
        assert_eq!(origin("https://a.example,b/cb"), None);
        assert_eq!(origin("https://a'b.example/cb"), None);
    }
}
