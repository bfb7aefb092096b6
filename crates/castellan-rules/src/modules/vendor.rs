//! Packages bundled from npm (see `js/build.mjs`): their exact published versions.

use super::Module;

pub(super) const MODULES: &[Module] = &[Module {
    name: "buffer",
    version: "5.7.1",
    source: include_str!("vendor/buffer.js"),
}];
