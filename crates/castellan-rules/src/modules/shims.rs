//! Modules written here, following the interface of the npm package they stand for.

use super::Module;

pub(super) const MODULES: &[Module] = &[
    Module {
        // Node's built-in module, as in Node 18 (Auth0's last rule runtime).
        name: "crypto",
        version: "node-18",
        source: include_str!("shims/crypto.js"),
    },
    Module {
        name: "jsonwebtoken",
        version: "8.5.1",
        source: include_str!("shims/jsonwebtoken.js"),
    },
];
