//! Who is using the console: the console session cookie, the `castellan:admin` check on
//! every request (so a removed permission or a block takes effect at once), and the CSRF
//! check of every posted form.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use castellan_core::audit::Actor;
use castellan_core::login::console;
use castellan_core::model::User;
use castellan_core::secrets::constant_time_eq;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::notice_text;
use crate::app::AppState;
use crate::http::pages::cookies;

/// The console session cookie, sent only to `/admin`.
pub const COOKIE: &str = "castellan_admin";
/// The state and PKCE verifier of a console log-in under way.
pub const LOGIN_COOKIE: &str = "castellan_admin_login";
pub const PATH: &str = "/admin";

pub fn secure(s: &AppState) -> bool {
    s.settings.issuer.starts_with("https://")
}

/// A signed-in administrator.
pub struct Admin {
    pub user: User,
    /// The CSRF token every form of this session carries.
    pub csrf: String,
    /// The message of the change this page follows, if any.
    pub notice: Option<&'static str>,
}

impl Admin {
    pub fn actor(&self) -> Actor {
        Actor::User(self.user.user_id.clone())
    }

    /// Changes made in the console: by this administrator, for the request being served.
    pub fn editor<'a>(&self, s: &'a crate::app::AppState) -> castellan_core::directory::Editor<'a> {
        castellan_core::directory::Editor {
            store: s.store.as_ref(),
            clock: s.clock.as_ref(),
            actor: self.actor(),
            request_id: crate::http::request_id::current(),
        }
    }
}

/// To the console's log-in, coming back to the page asked for (a GET) afterwards.
fn to_login(parts: &Parts) -> Response {
    let back = if parts.method == Method::GET {
        parts
            .uri
            .path_and_query()
            .map_or(PATH.to_string(), |p| p.as_str().to_string())
    } else {
        PATH.to_string()
    };
    crate::http::redirect::to_local("/admin/login", &[("return_to", &back)])
}

/// The page a signed-in user without `castellan:admin` gets.
pub fn forbidden(s: &AppState, user: &User) -> Response {
    let who = user.email.clone().unwrap_or_else(|| user.user_id.clone());
    s.pages.render(
        StatusCode::FORBIDDEN,
        "admin/message.html",
        minijinja::context! {
            title => "Not an administrator",
            message => format!(
                "You are logged in as {who}, who does not hold the permission {} on the Management API. Ask an administrator to give you a role that holds it.",
                console::ADMIN_PERMISSION
            ),
            login_again => true,
        },
        &[],
    )
}

fn unavailable(s: &AppState, e: &castellan_core::Error) -> Response {
    tracing::warn!(cause = %e, "could not check a console session");
    s.pages.error(
        StatusCode::SERVICE_UNAVAILABLE,
        "The store is unavailable; try again shortly.",
    )
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Response> {
        let Some(id) = cookies::get(&parts.headers, COOKIE) else {
            return Err(to_login(parts));
        };
        let store = s.store.as_ref();
        let user = match console::resume_session(store, s.clock.as_ref(), id).await {
            Ok(Some(user)) => user,
            Ok(None) => return Err(to_login(parts)),
            Err(e) => return Err(unavailable(s, &e)),
        };
        match console::is_admin(store, &s.settings.issuer, &user.user_id).await {
            Ok(true) => {}
            Ok(false) => return Err(forbidden(s, &user)),
            Err(e) => return Err(unavailable(s, &e)),
        }
        let notice = parts.uri.query().and_then(|q| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(q)
                .ok()?
                .into_iter()
                .find(|(k, _)| k == "done")
                .and_then(|(_, v)| notice_text(&v))
        });
        Ok(Admin {
            user,
            csrf: console::csrf_token(id),
            notice,
        })
    }
}

#[derive(Deserialize, Default)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

/// A form posted by an administrator, its CSRF token checked before anything is read from it.
pub struct Posted<T> {
    pub admin: Admin,
    pub form: T,
}

impl<T: DeserializeOwned> FromRequest<AppState> for Posted<T> {
    type Rejection = Response;

    async fn from_request(request: Request, s: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let admin = Admin::from_request_parts(&mut parts, s).await?;
        let request = Request::from_parts(parts, body);
        let Ok(bytes) = crate::http::body::read_limited(request).await else {
            return Err(s
                .pages
                .error(StatusCode::PAYLOAD_TOO_LARGE, "The form is too large."));
        };
        if let Some(name) = crate::http::input::nul_in_form(&bytes) {
            return Err(s.pages.error(
                StatusCode::BAD_REQUEST,
                &castellan_core::text::nul_refused(&name),
            ));
        }
        let presented: CsrfField = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
        if !constant_time_eq(presented.csrf.as_bytes(), admin.csrf.as_bytes()) {
            return Err(s.pages.error(
                StatusCode::FORBIDDEN,
                "This form has expired or was not sent from the console. Go back, reload the page and try again.",
            ));
        }
        match serde_urlencoded::from_bytes(&bytes) {
            Ok(form) => Ok(Posted { admin, form }),
            Err(e) => Err(s.pages.error(
                StatusCode::BAD_REQUEST,
                &format!("The form is malformed: {e}"),
            )),
        }
    }
}
