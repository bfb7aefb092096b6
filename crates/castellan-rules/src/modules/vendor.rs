//! Packages bundled from npm (see `js/build.mjs`): their exact published versions, unmodified,
//! minified. The license of each, and of the packages a bundle contains, is in
//! `js/LICENSES.md`.
//!
//! | module | package | version | license |
//! | --- | --- | --- | --- |
//! | `assert` | assert | 2.1.0 | MIT |
//! | `buffer` | buffer | 5.7.1 | MIT |
//! | `events` | events | 3.3.0 | MIT |
//! | `ipaddr.js` | ipaddr.js | 1.9.1 | MIT |
//! | `lodash` | lodash | 4.17.23 | MIT |
//! | `moment` | moment | 2.30.1 | MIT |
//! | `moment-timezone` | moment-timezone (data of 1970 to 2030) | 0.5.48 | MIT |
//! | `oauth-sign` | oauth-sign | 0.9.0 | Apache-2.0 |
//! | `punycode` | punycode | 2.3.1 | MIT |
//! | `querystring` | querystring-es3 | 0.2.1 | MIT |
//! | `slack-notify` | slack-notify | 0.1.7 | MIT |
//! | `url` | url (plus the `URL` and `URLSearchParams` globals) | 0.11.4 | MIT |
//! | `util` | util | 0.12.5 | MIT |
//! | `uuid` | uuid | 3.4.0 | MIT |
//! | `xmldom` | xmldom | 0.6.0 | MIT |
//! | `xpath` | xpath | 0.0.34 | MIT |
//!
//! `@auth0/rule-utilities`, which templates also require, was never published on npm: it is
//! written here in `shims/`.
//!
//! What a bundle requires of another module (`crypto`, `request`, `moment`, `util`, ...) is
//! left a `require` call, resolved here when it runs, so each module is loaded once.

use super::Module;

pub(super) const MODULES: &[Module] = &[
    Module {
        name: "assert",
        version: "2.1.0",
        source: include_str!("vendor/assert.js"),
    },
    Module {
        name: "buffer",
        version: "5.7.1",
        source: include_str!("vendor/buffer.js"),
    },
    Module {
        name: "events",
        version: "3.3.0",
        source: include_str!("vendor/events.js"),
    },
    // Auth0's templates were written against 1.x (`parse`, `parseCIDR`, `match`).
    Module {
        name: "ipaddr.js",
        version: "1.9.1",
        source: include_str!("vendor/ipaddr.js.js"),
    },
    // Templates pin `lodash@4.17.19`; 4.17.21 and 4.17.23 are API-identical security
    // releases: command injection through `template` and ReDoS in `trim` fixed in 4.17.21,
    // prototype pollution through `unset` and `omit` in 4.17.23.
    Module {
        name: "lodash",
        version: "4.17.23",
        source: include_str!("vendor/lodash.js"),
    },
    // One template pins `moment@2.11.2`; the API it uses is unchanged in 2.30.1, which also
    // fixes the ReDoS and path traversal advisories of the versions between.
    Module {
        name: "moment",
        version: "2.30.1",
        source: include_str!("vendor/moment.js"),
    },
    // Requires `moment` from here, so `moment.tz` is on the one `moment` rules get.
    Module {
        name: "moment-timezone",
        version: "0.5.48",
        source: include_str!("vendor/moment-timezone.js"),
    },
    Module {
        name: "oauth-sign",
        version: "0.9.0",
        source: include_str!("vendor/oauth-sign.js"),
    },
    Module {
        name: "punycode",
        version: "2.3.1",
        source: include_str!("vendor/punycode.js"),
    },
    // Node's `querystring`, as the browser port of the same code.
    Module {
        name: "querystring",
        version: "0.2.1",
        source: include_str!("vendor/querystring.js"),
    },
    // The 0.1 line Auth0's templates were written for (`slack.success`, `slack.alert`); it
    // posts through `request`.
    Module {
        name: "slack-notify",
        version: "0.1.7",
        source: include_str!("vendor/slack-notify.js"),
    },
    // Node's `url`: npm's legacy `parse`/`format`/`resolve`, with Node's flat query strings,
    // and the runtime's `URL` and `URLSearchParams`. Templates pin `url@0.10.3` too; the
    // legacy API is the same.
    Module {
        name: "url",
        version: "0.11.4",
        source: include_str!("vendor/url.js"),
    },
    Module {
        name: "util",
        version: "0.12.5",
        source: include_str!("vendor/util.js"),
    },
    // The 3.x line Auth0's runtime had: the module is `v4` itself and has `.v1` and `.v4`, and
    // templates call both `uuid()` and `uuid.v4()`. Random bytes come from `crypto`.
    Module {
        name: "uuid",
        version: "3.4.0",
        source: include_str!("vendor/uuid.js"),
    },
    // The name templates require; the package continues as `@xmldom/xmldom`.
    Module {
        name: "xmldom",
        version: "0.6.0",
        source: include_str!("vendor/xmldom.js"),
    },
    Module {
        name: "xpath",
        version: "0.0.34",
        source: include_str!("vendor/xpath.js"),
    },
];
