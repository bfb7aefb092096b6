// `auth0`, the Node SDK, with the interface of 2.30.0 (the newest 2.x Auth0's rule
// templates pin; everything they call is in it): a `ManagementClient` over the Management
// API (`https://{domain}/api/v2`) and an `AuthenticationClient` for the token grants and
// the profile, both through the sandbox's `fetch`. Each method returns a promise, or takes
// a node-style callback as its last argument (and then returns nothing); the callback runs
// from a timer of its own, so an error it throws is uncaught (it fails the rule).
//
// When the client's domain is the tenant's (`auth0.domain`) and the server gave rules
// `auth0.baseUrl`, requests go there: that is where this server's Management API answers.
// A client with `clientId` and `clientSecret` and no `token` gets one by the client
// credentials grant first and keeps it until shortly before it expires. Errors are the
// SDK's: an `Error` whose `message` is the API's, with `statusCode`, `requestInfo` and the
// `originalError`.
'use strict';

const later = setImmediate;
const fetch = globalThis.fetch;
const tenant = globalThis.auth0;

const isObject = (value) => value !== null && typeof value === 'object';

class ArgumentError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ArgumentError';
  }
}

// Where a domain's APIs answer: the server's own address for the tenant's domain.
const origin = (domain) => {
  const given = isObject(tenant) ? tenant.baseUrl : undefined;
  if (typeof given === 'string' && given !== '' && tenant.domain === domain) {
    return given.replace(/\/+$/, '').replace(/\/api\/v2$/, '');
  }
  return 'https://' + domain;
};

const query = (params) => Object.keys(params)
  .filter((key) => params[key] !== undefined && params[key] !== null)
  .map((key) => encodeURIComponent(key) + '=' + encodeURIComponent(String(params[key])))
  .join('&');

// `/users/:id` with `{id}` from `params`; the other params go in the query string.
const route = (path, params) => {
  const rest = Object.assign({}, params);
  const filled = path.replace(/:([a-z_]+)/gi, (whole, name) => {
    const value = rest[name];
    delete rest[name];
    if (value === undefined || value === null) throw new ArgumentError('The ' + name + ' parameter is required');
    return encodeURIComponent(String(value));
  });
  const search = query(rest);
  return search === '' ? filled : filled + '?' + search;
};

const apiError = (status, statusText, body, method, url) => {
  const data = isObject(body) ? body : {};
  const text = typeof body === 'string' && body !== '' ? body : undefined;
  const original = new Error(statusText || 'status ' + status);
  original.status = status;
  original.response = { status: status, body: body };
  const error = new Error(data.message || data.error_description || text || statusText || 'status ' + status);
  error.name = typeof data.error === 'string' ? data.error : 'APIError';
  error.statusCode = status;
  if (data.errorCode !== undefined) error.errorCode = data.errorCode;
  error.requestInfo = { method: method, url: url };
  error.originalError = original;
  return error;
};

// One JSON request: the parsed answer, or the API's error.
const send = (method, url, token, body) => {
  if (typeof fetch !== 'function') {
    return Promise.reject(new Error('this sandbox allows no outgoing requests (the fetch allow-list is empty)'));
  }
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
  if (token) headers.Authorization = 'Bearer ' + token;
  const init = { method: method, headers: headers };
  if (body !== undefined) init.body = JSON.stringify(body);
  return fetch(url, init).then((res) => res.text().then((text) => {
    let data = text === '' ? undefined : text;
    try { data = text === '' ? undefined : JSON.parse(text); } catch (e) { /* not JSON: the text */ }
    if (!res.ok) throw apiError(res.status, res.statusText, data, method, url);
    return data;
  }));
};

// A promise, or, when the last argument is a function, that function called back later.
const settle = (promise, callback) => {
  if (typeof callback !== 'function') return promise;
  promise.then((value) => { later(() => callback(null, value)); },
    (error) => { later(() => callback(error)); });
  return undefined;
};

// Turns an operation into a method taking `(...args, callback?)`: arguments that are
// functions are callbacks, missing ones are empty.
const method = (arity, run) => function (...args) {
  const last = args.length > 0 && typeof args[args.length - 1] === 'function' ? args.pop() : undefined;
  while (args.length < arity) args.push(undefined);
  let promise;
  try {
    promise = run.apply(this, args);
  } catch (e) {
    promise = Promise.reject(e);
  }
  return settle(promise, last);
};

