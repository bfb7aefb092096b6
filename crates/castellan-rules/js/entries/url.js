// Node's `url`: the legacy `parse`, `format` and `resolve` of npm's `url`, and the WHATWG
// `URL` and `URLSearchParams` the runtime has as globals, which rules take from `require('url')`.
const legacy = require('url/');

module.exports = Object.assign({}, legacy, {
  URL: globalThis.URL,
  URLSearchParams: globalThis.URLSearchParams,
});
