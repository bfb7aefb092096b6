'use strict';
// The `jsonwebtoken` package's interface as in its version 8.5.1, the one Auth0's rule
// runtime gave (https://github.com/auth0/node-jsonwebtoken/tree/v8.5.1, README): `sign`,
// `verify`, `decode` and its three error types, with its option checks and messages. The
// signature is the host's (the `jsonwebtoken` crate over aws-lc-rs): HS256/384/512,
// RS256/384/512, PS256/384/512 and ES256/384, keys as PEM strings or Buffers.
//
// One deliberate difference: `verify` refuses every unsigned token (`alg: none` or an
// empty signature) with 'jwt signature is required', even when no key is given, where
// version 8 accepted such a token when called without a key.

const Buffer = require('buffer').Buffer;

class JsonWebTokenError extends Error {
  constructor(message, error) {
    super(message);
    this.name = 'JsonWebTokenError';
    if (error) this.inner = error;
  }
}

class NotBeforeError extends JsonWebTokenError {
  constructor(message, date) {
    super(message);
    this.name = 'NotBeforeError';
    this.date = date;
  }
}

class TokenExpiredError extends JsonWebTokenError {
  constructor(message, expiredAt) {
    super(message);
    this.name = 'TokenExpiredError';
    this.expiredAt = expiredAt;
  }
}

const HS = ['HS256', 'HS384', 'HS512'];
const RSA = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const PUBLIC_KEY = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];
const SIGNING = PUBLIC_KEY.concat(HS, ['none']);

// What the `ms` package (which version 8 uses for "2h", "7d") reads: a number, optional
// spaces, then a unit; milliseconds when none is named.
const UNIT_MS = {};
function units(names, ms) {
  names.forEach((name) => { UNIT_MS[name] = ms; });
}
units(['years', 'year', 'yrs', 'yr', 'y'], 365.25 * 86400000);
units(['weeks', 'week', 'w'], 7 * 86400000);
units(['days', 'day', 'd'], 86400000);
units(['hours', 'hour', 'hrs', 'hr', 'h'], 3600000);
units(['minutes', 'minute', 'mins', 'min', 'm'], 60000);
units(['seconds', 'second', 'secs', 'sec', 's'], 1000);
units(['milliseconds', 'millisecond', 'msecs', 'msec', 'ms'], 1);

function milliseconds(text) {
  if (text.length > 100) return undefined;
  const match = /^(-?\d*\.?\d+) *([a-z]+)?$/i.exec(text);
  if (!match) return undefined;
  const factor = UNIT_MS[(match[2] || 'ms').toLowerCase()];
  return factor === undefined ? undefined : parseFloat(match[1]) * factor;
}

// Seconds since the epoch `time` after `iat`, or undefined when `time` is neither.
function timespan(time, iat) {
  const timestamp = iat || Math.floor(Date.now() / 1000);
  if (typeof time === 'string') {
    const ms = milliseconds(time);
    return ms === undefined ? undefined : Math.floor(timestamp + ms / 1000);
  }
  if (typeof time === 'number') return timestamp + time;
  return undefined;
}

function isPlainObject(value) {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === null || proto === Object.prototype;
}

const isString = (v) => typeof v === 'string';
const isTimespan = (v) => Number.isInteger(v) || (isString(v) && v !== '');

// jsonwebtoken before 5.0 took the lifetime as `expiresInMinutes` or `expiresInSeconds`,
// and Auth0's own templates (`eva-voice-biometric`, the SMS redirect rule) still pass
// `expiresInMinutes`: both are read as `expiresIn` when that is not given, instead of being
// refused as 8.5.1 refuses them.
function legacyExpiry(options) {
  const minutes = options.expiresInMinutes;
  const seconds = options.expiresInSeconds;
  if (minutes === undefined && seconds === undefined) return options;
  const rest = Object.assign({}, options);
  delete rest.expiresInMinutes;
  delete rest.expiresInSeconds;
  if (rest.expiresIn === undefined) rest.expiresIn = seconds !== undefined ? seconds : minutes * 60;
  return rest;
}

