// `@auth0/rule-utilities`, which Auth0's rule runtime offered to rules but the npm registry
// does not publish, following the interface of its 0.2.0 (github.com/auth0/rule-utilities):
// `Auth0RedirectRuleUtilities` for redirect rules and `Auth0UserUpdateUtilities` for
// metadata. Its metadata updates go through the rule's own `auth0.users`, which Castellan
// records as effects, where Auth0's called the Management API. `jsonwebtoken` is required
// only by the methods that sign or verify a session token.
'use strict';

// A redirect needs a browser that is coming back: none on these protocols, or the rule runs
// on the way back from one.
const noRedirectProtocols = ['oauth2-resource-owner', 'oauth2-refresh-token', 'oauth2-password', 'redirect-callback'];

const issuerOf = (context) => 'https://' + (context.request || {}).hostname + '/';

class Auth0RedirectRuleUtilities {
  constructor(user, context, configuration) {
    const settings = configuration || {};
    this.user = user || {};
    this.context = context || {};
    this.noRedirectProtocols = noRedirectProtocols;
    this.tokenSecret = settings.SESSION_TOKEN_SECRET;
    this.tokenExpiresIn = settings.SESSION_TOKEN_EXPIRES_IN || '3d';
  }

  get redirectUrl() {
    return this.context.redirect ? this.context.redirect.url : undefined;
  }

  get queryParams() {
    return (this.context.request && this.context.request.query) || {};
  }

  get protocolCanRedirect() {
    return !this.noRedirectProtocols.includes(this.context.protocol);
  }

  get isRedirectCallback() {
    return this.context.protocol === 'redirect-callback';
  }

  // Not when another rule already redirects, multi-factor is asked for, or the application
  // asked for no interaction (`prompt=none`), which a redirect would turn into an error.
  get canRedirect() {
    if (this.redirectUrl || this.context.multifactor || this.queryParams.prompt === 'none') return false;
    return this.protocolCanRedirect;
  }

  sign(payload, secret, options) {
    return require('jsonwebtoken').sign(payload, secret, options);
  }

  verify(token, secret, options) {
    return require('jsonwebtoken').verify(token, secret, options);
  }

  // The claims must not be secret: the token travels in the redirect's URL.
  createSessionToken(claims) {
    const payload = Object.assign({
      ip: (this.context.request || {}).ip,
      iss: issuerOf(this.context),
      sub: this.user.user_id,
    }, claims || {});
    return this.sign(payload, this.tokenSecret, { expiresIn: this.tokenExpiresIn });
  }

  validateSessionToken(options) {
    const payload = this.verify(this.queryParams.session_token, this.tokenSecret, Object.assign({}, options, {
      subject: this.user.user_id,
      issuer: issuerOf(this.context),
    }));
    // A token without an expiry would be good forever.
    if (!payload.exp) throw new Error('Expired token');
    return payload;
  }

  doRedirect(url, options) {
    if (!url || !this.canRedirect) throw new Error('Cannot redirect');
    const settings = options || {};
    let token;
    if (typeof settings.sessionToken === 'string' && settings.sessionToken) {
      token = settings.sessionToken;
    } else if (settings.generateSessionToken === undefined || settings.generateSessionToken === true) {
      token = this.createSessionToken();
    }
    this.context.redirect = { url: token ? url + '?session_token=' + token : url };
  }
}

class Auth0UserUpdateUtilities {
  // `namespace` keeps the rule's keys under one key of each metadata object.
  constructor(user, auth0, namespace) {
    this.user = user;
    this.userId = user.user_id;
    this.auth0 = auth0;
    this.updatedUserData = {};
    user.user_metadata = user.user_metadata || {};
    user.app_metadata = user.app_metadata || {};
    this.isNamespaced = typeof namespace === 'string' && namespace !== '';
    if (this.isNamespaced) {
      this.namespace = namespace;
      user.user_metadata[namespace] = user.user_metadata[namespace] || {};
      user.app_metadata[namespace] = user.app_metadata[namespace] || {};
    }
  }

  scope(kind) {
    return this.isNamespaced ? this.user[kind][this.namespace] : this.user[kind];
  }

  getUserMeta(key) { return this.scope('user_metadata')[key]; }

  getAppMeta(key) { return this.scope('app_metadata')[key]; }

  setUserMeta(key, value) { this.scope('user_metadata')[key] = value; }

  setAppMeta(key, value) { this.scope('app_metadata')[key] = value; }

  setUser(key, value) {
    this.user[key] = value;
    this.updatedUserData[key] = value;
  }

  updateUserMeta() {
    return this.auth0.users.updateUserMetadata(this.userId, this.user.user_metadata);
  }

  updateAppMeta() {
    return this.auth0.users.updateAppMetadata(this.userId, this.user.app_metadata);
  }

  updateUserMetadata() { return this.updateUserMeta(); }

  updateAppMetadata() { return this.updateAppMeta(); }

  // Rules change other fields of a user through Actions or the Management API, neither of
  // which a rule has here.
  updateUser() {
    return Promise.reject(new Error('@auth0/rule-utilities: updateUser is not supported; only metadata can be updated'));
  }
}

module.exports = { Auth0RedirectRuleUtilities, Auth0UserUpdateUtilities, noRedirectProtocols };
