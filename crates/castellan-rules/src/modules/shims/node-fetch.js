// `node-fetch` with the interface of 2.6.0 (the version Auth0's rule templates pin), over
// the sandbox's `fetch`: its `Headers`, `Request` and `Response` are the sandbox's, with
// what node-fetch 2 adds or does differently: credentials in the URL are sent as basic
// authentication, `Accept: */*` is sent unless set, responses have `buffer()`, and a
// request that could not be made rejects with a `FetchError`.
'use strict';

const Buffer = require('buffer').Buffer;
const globalFetch = globalThis.fetch;

class FetchError extends Error {
  constructor(message, type, systemError) {
    super(message);
    this.name = 'FetchError';
    this.type = type;
    if (systemError) {
      this.code = this.errno = systemError.code;
    }
  }
}

const fetch = function fetch(resource, init) {
  const options = Object.assign({}, init);
  let url;
  try {
    if (typeof globalFetch !== 'function') {
      throw new FetchError('request to ' + String(resource) + ' failed, reason: this sandbox allows no outgoing requests (the fetch allow-list is empty)', 'system');
    }
    if (resource instanceof Request) {
      options.method = options.method || resource.method;
      options.headers = options.headers || resource.headers;
      if (options.body === undefined && resource._text !== null) options.body = resource._text;
      url = new URL(resource.url);
    } else {
      const text = resource !== null && typeof resource === 'object' && typeof resource.href === 'string' ? resource.href : String(resource);
      if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) throw new TypeError('Only absolute URLs are supported');
      url = new URL(text);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError('Only HTTP(S) protocols are supported');
    }
    const headers = new Headers(options.headers);
    if (url.username !== '' || url.password !== '') {
      if (!headers.has('authorization')) {
        const credentials = decodeURIComponent(url.username) + ':' + decodeURIComponent(url.password);
        headers.set('authorization', 'Basic ' + Buffer.from(credentials).toString('base64'));
      }
      url.username = '';
      url.password = '';
    }
    if (!headers.has('accept')) headers.set('accept', '*/*');
    options.headers = headers;
  } catch (e) {
    return Promise.reject(e);
  }
  return globalFetch(url.href, options).then((response) => {
    Object.defineProperty(response, 'buffer', {
      value: () => response.arrayBuffer().then((bytes) => Buffer.from(bytes)),
      configurable: true,
    });
    return response;
  }, (e) => {
    if (e instanceof TypeError) throw e;
    throw new FetchError('request to ' + url.href + ' failed, reason: ' + String(e && e.message), 'system', e);
  });
};

fetch.isRedirect = (code) => code === 301 || code === 302 || code === 303 || code === 307 || code === 308;
fetch.Headers = Headers;
fetch.Request = Request;
fetch.Response = Response;
fetch.FetchError = FetchError;
fetch.default = fetch;

module.exports = fetch;