const SIGN_OPTIONS = {
  expiresIn: [isTimespan, '"expiresIn" should be a number of seconds or string representing a timespan'],
  notBefore: [isTimespan, '"notBefore" should be a number of seconds or string representing a timespan'],
  audience: [(v) => isString(v) || Array.isArray(v), '"audience" must be a string or array'],
  algorithm: [(v) => SIGNING.indexOf(v) !== -1, '"algorithm" must be a valid string enum value'],
  header: [isPlainObject, '"header" must be an object'],
  encoding: [isString, '"encoding" must be a string'],
  issuer: [isString, '"issuer" must be a string'],
  subject: [isString, '"subject" must be a string'],
  jwtid: [isString, '"jwtid" must be a string'],
  noTimestamp: [(v) => typeof v === 'boolean', '"noTimestamp" must be a boolean'],
  keyid: [isString, '"keyid" must be a string'],
  mutatePayload: [(v) => typeof v === 'boolean', '"mutatePayload" must be a boolean'],
};
const isNumber = (v) => typeof v === 'number';
const REGISTERED_CLAIMS = {
  iat: [isNumber, '"iat" should be a number of seconds'],
  exp: [isNumber, '"exp" should be a number of seconds'],
  nbf: [isNumber, '"nbf" should be a number of seconds'],
};
const OPTION_CLAIMS = { audience: 'aud', issuer: 'iss', subject: 'sub', jwtid: 'jti' };
const OBJECT_ONLY_OPTIONS = ['expiresIn', 'notBefore', 'noTimestamp', 'audience', 'issuer', 'subject', 'jwtid'];

function validate(schema, allowUnknown, object, what) {
  if (!isPlainObject(object)) throw new Error('Expected "' + what + '" to be a plain object.');
  Object.keys(object).forEach((key) => {
    const rule = schema[key];
    if (!rule) {
      if (!allowUnknown) throw new Error('"' + key + '" is not allowed in "' + what + '"');
      return;
    }
    if (!rule[0](object[key])) throw new Error(rule[1]);
  });
}

function base64url(buffer) {
  return buffer.toString('base64').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}

// The key's bytes, as latin1 for the host: a string is UTF-8, as Node's crypto reads it;
// `{ key }` is how Node's crypto also takes a key.
function keyBytes(key) {
  if (key && typeof key === 'object' && !Buffer.isBuffer(key) && !ArrayBuffer.isView(key) && key.key !== undefined) {
    if (key.passphrase !== undefined) throw new Error('encrypted private keys are not supported');
    key = key.key;
  }
  if (typeof key === 'string') return Buffer.from(key, 'utf8').toString('latin1');
  if (Buffer.isBuffer(key)) return key.toString('latin1');
  if (ArrayBuffer.isView(key)) return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
  throw new TypeError('key must be a string or a buffer');
}

function signToken(header, payload, key, encoding) {
  let body;
  if (Buffer.isBuffer(payload)) body = payload;
  else if (typeof payload === 'string') body = Buffer.from(payload, encoding);
  else body = Buffer.from(JSON.stringify(payload), encoding);
  const input = base64url(Buffer.from(JSON.stringify(header), 'utf8')) + '.' + base64url(body);
  if (header.alg === 'none') return input + '.';
  if (typeof header.alg !== 'string' || SIGNING.indexOf(header.alg) === -1) {
    throw new Error('"' + header.alg + '" is not a valid algorithm.');
  }
  return input + '.' + host.jwtSign(header.alg, keyBytes(key), input);
}

function once(callback) {
  let called = false;
  return function () {
    if (called) return;
    called = true;
    return callback.apply(this, arguments);
  };
}

