//! Castellan's own pages: server-rendered HTML that works without JavaScript, under a
//! strict Content-Security-Policy, with CSRF tokens and `SameSite` cookies. Templates are
//! compiled into the binary; a file of the same name in `templates_dir` replaces one.

pub mod authorize;
pub mod continue_login;
pub(crate) mod cookies;
pub mod device;
pub mod logout;
pub mod recovery;
mod response_mode;

use std::path::Path;

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::Environment;

use super::request_id;

macro_rules! builtin_templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../../templates/", $name)))),*]
    };
}

const TEMPLATES: &[(&str, &str)] = builtin_templates![
    "layout.html",
    "login.html",
    "signup.html",
    "consent.html",
    "activate.html",
    "device_confirm.html",
    "error.html",
    "logged_out.html",
    "message.html",
    "reset_password.html",
    "forgot.html",
    "form_post.html",
    "web_message.html",
];

const STYLESHEET: &str = include_str!("../../../templates/castellan.css");

pub struct Pages {
    env: Environment<'static>,
}

#[derive(Debug, thiserror::Error)]
#[error("template {name}: {cause}")]
pub struct TemplateError {
    name: String,
    cause: String,
}

impl Pages {
    /// The built-in templates, each replaced by `{dir}/{name}` where such a file exists.
    pub fn load(dir: Option<&Path>) -> Result<Self, TemplateError> {
        let mut env = Environment::new();
        for (name, builtin) in TEMPLATES.iter().chain(crate::http::console::TEMPLATES) {
            let source = match dir.map(|d| d.join(name)).filter(|p| p.exists()) {
                Some(path) => std::fs::read_to_string(&path).map_err(|e| TemplateError {
                    name: path.display().to_string(),
                    cause: e.to_string(),
                })?,
                None => builtin.to_string(),
            };
            env.add_template_owned(*name, source)
                .map_err(|e| TemplateError {
                    name: name.to_string(),
                    cause: e.to_string(),
                })?;
        }
        Ok(Self { env })
    }

    /// Renders `name`; `form_targets` are the origins a form on the page may lead to.
    pub fn render(
        &self,
        status: StatusCode,
        name: &str,
        context: minijinja::Value,
        form_targets: &[&str],
    ) -> Response {
        let policy = Policy {
            form_targets,
            ..Policy::default()
        };
        self.render_with(status, name, context, &policy)
    }

    /// Renders `name` under `policy`.
    pub fn render_with(
        &self,
        status: StatusCode,
        name: &str,
        context: minijinja::Value,
        policy: &Policy<'_>,
    ) -> Response {
        let rendered = self.env.get_template(name).and_then(|t| t.render(context));
        match rendered {
            Ok(html) => with_page_headers((status, Html(html)).into_response(), policy),
            Err(e) => {
                tracing::error!(template = name, cause = %e, "a page failed to render");
                let body = "<!doctype html><title>Error</title><p>Internal error</p>";
                with_page_headers(
                    (StatusCode::INTERNAL_SERVER_ERROR, Html(body)).into_response(),
                    &Policy::default(),
                )
            }
        }
    }

    pub fn message(&self, status: StatusCode, title: &str, message: &str) -> Response {
        self.render(
            status,
            "message.html",
            minijinja::context! { title => title, message => message },
            &[],
        )
    }

    pub fn error(&self, status: StatusCode, message: &str) -> Response {
        let context =
            minijinja::context! { message => message, request_id => request_id::current() };
        self.render(status, "error.html", context, &[])
    }
}

/// What a page may do beyond the defaults: where its forms lead, the one script it runs,
/// and who may frame it.
#[derive(Debug, Default)]
pub struct Policy<'a> {
    /// Origins a form on the page may lead to, besides our own.
    pub form_targets: &'a [&'a str],
    /// The nonce of the page's own script; without it no script runs.
    pub script_nonce: Option<&'a str>,
    /// The origin that may frame the page (Auth0's `web_message` answer in an app's
    /// hidden iframe); otherwise nobody may.
    pub framed_by: Option<&'a str>,
}

/// Styles come from our own stylesheet; forms post to us (and may be redirected on to the
/// client's callback); no script runs and nobody may frame a page unless its policy says.
fn with_page_headers(mut response: Response, policy: &Policy<'_>) -> Response {
    let mut form_action = String::from("'self'");
    for target in policy.form_targets {
        form_action.push(' ');
        form_action.push_str(target);
    }
    let script = policy
        .script_nonce
        .map(|nonce| format!("script-src 'nonce-{nonce}'; "))
        .unwrap_or_default();
    let ancestors = policy.framed_by.unwrap_or("'none'");
    let csp = format!(
        "default-src 'none'; {script}style-src 'self'; img-src 'self' data:; \
         form-action {form_action}; frame-ancestors {ancestors}; base-uri 'none'"
    );
    let headers = response.headers_mut();
    let mut set = |name: HeaderName, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    set(header::CONTENT_SECURITY_POLICY, &csp);
    if policy.framed_by.is_none() {
        set(header::X_FRAME_OPTIONS, "DENY");
    }
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "no-referrer");
    set(header::CACHE_CONTROL, "no-store");
    response
}

pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}
