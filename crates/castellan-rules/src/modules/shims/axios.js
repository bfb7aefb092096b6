// `axios` with the interface of 0.21.1 (the version Auth0's rule templates pin), over the
// sandbox's `fetch`: `axios(config)`, the method shortcuts, `create`, `defaults`,
// interceptors, and the config and response shapes of that version. As 0.21.1 does, a
// string answer is parsed as JSON when it is JSON, whatever `responseType` says (except
// `arraybuffer`), and a status `validateStatus` refuses rejects with an error that carries
// the response. `timeout` is bounded by the rule's own deadline, which every request is.
'use strict';

const Buffer = require('buffer').Buffer;
const fetch = globalThis.fetch;

const isObject = (value) => value !== null && typeof value === 'object';
const isPlain = (value) => isObject(value) && Object.getPrototypeOf(value) === Object.prototype;
const isSearchParams = (value) => typeof URLSearchParams === 'function' && value instanceof URLSearchParams;

// Config merging as 0.21.1's `mergeConfig`: `url`, `method`, `data` come from the request
// only; headers, auth, proxy and params merge deeply; the rest is taken from the request
// when set, else from the defaults.
const deepMerge = (...sources) => {
  const out = {};
  sources.forEach((source) => {
    if (!isObject(source)) return;
    Object.keys(source).forEach((key) => {
      const value = source[key];
      if (isPlain(value) && isPlain(out[key])) out[key] = deepMerge(out[key], value);
      else if (isPlain(value)) out[key] = deepMerge(value);
      else if (Array.isArray(value)) out[key] = value.slice();
      else out[key] = value;
    });
  });
  return out;
};
const OWN = ['url', 'method', 'data'];
const DEEP = ['headers', 'auth', 'proxy', 'params'];
const mergeConfig = (defaults, config) => {
  const base = defaults || {};
  const next = config || {};
  const out = {};
  OWN.forEach((key) => { if (next[key] !== undefined) out[key] = next[key]; });
  DEEP.forEach((key) => {
    if (isObject(next[key])) out[key] = deepMerge(base[key], next[key]);
    else if (next[key] !== undefined) out[key] = next[key];
    else if (isObject(base[key])) out[key] = deepMerge(base[key]);
    else if (base[key] !== undefined) out[key] = base[key];
  });
  const rest = (keys) => keys.filter((key) => !OWN.includes(key) && !DEEP.includes(key));
  rest(Object.keys(base)).forEach((key) => { if (next[key] === undefined) out[key] = base[key]; });
  rest(Object.keys(next)).forEach((key) => { if (next[key] !== undefined) out[key] = next[key]; });
  return out;
};

// `buildURL` of 0.21.1: `encodeURIComponent`, then `:`, `$`, `,`, `[`, `]`, `@` back as
// they are and spaces as `+`; arrays as `key[]=`, dates in ISO form, objects as JSON.
const encode = (value) => encodeURIComponent(value)
  .replace(/%3A/gi, ':').replace(/%24/g, '$').replace(/%2C/gi, ',')
  .replace(/%20/g, '+').replace(/%5B/gi, '[').replace(/%5D/gi, ']').replace(/%40/gi, '@');
const buildURL = (url, params, serializer) => {
  if (!params) return url;
  let query;
  if (serializer) {
    query = serializer(params);
  } else if (isSearchParams(params)) {
    query = params.toString();
  } else {
    const parts = [];
    Object.keys(params).forEach((key) => {
      let value = params[key];
      if (value === null || value === undefined) return;
      let name = key;
      if (Array.isArray(value)) name = key + '[]';
      else value = [value];
      value.forEach((item) => {
        let text = item;
        if (item instanceof Date) text = item.toISOString();
        else if (isObject(item)) text = JSON.stringify(item);
        parts.push(encode(name) + '=' + encode(text));
      });
    });
    query = parts.join('&');
  }
  if (!query) return url;
  const hash = url.indexOf('#');
  const bare = hash < 0 ? url : url.slice(0, hash);
  return bare + (bare.indexOf('?') < 0 ? '?' : '&') + query;
};

const isAbsolute = (url) => /^([a-z][a-z\d+\-.]*:)?\/\//i.test(url);
const fullPath = (baseURL, url) => {
  if (baseURL && !isAbsolute(url)) {
    return url ? baseURL.replace(/\/+$/, '') + '/' + url.replace(/^\/+/, '') : baseURL;
  }
  return url;
};

