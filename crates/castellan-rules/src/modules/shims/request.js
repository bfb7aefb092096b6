// `request` with the interface of its last version, 2.88.2, over the sandbox's `fetch`:
// `request(options, callback)` and its verbs, `defaults`, and the options Auth0's rule
// templates pass. As in Node, the request starts once the calling code has returned and
// the callback runs from a timer of its own, so an error it throws is uncaught (it fails
// the rule) instead of being turned into a rejection nobody sees. A status of 400 or more
// is not an error: the callback gets the response. `timeout` is bounded by the rule's own
// deadline, which every request is; `gzip` needs nothing (the server decompresses).
'use strict';

const Buffer = require('buffer').Buffer;
const later = setImmediate;
const fetch = globalThis.fetch;

// Percent-encoding as the `qs` package does it for request (RFC 3986: only letters,
// digits and `-._~` stay as they are).
const encode = (text) => encodeURIComponent(text)
  .replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
const decode = (text) => {
  try { return decodeURIComponent(text.replace(/\+/g, ' ')); } catch (e) { return text; }
};

// `qs.stringify` with its defaults: nested objects as `a[b]=`, arrays as `a[0]=`,
// `null` as an empty value, `undefined` left out.
const stringifyQuery = (object) => {
  const parts = [];
  const add = (key, value) => {
    if (value === undefined || typeof value === 'function') return;
    if (value === null) {
      parts.push(encode(key) + '=');
    } else if (value instanceof Date) {
      parts.push(encode(key) + '=' + encode(value.toISOString()));
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => add(key + '[' + i + ']', item));
    } else if (typeof value === 'object' && !Buffer.isBuffer(value)) {
      Object.keys(value).forEach((name) => add(key + '[' + name + ']', value[name]));
    } else {
      parts.push(encode(key) + '=' + encode(String(value)));
    }
  };
  Object.keys(object).forEach((key) => add(key, object[key]));
  return parts.join('&');
};

// The query of `href` with `qs` merged in (its names replace the URL's own).
const withQuery = (href, qs) => {
  const at = href.indexOf('?');
  const hash = href.indexOf('#');
  const path = at < 0 ? (hash < 0 ? href : href.slice(0, hash)) : href.slice(0, at);
  const search = at < 0 ? '' : href.slice(at + 1, hash < 0 ? undefined : hash);
  const merged = {};
  search.split('&').filter((pair) => pair !== '').forEach((pair) => {
    const eq = pair.indexOf('=');
    merged[decode(eq < 0 ? pair : pair.slice(0, eq))] = decode(eq < 0 ? '' : pair.slice(eq + 1));
  });
  Object.keys(qs).forEach((key) => { merged[key] = qs[key]; });
  const query = stringifyQuery(merged);
  return query === '' ? path : path + '?' + query;
};

const findHeader = (headers, name) => {
  const lower = name.toLowerCase();
  return Object.keys(headers).find((key) => key.toLowerCase() === lower);
};
const hasHeader = (headers, name) => findHeader(headers, name) !== undefined;
const setHeader = (headers, name, value) => {
  const existing = findHeader(headers, name);
  if (existing !== undefined) delete headers[existing];
  headers[name] = value;
};

// What `url.parse` gave request for `response.request.uri`.
const parsedUri = (url) => ({
  protocol: url.protocol,
  slashes: true,
  auth: null,
  host: url.host,
  port: url.port === '' ? null : url.port,
  hostname: url.hostname,
  hash: url.hash === '' ? null : url.hash,
  search: url.search === '' ? null : url.search,
  query: url.search === '' ? null : url.search.slice(1),
  pathname: url.pathname,
  path: url.pathname + url.search,
  href: url.href,
});

const basic = (user, pass) => 'Basic ' + Buffer.from(user + ':' + pass).toString('base64');

