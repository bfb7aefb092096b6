// `request-promise` with the interface of its last version, 4.2.6, over this sandbox's
// `request`: the same options, and a promise of the body instead of a callback (of the
// whole response with `resolveWithFullResponse: true`). A status outside 2xx rejects with a
// `StatusCodeError` unless `simple: false`; a request that could not be made rejects with
// a `RequestError`. `transform(body, response, resolveWithFullResponse)` is applied before
// the promise resolves.
'use strict';

const request = require('request');

class StatusCodeError extends Error {
  constructor(statusCode, body, options, response) {
    super(statusCode + ' - ' + JSON.stringify(body));
    this.name = 'StatusCodeError';
    this.statusCode = statusCode;
    this.error = body;
    this.options = options;
    this.response = response;
  }
}

class RequestError extends Error {
  constructor(cause, options, response) {
    super(String(cause));
    this.name = 'RequestError';
    this.cause = cause;
    this.error = cause;
    this.options = options;
    this.response = response;
  }
}

class TransformError extends Error {
  constructor(cause, options, response) {
    super(String(cause));
    this.name = 'TransformError';
    this.cause = cause;
    this.error = cause;
    this.options = options;
    this.response = response;
  }
}

const VERBS = ['get', 'head', 'options', 'post', 'put', 'patch', 'del', 'delete'];

// A promise-returning front for `base` (request itself, or its `defaults`).
const make = (base) => {
  const run = (send, uri, options) => {
    const params = typeof options === 'object' && options !== null
      ? Object.assign({}, options, { uri: uri })
      : typeof uri === 'string' ? { uri: uri } : Object.assign({}, uri);
    const simple = params.simple !== false;
    const full = params.resolveWithFullResponse === true;
    const transform = typeof params.transform === 'function' ? params.transform : null;
    let req;
    const promise = new Promise((resolve, reject) => {
      req = send(params, (err, response, body) => {
        if (err) {
          reject(new RequestError(err, params, response));
          return;
        }
        const status = response.statusCode;
        if (simple && !(status >= 200 && status < 300)) {
          reject(new StatusCodeError(status, body, params, response));
          return;
        }
        if (transform !== null) {
          try {
            resolve(transform(body, response, full));
          } catch (e) {
            reject(new TransformError(e, params, response));
          }
          return;
        }
        resolve(full ? response : body);
      });
    });
    promise.promise = () => promise;
    promise.abort = () => req.abort();
    return promise;
  };
  const rp = function rp(uri, options) { return run(base, uri, options); };
  VERBS.forEach((verb) => {
    rp[verb] = (uri, options) => run(base[verb], uri, options);
  });
  rp.defaults = (options) => make(base.defaults(options));
  rp.errors = { StatusCodeError: StatusCodeError, RequestError: RequestError, TransformError: TransformError };
  rp.StatusCodeError = StatusCodeError;
  rp.RequestError = RequestError;
  return rp;
};

module.exports = make(request);
