//! Modules written here, following the interface of the npm package they stand for.

use super::Module;

pub(super) const MODULES: &[Module] = &[];
