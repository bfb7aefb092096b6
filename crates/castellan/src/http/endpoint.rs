//! Route declarations: each endpoint states its method, path and the scope it needs, once.
//! The router, the scope check with its 403, and the OpenAPI document all come from here.

use axum::Router;
use axum::http::Method;
use axum::middleware::from_fn_with_state;
use axum::routing::MethodRouter;
use serde_json::{Map, Value, json};

use super::guard::{self, Guard, Protected};
use super::wire_schema::{Components, Shape};
use crate::app::AppState;

/// The scopes a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scopes {
    AnyOf(&'static [&'static str]),
    AllOf(&'static [&'static str]),
}

impl Scopes {
    pub fn satisfied_by(self, granted: &[&str]) -> bool {
        match self {
            Scopes::AnyOf(needed) => needed.iter().any(|s| granted.contains(s)),
            Scopes::AllOf(needed) => needed.iter().all(|s| granted.contains(s)),
        }
    }

    pub fn list(self) -> &'static [&'static str] {
        match self {
            Scopes::AnyOf(s) | Scopes::AllOf(s) => s,
        }
    }

    /// Auth0's wording: "Insufficient scope, expected any of: read:users".
    pub fn message(self) -> String {
        let how = match self {
            Scopes::AnyOf(_) => "any of",
            Scopes::AllOf(_) => "all of",
        };
        format!(
            "Insufficient scope, expected {how}: {}",
            self.list().join(",")
        )
    }
}

pub struct Endpoint {
    pub method: Method,
    /// Below the API's prefix, in axum's syntax (`/clients/{id}`).
    pub path: &'static str,
    pub scopes: Scopes,
    pub summary: &'static str,
    pub handler: MethodRouter<AppState>,
    /// The JSON body it reads, for the document.
    pub body: Option<Shape>,
    /// Its success status and, when it answers with a body, that body's shape; any 2xx
    /// until declared.
    pub answer: Option<(u16, Option<Shape>)>,
}

impl Endpoint {
    /// Reads a JSON body of this shape.
    pub fn takes(mut self, body: Shape) -> Self {
        self.body = Some(body);
        self
    }

    /// Answers `status` with a body of this shape.
    pub fn answers(mut self, status: u16, body: Shape) -> Self {
        self.answer = Some((status, Some(body)));
        self
    }

    /// Answers `status` with no body.
    pub fn answers_empty(mut self, status: u16) -> Self {
        self.answer = Some((status, None));
        self
    }
}

/// Shorthand for a route table entry.
pub fn endpoint(
    method: Method,
    path: &'static str,
    scopes: Scopes,
    summary: &'static str,
    handler: MethodRouter<AppState>,
) -> Endpoint {
    Endpoint {
        method,
        path,
        scopes,
        summary,
        handler,
        body: None,
        answer: None,
    }
}

/// A protected API: its routes, who may call it, and how its document is titled.
pub struct ProtectedApi {
    pub title: &'static str,
    pub prefix: &'static str,
    pub protected: Protected,
    pub endpoints: Vec<Endpoint>,
    /// The body of every error answer.
    pub error: Shape,
}

impl ProtectedApi {
    /// Every route wrapped in the guard that checks its declared scopes.
    pub fn router(&self, state: &AppState) -> Router<AppState> {
        let mut router = Router::new();
        for e in &self.endpoints {
            let guard = Guard {
                state: state.clone(),
                protected: self.protected,
                scopes: e.scopes,
            };
            let handler = e
                .handler
                .clone()
                .route_layer(from_fn_with_state(guard, guard::check));
            router = router.route(e.path, handler);
        }
        router
    }

    /// OpenAPI 3.1: one operation per endpoint, its `security` from the declared scopes
    /// (several requirement objects mean "any of", one object with several scopes "all of").
    pub fn openapi(&self, issuer: &str) -> Value {
        let mut paths = Map::new();
        let mut components = Components::new();
        let error = json!({"description": "Error", "content": {"application/json": {"schema": self.error.schema(&mut components)}}});
        for e in &self.endpoints {
            let security: Vec<Value> = match e.scopes {
                Scopes::AnyOf(s) => s.iter().map(|s| json!({"oauth2": [s]})).collect(),
                Scopes::AllOf(s) => vec![json!({"oauth2": s})],
            };
            let parameters: Vec<Value> = path_parameters(e.path)
                .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
                .collect();
            let status = e
                .answer
                .as_ref()
                .map_or("2XX".into(), |(s, _)| s.to_string());
            let mut success = json!({"description": "Success"});
            if let Some((_, Some(shape))) = &e.answer {
                success["content"] =
                    json!({"application/json": {"schema": shape.schema(&mut components)}});
            }
            let mut operation = json!({
                "summary": e.summary,
                "operationId": operation_id(&e.method, e.path),
                "parameters": parameters,
                "security": security,
                "x-required-scopes": {
                    if matches!(e.scopes, Scopes::AnyOf(_)) { "any_of" } else { "all_of" }: e.scopes.list()
                },
                "responses": {
                    status: success,
                    "400": {"description": "Bad request", "content": error["content"]},
                    "401": {"description": "Missing or invalid token", "content": error["content"]},
                    "403": {"description": e.scopes.message(), "content": error["content"]},
                    "4XX": error,
                    "5XX": error,
                },
            });
            if let Some(body) = &e.body {
                operation["requestBody"] = json!({
                    "required": true,
                    "content": {"application/json": {"schema": body.schema(&mut components)}},
                });
            }
            let entry = paths.entry(e.path.to_string()).or_insert_with(|| json!({}));
            entry[e.method.as_str().to_ascii_lowercase()] = operation;
        }
        let scopes: Map<String, Value> = self
            .endpoints
            .iter()
            .flat_map(|e| e.scopes.list())
            .map(|s| (s.to_string(), json!(s)))
            .collect();
        json!({
            "openapi": "3.1.0",
            "info": {"title": self.title, "version": env!("CARGO_PKG_VERSION")},
            "servers": [{"url": format!("{}{}", issuer.trim_end_matches('/'), self.prefix)}],
            "paths": paths,
            "components": {"schemas": components, "securitySchemes": {"oauth2": {
                "type": "oauth2",
                "flows": {"clientCredentials": {"tokenUrl": format!("{issuer}oauth/token"), "scopes": scopes}},
            }}},
        })
    }
}

fn path_parameters(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
}

fn operation_id(method: &Method, path: &str) -> String {
    let mut id = method.as_str().to_ascii_lowercase();
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        id.push('_');
        id.push_str(&seg.replace(['{', '}'], "").replace('-', "_"));
    }
    id
}