class AuthenticationClient {
  constructor(options) {
    if (!isObject(options)) throw new ArgumentError('Authentication Client SDK options must be an object');
    if (!options.domain || String(options.domain).length === 0) throw new ArgumentError('Must provide a domain');
    this.domain = String(options.domain);
    this.clientId = options.clientId;
    this.clientSecret = options.clientSecret;
    this.baseUrl = origin(this.domain);
  }

  _grant(body) {
    const data = Object.assign({ client_id: this.clientId }, body);
    if (this.clientSecret !== undefined && data.client_secret === undefined) data.client_secret = this.clientSecret;
    return send('POST', this.baseUrl + '/oauth/token', null, data);
  }
}
AuthenticationClient.prototype.clientCredentialsGrant = method(1, function (options) {
  const given = options || {};
  if (!this.clientId || !this.clientSecret) throw new ArgumentError('Missing client ID or client secret');
  const body = { grant_type: 'client_credentials', audience: given.audience };
  if (given.scope !== undefined) body.scope = given.scope;
  return this._grant(body);
});
AuthenticationClient.prototype.passwordGrant = method(1, function (options) {
  const given = options || {};
  if (typeof given.username !== 'string' || typeof given.password !== 'string') {
    throw new ArgumentError('username and password are required');
  }
  const body = Object.assign({}, given, {
    grant_type: given.realm ? 'http://auth0.com/oauth/grant-type/password-realm' : 'password',
  });
  return this._grant(body);
});
AuthenticationClient.prototype.refreshToken = method(1, function (options) {
  const given = options || {};
  if (typeof given.refresh_token !== 'string') throw new ArgumentError('refresh_token is required');
  return this._grant({ grant_type: 'refresh_token', refresh_token: given.refresh_token });
});
AuthenticationClient.prototype.getProfile = method(1, function (accessToken) {
  return send('GET', this.baseUrl + '/userinfo', String(accessToken));
});

// A token for the Management API: the one given, or one from the client credentials
// grant, renewed a minute before it expires.
class TokenSource {
  constructor(options, domain) {
    this.token = options.token;
    if (this.token !== undefined) return;
    this.authentication = new AuthenticationClient({
      domain: domain,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
    });
    this.audience = options.audience || 'https://' + domain + '/api/v2/';
    this.scope = options.scope;
    this.pending = null;
    this.expires = 0;
  }

  get() {
    if (this.token !== undefined) return Promise.resolve(this.token);
    if (this.pending !== null && Date.now() < this.expires) return this.pending;
    const asked = { audience: this.audience };
    if (this.scope !== undefined) asked.scope = this.scope;
    this.expires = Infinity;
    this.pending = this.authentication.clientCredentialsGrant(asked).then((answer) => {
      this.expires = Date.now() + (Number(answer.expires_in) || 0) * 1000 - 60000;
      return answer.access_token;
    }, (error) => {
      this.pending = null;
      throw error;
    });
    return this.pending;
  }
}

// Calls of the Management API: `(path, params, body)` to a promise of the answer.
const endpoint = (verb, path, shape) => {
  const arity = { params: 1, data: 1, paramsData: 2 }[shape];
  return method(arity, function (first, second) {
    const params = shape === 'data' ? {} : first || {};
    const body = shape === 'params' ? undefined : shape === 'data' ? first || {} : second || {};
    return this._client._request(verb, route(path, params), body);
  });
};

class Manager {
  constructor(client) { this._client = client; }
}

class UsersManager extends Manager {}
Object.assign(UsersManager.prototype, {
  getAll: endpoint('GET', '/users', 'params'),
  get: endpoint('GET', '/users/:id', 'params'),
  create: endpoint('POST', '/users', 'data'),
  update: endpoint('PATCH', '/users/:id', 'paramsData'),
  delete: endpoint('DELETE', '/users/:id', 'params'),
  getByEmail: method(2, function (email, options) {
    const params = Object.assign({}, options, { email: email });
    return this._client._request('GET', route('/users-by-email', params));
  }),
  updateUserMetadata: method(2, function (params, metadata) {
    return this._client._request('PATCH', route('/users/:id', params || {}), { user_metadata: metadata });
  }),
  updateAppMetadata: method(2, function (params, metadata) {
    return this._client._request('PATCH', route('/users/:id', params || {}), { app_metadata: metadata });
  }),
  link: method(2, function (userId, params) {
    return this._client._request('POST', route('/users/:id/identities', { id: userId }), params || {});
  }),
  unlink: endpoint('DELETE', '/users/:id/identities/:provider/:user_id', 'params'),
  getRoles: endpoint('GET', '/users/:id/roles', 'params'),
  assignRoles: endpoint('POST', '/users/:id/roles', 'paramsData'),
  removeRoles: endpoint('DELETE', '/users/:id/roles', 'paramsData'),
  getPermissions: endpoint('GET', '/users/:id/permissions', 'params'),
  assignPermissions: endpoint('POST', '/users/:id/permissions', 'paramsData'),
  removePermissions: endpoint('DELETE', '/users/:id/permissions', 'paramsData'),
  logs: endpoint('GET', '/users/:id/logs', 'params'),
  getGuardianEnrollments: endpoint('GET', '/users/:id/enrollments', 'params'),
  deleteMultifactorProvider: endpoint('DELETE', '/users/:id/multifactor/:provider', 'params'),
});

