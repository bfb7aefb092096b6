//! Bodies and query strings of the extension API, failing in its error shape.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::AuthzError;
use crate::app::AppState;
use crate::http::body::{JsonBody, QueryParams};

/// A JSON body deserialised into `T`.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for Body<T> {
    type Rejection = AuthzError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        JsonBody::<T>::from_request(request, state)
            .await
            .map(|JsonBody(v)| Body(v))
            .map_err(AuthzError::from)
    }
}

/// The query string.
pub struct Query(pub QueryParams);

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = AuthzError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        QueryParams::from_request_parts(parts, state)
            .await
            .map(Query)
            .map_err(AuthzError::from)
    }
}

impl Query {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name)
    }

    /// A non-negative integer between `min` and `max`, or `default`.
    pub fn number(&self, name: &str, default: u64, min: u64, max: u64) -> Result<u64, AuthzError> {
        let n = self
            .0
            .number(name)
            .map_err(AuthzError::from)?
            .unwrap_or(default);
        if n < min || n > max {
            return Err(AuthzError::validation(format!(
                "\"{name}\" must be between {min} and {max}"
            )));
        }
        Ok(n)
    }

    /// The extension's `expand`: any value but `false` turns it on.
    pub fn truthy(&self, name: &str) -> bool {
        self.0.get(name).is_some_and(|v| v != "false" && v != "0")
    }
}
