//! Text every backend can store. PostgreSQL refuses the NUL character in `text` and the
//! escape `\u0000` in `jsonb`, where SQLite keeps both, so NUL is refused wherever input
//! enters, with the field named, rather than stored by one backend and failing on the other.

use serde_json::{Map, Value};

/// Why a field is refused, in the words every API and the store use.
pub fn nul_refused(field: &str) -> String {
    format!("{field} must not contain the NUL character (U+0000)")
}

/// The path below `field` (`user_metadata.note`, `scopes[1].value`) of the first string or
/// key in `value` that holds NUL; `field` itself when `value` is such a string. An empty
/// `field` is the document's root: the path then starts with the top-level key.
pub fn nul_in_json(field: &str, value: &Value) -> Option<String> {
    nul_below(value).map(|below| joined(field, &below))
}

/// `nul_in_json` for an object held as a map (metadata).
pub fn nul_in_object(field: &str, object: &Map<String, Value>) -> Option<String> {
    nul_in_entries(object).map(|below| joined(field, &below))
}

fn joined(field: &str, below: &str) -> String {
    match (field.is_empty(), below.strip_prefix('.')) {
        (true, Some(top)) => top.to_string(),
        _ => format!("{field}{below}"),
    }
}

/// Paths are built only on the way back from a hit, so clean documents cost no allocation.
fn nul_below(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => s.contains('\0').then(String::new),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_below(item).map(|rest| format!("[{i}]{rest}"))),
        Value::Object(map) => nul_in_entries(map),
        _ => None,
    }
}

fn nul_in_entries(map: &Map<String, Value>) -> Option<String> {
    map.iter().find_map(|(key, item)| {
        if key.contains('\0') {
            Some(format!(".{}", key.escape_debug()))
        } else {
            nul_below(item).map(|rest| format!(".{key}{rest}"))
        }
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::nul_in_json;

    #[test]
    fn the_path_to_the_first_nul_is_named() {
        let clean = json!({"a": ["x", {"b": "y"}], "c": 1});
        assert_eq!(nul_in_json("user_metadata", &clean), None);
        let deep = json!({"a": ["x", {"b": "y\u{0}"}]});
        assert_eq!(
            nul_in_json("user_metadata", &deep).as_deref(),
            Some("user_metadata.a[1].b")
        );
        assert_eq!(nul_in_json("", &deep).as_deref(), Some("a[1].b"));
        let key = json!({"k\u{0}": 1});
        assert_eq!(nul_in_json("", &key).as_deref(), Some("k\\0"));
        assert_eq!(
            nul_in_json("name", &json!("x\u{0}")).as_deref(),
            Some("name")
        );
    }
}
