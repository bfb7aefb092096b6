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
    // The HTTP clients of Auth0's rule runtime, over the sandbox's `fetch` (`shims/*.js`).
    // Versions: the last `request` and `request-promise` releases (npm), the ones Auth0's
    // rule templates pin for `axios` and `node-fetch`, and the newest `auth0` 2.x they pin.
    Module {
        name: "request",
        version: "2.88.2",
        source: include_str!("shims/request.js"),
    },
    Module {
        name: "request-promise",
        version: "4.2.6",
        source: include_str!("shims/request-promise.js"),
    },
    Module {
        name: "request-promise-native",
        version: "1.0.9",
        source: include_str!("shims/request-promise.js"),
    },
    Module {
        name: "axios",
        version: "0.21.1",
        source: include_str!("shims/axios.js"),
    },
    Module {
        name: "node-fetch",
        version: "2.6.0",
        source: include_str!("shims/node-fetch.js"),
    },
    Module {
        name: "auth0",
        version: "2.30.0",
        source: include_str!("shims/auth0.js"),
    },
];
