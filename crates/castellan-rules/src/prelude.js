// Installed in each fresh context before its log-in arrives (workers prepare the next
// context while idle). It gets two host functions (`record` for changes, `log` for
// console output) and returns the helpers the host uses: `configure` with the log-in's
// settings, `adopt` to copy what earlier log-ins kept on `global` into this context, then
// one call per script. Scripts cannot reach `record` or `log` directly, and what they
// change on the globals below stays inside this log-in's context.
(function (record, log, fetchHost, moduleName, loadModule, host) {
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
  // Set for each log-in by `configure`; here so that the name is one of the context's own.
  globalThis.configuration = freeze({});
  // Modules by name, each run at most once per log-in (a log-in has a fresh context), with
  // Node's handling of a cycle: a module required while it loads gives what it exported so
  // far.
  const loaded = new Map();
  const requireModule = function require(name) {
    const canonical = moduleName(String(name));
    if (canonical === null || canonical === undefined) {
      throw new Error("module '" + String(name) + "' is not available");
    }
    if (mapHas.call(loaded, canonical)) return mapGet.call(loaded, canonical).exports;
    const module = { exports: {}, id: canonical, loaded: false };
    mapSet.call(loaded, canonical, module);
    try {
      loadModule(canonical).call(module.exports, module.exports, module, requireModule, host);
    } catch (e) {
      mapDelete.call(loaded, canonical);
      throw e;
    }
    module.loaded = true;
    return module.exports;
  };
  globalThis.require = requireModule;

  // The Fetch API of Node 18: `Headers`, `Request` and `Response`, and `fetch` when the
  // server's allow-list names hosts. The server makes the request, follows redirects itself
  // (at most five, each to an allowed destination, whatever `redirect` asks) and hands the
  // answer back whole (at most 1 MiB, as UTF-8 text) before the promise resolves.
  const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
  const headerName = (name) => {
    const lower = String(name).toLowerCase();
    if (!TOKEN.test(lower)) throw new TypeError("'" + String(name) + "' is not a valid HTTP header name");
    return lower;
  };
  const headerValue = (value) => String(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
  class Headers {
    constructor(init) {
      // Lower-case name to the values appended under it, in order.
      defineProperty(this, '_values', { value: new Map() });
      if (init === undefined || init === null) return;
      if (typeof init !== 'object' && typeof init !== 'function') {
        throw new TypeError('Headers takes an object, a Headers or a list of pairs');
      }
      if (typeof init[Symbol.iterator] === 'function') {
        for (const pair of init) {
          const both = Array.from(pair);
          if (both.length !== 2) throw new TypeError('each header must be a [name, value] pair');
          this.append(both[0], both[1]);
        }
      } else {
        for (const name of keys(init)) this.append(name, init[name]);
      }
    }
    append(name, value) {
      const key = headerName(name);
      const list = this._values.get(key);
      if (list) list.push(headerValue(value));
      else this._values.set(key, [headerValue(value)]);
    }
    set(name, value) { this._values.set(headerName(name), [headerValue(value)]); }
    delete(name) { this._values.delete(headerName(name)); }
    has(name) { return this._values.has(headerName(name)); }
    get(name) {
      const list = this._values.get(headerName(name));
      return list === undefined ? null : list.join(', ');
    }
    // What node-fetch adds: every value of each name.
    raw() {
      const all = {};
      this._values.forEach((list, name) => { all[name] = list.slice(); });
      return all;
    }
    entries() {
      const names = Array.from(this._values.keys()).sort();
      return names.map((name) => [name, this.get(name)])[Symbol.iterator]();
    }
    keys() { return Array.from(this.entries(), (pair) => pair[0])[Symbol.iterator](); }
    values() { return Array.from(this.entries(), (pair) => pair[1])[Symbol.iterator](); }
    forEach(fn, self) {
      for (const pair of Array.from(this.entries())) fn.call(self, pair[1], pair[0], this);
    }
    [Symbol.iterator]() { return this.entries(); }
  }

  // A body as the text the server sends, with the content type a body of its kind implies
  // when none is set. Bytes are read as UTF-8: the server takes text.
  const bodyText = (body, headers) => {
    if (body === undefined || body === null) return null;
    const typed = (type) => { if (!headers.has('content-type')) headers.set('content-type', type); };
    const SearchParams = globalThis.URLSearchParams;
    if (typeof SearchParams === 'function' && body instanceof SearchParams) {
      typed('application/x-www-form-urlencoded;charset=UTF-8');
      return body.toString();
    }
    if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) {
      return new globalThis.TextDecoder().decode(body);
    }
    typed('text/plain;charset=UTF-8');
    return String(body);
  };
  const bytesOf = (text) => {
    const bytes = new globalThis.TextEncoder().encode(text);
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  };
  // `text()`, `json()` and `arrayBuffer()` of a request or response: its body, read once.
  class Body {
    _init(text) {
      defineProperty(this, '_text', { value: text, writable: true });
      defineProperty(this, '_used', { value: false, writable: true });
    }
    get bodyUsed() { return this._used; }
    _read() {
      if (this._used) return NativePromise.reject(new TypeError('body used already for: ' + this.url));
      this._used = true;
      return NativePromise.resolve(this._text === null ? '' : this._text);
    }
    text() { return this._read(); }
    json() { return this._read().then((text) => parse(text)); }
    arrayBuffer() { return this._read().then(bytesOf); }
  }

  const absolute = (input) => {
    let url;
    try {
      url = new globalThis.URL(String(input));
    } catch (e) {
      throw new TypeError('Failed to parse URL from ' + String(input));
    }
    if (url.username !== '' || url.password !== '') {
      throw new TypeError('Request cannot be constructed from a URL that includes credentials: ' + String(input));
    }
    return url.href;
  };
  class Request extends Body {
    constructor(input, init) {
      super();
      const options = init || {};
      const from = input instanceof Request ? input : null;
      this.url = from ? from.url : absolute(input);
      this.method = String(options.method || (from ? from.method : 'GET')).toUpperCase();
      this.headers = new Headers(options.headers !== undefined ? options.headers : from ? from.headers : undefined);
      this.redirect = String(options.redirect || (from ? from.redirect : 'follow'));
      const body = options.body !== undefined ? options.body : from ? from._text : null;
      if (body !== null && body !== undefined && (this.method === 'GET' || this.method === 'HEAD')) {
        throw new TypeError('Request with GET/HEAD method cannot have body');
      }
      this._init(bodyText(body, this.headers));
    }
    clone() {
      if (this._used) throw new TypeError('cannot clone a request whose body was read');
      return new Request(this);
    }
  }

  const NULL_BODY = [101, 204, 205, 304];
  class Response extends Body {
    constructor(body, init) {
      super();
      const options = init || {};
      const status = options.status === undefined ? 200 : Number(options.status);
      if (!(status >= 200 && status <= 599) || Math.floor(status) !== status) {
        throw new RangeError('status ' + String(options.status) + ' is not in the range 200 to 599');
      }
      this.status = status;
      this.statusText = options.statusText === undefined ? '' : String(options.statusText);
      this.ok = status >= 200 && status < 300;
      this.headers = new Headers(options.headers);
      this.url = '';
      this.redirected = false;
      this.type = 'default';
      this._init(bodyText(body, this.headers));
    }
    clone() {
      if (this._used) throw new TypeError('cannot clone a response whose body was read');
      const copy = new Response(null, this);
      copy.url = this.url;
      copy.redirected = this.redirected;
      copy.type = this.type;
      copy._text = this._text;
      return copy;
    }
    static json(data, init) {
      const response = new Response(stringify(data), init);
      response.headers.set('content-type', 'application/json');
      return response;
    }
    static error() {
      const response = new Response(null, { status: 200 });
      response.status = 0;
      response.ok = false;
      response.type = 'error';
      return response;
    }
    static redirect(url, status) {
      return new Response(null, { status: status || 302, headers: { location: absolute(url) } });
    }
  }
  globalThis.Headers = Headers;
  globalThis.Request = Request;
  globalThis.Response = Response;

  const answered = (answer, requested) => {
    const status = answer.status;
    const response = new Response(null, {
      status: status < 200 ? 200 : status,
      statusText: answer.statusText,
      headers: answer.headers,
    });
    response.status = status;
    response.ok = status >= 200 && status < 300;
    response.url = answer.url;
    response.redirected = answer.url !== requested;
    response.type = 'basic';
    response._text = NULL_BODY.includes(status) ? null : answer.body;
    return response;
  };
  if (typeof fetchHost === 'function') {
    globalThis.fetch = function fetch(resource, init) {
      let request;
      let answer;
      try {
        request = new Request(resource, init);
        const headers = {};
        request.headers.forEach((value, name) => { headers[name] = value; });
        const body = request._text === null ? undefined : request._text;
        answer = parse(fetchHost(request.url, request.method, stringify(headers), body));
      } catch (e) {
        return NativePromise.reject(e);
      }
      return NativePromise.resolve(answered(answer, request.url));
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
    baseUrl: '',
    users: {
      updateAppMetadata: metadataUpdate('app_metadata'),
      updateUserMetadata: metadataUpdate('user_metadata'),
    },
  };
  // `api.cache` lives as long as `global`: the worker hands back the map earlier log-ins
  // used, copied into this context. It is used through the Map methods taken here, before
  // any script could replace them.
  let cache = new Map();
  const mapHas = Map.prototype.has;
  const mapGet = Map.prototype.get;
  const mapSet = Map.prototype.set;
  const mapDelete = Map.prototype.delete;
  // The log-in's state where it may send the browser away (see `redirectApi`).
  let redirectState = null;
  const configure = (setup, keptCache) => {
    globalThis.auth0.domain = setup.domain;
    globalThis.auth0.baseUrl = setup.baseUrl;
    // Left out rather than empty when there is none, so `if (auth0.accessToken)` reads
    // as it would on Auth0 without one.
    if (typeof setup.accessToken === 'string') globalThis.auth0.accessToken = setup.accessToken;
    redirectState = typeof setup.redirectState === 'string' ? setup.redirectState : null;
    globalThis.configuration = freeze(setup.configuration);
    if (keptCache !== undefined) cache = keptCache;
    return cache;
  };

  // Functions go on as non-enumerable properties, so they never reach the JSON handed back.
  const hide = (target, name, value) =>
    defineProperty(target, name, { value: value, enumerable: false, configurable: true });

  // Requests the pipeline does not carry out (SAML settings) are recorded the moment a rule makes them: a recorded change ends the rule's
  // batch, so the host refuses the log-in naming that rule instead of going on without a
  // control the rule asked for. The host also checks the `context` it gets back, for a rule
  // that calls back with a new object.
  const WATCHED = Symbol('watched');
  // Pairs of (property, request), walked by index: a script may have changed the built-ins
  // an iteration would use.
  // `context.redirect` is watched the same way, so that the log names the rule that set it,
  // though the pipeline carries it out: it reads the URL from the `context` the last rule
  // hands back, as Auth0 redirects once all rules have run.
  const REQUESTS = [['redirect', 'redirect'], ['samlConfiguration', 'saml']];
  const unsupported = (request, byPreviousRule) => (request === 'redirect'
    ? emit('rule_redirect', null)
    : emit('unsupported', { request: request, by_previous_rule: byPreviousRule }));
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
      // (Not for a redirect, which is carried out: every later rule would see it there.)
      if (isAsked(property, value) && request !== 'redirect') unsupported(request, true);
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

  // `api.redirect`: `sendUserTo` is recorded for the pipeline, which sends the browser once
  // the action has finished; the tokens are HS256 JWTs made and checked by the host
  // (`host/redirect_token.rs`) against this log-in's state. The `/continue` request's
  // parameters are copied when the action starts, so what the action does to `event`
  // cannot change where `validateToken` reads its token.
  const encodeTokenHost = host.redirectEncodeToken;
  const validateTokenHost = host.redirectValidateToken;
  const redirectApi = (event) => {
    const request = event !== null && typeof event === 'object' && event.request !== null &&
      typeof event.request === 'object' ? event.request : {};
    const copy = (value) => (value !== null && typeof value === 'object' ? parse(stringify(value)) : {});
    const query = copy(request.query);
    const body = copy(request.body);
    const userId = event !== null && typeof event === 'object' && event.user !== null &&
      typeof event.user === 'object' ? String(event.user.user_id) : '';
    const options = (value) => (value !== null && typeof value === 'object' ? value : {});
    const secretOf = (o) => {
      if (typeof o.secret !== 'string' || o.secret === '') {
        throw new TypeError('a secret (a non-empty string) is required');
      }
      return o.secret;
    };
    const needsState = () => {
      if (redirectState === null) throw new Error('this log-in cannot be redirected');
      return redirectState;
    };
    return {
      sendUserTo: function (url, opts) {
        const o = options(opts);
        const q = o.query !== null && typeof o.query === 'object' ? o.query : {};
        const pairs = {};
        const names = keys(q);
        for (let i = 0; i < names.length; i++) {
          const value = q[names[i]];
          if (value !== undefined && value !== null) pairs[names[i]] = String(value);
        }
        emit('redirect', { url: String(url), query: pairs });
        return undefined;
      },
      encodeToken: function (opts) {
        const o = options(opts);
        const secret = secretOf(o);
        const lifetime = o.expiresInSeconds === undefined ? 900 : Number(o.expiresInSeconds);
        if (!(lifetime > 0)) throw new TypeError('expiresInSeconds must be a positive number');
        const payload = o.payload !== null && typeof o.payload === 'object' ? o.payload : {};
        return encodeTokenHost(secret, stringify(payload), stringify({
          iss: globalThis.auth0.domain, sub: userId, state: needsState(), lifetime: lifetime,
        }));
      },
      validateToken: function (opts) {
        const o = options(opts);
        const secret = secretOf(o);
        const name = typeof o.tokenParameterName === 'string' ? o.tokenParameterName : 'session_token';
        const token = body[name] !== undefined ? body[name] : query[name];
        if (typeof token !== 'string' || token === '') {
          throw new Error("no token in the '" + name + "' parameter of the /continue request");
        }
        return parse(validateTokenHost(secret, token, needsState()));
      },
    };
  };

  const actionApi = (trigger, event) => {
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
    // A second factor: the pipeline challenges (or enrols) the user once the actions are
    // done. Factors are named by their `type`, read by index (see REQUESTS).
    const factorTypes = (list) => {
      const types = [];
      if (list === null || typeof list !== 'object') return types;
      for (let i = 0; i < list.length; i++) {
        const factor = list[i];
        if (factor !== null && typeof factor === 'object' && factor.type !== undefined) {
          types[types.length] = String(factor.type);
        }
      }
      return types;
    };
    const secondFactor = (provider, remember, factors, enroll) => {
      emit('multifactor', {
        provider: provider, allow_remember_browser: remember, factors: factors, enroll: enroll,
      });
      return api;
    };
    const withAdditional = (enroll) => function (factor, options) {
      const extra = options !== null && typeof options === 'object' ? options.additionalFactors : undefined;
      const factors = factorTypes([factor]);
      const more = factorTypes(extra);
      for (let i = 0; i < more.length; i++) factors[factors.length] = more[i];
      return secondFactor('any', false, factors, enroll);
    };
    const anyOf = (enroll) => function (list) {
      return secondFactor('any', false, factorTypes(list), enroll);
    };
    api.multifactor = {
      enable: function (provider, options) {
        const remember = options !== null && typeof options === 'object' && options.allowRememberBrowser === true;
        return secondFactor(provider === undefined ? 'any' : String(provider), remember, [], false);
      },
    };
    api.authentication = {
      challengeWith: withAdditional(false),
      challengeWithAny: anyOf(false),
      enrollWith: withAdditional(true),
      enrollWithAny: anyOf(true),
    };
    api.redirect = redirectApi(event);
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

  // What `adopt` maps between contexts: the global object, the namespaces, and every
  // built-in constructor with its prototype, in the same order in every context (same
  // prelude, same engine), so that index i of an earlier context's list is index i here.
  const intrinsics = [globalThis, JSON, Math, Reflect, UnauthorizedError, UnauthorizedError.prototype];
  for (const name of ['Object', 'Function', 'Array', 'Number', 'Boolean', 'String', 'Symbol',
    'BigInt', 'Date', 'RegExp', 'Map', 'Set', 'WeakMap', 'WeakSet', 'WeakRef',
    'FinalizationRegistry', 'Promise', 'Proxy', 'Error', 'EvalError', 'RangeError',
    'ReferenceError', 'SyntaxError', 'TypeError', 'URIError', 'AggregateError', 'ArrayBuffer',
    'SharedArrayBuffer', 'DataView', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray',
    'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'Float16Array', 'Float32Array',
    'Float64Array', 'BigInt64Array', 'BigUint64Array', 'Iterator']) {
    const constructor = globalThis[name];
    intrinsics.push(constructor);
    intrinsics.push(typeof constructor === 'function' ? constructor.prototype : undefined);
  }
  // Objects copied as plain objects when one of these (or null) is their prototype.
  const plainPrototypes = new Set([Object.prototype, Error.prototype, EvalError.prototype,
    RangeError.prototype, ReferenceError.prototype, SyntaxError.prototype, TypeError.prototype,
    URIError.prototype, UnauthorizedError.prototype]);
  const apply = Reflect.apply;
  const ownKeys = Reflect.ownKeys;
  const getPrototypeOf = Object.getPrototypeOf;
  const setPrototypeOf = Object.setPrototypeOf;
  const create = Object.create;
  const describe = Object.getOwnPropertyDescriptor;
  const isExtensible = Object.isExtensible;
  const preventExtensions = Object.preventExtensions;
  const NativeDate = Date;
  const NativeRegExp = RegExp;
  const NativeMap = Map;
  const NativeSet = Set;
  const setHas = Set.prototype.has;
  const setAdd = Set.prototype.add;
  const dateTime = Date.prototype.getTime;
  const regExpSource = describe(RegExp.prototype, 'source').get;
  const regExpFlags = [['d', 'hasIndices'], ['g', 'global'], ['i', 'ignoreCase'],
    ['m', 'multiline'], ['s', 'dotAll'], ['u', 'unicode'], ['v', 'unicodeSets'], ['y', 'sticky']]
    .map(([letter, name]) => [letter, describe(RegExp.prototype, name)])
    .filter(([, property]) => property !== undefined && typeof property.get === 'function')
    .map(([letter, property]) => [letter, property.get]);
  const mapSize = describe(Map.prototype, 'size').get;
  const mapForEach = Map.prototype.forEach;
  const setSize = describe(Set.prototype, 'size').get;
  const setForEach = Set.prototype.forEach;
  const arrayPush = Array.prototype.push;
  const arrayPop = Array.prototype.pop;
  // Whether a built-in that checks what it is called on accepts `value` (such checks read
  // an object's internal slots, which another context's objects have too).
  const accepts = (builtIn, value) => {
    try {
      apply(builtIn, value, []);
      return true;
    } catch (e) {
      return false;
    }
  };

  // Copies values an earlier log-in's context made into this one: arrays, plain objects,
  // errors, Dates, RegExps, Maps and Sets become this context's own, with this context's
  // prototypes, shared references and cycles as they were, property attributes and
  // frozen or sealed states as they were. A function cannot be copied (it closes over the
  // log-in that made it), nor can an object of a class a script defined (a subclass of a
  // built-in included) or of another built-in kind (a Promise, a WeakMap, a typed array):
  // those are kept as they are. An earlier context's built-ins (`Object`, `JSON`,
  // `Array.prototype`, ...) become this context's. Getters are not called; they are copied
  // as they are.
  const adopt = (values, earlier) => {
    const earlierIndex = new NativeMap();
    for (let i = 0; i < earlier.length; i++) {
      if (earlier[i] !== null && (typeof earlier[i] === 'object' || typeof earlier[i] === 'function')) {
        apply(mapSet, earlierIndex, [earlier[i], i]);
      }
    }
    const here = (proto) => (apply(mapHas, earlierIndex, [proto]) ? intrinsics[apply(mapGet, earlierIndex, [proto])] : proto);
    const copies = new NativeMap();
    const pending = [];
    const copy = (value) => {
      if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return value;
      if (apply(mapHas, earlierIndex, [value])) return intrinsics[apply(mapGet, earlierIndex, [value])];
      if (typeof value === 'function') return value;
      if (apply(mapHas, copies, [value])) return apply(mapGet, copies, [value]);
      const proto = here(getPrototypeOf(value));
      // The kind goes by the prototype, checked against the internal slots (a check that
      // only throws for an object dressed up as another kind).
      let shell;
      let kind = 'object';
      if (isArray(value)) {
        shell = [];
        if (proto !== Array.prototype) setPrototypeOf(shell, proto);
      } else if (proto === Date.prototype && accepts(dateTime, value)) {
        shell = new NativeDate(apply(dateTime, value, []));
      } else if (proto === RegExp.prototype && accepts(regExpSource, value)) {
        let flags = '';
        for (let i = 0; i < regExpFlags.length; i++) {
          if (apply(regExpFlags[i][1], value, [])) flags += regExpFlags[i][0];
        }
        shell = new NativeRegExp(apply(regExpSource, value, []), flags);
      } else if (proto === Map.prototype && accepts(mapSize, value)) {
        shell = new NativeMap();
        kind = 'map';
      } else if (proto === Set.prototype && accepts(setSize, value)) {
        shell = new NativeSet();
        kind = 'set';
      } else if (proto === null || apply(setHas, plainPrototypes, [proto])) {
        shell = create(proto);
      } else {
        return value;
      }
      apply(mapSet, copies, [value, shell]);
      apply(arrayPush, pending, [[value, shell, kind]]);
      return shell;
    };
    const fill = (from, to, kind) => {
      const keys = ownKeys(from);
      for (let i = 0; i < keys.length; i++) {
        const property = describe(from, keys[i]);
        if (property === undefined) continue;
        if ('value' in property) property.value = copy(property.value);
        defineProperty(to, keys[i], property);
      }
      if (kind === 'map') {
        apply(mapForEach, from, [(v, k) => { apply(mapSet, to, [copy(k), copy(v)]); }]);
      } else if (kind === 'set') {
        apply(setForEach, from, [(v) => { apply(setAdd, to, [copy(v)]); }]);
      }
      if (!isExtensible(from)) preventExtensions(to);
    };
    const result = [];
    for (let i = 0; i < values.length; i++) apply(arrayPush, result, [copy(values[i])]);
    // Through a list of objects still to fill rather than by recursion, so that a deep
    // structure (a long linked list) does not exhaust the stack.
    while (pending.length > 0) {
      const next = apply(arrayPop, pending, []);
      fill(next[0], next[1], next[2]);
    }
    return result;
  };

  // The map behind `api.cache`, for the worker to keep, unless nothing was ever put in it.
  const cacheToKeep = () => (apply(mapSize, cache, []) > 0 ? cache : undefined);

  return {
    configure: configure,
    decorate: decorate,
    actionApi: actionApi,
    adopt: adopt,
    intrinsics: intrinsics,
    cacheToKeep: cacheToKeep,
    require: requireModule,
  };
})
