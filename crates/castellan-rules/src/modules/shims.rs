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
    // Offered by Auth0's rule runtime, never published on npm; templates pin 0.1.0 (the
    // redirect helpers) and 0.2.0 (those and the metadata helpers), one interface.
    Module {
        name: "@auth0/rule-utilities",
        version: "0.2.0",
        source: include_str!("shims/auth0-rule-utilities.js"),
    },
];
