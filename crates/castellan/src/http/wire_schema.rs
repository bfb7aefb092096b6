//! The shapes of an operation's body and answer in the OpenAPI documents, taken from the wire
//! types' `utoipa::ToSchema`: the document says what the handlers really read and write,
//! because both come from the same types.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};
use utoipa::ToSchema;

/// The named schemas a document's operations refer to (`#/components/schemas/…`).
pub type Components = BTreeMap<String, Value>;

/// A body's or an answer's schema, with the named schemas it needs added to `Components`.
#[derive(Clone)]
pub struct Shape(Arc<dyn Fn(&mut Components) -> Value + Send + Sync>);

impl Shape {
    /// `T` itself.
    pub fn of<T: ToSchema + 'static>() -> Shape {
        Shape(Arc::new(reference::<T>))
    }

    /// A JSON array of `T`.
    pub fn list_of<T: ToSchema + 'static>() -> Shape {
        Shape(Arc::new(
            |c| json!({"type": "array", "items": reference::<T>(c)}),
        ))
    }

    /// A JSON array of strings: the ids or names a body lists.
    pub fn strings() -> Shape {
        Shape(Arc::new(
            |_| json!({"type": "array", "items": {"type": "string"}}),
        ))
    }

    /// A JSON object whose members are not declared one by one (settings, the extension's
    /// export document); `nullable` where the answer may be `null` instead.
    pub fn object(nullable: bool) -> Shape {
        Shape(Arc::new(move |_| {
            if nullable {
                json!({"type": ["object", "null"]})
            } else {
                json!({"type": "object"})
            }
        }))
    }

    /// A Management API listing of `T` named `collection`: a bare array, or with
    /// `include_totals` an object holding the array and its totals (`length` where the
    /// listing counts its page; `next` where it pages by checkpoint).
    pub fn listing_of<T: ToSchema + 'static>(collection: &'static str) -> Shape {
        Shape(Arc::new(move |c| {
            let items = json!({"type": "array", "items": reference::<T>(c)});
            json!({"oneOf": [
                items,
                {
                    "type": "object",
                    "required": [collection],
                    "properties": {
                        collection: items,
                        "start": {"type": "integer"},
                        "limit": {"type": "integer"},
                        "total": {"type": "integer"},
                        "length": {"type": "integer"},
                        "next": {"type": "string"},
                    },
                },
            ]})
        }))
    }

    pub fn schema(&self, components: &mut Components) -> Value {
        (self.0)(components)
    }
}

fn to_value(schema: impl serde::Serialize) -> Value {
    serde_json::to_value(schema).expect("a schema serializes to JSON")
}

fn reference<T: ToSchema>(components: &mut Components) -> Value {
    let mut named = Vec::new();
    T::schemas(&mut named);
    for (name, schema) in named {
        components.insert(name, to_value(schema));
    }
    let name = T::name().to_string();
    components.insert(name.clone(), to_value(T::schema()));
    json!({"$ref": format!("#/components/schemas/{name}")})
}
