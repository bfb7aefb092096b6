//! Writing a folder: `tenant.yaml`, each rule's script as `rules/<name>.js` and each
//! action's code as `actions/<name>/code.js`, as deploy-cli lays them out. The same tenant
//! always gives the same bytes.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::current::Current;
use super::{ConfigError, TENANT_FILE, yaml};

const HEADER: &str = "# Castellan tenant configuration (castellan export). Apply with castellan apply.\n\
# Secrets are not exported: client secrets, rules-config values and action secret values.\n";

/// A file name for `name`: letters, digits, spaces, '.', '-' and '_' kept, anything else
/// becomes '_'; a second object with the same file name gets a number.
fn file_stem(name: &str, taken: &mut BTreeSet<String>) -> String {
    let mut stem: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, ' ' | '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if stem.trim_matches('.').is_empty() {
        stem = format!("_{stem}");
    }
    let mut candidate = stem.clone();
    let mut n = 2;
    while !taken.insert(candidate.to_lowercase()) {
        candidate = format!("{stem}-{n}");
        n += 1;
    }
    candidate
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ConfigError + '_ {
    move |cause| ConfigError::Io {
        path: path.display().to_string(),
        cause,
    }
}

fn write(path: &Path, text: &str) -> Result<(), ConfigError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    std::fs::write(path, text).map_err(io(path))
}

/// A folder that holds something other than an earlier export is not written into.
fn prepare(dir: &Path) -> Result<(), ConfigError> {
    if !dir.exists() {
        return std::fs::create_dir_all(dir).map_err(io(dir));
    }
    let mut entries = std::fs::read_dir(dir).map_err(io(dir))?;
    if entries.next().is_none() {
        return Ok(());
    }
    if !dir.join(TENANT_FILE).is_file() {
        return Err(ConfigError::Usage(format!(
            "{} is not empty and holds no {TENANT_FILE}; export into an empty folder or an earlier export",
            dir.display()
        )));
    }
    for sub in ["rules", "actions"] {
        let path = dir.join(sub);
        if path.exists() {
            std::fs::remove_dir_all(&path).map_err(io(&path))?;
        }
    }
    Ok(())
}

/// Writes the folder; answers the files written, relative to `dir`.
pub fn folder(dir: &Path, current: &Current) -> Result<Vec<PathBuf>, ConfigError> {
    prepare(dir)?;
    let mut spec = current.spec.clone();
    let mut written = Vec::new();
    let mut taken = BTreeSet::new();
    for rule in spec.rules.iter_mut().flatten() {
        let stem = file_stem(&rule.name, &mut taken);
        let relative = PathBuf::from("rules").join(format!("{stem}.js"));
        let script = current
            .rule_scripts
            .get(&rule.name)
            .cloned()
            .unwrap_or_default();
        write(&dir.join(&relative), &script)?;
        rule.script = Some(format!("./rules/{stem}.js"));
        written.push(relative);
    }
    let mut taken = BTreeSet::new();
    for action in spec.actions.iter_mut().flatten() {
        let stem = file_stem(&action.name, &mut taken);
        let relative = PathBuf::from("actions").join(&stem).join("code.js");
        let code = current
            .action_codes
            .get(&action.name)
            .cloned()
            .unwrap_or_default();
        write(&dir.join(&relative), &code)?;
        action.code = Some(format!("./actions/{stem}/code.js"));
        written.push(relative);
    }
    let value = serde_json::to_value(&spec)
        .map_err(|e| ConfigError::Tenant(format!("cannot write the configuration: {e}")))?;
    write(
        &dir.join(TENANT_FILE),
        &format!("{HEADER}{}", yaml::dump(&value)),
    )?;
    written.insert(0, PathBuf::from(TENANT_FILE));
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::file_stem;
    use std::collections::BTreeSet;

    #[test]
    fn file_names() {
        let mut taken = BTreeSet::new();
        assert_eq!(file_stem("Add roles", &mut taken), "Add roles");
        assert_eq!(file_stem("a/b", &mut taken), "a_b");
        assert_eq!(file_stem("a_b", &mut taken), "a_b-2");
        assert_eq!(file_stem("..", &mut taken), "_..");
    }
}
