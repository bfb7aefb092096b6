// What npm's `url` asks of `qs`, answered by Node's `querystring` as Node's own `url` does:
// `url.parse(href, true).query` is flat (`a[b]=1` is the key `a[b]`), and `url.format`
// repeats a key for each value of an array.
const querystring = require('querystring');

exports.parse = (text) => querystring.parse(text);
exports.stringify = (query) => querystring.stringify(query);
