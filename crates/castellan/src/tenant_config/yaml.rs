//! YAML in and out. Reading keeps where every node starts, so any later complaint (a bad
//! value, an unknown key, a name that refers to nothing) can name its line; writing is
//! deterministic: keys sorted, with the key that names an object first.
//!
//! The YAML crate is saphyr (maintained, pure Rust, YAML 1.2), chosen over the deprecated
//! `serde_yaml` and its forks because it gives every node its position, which serde-based
//! readers only give for their own errors. Typed reading goes through `serde_json::Value`
//! with `serde_path_to_error`, whose error path finds the line again.

use std::collections::HashMap;

use saphyr::{LoadableYamlNode, MarkedYamlOwned, Scalar, ScalarOwned, Yaml, YamlDataOwned};
use serde_json::{Map, Number, Value};

/// One step into a document.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A position in a file: line and column, both from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// Where each node starts (for a mapping entry, where its key starts).
#[derive(Debug, Default)]
pub struct Locations {
    nodes: HashMap<Vec<Seg>, Pos>,
}

impl Locations {
    /// The position of `path`, or of the nearest enclosing node that has one.
    pub fn find(&self, path: &[Seg]) -> Option<Pos> {
        (0..=path.len())
            .rev()
            .find_map(|n| self.nodes.get(&path[..n]).copied())
    }
}

/// What went wrong reading a document, and where.
#[derive(Debug)]
pub struct YamlError {
    pub pos: Pos,
    pub message: String,
}

/// Parses one document into JSON values, with the position of every node.
pub fn load(text: &str) -> Result<(Value, Locations), YamlError> {
    let docs = MarkedYamlOwned::load_from_str(text).map_err(|e| YamlError {
        pos: Pos {
            line: e.marker().line(),
            column: e.marker().col() + 1,
        },
        message: e.info().to_string(),
    })?;
    let mut locations = Locations::default();
    let value = match docs.as_slice() {
        [] => Value::Object(Map::new()),
        [doc] => convert(doc, &mut Vec::new(), &mut locations)?,
        [_, second, ..] => {
            return Err(YamlError {
                pos: pos_of(second),
                message: "only one YAML document is read; remove the second".into(),
            });
        }
    };
    Ok((value, locations))
}

fn pos_of(node: &MarkedYamlOwned) -> Pos {
    Pos {
        line: node.span.start.line(),
        column: node.span.start.col() + 1,
    }
}

fn convert(
    node: &MarkedYamlOwned,
    path: &mut Vec<Seg>,
    locations: &mut Locations,
) -> Result<Value, YamlError> {
    locations.nodes.entry(path.clone()).or_insert(pos_of(node));
    let unsupported = |what: &str| YamlError {
        pos: pos_of(node),
        message: format!("{what} are not supported here"),
    };
    Ok(match &node.data {
        YamlDataOwned::Value(scalar) => scalar_value(scalar),
        YamlDataOwned::Sequence(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                out.push(convert(item, path, locations)?);
                path.pop();
            }
            Value::Array(out)
        }
        YamlDataOwned::Mapping(entries) => {
            let mut out = Map::new();
            for (key, value) in entries {
                let name = match &key.data {
                    YamlDataOwned::Value(ScalarOwned::String(s)) => s.clone(),
                    YamlDataOwned::Value(other) => match scalar_value(other) {
                        Value::String(s) => s,
                        v => v.to_string(),
                    },
                    _ => {
                        return Err(YamlError {
                            pos: pos_of(key),
                            message: "a key must be a plain value".into(),
                        });
                    }
                };
                path.push(Seg::Key(name.clone()));
                locations.nodes.insert(path.clone(), pos_of(key));
                out.insert(name, convert(value, path, locations)?);
                path.pop();
            }
            Value::Object(out)
        }
        YamlDataOwned::Tagged(..) => return Err(unsupported("tags (such as !include)")),
        YamlDataOwned::Alias(_) => return Err(unsupported("aliases")),
        YamlDataOwned::Representation(..) | YamlDataOwned::BadValue => {
            return Err(YamlError {
                pos: pos_of(node),
                message: "this value cannot be read".into(),
            });
        }
    })
}

fn scalar_value(scalar: &ScalarOwned) -> Value {
    match scalar {
        ScalarOwned::Null => Value::Null,
        ScalarOwned::Boolean(b) => Value::Bool(*b),
        ScalarOwned::Integer(i) => Value::Number((*i).into()),
        ScalarOwned::FloatingPoint(f) => {
            Number::from_f64(f.into_inner()).map_or(Value::Null, Value::Number)
        }
        ScalarOwned::String(s) => Value::String(s.clone()),
    }
}

/// Keys written before the others, in this order: what names the object.
const LEADING_KEYS: &[&str] = &[
    "name",
    "identifier",
    "key",
    "connection",
    "client_id",
    "audience",
];