// The URL, method, headers and body of a request, as request works them out of its
// options; throws what request reports to the callback.
const prepare = (options) => {
  let uri = options.uri !== undefined ? options.uri : options.url;
  if (uri !== null && typeof uri === 'object' && typeof uri.href === 'string') uri = uri.href;
  if (options.baseUrl !== undefined) {
    if (typeof options.baseUrl !== 'string') throw new Error('options.baseUrl must be a string');
    if (typeof uri !== 'string') throw new Error('options.uri must be a string when using options.baseUrl');
    if (/^(\/\/|[a-z][a-z0-9+.-]*:)/i.test(uri)) {
      throw new Error('options.uri must be a path when using options.baseUrl');
    }
    const baseSlash = options.baseUrl.endsWith('/');
    const uriSlash = uri.startsWith('/');
    if (uri === '') uri = options.baseUrl;
    else if (baseSlash && uriSlash) uri = options.baseUrl + uri.slice(1);
    else if (baseSlash || uriSlash) uri = options.baseUrl + uri;
    else uri = options.baseUrl + '/' + uri;
  }
  if (uri === undefined || uri === null || uri === '') throw new Error('options.uri is a required argument');
  if (typeof uri !== 'string') throw new Error('options.uri must be a string');
  let url;
  try {
    url = new URL(uri);
  } catch (e) {
    throw new Error('Invalid URI "' + uri + '"');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('Invalid protocol: ' + url.protocol);

  const headers = {};
  const given = options.headers || {};
  Object.keys(given).forEach((name) => {
    if (given[name] !== undefined) headers[name] = given[name];
  });
  // Credentials in the URL are sent as basic authentication, unless a header says otherwise.
  if ((url.username !== '' || url.password !== '') && !hasHeader(headers, 'authorization')) {
    headers.authorization = basic(decode(url.username), decode(url.password));
  }
  url.username = '';
  url.password = '';
  let href = url.href;
  if (options.qs !== undefined && options.qs !== null) {
    href = withQuery(href, typeof options.qs === 'string' ? parseQuery(options.qs) : options.qs);
  }

  let body = options.body;
  if (options.form !== undefined && options.form !== null) {
    if (!/^application\/x-www-form-urlencoded\b/.test(headers[findHeader(headers, 'content-type')] || '')) {
      setHeader(headers, 'content-type', 'application/x-www-form-urlencoded');
    }
    body = typeof options.form === 'string' ? options.form : stringifyQuery(options.form);
  }
  const json = options.json !== undefined && options.json !== false;
  if (json) {
    if (options.json === true) {
      if (body !== undefined && !/^application\/x-www-form-urlencoded\b/.test(headers[findHeader(headers, 'content-type')] || '')) {
        body = JSON.stringify(body);
        if (!hasHeader(headers, 'content-type')) setHeader(headers, 'content-type', 'application/json');
      }
    } else {
      body = JSON.stringify(options.json);
      if (!hasHeader(headers, 'content-type')) setHeader(headers, 'content-type', 'application/json');
    }
    if (!hasHeader(headers, 'accept')) setHeader(headers, 'accept', 'application/json');
  }
  if (body !== undefined && body !== null && typeof body !== 'string' && !Buffer.isBuffer(body)) {
    if (ArrayBuffer.isView(body)) body = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    else throw new Error('Argument error, options.body.');
  }

  if (options.auth !== undefined && options.auth !== null) {
    const auth = options.auth;
    const user = auth.user !== undefined ? auth.user : auth.username;
    const pass = auth.pass !== undefined ? auth.pass : auth.password;
    const bearer = typeof auth.bearer === 'function' ? auth.bearer() : auth.bearer;
    if (bearer !== undefined && bearer !== null) {
      setHeader(headers, 'authorization', 'Bearer ' + bearer);
    } else if (user !== undefined || pass !== undefined) {
      if (typeof user !== 'string' || (pass !== undefined && typeof pass !== 'string')) {
        throw new Error('auth() received invalid user or password');
      }
      setHeader(headers, 'authorization', basic(user, pass === undefined ? '' : pass));
    } else {
      throw new Error('no auth mechanism defined');
    }
  }
  const method = String(options.method || 'GET').toUpperCase();
  return { href: href, method: method, headers: headers, body: body, json: json };
};

const parseQuery = (text) => {
  const out = {};
  text.replace(/^\?/, '').split('&').filter((pair) => pair !== '').forEach((pair) => {
    const eq = pair.indexOf('=');
    out[decode(eq < 0 ? pair : pair.slice(0, eq))] = decode(eq < 0 ? '' : pair.slice(eq + 1));
  });
  return out;
};

// The body as request hands it over: text (or a Buffer with `encoding: null`), parsed
// when `json` is set and it is JSON.
const bodyOf = (text, options, json) => {
  let body = options.encoding === null ? Buffer.from(text) : text;
  if (text === '') return json ? undefined : body;
  if (json) {
    try { body = JSON.parse(text); } catch (e) { /* not JSON: the text, as request gives it */ }
  }
  return body;
};

// What `request()` returns: enough of request's `Request` for the callbacks and events
// scripts use, and for `.form()` called before the request starts.
class Request {
  constructor(options, callback) {
    this._options = options;
    this._callback = callback;
    this._listeners = {};
    this._aborted = false;
    this.method = String(options.method || 'GET').toUpperCase();
    this.headers = Object.assign({}, options.headers);
    later(() => this._start());
  }

  on(event, listener) {
    (this._listeners[event] = this._listeners[event] || []).push(listener);
    return this;
  }

  once(event, listener) { return this.on(event, listener); }

  _emit(event, args) {
    (this._listeners[event] || []).forEach((listener) => listener.apply(this, args));
    return (this._listeners[event] || []).length > 0;
  }

  form(form) {
    this._options.form = form;
    return this;
  }

  abort() {
    this._aborted = true;
    this._emit('abort', []);
  }

  _start() {
    if (this._aborted) return;
    let prepared;
    try {
      if (typeof fetch !== 'function') {
        throw new Error('this sandbox allows no outgoing requests (the fetch allow-list is empty)');
      }
      prepared = prepare(this._options);
    } catch (e) {
      later(() => this._fail(e));
      return;
    }
    this.uri = parsedUri(new URL(prepared.href));
    this.href = prepared.href;
    this.method = prepared.method;
    this.headers = prepared.headers;
    const init = { method: prepared.method, headers: prepared.headers };
    if (prepared.body !== undefined && prepared.body !== null) init.body = prepared.body;
    fetch(prepared.href, init)
      .then((res) => res.text().then((text) => {
        const headers = {};
        res.headers.forEach((value, name) => { headers[name] = value; });
        const response = {
          statusCode: res.status,
          statusMessage: res.statusText,
          httpVersion: '1.1',
          headers: headers,
          body: bodyOf(text, this._options, prepared.json),
          request: this,
          toJSON() {
            return { statusCode: this.statusCode, body: this.body, headers: this.headers, request: { uri: this.request.uri, method: this.request.method, headers: this.request.headers } };
          },
        };
        later(() => this._finish(response));
      }), (e) => { later(() => this._fail(e)); });
  }

  _finish(response) {
    if (this._aborted) return;
    this.response = response;
    this._emit('response', [response]);
    this._emit('complete', [response, response.body]);
    if (this._callback) this._callback.call(this, null, response, response.body);
  }

  _fail(cause) {
    if (this._aborted) return;
    const error = cause instanceof Error ? cause : new Error(String(cause));
    if (/timed out/.test(error.message) && error.code === undefined) error.code = 'ETIMEDOUT';
    const heard = this._emit('error', [error]);
    if (this._callback) this._callback.call(this, error);
    // An 'error' nobody listens for is thrown, as an EventEmitter does.
    else if (!heard) throw error;
  }
}

// request's `initParams`: `(uri, options, callback)` in any of the shapes it accepts.
const initParams = (uri, options, callback) => {
  let done = callback;
  if (typeof options === 'function') done = options;
  const params = {};
  if (options !== null && typeof options === 'object') {
    Object.assign(params, options, { uri: uri });
  } else if (typeof uri === 'string') {
    params.uri = uri;
  } else {
    Object.assign(params, uri);
  }
  params.callback = done || params.callback;
  return params;
};

const VERBS = { get: 'GET', head: 'HEAD', options: 'OPTIONS', post: 'POST', put: 'PUT', patch: 'PATCH', del: 'DELETE', delete: 'DELETE' };

// A `request` function whose options start from `base` (request's `defaults`).
const make = (base) => {
  const merge = (params) => {
    const merged = Object.assign({}, base, params);
    if (base.headers || params.headers) merged.headers = Object.assign({}, base.headers, params.headers);
    return merged;
  };
  const request = function request(uri, options, callback) {
    if (typeof uri === 'undefined') throw new Error('undefined is not a valid uri or options object.');
    const params = merge(initParams(uri, options, callback));
    const done = params.callback;
    delete params.callback;
    return new Request(params, typeof done === 'function' ? done : undefined);
  };
  Object.keys(VERBS).forEach((verb) => {
    request[verb] = function (uri, options, callback) {
      const params = initParams(uri, options, callback);
      params.method = VERBS[verb];
      return request(params, params.callback);
    };
  });
  request.defaults = (options) => make(merge(options || {}));
  request.Request = Request;
  request.jar = () => ({ setCookie() {}, getCookieString: () => '', getCookies: () => [] });
  request.cookie = (text) => String(text);
  return request;
};

module.exports = make({});
