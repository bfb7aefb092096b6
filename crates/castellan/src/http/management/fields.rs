//! Auth0's `fields` and `include_fields` query parameters: a comma-separated list of
//! attributes to keep (or, with `include_fields=false`, to leave out) of each object.

use serde_json::Value;

use crate::http::body::QueryParams;
use crate::http::error::ApiError;

#[derive(Debug, Clone)]
pub struct Fields {
    names: Vec<String>,
    include: bool,
}

impl Fields {
    /// `None` when the query names no fields: objects are answered whole.
    pub fn from_query(q: &QueryParams) -> Result<Option<Self>, ApiError> {
        let include = match q.get("include_fields") {
            None | Some("true") => true,
            Some("false") => false,
            Some(_) => {
                return Err(ApiError::bad_request(
                    "invalid_query_string",
                    "Query validation error: 'include_fields' must be true or false",
                ));
            }
        };
        Ok(q.get("fields").map(|list| Self {
            names: list
                .split(',')
                .map(|f| f.trim().to_string())
                .filter(|f| !f.is_empty())
                .collect(),
            include,
        }))
    }

    pub fn apply(&self, mut object: Value) -> Value {
        if let Value::Object(map) = &mut object {
            map.retain(|key, _| self.names.contains(key) == self.include);
        }
        object
    }
}

/// Applies `fields`, if any, to one object.
pub fn select(fields: &Option<Fields>, object: Value) -> Value {
    match fields {
        Some(f) => f.apply(object),
        None => object,
    }
}
