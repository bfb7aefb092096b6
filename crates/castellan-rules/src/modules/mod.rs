//! The modules `require` gives scripts, as Auth0's rule runtime gave them: pure-JavaScript
//! packages bundled from their published npm versions (`vendor/`, built by
//! `crates/castellan-rules/js/build.mjs`, licenses in `js/LICENSES.md`), and modules written
//! here over the sandbox's own `fetch` and host functions (`shims/`), for what needs the
//! network, native speed or secrets.
//!
//! A module's source is a CommonJS body, run as
//! `function (exports, module, require, host)`: `require` resolves through this registry
//! too, and `host` holds the host functions (hashes, signatures, URL parsing) that only
//! modules see. A module runs once per log-in that requires it (each log-in has a fresh
//! context); its bytecode is compiled once per worker process.
//!
//! `require('axios@0.21.1')` names a version, as Auth0 let rules do: the module is given
//! whatever version it names, the one listed here (which is Auth0's where a template pins
//! one).

mod shims;
mod vendor;

/// One module `require` can give.
#[derive(Debug)]
pub(crate) struct Module {
    /// The name a script requires it by.
    pub name: &'static str,
    /// The npm version it is (or, for a module written here, the version of the package
    /// whose interface it follows).
    pub version: &'static str,
    /// Its CommonJS body.
    pub source: &'static str,
}

/// The name without a version: `axios@0.21.1` is `axios`, `@auth0/rule-utilities@0.2.0` is
/// `@auth0/rule-utilities`.
pub(crate) fn without_version(name: &str) -> &str {
    let from = usize::from(name.starts_with('@'));
    match name[from..].find('@') {
        Some(at) => &name[..from + at],
        None => name,
    }
}

/// The module a script requires by `name` (with or without a version).
pub(crate) fn find(name: &str) -> Option<&'static Module> {
    let name = without_version(name);
    let name = name.strip_prefix("node:").unwrap_or(name);
    all().find(|m| m.name == name)
}

/// Every module, for the documentation and the tests.
pub(crate) fn all() -> impl Iterator<Item = &'static Module> {
    shims::MODULES.iter().chain(vendor::MODULES)
}

/// The names and versions `require` knows, in the order listed.
pub fn available() -> Vec<(&'static str, &'static str)> {
    all().map(|m| (m.name, m.version)).collect()
}

/// How the loader wraps a module's body; one line before it, as for scripts.
pub(crate) fn wrap(source: &str) -> String {
    format!("(function (exports, module, require, host) {{\n{source}\n}})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_or_a_node_prefix_names_the_same_module() {
        assert_eq!(without_version("axios@0.21.1"), "axios");
        assert_eq!(
            without_version("@auth0/rule-utilities@0.2.0"),
            "@auth0/rule-utilities"
        );
        assert_eq!(
            without_version("@auth0/rule-utilities"),
            "@auth0/rule-utilities"
        );
        assert_eq!(without_version("lodash"), "lodash");
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = all().map(|m| m.name).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count);
    }
}