class RolesManager extends Manager {}
Object.assign(RolesManager.prototype, {
  getAll: endpoint('GET', '/roles', 'params'),
  get: endpoint('GET', '/roles/:id', 'params'),
  create: endpoint('POST', '/roles', 'data'),
  update: endpoint('PATCH', '/roles/:id', 'paramsData'),
  delete: endpoint('DELETE', '/roles/:id', 'params'),
  getPermissions: endpoint('GET', '/roles/:id/permissions', 'params'),
  addPermissions: endpoint('POST', '/roles/:id/permissions', 'paramsData'),
  removePermissions: endpoint('DELETE', '/roles/:id/permissions', 'paramsData'),
  getUsers: endpoint('GET', '/roles/:id/users', 'params'),
  assignUsers: endpoint('POST', '/roles/:id/users', 'paramsData'),
});

class ManagementClient {
  constructor(options) {
    if (!isObject(options)) throw new ArgumentError('Management API SDK options must be an object');
    if (!options.domain || String(options.domain).length === 0) throw new ArgumentError('Must provide a domain');
    if (options.token === undefined) {
      if (!options.clientId) throw new ArgumentError('Must provide a clientId');
      if (!options.clientSecret) throw new ArgumentError('Must provide a clientSecret');
    } else if (typeof options.token !== 'string' || options.token.length === 0) {
      throw new ArgumentError('Must provide a token');
    }
    const domain = String(options.domain);
    Object.defineProperty(this, '_base', { value: origin(domain) + '/api/v2' });
    Object.defineProperty(this, '_tokens', { value: new TokenSource(options, domain) });
    this.users = new UsersManager(this);
    this.roles = new RolesManager(this);
  }

  _request(verb, path, body) {
    return this._tokens.get().then((token) => send(verb, this._base + path, token, body));
  }

  getAccessToken() { return this._tokens.get(); }
}

// The client's own shortcuts, each the manager method it stands for.
const SHORTCUTS = {
  getUsers: ['users', 'getAll'],
  getUser: ['users', 'get'],
  getUsersByEmail: ['users', 'getByEmail'],
  createUser: ['users', 'create'],
  updateUser: ['users', 'update'],
  deleteUser: ['users', 'delete'],
  updateUserMetadata: ['users', 'updateUserMetadata'],
  updateAppMetadata: ['users', 'updateAppMetadata'],
  linkUsers: ['users', 'link'],
  unlinkUsers: ['users', 'unlink'],
  getUserRoles: ['users', 'getRoles'],
  assignRolestoUser: ['users', 'assignRoles'],
  removeRolesFromUser: ['users', 'removeRoles'],
  getUserPermissions: ['users', 'getPermissions'],
  assignPermissionsToUser: ['users', 'assignPermissions'],
  removePermissionsFromUser: ['users', 'removePermissions'],
  getUserLogs: ['users', 'logs'],
  getGuardianEnrollments: ['users', 'getGuardianEnrollments'],
  deleteUserMultifactor: ['users', 'deleteMultifactorProvider'],
  getRoles: ['roles', 'getAll'],
  getRole: ['roles', 'get'],
  createRole: ['roles', 'create'],
  updateRole: ['roles', 'update'],
  deleteRole: ['roles', 'delete'],
  getPermissionsInRole: ['roles', 'getPermissions'],
  addPermissionsInRole: ['roles', 'addPermissions'],
  removePermissionsFromRole: ['roles', 'removePermissions'],
  getUsersInRole: ['roles', 'getUsers'],
  assignUsersToRole: ['roles', 'assignUsers'],
};
Object.keys(SHORTCUTS).forEach((name) => {
  const manager = SHORTCUTS[name][0];
  const operation = SHORTCUTS[name][1];
  ManagementClient.prototype[name] = function (...args) {
    return this[manager][operation](...args);
  };
});

module.exports = {
  ManagementClient: ManagementClient,
  AuthenticationClient: AuthenticationClient,
  ArgumentError: ArgumentError,
};
