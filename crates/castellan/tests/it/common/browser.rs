//! A browser without JavaScript for the server's own pages: keeps cookies, does not follow
//! redirects, and reads pages as a person would (the templates' escaping undone).

use std::collections::HashMap;

use reqwest::{StatusCode, redirect};

use super::{ISSUER, TestServer};

pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
    pub cookies: HashMap<String, String>,
}

pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub csp: Option<String>,
    pub body: String,
}

impl Page {
    /// The value of the input `name`, as the browser would send it.
    pub fn field(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no field {name} in {}", self.body))
            + marker.len();
        let end = start + self.body[start..].find('"').unwrap();
        self.body[start..end].to_string()
    }

    /// The redirect's target as a path on this server (the issuer's host is not ours).
    pub fn next(&self) -> String {
        let location = self
            .location
            .clone()
            .unwrap_or_else(|| panic!("not a redirect ({}): {}", self.status, self.body));
        match location.strip_prefix(ISSUER) {
            Some(rest) => format!("/{rest}"),
            None => location,
        }
    }

    /// The query of the redirect's target.
    pub fn query(&self) -> HashMap<String, String> {
        let location = self.location.as_deref().expect("a redirect");
        let query = location.split_once('?').map(|(_, q)| q).unwrap_or_default();
        serde_urlencoded::from_str(query).unwrap()
    }
}

/// The text as read on the page: templates escape '/' and quotes.
fn unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

impl Browser {
    pub fn new(server: &TestServer) -> Self {
        Browser {
            http: reqwest::Client::builder()
                .redirect(redirect::Policy::none())
                .build()
                .unwrap(),
            base: server.base.clone(),
            cookies: HashMap::new(),
        }
    }

    pub async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let response = request.header("cookie", cookie).send().await.unwrap();
        for set in response.headers().get_all("set-cookie") {
            let pair = set.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
        };
        Page {
            status: response.status(),
            location: header("location"),
            csp: header("content-security-policy"),
            body: unescape(&response.text().await.unwrap()),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let request = self.http.post(format!("{}{path}", self.base)).form(form);
        self.send(request).await
    }

    /// Opens the `/authorize` page at `path` and posts its log-in form (or, with
    /// `screen_hint=signup` in the path, its sign-up form) with these credentials; returns
    /// the answer to the post.
    pub async fn submit_credentials(
        &mut self,
        path: &str,
        identifier: &str,
        password: &str,
    ) -> Page {
        let form = self.get(path).await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        let (q, csrf) = (form.field("q"), form.field("csrf"));
        let (action, name) = if form.body.contains("action=\"/authorize/signup\"") {
            ("/authorize/signup", "email")
        } else {
            ("/authorize/login", "username")
        };
        let fields = [
            ("q", q.as_str()),
            ("csrf", csrf.as_str()),
            (name, identifier),
            ("password", password),
        ];
        self.post(action, &fields).await
    }

    /// `post` with values built at run time.
    pub async fn post_pairs(&mut self, path: &str, form: &[(&'static str, String)]) -> Page {
        let request = self.http.post(format!("{}{path}", self.base)).form(form);
        self.send(request).await
    }
}