/// Writes `value` as one YAML document; object keys sorted, naming keys first.
pub fn dump(value: &Value) -> String {
    let mut out = String::new();
    let mut emitter = saphyr::YamlEmitter::new(&mut out);
    emitter.multiline(true);
    // Writing into a String cannot fail.
    let _ = emitter.dump(&to_yaml(value));
    let body = out.strip_prefix("---\n").unwrap_or(&out).to_string();
    if body.ends_with('\n') {
        body
    } else {
        body + "\n"
    }
}

fn to_yaml(value: &Value) -> Yaml<'static> {
    match value {
        Value::Null => Yaml::Value(Scalar::Null),
        Value::Bool(b) => Yaml::Value(Scalar::Boolean(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Yaml::Value(Scalar::Integer(i)),
            None => Yaml::Value(Scalar::FloatingPoint(n.as_f64().unwrap_or_default().into())),
        },
        Value::String(s) => Yaml::Value(Scalar::String(s.clone().into())),
        Value::Array(items) => Yaml::Sequence(items.iter().map(to_yaml).collect()),
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by_key(|k| {
                (
                    LEADING_KEYS
                        .iter()
                        .position(|l| l == k)
                        .unwrap_or(LEADING_KEYS.len()),
                    k.as_str(),
                )
            });
            let mut mapping = saphyr::Mapping::new();
            for k in keys {
                mapping.insert(
                    Yaml::Value(Scalar::String(k.clone().into())),
                    to_yaml(&map[k]),
                );
            }
            Yaml::Mapping(mapping)
        }
    }
}

/// deploy-cli's keyword replacement: each `##NAME##` in the text becomes the value of the
/// environment variable `NAME`. Refused, with its line, when the variable is not set or
/// its value would break the line apart.
pub fn replace_keywords(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, YamlError> {
    let mut out = String::with_capacity(text.len());
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let mut rest = line;
        while let Some(start) = rest.find("##") {
            let after = &rest[start + 2..];
            let name_len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            let name = &after[..name_len];
            let is_keyword = !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && after[name_len..].starts_with("##");
            if !is_keyword {
                out.push_str(&rest[..start + 2]);
                rest = after;
                continue;
            }
            let value = lookup(name).ok_or_else(|| YamlError {
                pos: Pos {
                    line: n + 1,
                    column: line.len() - rest.len() + start + 1,
                },
                message: format!(
                    "##{name}## names the environment variable {name}, which is not set"
                ),
            })?;
            if value.contains(['\n', '\r']) {
                return Err(YamlError {
                    pos: Pos {
                        line: n + 1,
                        column: line.len() - rest.len() + start + 1,
                    },
                    message: format!(
                        "the value of {name} holds a line break, which ##{name}## cannot take"
                    ),
                });
            }
            out.push_str(&rest[..start]);
            out.push_str(&value);
            rest = &after[name_len + 2..];
        }
        out.push_str(rest);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn positions_are_kept() {
        let (value, at) = load("clients:\n  - name: a\n    callbacks:\n      - x\n").unwrap();
        assert_eq!(
            value,
            json!({"clients": [{"name": "a", "callbacks": ["x"]}]})
        );
        let path = [
            Seg::Key("clients".into()),
            Seg::Index(0),
            Seg::Key("callbacks".into()),
        ];
        assert_eq!(at.find(&path), Some(Pos { line: 3, column: 5 }));
        let deeper = [&path[..], &[Seg::Index(0), Seg::Key("nothing".into())]].concat();
        assert_eq!(at.find(&deeper), Some(Pos { line: 4, column: 9 }));
    }

    #[test]
    fn errors_say_where() {
        let e = load("a: b\nc: [\n").unwrap_err();
        assert!(e.pos.line >= 2, "{e:?}");
        assert!(load("a: 1\na: 2\n").is_err());
        assert!(load("a: !include x.yaml\n").is_err());
    }

    #[test]
    fn dump_reads_back_the_same() {
        let value = json!({
            "b": ["8", "true", "", " x", "a: b", "#c", "multi\nline\n", "yes", "null", "1.5", "-x",
                  "0x1F", "0o7", ".inf", "-.inf", ".nan", "1e3", "+1", "~", "2024-01-01", "-", "a #b",
                  "tab\there", "  lead\nline", "line\n\n", "\u{e9}t\u{e9}", "trailing "],
            "name": "first",
            "n": 3, "f": 1.5, "t": true, "z": null, "empty": [], "o": {}
        });
        let text = dump(&value);
        assert!(text.starts_with("name: first\n"), "{text}");
        assert_eq!(load(&text).unwrap().0, value, "{text}");
    }

    #[test]
    fn keywords() {
        let env = |k: &str| (k == "HOST").then(|| "example.com".to_string());
        assert_eq!(
            replace_keywords("url: https://##HOST##/cb\nx: ## not ##\n", &env).unwrap(),
            "url: https://example.com/cb\nx: ## not ##\n"
        );
        let e = replace_keywords("a: 1\nb: ##MISSING##\n", &env).unwrap_err();
        assert_eq!(e.pos, Pos { line: 2, column: 4 });
    }
}