const normalizeHeaderName = (headers, canonical) => {
  Object.keys(headers).forEach((name) => {
    if (name !== canonical && name.toUpperCase() === canonical.toUpperCase()) {
      headers[canonical] = headers[name];
      delete headers[name];
    }
  });
};

const transformRequest = (data, headers) => {
  normalizeHeaderName(headers, 'Accept');
  normalizeHeaderName(headers, 'Content-Type');
  const contentType = (type) => {
    if (headers['Content-Type'] === undefined) headers['Content-Type'] = type;
  };
  if (data === undefined || data === null || typeof data === 'string' || Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return data;
  if (ArrayBuffer.isView(data)) return data.buffer;
  if (isSearchParams(data)) {
    contentType('application/x-www-form-urlencoded;charset=utf-8');
    return data.toString();
  }
  if (isObject(data)) {
    contentType('application/json;charset=utf-8');
    return JSON.stringify(data);
  }
  return data;
};

const transformResponse = (data) => {
  if (typeof data === 'string') {
    try { return JSON.parse(data); } catch (e) { /* not JSON: the text */ }
  }
  return data;
};

const applyTransforms = (data, headers, transforms) => {
  const list = Array.isArray(transforms) ? transforms : transforms ? [transforms] : [];
  return list.reduce((value, fn) => fn(value, headers), data);
};

// An error as 0.21.1's `createError`: the config, code, request and response on it, and
// `isAxiosError`.
const createError = (message, config, code, request, response) => {
  const error = new Error(message);
  return enhanceError(error, config, code, request, response);
};
const enhanceError = (error, config, code, request, response) => {
  error.config = config;
  if (code) error.code = code;
  error.request = request;
  error.response = response;
  error.isAxiosError = true;
  error.toJSON = function toJSON() {
    return { message: this.message, name: this.name, stack: this.stack, config: this.config, code: this.code };
  };
  return error;
};

const adapter = (config) => {
  const method = config.method.toUpperCase();
  const url = buildURL(fullPath(config.baseURL, config.url), config.params, config.paramsSerializer);
  const request = { method: method, path: url, url: url, headers: {} };
  if (typeof fetch !== 'function') {
    return Promise.reject(createError('this sandbox allows no outgoing requests (the fetch allow-list is empty)', config, null, request));
  }
  const headers = {};
  Object.keys(config.headers).forEach((name) => {
    const value = config.headers[name];
    if (value !== undefined && value !== null) headers[name] = String(value);
  });
  if (!Object.keys(headers).some((name) => name.toLowerCase() === 'user-agent')) {
    headers['User-Agent'] = 'axios/0.21.1';
  }
  let target = url;
  try {
    const parsed = new URL(url);
    let auth = null;
    if (config.auth) {
      auth = (config.auth.username || '') + ':' + (config.auth.password || '');
    } else if (parsed.username !== '' || parsed.password !== '') {
      auth = decodeURIComponent(parsed.username) + ':' + decodeURIComponent(parsed.password);
    }
    if (auth !== null) {
      Object.keys(headers).forEach((name) => { if (name.toLowerCase() === 'authorization') delete headers[name]; });
      headers.Authorization = 'Basic ' + Buffer.from(auth).toString('base64');
    }
    parsed.username = '';
    parsed.password = '';
    target = parsed.href;
  } catch (e) {
    return Promise.reject(createError(e.message, config, null, request));
  }
  request.headers = headers;
  const init = { method: method, headers: headers };
  if (config.data !== undefined && config.data !== null) init.body = config.data;
  return fetch(target, init).then((res) => res.text().then((text) => {
    const responseHeaders = {};
    res.headers.forEach((value, name) => { responseHeaders[name] = value; });
    const response = {
      status: res.status,
      statusText: res.statusText,
      headers: responseHeaders,
      config: config,
      request: request,
      data: config.responseType === 'arraybuffer' ? Buffer.from(text) : text,
    };
    const valid = config.validateStatus;
    if (!response.status || !valid || valid(response.status)) return response;
    throw createError('Request failed with status code ' + response.status, config, null, request, response);
  }), (e) => {
    if (/timed out/.test(String(e && e.message))) {
      throw createError('timeout of ' + (config.timeout || 0) + 'ms exceeded', config, 'ECONNABORTED', request);
    }
    throw enhanceError(e instanceof Error ? e : new Error(String(e)), config, null, request);
  });
};

const dispatchRequest = (config) => {
  config.headers = config.headers || {};
  config.data = applyTransforms(config.data, config.headers, config.transformRequest);
  config.headers = Object.assign({}, config.headers.common, config.headers[config.method], config.headers);
  ['delete', 'get', 'head', 'post', 'put', 'patch', 'common'].forEach((method) => { delete config.headers[method]; });
  return adapter(config).then((response) => {
    response.data = applyTransforms(response.data, response.headers, config.transformResponse);
    return response;
  }, (error) => {
    if (error && error.response) {
      error.response.data = applyTransforms(error.response.data, error.response.headers, config.transformResponse);
    }
    throw error;
  });
};

class InterceptorManager {
  constructor() { this.handlers = []; }
  use(fulfilled, rejected) {
    this.handlers.push({ fulfilled: fulfilled, rejected: rejected });
    return this.handlers.length - 1;
  }
  eject(id) { if (this.handlers[id]) this.handlers[id] = null; }
  forEach(fn) { this.handlers.forEach((handler) => { if (handler !== null) fn(handler); }); }
}

class Axios {
  constructor(defaults) {
    this.defaults = defaults;
    this.interceptors = { request: new InterceptorManager(), response: new InterceptorManager() };
  }
  request(configOrUrl, more) {
    let config = configOrUrl;
    if (typeof configOrUrl === 'string') {
      config = Object.assign({}, more, { url: configOrUrl });
    }
    config = mergeConfig(this.defaults, config || {});
    config.method = config.method ? String(config.method).toLowerCase() : 'get';
    // Request interceptors run last-added first, response ones in the order added.
    const chain = [dispatchRequest, undefined];
    this.interceptors.request.forEach((h) => { chain.unshift(h.fulfilled, h.rejected); });
    this.interceptors.response.forEach((h) => { chain.push(h.fulfilled, h.rejected); });
    let promise = Promise.resolve(config);
    while (chain.length > 0) promise = promise.then(chain.shift(), chain.shift());
    return promise;
  }
  getUri(config) {
    const merged = mergeConfig(this.defaults, config);
    return buildURL(merged.url, merged.params, merged.paramsSerializer).replace(/^\?/, '');
  }
}
['delete', 'get', 'head', 'options'].forEach((method) => {
  Axios.prototype[method] = function (url, config) {
    return this.request(mergeConfig(config || {}, { method: method, url: url, data: (config || {}).data }));
  };
});
['post', 'put', 'patch'].forEach((method) => {
  Axios.prototype[method] = function (url, data, config) {
    return this.request(mergeConfig(config || {}, { method: method, url: url, data: data }));
  };
});

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const defaults = {
  transformRequest: [transformRequest],
  transformResponse: [transformResponse],
  timeout: 0,
  xsrfCookieName: 'XSRF-TOKEN',
  xsrfHeaderName: 'X-XSRF-TOKEN',
  maxContentLength: -1,
  maxBodyLength: -1,
  validateStatus: (status) => status >= 200 && status < 300,
  headers: {
    common: { Accept: 'application/json, text/plain, */*' },
    delete: {}, get: {}, head: {},
    post: Object.assign({}, FORM), put: Object.assign({}, FORM), patch: Object.assign({}, FORM),
  },
};

// A callable instance: `axios(config)` is `instance.request(config)`, with the methods of
// `Axios` and its `defaults` and `interceptors` on the function.
const createInstance = (instanceDefaults) => {
  const context = new Axios(instanceDefaults);
  const instance = function axios(configOrUrl, config) { return context.request(configOrUrl, config); };
  ['request', 'getUri', 'delete', 'get', 'head', 'options', 'post', 'put', 'patch'].forEach((name) => {
    instance[name] = Axios.prototype[name].bind(context);
  });
  instance.defaults = context.defaults;
  instance.interceptors = context.interceptors;
  return instance;
};

class Cancel {
  constructor(message) { this.message = message; }
  toString() { return 'Cancel' + (this.message ? ': ' + this.message : ''); }
}
Cancel.prototype.__CANCEL__ = true;

const axios = createInstance(defaults);
axios.Axios = Axios;
axios.create = (config) => createInstance(mergeConfig(axios.defaults, config));
axios.Cancel = Cancel;
axios.isCancel = (value) => !!(value && value.__CANCEL__);
axios.all = (promises) => Promise.all(promises);
axios.spread = (callback) => (array) => callback.apply(null, array);
axios.isAxiosError = (payload) => isObject(payload) && payload.isAxiosError === true;

module.exports = axios;
module.exports.default = axios;
