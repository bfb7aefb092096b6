//! The bearer-token guard: verifies our own JWTs for one API and checks the scopes the
//! route declared. A handler that needs to know who called takes a `Caller`, which only
//! exists once this guard has let the request through.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use castellan_core::oauth::access_token::TokenRejection;

use super::endpoint::Scopes;
use super::error::ApiError;
use crate::app::AppState;

/// Which API a guard protects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protected {
    Management,
    /// The Authorization Extension API: machine-to-machine tokens only, its own error shape,
    /// and on routes that need no scope (the policy) the extension's `x-api-key` too.
    Authz,
}

#[derive(Clone)]
pub struct Guard {
    pub state: AppState,
    pub protected: Protected,
    pub scopes: Scopes,
}

/// Who made the request, as the token says.
#[derive(Debug, Clone)]
pub struct Caller {
    pub subject: String,
    pub client_id: Option<String>,
    pub scopes: Vec<String>,
    /// The token was issued by the client-credentials grant: a client acting for itself,
    /// not an end user.
    pub machine: bool,
}

impl Caller {
    /// The audit log's name for whoever holds this token.
    pub fn actor(&self) -> castellan_core::audit::Actor {
        use castellan_core::audit::Actor;
        match &self.client_id {
            Some(client_id) if self.machine => Actor::Client(client_id.clone()),
            _ => Actor::User(self.subject.clone()),
        }
    }

    /// Changes made with this token: by its holder, for the request being served.
    pub fn editor<'a>(&self, s: &'a AppState) -> castellan_core::directory::Editor<'a> {
        castellan_core::directory::Editor {
            store: s.store.as_ref(),
            clock: s.clock.as_ref(),
            actor: self.actor(),
            request_id: super::request_id::current(),
        }
    }

    pub fn holds(&self, scopes: Scopes) -> bool {
        let granted: Vec<&str> = self.scopes.iter().map(String::as_str).collect();
        scopes.satisfied_by(&granted)
    }

    /// Whether the token may act on `user_id` with a route's current-user scope: only an
    /// end user's token, and only on its own user.
    pub fn is_user(&self, user_id: &str) -> bool {
        !self.machine && self.subject == user_id
    }
}

/// The 403 that names the scopes a request lacks.
pub fn refused(scopes: Scopes) -> ApiError {
    let mut e = ApiError::new(
        StatusCode::FORBIDDEN,
        "insufficient_scope",
        scopes.message(),
    );
    e.www_authenticate = Some(format!(
        "Bearer realm=\"castellan\", error=\"insufficient_scope\", scope=\"{}\"",
        scopes.list().join(" ")
    ));
    e
}

fn unauthorized(message: &str, error: &str) -> ApiError {
    let mut e = ApiError::new(StatusCode::UNAUTHORIZED, "invalid_token", message);
    e.www_authenticate = Some(format!(
        "Bearer realm=\"castellan\", error=\"{error}\", error_description=\"{message}\""
    ));
    e
}

fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        let mut e = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing_authentication",
            "Missing authentication",
        );
        e.www_authenticate = Some("Bearer realm=\"castellan\"".into());
        return Err(e);
    };
    let value = value
        .to_str()
        .map_err(|_| unauthorized("Invalid token", "invalid_token"))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(unauthorized(
            "Bad HTTP authentication header format",
            "invalid_request",
        )),
    }
}

pub async fn check(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    match authorize(&guard, &parts).await {
        Ok(caller) => {
            parts.extensions.insert(caller);
            next.run(Request::from_parts(parts, body)).await
        }
        Err(e) => match guard.protected {
            Protected::Management => e.into_response(),
            Protected::Authz => super::authz::error::AuthzError::from(e).into_response(),
        },
    }
}

/// The extension's `extension-secret` strategy: on a route that needs no scope, a request
/// without a bearer token may show the API key that `rotate-apikey` produced.
async fn api_key_caller(guard: &Guard, parts: &Parts) -> Option<Result<Caller, ApiError>> {
    if guard.protected != Protected::Authz
        || !guard.scopes.list().is_empty()
        || parts.headers.contains_key(header::AUTHORIZATION)
    {
        return None;
    }
    let key = parts.headers.get("x-api-key")?.to_str().unwrap_or_default();
    let store = guard.state.store.as_ref();
    Some(
        match castellan_core::directory::extension::policy::api_key_is_valid(store, key).await {
            Ok(true) => Ok(Caller {
                subject: "x-api-key".into(),
                client_id: None,
                scopes: vec![],
                machine: true,
            }),
            Ok(false) => Err(unauthorized("Invalid API key", "invalid_token")),
            Err(e) => Err(super::authz::error::AuthzError::from(e).into_api_error()),
        },
    )
}

async fn authorize(guard: &Guard, parts: &Parts) -> Result<Caller, ApiError> {
    if let Some(result) = api_key_caller(guard, parts).await {
        return result;
    }
    let token = bearer(parts)?;
    let authz_audience = [castellan_core::system_apis::AUTHZ_API_IDENTIFIER.to_string()];
    let audiences: &[String] = match guard.protected {
        Protected::Management => &guard.state.management_audiences,
        Protected::Authz => &authz_audience,
    };
    let claims = guard
        .state
        .tokens
        .verify(token, audiences)
        .await
        .map_err(|rejection| match rejection {
            TokenRejection::Expired => unauthorized("Expired token", "invalid_token"),
            _ => unauthorized("Invalid token", "invalid_token"),
        })?;
    let machine = claims.machine_to_machine();
    if guard.protected == Protected::Authz && !machine {
        return Err(unauthorized(
            "Only machine-to-machine (client credentials) tokens may call this API",
            "invalid_token",
        ));
    }
    let scopes = claims.scopes();
    let granted: Vec<&str> = scopes.iter().map(String::as_str).collect();
    if !guard.scopes.satisfied_by(&granted) {
        return Err(refused(guard.scopes));
    }
    Ok(Caller {
        subject: claims.sub,
        client_id: Some(claims.azp),
        scopes,
        machine,
    })
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            // Only reachable if a route was mounted without its guard: a programming error.
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "Internal error",
            )
        })
    }
}