function sign(payload, secretOrPrivateKey, options, callback) {
  if (typeof options === 'function') {
    callback = options;
    options = {};
  } else {
    options = legacyExpiry(options || {});
  }
  const isObjectPayload = typeof payload === 'object' && !Buffer.isBuffer(payload);
  const header = Object.assign({
    alg: options.algorithm || 'HS256',
    typ: isObjectPayload ? 'JWT' : undefined,
    kid: options.keyid,
  }, options.header);

  function failure(error) {
    if (callback) return callback(error);
    throw error;
  }

  if (!secretOrPrivateKey && options.algorithm !== 'none') {
    return failure(new Error('secretOrPrivateKey must have a value'));
  }
  if (typeof payload === 'undefined') return failure(new Error('payload is required'));
  if (isObjectPayload) {
    try {
      validate(REGISTERED_CLAIMS, true, payload, 'payload');
    } catch (error) {
      return failure(error);
    }
    if (!options.mutatePayload) payload = Object.assign({}, payload);
  } else {
    const misplaced = OBJECT_ONLY_OPTIONS.filter((name) => typeof options[name] !== 'undefined');
    if (misplaced.length > 0) {
      return failure(new Error('invalid ' + misplaced.join(',') + ' option for ' + (typeof payload) + ' payload'));
    }
  }
  if (typeof payload.exp !== 'undefined' && typeof options.expiresIn !== 'undefined') {
    return failure(new Error('Bad "options.expiresIn" option the payload already has an "exp" property.'));
  }
  if (typeof payload.nbf !== 'undefined' && typeof options.notBefore !== 'undefined') {
    return failure(new Error('Bad "options.notBefore" option the payload already has an "nbf" property.'));
  }
  try {
    validate(SIGN_OPTIONS, false, options, 'options');
  } catch (error) {
    return failure(error);
  }

  const timestamp = payload.iat || Math.floor(Date.now() / 1000);
  if (options.noTimestamp) delete payload.iat;
  else if (isObjectPayload) payload.iat = timestamp;

  if (typeof options.notBefore !== 'undefined') {
    payload.nbf = timespan(options.notBefore, timestamp);
    if (typeof payload.nbf === 'undefined') {
      return failure(new Error('"notBefore" should be a number of seconds or string representing a timespan eg: "1d", "20h", 60'));
    }
  }
  if (typeof options.expiresIn !== 'undefined' && typeof payload === 'object') {
    payload.exp = timespan(options.expiresIn, timestamp);
    if (typeof payload.exp === 'undefined') {
      return failure(new Error('"expiresIn" should be a number of seconds or string representing a timespan eg: "1d", "20h", 60'));
    }
  }
  const names = Object.keys(OPTION_CLAIMS);
  for (let i = 0; i < names.length; i++) {
    const claim = OPTION_CLAIMS[names[i]];
    if (typeof options[names[i]] === 'undefined') continue;
    if (typeof payload[claim] !== 'undefined') {
      return failure(new Error('Bad "options.' + names[i] + '" option. The payload already has an "' + claim + '" property.'));
    }
    payload[claim] = options[names[i]];
  }

  const encoding = options.encoding || 'utf8';
  if (typeof callback === 'function') {
    const done = once(callback);
    let token;
    try {
      token = signToken(header, payload, secretOrPrivateKey, encoding);
    } catch (error) {
      setImmediate(() => done(error));
      return;
    }
    setImmediate(() => done(null, token));
    return;
  }
  return signToken(header, payload, secretOrPrivateKey, encoding);
}

const FORMAT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

function fromBase64url(part) {
  return Buffer.from(part, 'base64');
}

// The parts of a compact JWS, or null when it is not one (as the `jws` package decides);
// the payload is parsed as JSON when the header says JWT or `json` asks for it.
function decodeParts(token, json) {
  if (Buffer.isBuffer(token)) token = token.toString();
  if (typeof token !== 'string' || !FORMAT.test(token)) return null;
  const parts = token.split('.');
  let header;
  try {
    header = JSON.parse(fromBase64url(parts[0]).toString('utf8'));
  } catch (error) {
    return null;
  }
  if (!header || typeof header !== 'object') return null;
  let payload = fromBase64url(parts[1]).toString('utf8');
  if (header.typ === 'JWT' || json) payload = JSON.parse(payload);
  return { header: header, payload: payload, signature: parts[2] };
}

function decode(token, options) {
  options = options || {};
  const decoded = decodeParts(token, options.json);
  if (!decoded) return null;
  let payload = decoded.payload;
  if (typeof payload === 'string') {
    try {
      const parsed = JSON.parse(payload);
      if (parsed !== null && typeof parsed === 'object') payload = parsed;
    } catch (error) {
      // Not JSON: the payload stays a string.
    }
  }
  if (options.complete === true) {
    return { header: decoded.header, payload: payload, signature: decoded.signature };
  }
  return payload;
}

