// Installed in each fresh context before its log-in arrives (workers prepare the next
// context while idle). It gets two host functions (`record` for changes, `log` for
// console output) and returns the helpers the host uses: `configure` with the log-in's
// settings, then one call per script. Scripts cannot reach
// `record` or `log` directly, and what they change on the globals below stays inside
// this log-in's context.
(function (record, log, fetchHost) {
  'use strict';
  const stringify = JSON.stringify;
  const parse = JSON.parse;
  const isArray = Array.isArray;
  const freeze = Object.freeze;
  const defineProperty = Object.defineProperty;
  const keys = Object.keys;
  const NativeProxy = Proxy;
  const NativePromise = Promise;
  const resolved = () => NativePromise.resolve();
  const emit = (kind, payload) => record(kind, stringify(payload === undefined ? null : payload));

  class UnauthorizedError extends Error {
    constructor(message) {
      super(message);
      this.name = 'UnauthorizedError';
    }
  }
  globalThis.UnauthorizedError = UnauthorizedError;
  globalThis.global = globalThis;
  globalThis.require = function require(name) {
    throw new Error("module '" + String(name) + "' is not available");
  };

  // `fetch` exists only when the server's allow-list names hosts. The answer is read whole
  // (at most 1 MiB) before the promise resolves.
  if (typeof fetchHost === 'function') {
    globalThis.fetch = function fetch(resource, init) {
      const options = init || {};
      let answer;
      try {
        const body = options.body === undefined || options.body === null ? undefined : String(options.body);
        answer = parse(fetchHost(String(resource), String(options.method || 'GET'),
          stringify(options.headers || {}), body));
      } catch (e) {
        return NativePromise.reject(e);
      }
      const headers = answer.headers;
      return NativePromise.resolve({
        ok: answer.status >= 200 && answer.status < 300,
        status: answer.status,
        statusText: answer.statusText,
        url: answer.url,
        headers: {
          get: (name) => {
            const value = headers[String(name).toLowerCase()];
            return value === undefined ? null : value;
          },
        },
        text: () => NativePromise.resolve(answer.body),
        json: () => NativePromise.resolve().then(() => parse(answer.body)),
      });
    };
  }

  const show = (value) => {
    if (typeof value === 'string') return value;
    if (value instanceof Error) return String(value) + (value.stack ? '\n' + value.stack : '');
    try {
      const text = stringify(value);
      return text === undefined ? String(value) : text;
    } catch (e) {
      return String(value);
    }
  };
  const console = {};
  for (const level of ['log', 'info', 'warn', 'error', 'debug']) {
    console[level] = function (...args) { log(level, args.map(show).join(' ')); };
  }
  globalThis.console = console;

  const refs = (helper, list) => {
    const all = isArray(list) ? list : [list];
    for (const item of all) {
      if (typeof item !== 'string' || item === '') {
        throw new TypeError(helper + ' takes role or group names or ids (non-empty strings)');
      }
    }
    return all.slice();
  };
  const authorizationHelpers = () => {
    const helper = (name, kind) => function (list) {
      emit(kind, refs(name, list));
      return resolved();
    };
    return {
      assignRoles: helper('assignRoles', 'assign_roles'),
      removeRoles: helper('removeRoles', 'remove_roles'),
      addToGroups: helper('addToGroups', 'add_to_groups'),
      removeFromGroups: helper('removeFromGroups', 'remove_from_groups'),
    };
  };

  // auth0.users.updateAppMetadata / updateUserMetadata: promise or callback, as in Auth0.
  const metadataUpdate = (kind) => function (userId, value, callback) {
    let error = null;
    if (value === null || typeof value !== 'object' || isArray(value)) {
      error = new TypeError(kind + ' must be an object');
    } else {
      emit(kind, { user_id: String(userId), value: value });
    }
    if (typeof callback === 'function') {
      callback(error);
      return undefined;
    }
    return error ? NativePromise.reject(error) : resolved();
  };
  globalThis.auth0 = {
    domain: '',
    users: {
      updateAppMetadata: metadataUpdate('app_metadata'),
      updateUserMetadata: metadataUpdate('user_metadata'),
    },
  };
  // `api.cache` lives as long as `global`: the worker hands back the map an earlier log-in
  // used. That map comes from another context, so it is used through this context's own
  // Map methods, which an earlier log-in cannot have replaced.
  let cache = new Map();
  const mapHas = Map.prototype.has;
  const mapGet = Map.prototype.get;
  const mapSet = Map.prototype.set;
  const mapDelete = Map.prototype.delete;
  const configure = (setup, keptCache) => {
    globalThis.auth0.domain = setup.domain;
    globalThis.configuration = freeze(setup.configuration);
    if (keptCache !== undefined) cache = keptCache;
    return cache;
  };

  // Functions go on as non-enumerable properties, so they never reach the JSON handed back.
  const hide = (target, name, value) =>
    defineProperty(target, name, { value: value, enumerable: false, configurable: true });

  // Requests the pipeline does not carry out (multi-factor authentication, redirects, SAML
  // settings) are recorded the moment a rule makes them: a recorded change ends the rule's
  // batch, so the host refuses the log-in naming that rule instead of going on without a
  // control the rule asked for. The host also checks the `context` it gets back, for a rule
  // that calls back with a new object.
  const WATCHED = Symbol('watched');
  // Pairs of (property, request), walked by index: a script may have changed the built-ins
  // an iteration would use.
  const REQUESTS = [['multifactor', 'multifactor'], ['redirect', 'redirect'], ['samlConfiguration', 'saml']];
  const unsupported = (request, byPreviousRule) =>
    emit('unsupported', { request: request, by_previous_rule: byPreviousRule });
  const isAsked = (property, value) => {
    if (value === undefined || value === null) return false;
    // SAML settings are an object rules fill in: an empty one asks for nothing.
    return property !== 'samlConfiguration' || typeof value !== 'object' || keys(value).length > 0;
  };
  const watchSaml = (value) => {
    if (value === null || typeof value !== 'object') return value;
    return new NativeProxy(value, {
      set: (target, key, next) => {
        unsupported('saml', false);
        target[key] = next;
        return true;
      },
      defineProperty: (target, key, descriptor) => {
        unsupported('saml', false);
        defineProperty(target, key, descriptor);
        return true;
      },
    });
  };
  const watchRequests = (context) => {
    if (context[WATCHED] === true) return;
    for (let i = 0; i < REQUESTS.length; i++) {
      const property = REQUESTS[i][0];
      const request = REQUESTS[i][1];
      let value = context[property];
      // Already there on a context just handed over: the rule before put it on the new
      // object it called back with.
      if (isAsked(property, value)) unsupported(request, true);
      if (property === 'samlConfiguration') value = watchSaml(value === undefined ? {} : value);
      defineProperty(context, property, {
        get: () => value,
        set: (next) => {
          if (isAsked(property, next)) unsupported(request, false);
          value = property === 'samlConfiguration' ? watchSaml(next) : next;
        },
        // The empty SAML object a rule may fill in stays out of the `context` handed back,
        // which is Auth0's shape otherwise.
        enumerable: property !== 'samlConfiguration',
        configurable: false,
      });
    }
    defineProperty(context, WATCHED, { value: true });
  };

  const decorate = (context) => {
    if (context === null || typeof context !== 'object') return context;
    watchRequests(context);
    if (context.authorization === null || typeof context.authorization !== 'object') return context;
    const helpers = authorizationHelpers();
    for (const name in helpers) hide(context.authorization, name, helpers[name]);
    return context;
  };

  const actionApi = (trigger) => {
    const api = {};
    api.cache = {
      get: (key) => (mapHas.call(cache, String(key)) ? { value: mapGet.call(cache, String(key)) } : undefined),
      set: (key, value) => { mapSet.call(cache, String(key), value); return { type: 'success' }; },
      delete: (key) => { mapDelete.call(cache, String(key)); return { type: 'success' }; },
    };
    api.authorization = authorizationHelpers();
    if (trigger !== 'post-login') return api;
    const claim = (kind) => function (key, value) {
      emit(kind, { key: String(key), value: value === undefined ? null : value });
      return api;
    };
    const scope = (kind) => function (name) {
      emit(kind, String(name));
      return api;
    };
    api.access = {
      deny: function (reason) {
        emit('deny', reason === undefined ? '' : String(reason));
        return api;
      },
    };
    api.accessToken = {
      setCustomClaim: claim('access_token_claim'),
      addScope: scope('add_scope'),
      removeScope: scope('remove_scope'),
    };
    api.idToken = { setCustomClaim: claim('id_token_claim') };
    // Asking for what the pipeline does not carry out is recorded; the host refuses the
    // log-in.
    const ask = (request, answer) => function () {
      unsupported(request, false);
      return answer === undefined ? api : answer;
    };
    api.multifactor = { enable: ask('multifactor') };
    api.authentication = {
      challengeWith: ask('multifactor'),
      challengeWithAny: ask('multifactor'),
      enrollWith: ask('multifactor'),
      enrollWithAny: ask('multifactor'),
    };
    api.redirect = {
      sendUserTo: ask('redirect'),
      encodeToken: ask('redirect', ''),
      validateToken: ask('redirect', null),
    };
    // Every `api.samlResponse.set...` method, whatever its name.
    api.samlResponse = new NativeProxy({}, {
      get: (target, name) => (typeof name === 'string' && name !== 'then' ? ask('saml') : undefined),
    });
    api.user = {
      setAppMetadata: claim('set_app_metadata'),
      setUserMetadata: claim('set_user_metadata'),
    };
    return api;
  };

  return { configure: configure, decorate: decorate, actionApi: actionApi };
})
