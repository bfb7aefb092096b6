//! Reading a folder: `tenant.yaml` (after `##KEYWORD##` replacement), with every problem
//! located by file, line and column, and the rule and action files it names. Fields of
//! Auth0's objects that Castellan does not model are set aside with a note; any other
//! unknown key is refused.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::spec::{TenantSpec, ignored};
use super::yaml::{self, Locations, Pos, Seg};
use super::{ConfigError, Problem, TENANT_FILE};

/// A folder as read: the configuration, the code its rules and actions name, and where
/// everything was written.
#[derive(Debug)]
pub struct Folder {
    pub file: String,
    pub spec: TenantSpec,
    pub locations: Locations,
    /// Rule name to script, action name to code.
    pub rule_scripts: BTreeMap<String, String>,
    pub action_codes: BTreeMap<String, String>,
    /// Keys set aside because Castellan does not model them.
    pub notes: Vec<String>,
}

impl Folder {
    /// A problem at `path` (or the nearest node above it that has a position).
    pub fn problem(&self, path: &[Seg], message: impl Into<String>) -> Problem {
        Problem {
            file: self.file.clone(),
            pos: self.locations.find(path),
            message: message.into(),
        }
    }
}

pub fn key(k: &str) -> Seg {
    Seg::Key(k.to_string())
}

/// The `tenant.yaml` a path names: the file itself, or the one inside a folder.
pub fn tenant_file(path: &Path) -> PathBuf {
    if path.is_dir() {
        let yml = path.join("tenant.yml");
        if !path.join(TENANT_FILE).exists() && yml.exists() {
            return yml;
        }
        path.join(TENANT_FILE)
    } else {
        path.to_path_buf()
    }
}

pub fn folder(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Folder, ConfigError> {
    let file = tenant_file(path);
    let base = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let name = file.display().to_string();
    let text = std::fs::read_to_string(&file).map_err(|cause| ConfigError::Io {
        path: name.clone(),
        cause,
    })?;
    let located = |pos: Pos, message: String| {
        ConfigError::Refused(vec![Problem {
            file: name.clone(),
            pos: Some(pos),
            message,
        }])
    };
    let text = yaml::replace_keywords(&text, env).map_err(|e| located(e.pos, e.message))?;
    let (mut value, locations) = yaml::load(&text).map_err(|e| located(e.pos, e.message))?;
    if !value.is_object() {
        return Err(located(
            Pos { line: 1, column: 1 },
            "tenant.yaml must be a mapping of kinds (clients, resourceServers, ...)".into(),
        ));
    }
    let notes = set_aside(&mut value, &locations);
    let spec: TenantSpec = serde_path_to_error::deserialize(value).map_err(|e| {
        let mut path: Vec<Seg> = e
            .path()
            .iter()
            .filter_map(|s| match s {
                serde_path_to_error::Segment::Seq { index } => Some(Seg::Index(*index)),
                serde_path_to_error::Segment::Map { key } => Some(Seg::Key(key.clone())),
                _ => None,
            })
            .collect();
        let message = e.inner().to_string();
        // Point at an unknown key itself, whether or not the path already ends with it.
        if let Some(field) = message
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split('`').next())
            && path.last() != Some(&Seg::Key(field.to_string()))
        {
            path.push(Seg::Key(field.to_string()));
        }
        let shown = describe(&path);
        ConfigError::Refused(vec![Problem {
            file: name.clone(),
            pos: locations.find(&path),
            message: if shown.is_empty() {
                message
            } else {
                format!("{shown}: {message}")
            },
        }])
    })?;
    let mut folder = Folder {
        file: name,
        spec,
        locations,
        rule_scripts: BTreeMap::new(),
        action_codes: BTreeMap::new(),
        notes,
    };
    load_code(&mut folder, &base)?;
    Ok(folder)
}

/// `clients[2].name`, as a person reads a path.
pub fn describe(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) if out.is_empty() => out.push_str(k),
            Seg::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Removes the keys of Auth0's objects that Castellan does not model, and says which.
fn set_aside(value: &mut Value, locations: &Locations) -> Vec<String> {
    let mut seen: BTreeMap<String, (usize, Option<Pos>)> = BTreeMap::new();
    let mut note = |what: String, pos: Option<Pos>| {
        let entry = seen.entry(what).or_insert((0, pos));
        entry.0 += 1;
    };
    let Some(top) = value.as_object_mut() else {
        return Vec::new();
    };
    for k in ignored::TOP_LEVEL {
        if top.remove(*k).is_some() {
            note((*k).to_string(), locations.find(&[key(k)]));
        }
    }
    let kinds: [(&str, &[&str]); 8] = [
        ("clients", ignored::CLIENT),
        ("resourceServers", ignored::API),
        ("clientGrants", ignored::GRANT),
        ("databases", ignored::CONNECTION),
        ("connections", ignored::CONNECTION),
        ("roles", ignored::ROLE),
        ("rules", ignored::RULE),
        ("actions", ignored::ACTION),
    ];
    for (kind, keys) in kinds {
        let Some(Value::Array(items)) = top.get_mut(kind) else {
            continue;
        };
        for (i, item) in items.iter_mut().enumerate() {
            let Some(object) = item.as_object_mut() else {
                continue;
            };
            for k in keys {
                if object.remove(*k).is_some() {
                    note(
                        format!("{kind}[].{k}"),
                        locations.find(&[key(kind), Seg::Index(i), key(k)]),
                    );
                }
            }
        }
    }
    seen.into_iter()
        .map(|(what, (count, pos))| {
            let line = pos
                .map(|p| format!(" (line {})", p.line))
                .unwrap_or_default();
            let times = if count > 1 {
                format!(", {count} times")
            } else {
                String::new()
            };
            format!("{what}{line}{times}: not modelled by Castellan, ignored")
        })
        .collect()
}

fn read_code(
    folder: &Folder,
    base: &Path,
    relative: &str,
    at: &[Seg],
) -> Result<String, ConfigError> {
    let path = base.join(relative);
    std::fs::read_to_string(&path).map_err(|e| {
        ConfigError::Refused(vec![
            folder.problem(at, format!("cannot read {}: {e}", path.display())),
        ])
    })
}

fn load_code(folder: &mut Folder, base: &Path) -> Result<(), ConfigError> {
    let mut scripts = BTreeMap::new();
    for (i, rule) in folder.spec.rules.iter().flatten().enumerate() {
        if let Some(relative) = &rule.script {
            let at = [key("rules"), Seg::Index(i), key("script")];
            scripts.insert(rule.name.clone(), read_code(folder, base, relative, &at)?);
        }
    }
    let mut codes = BTreeMap::new();
    for (i, action) in folder.spec.actions.iter().flatten().enumerate() {
        if let Some(relative) = &action.code {
            let at = [key("actions"), Seg::Index(i), key("code")];
            codes.insert(action.name.clone(), read_code(folder, base, relative, &at)?);
        }
    }
    folder.rule_scripts = scripts;
    folder.action_codes = codes;
    Ok(())
}