function verify(token, secretOrPublicKey, options, callback) {
  if (typeof options === 'function' && !callback) {
    callback = options;
    options = {};
  }
  options = Object.assign({}, options || {});
  const done = callback || function (error, data) {
    if (error) throw error;
    return data;
  };

  if (options.clockTimestamp && typeof options.clockTimestamp !== 'number') {
    return done(new JsonWebTokenError('clockTimestamp must be a number'));
  }
  if (options.nonce !== undefined && (typeof options.nonce !== 'string' || options.nonce.trim() === '')) {
    return done(new JsonWebTokenError('nonce must be a non-empty string'));
  }
  const clockTimestamp = options.clockTimestamp || Math.floor(Date.now() / 1000);
  if (!token) return done(new JsonWebTokenError('jwt must be provided'));
  if (typeof token !== 'string') return done(new JsonWebTokenError('jwt must be a string'));
  const parts = token.split('.');
  if (parts.length !== 3) return done(new JsonWebTokenError('jwt malformed'));

  let decoded;
  try {
    decoded = decodeParts(token, false);
  } catch (error) {
    return done(error);
  }
  if (!decoded) return done(new JsonWebTokenError('invalid token'));
  const header = decoded.header;

  let getSecret;
  if (typeof secretOrPublicKey === 'function') {
    if (!callback) {
      return done(new JsonWebTokenError('verify must be called asynchronous if secret or public key is provided as a callback'));
    }
    getSecret = secretOrPublicKey;
  } else {
    getSecret = (h, next) => next(null, secretOrPublicKey);
  }

  return getSecret(header, (error, key) => {
    if (error) return done(new JsonWebTokenError('error in secret or public key callback: ' + error.message));
    const hasSignature = parts[2].trim() !== '';
    // Unsigned tokens are refused whatever the caller passed (see the top of this file).
    if (!hasSignature || header.alg === 'none') return done(new JsonWebTokenError('jwt signature is required'));
    if (!key) return done(new JsonWebTokenError('secret or public key must be provided'));

    let algorithms = options.algorithms;
    if (!algorithms) {
      const text = key.toString();
      if (text.indexOf('BEGIN CERTIFICATE') !== -1 || text.indexOf('BEGIN PUBLIC KEY') !== -1) algorithms = PUBLIC_KEY;
      else if (text.indexOf('BEGIN RSA PUBLIC KEY') !== -1) algorithms = RSA;
      else algorithms = HS;
    }
    if (algorithms.indexOf(header.alg) === -1) return done(new JsonWebTokenError('invalid algorithm'));

    let valid;
    try {
      valid = host.jwtVerify(header.alg, keyBytes(key), parts[0] + '.' + parts[1], parts[2]);
    } catch (e) {
      return done(e);
    }
    if (!valid) return done(new JsonWebTokenError('invalid signature'));

    const payload = decoded.payload;
    const tolerance = options.clockTolerance || 0;
    if (typeof payload.nbf !== 'undefined' && !options.ignoreNotBefore) {
      if (typeof payload.nbf !== 'number') return done(new JsonWebTokenError('invalid nbf value'));
      if (payload.nbf > clockTimestamp + tolerance) {
        return done(new NotBeforeError('jwt not active', new Date(payload.nbf * 1000)));
      }
    }
    if (typeof payload.exp !== 'undefined' && !options.ignoreExpiration) {
      if (typeof payload.exp !== 'number') return done(new JsonWebTokenError('invalid exp value'));
      if (clockTimestamp >= payload.exp + tolerance) {
        return done(new TokenExpiredError('jwt expired', new Date(payload.exp * 1000)));
      }
    }
    if (options.audience) {
      const audiences = Array.isArray(options.audience) ? options.audience : [options.audience];
      const targets = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
      const match = targets.some((target) => audiences.some((audience) =>
        audience instanceof RegExp ? audience.test(target) : audience === target));
      if (!match) return done(new JsonWebTokenError('jwt audience invalid. expected: ' + audiences.join(' or ')));
    }
    if (options.issuer) {
      const wrongIssuer = (typeof options.issuer === 'string' && payload.iss !== options.issuer) ||
        (Array.isArray(options.issuer) && options.issuer.indexOf(payload.iss) === -1);
      if (wrongIssuer) return done(new JsonWebTokenError('jwt issuer invalid. expected: ' + options.issuer));
    }
    if (options.subject && payload.sub !== options.subject) {
      return done(new JsonWebTokenError('jwt subject invalid. expected: ' + options.subject));
    }
    if (options.jwtid && payload.jti !== options.jwtid) {
      return done(new JsonWebTokenError('jwt jwtid invalid. expected: ' + options.jwtid));
    }
    if (options.nonce && payload.nonce !== options.nonce) {
      return done(new JsonWebTokenError('jwt nonce invalid. expected: ' + options.nonce));
    }
    if (options.maxAge) {
      if (typeof payload.iat !== 'number') return done(new JsonWebTokenError('iat required when maxAge is specified'));
      const maxAgeTimestamp = timespan(options.maxAge, payload.iat);
      if (typeof maxAgeTimestamp === 'undefined') {
        return done(new JsonWebTokenError('"maxAge" should be a number of seconds or string representing a timespan eg: "1d", "20h", 60'));
      }
      if (clockTimestamp >= maxAgeTimestamp + tolerance) {
        return done(new TokenExpiredError('maxAge exceeded', new Date(maxAgeTimestamp * 1000)));
      }
    }
    if (options.complete === true) {
      return done(null, { header: header, payload: payload, signature: decoded.signature });
    }
    return done(null, payload);
  });
}

module.exports = {
  decode: decode,
  verify: verify,
  sign: sign,
  JsonWebTokenError: JsonWebTokenError,
  NotBeforeError: NotBeforeError,
  TokenExpiredError: TokenExpiredError,
};
