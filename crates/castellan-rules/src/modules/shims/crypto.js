'use strict';
// Node's `crypto` as rules use it, following Node 18's interface and error messages
// (https://nodejs.org/docs/latest-v18.x/api/crypto.html): hashes, HMACs, PBKDF2, random
// values, constant-time comparison and AES in CBC and GCM modes. The work is the host's
// (aws-lc-rs); bytes cross as latin1 strings. No `webcrypto`, no key objects, no signing
// with `createSign` (rules sign tokens with `jsonwebtoken`).
//
// What differs from Node: streams (`hash.write`, `pipe`) are not offered; a GCM cipher
// hands back all its output at `final()` (Node's `update` already returns some) and takes
// 12-byte IVs and 16-byte tags only.

const Buffer = require('buffer').Buffer;

const HASHES = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'];
const CIPHERS = {
  'aes-128-cbc': { mode: 'cbc', keyLength: 16 },
  'aes-192-cbc': { mode: 'cbc', keyLength: 24 },
  'aes-256-cbc': { mode: 'cbc', keyLength: 32 },
  'aes-128-gcm': { mode: 'gcm', keyLength: 16 },
  'aes-192-gcm': { mode: 'gcm', keyLength: 24 },
  'aes-256-gcm': { mode: 'gcm', keyLength: 32 },
};
const BLOCK = 16;
const TAG = 16;
// OpenSSL 3's messages, as Node 18 reports them.
const BAD_DECRYPT = 'error:1C800064:Provider routines::bad decrypt';
const WRONG_FINAL_BLOCK = 'error:1C80006B:Provider routines::wrong final block length';
const UNAUTHENTICATED = 'Unsupported state or unable to authenticate data';
const EMPTY = Buffer.alloc(0);

function nodeError(Type, code, message) {
  const error = new Type(message);
  error.code = code;
  return error;
}

function received(value) {
  if (value === null || value === undefined) return ' Received ' + value;
  if (typeof value === 'function') return ' Received function ' + (value.name || '<anonymous>');
  if (typeof value === 'object') return ' Received an instance of ' + ((value.constructor && value.constructor.name) || 'Object');
  return ' Received type ' + typeof value + ' (' + String(value).slice(0, 25) + ')';
}

function invalidType(name, expected, value) {
  return nodeError(TypeError, 'ERR_INVALID_ARG_TYPE',
    'The "' + name + '" argument must be ' + expected + '.' + received(value));
}

const BYTES = 'of type string or an instance of Buffer, TypedArray, or DataView';

// A Buffer over `data`; strings in `encoding` (utf8 unless named).
function toBuffer(data, encoding, name) {
  if (typeof data === 'string') {
    const enc = encoding === 'base64url' ? 'base64' : (encoding === 'buffer' ? 'utf8' : encoding || 'utf8');
    return Buffer.from(data, enc);
  }
  if (Buffer.isBuffer(data)) return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  throw invalidType(name, BYTES, data);
}

function viewOnly(data, name) {
  if (typeof data === 'string') {
    throw invalidType(name, 'an instance of ArrayBuffer, Buffer, TypedArray, or DataView', data);
  }
  return toBuffer(data, undefined, name);
}

function encode(buffer, encoding) {
  if (encoding === undefined || encoding === 'buffer') return buffer;
  if (encoding === 'base64url') {
    return buffer.toString('base64').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  }
  return buffer.toString(encoding);
}

const bin = (buffer) => buffer.toString('latin1');
const fromBin = (text) => Buffer.from(text, 'latin1');

function checkString(value, name) {
  if (typeof value !== 'string') throw invalidType(name, 'of type string', value);
}

function Hash(algorithm) {
  checkString(algorithm, 'algorithm');
  if (!host.hashSupported(algorithm)) throw new Error('Digest method not supported');
  this._algorithm = algorithm;
  this._chunks = [];
  this._finished = false;
}

Hash.prototype.update = function (data, inputEncoding) {
  if (this._finished) throw nodeError(Error, 'ERR_CRYPTO_HASH_FINALIZED', 'Digest already called');
  this._chunks.push(toBuffer(data, inputEncoding, 'data'));
  return this;
};

Hash.prototype.digest = function (outputEncoding) {
  if (this._finished) throw nodeError(Error, 'ERR_CRYPTO_HASH_FINALIZED', 'Digest already called');
  this._finished = true;
  return encode(fromBin(host.digest(this._algorithm, bin(Buffer.concat(this._chunks)))), outputEncoding);
};

Hash.prototype.copy = function () {
  if (this._finished) throw nodeError(Error, 'ERR_CRYPTO_HASH_FINALIZED', 'Digest already called');
  const copy = new Hash(this._algorithm);
  copy._chunks = this._chunks.slice();
  return copy;
};

function Hmac(algorithm, key) {
  checkString(algorithm, 'hmac');
  if (!host.hashSupported(algorithm)) throw new Error('Invalid digest: ' + algorithm);
  if (key === undefined || key === null) throw invalidType('key', BYTES, key);
  this._algorithm = algorithm;
  this._key = bin(toBuffer(key, undefined, 'key'));
  this._chunks = [];
  this._finished = false;
}

Hmac.prototype.update = function (data, inputEncoding) {
  if (this._finished) throw nodeError(Error, 'ERR_CRYPTO_HASH_FINALIZED', 'Digest already called');
  this._chunks.push(toBuffer(data, inputEncoding, 'data'));
  return this;
};

// A second digest gives an empty result rather than an error, as Node's Hmac does.
Hmac.prototype.digest = function (outputEncoding) {
  if (this._finished) return encode(EMPTY, outputEncoding);
  this._finished = true;
  const mac = host.hmac(this._algorithm, this._key, bin(Buffer.concat(this._chunks)));
  return encode(fromBin(mac), outputEncoding);
};

function later(callback, error, value) {
  setImmediate(() => callback(error, value));
}

function checkCallback(callback) {
  if (typeof callback !== 'function') throw invalidType('callback', 'of type function', callback);
}

function checkSize(size) {
  if (typeof size !== 'number') throw invalidType('size', 'of type number', size);
  if (!(size >= 0 && size <= 2147483647) || !Number.isInteger(size)) {
    throw nodeError(RangeError, 'ERR_OUT_OF_RANGE',
      'The value of "size" is out of range. It must be >= 0 && <= 2147483647. Received ' + size);
  }
}

function randomBytes(size, callback) {
  checkSize(size);
  if (callback !== undefined) checkCallback(callback);
  const bytes = fromBin(host.randomBytes(size));
  if (callback === undefined) return bytes;
  later(callback, null, bytes);
}

function randomUUID() {
  const b = fromBin(host.randomBytes(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return hex.slice(0, 8) + '-' + hex.slice(8, 12) + '-' + hex.slice(12, 16) + '-' + hex.slice(16, 20) + '-' + hex.slice(20);
}

// Uniform in [min, max): 48-bit draws, redrawn when they fall in the uneven tail.
const RANDOM_MAX = 0xffffffffffff;
function randomInt(min, max, callback) {
  if (max === undefined || typeof max === 'function') {
    callback = max;
    max = min;
    min = 0;
  }
  if (!Number.isSafeInteger(min)) throw invalidType('min', 'a safe integer', min);
  if (!Number.isSafeInteger(max)) throw invalidType('max', 'a safe integer', max);
  if (max <= min) {
    throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', 'The value of "max" is out of range. It must be greater than the value of "min" (' + min + '). Received ' + max);
  }
  const range = max - min;
  if (range > RANDOM_MAX) {
    throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', 'The value of "max - min" is out of range. It must be <= ' + RANDOM_MAX + '. Received ' + range);
  }
  if (callback !== undefined) checkCallback(callback);
  const limit = RANDOM_MAX - (RANDOM_MAX % range);
  let draw;
  do {
    draw = fromBin(host.randomBytes(6)).readUIntBE(0, 6);
  } while (draw >= limit);
  const value = min + (draw % range);
  if (callback === undefined) return value;
  later(callback, null, value);
}

function timingSafeEqual(a, b) {
  const left = viewOnly(a, 'buf1');
  const right = viewOnly(b, 'buf2');
  if (left.length !== right.length) {
    throw nodeError(RangeError, 'ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH', 'Input buffers must have the same byte length');
  }
  return host.timingSafeEqual(bin(left), bin(right));
}

function pbkdf2Sync(password, salt, iterations, keylen, digest) {
  const pass = toBuffer(password, undefined, 'password');
  const s = toBuffer(salt, undefined, 'salt');
  if (typeof iterations !== 'number') throw invalidType('iterations', 'of type number', iterations);
  if (typeof keylen !== 'number') throw invalidType('keylen', 'of type number', keylen);
  checkString(digest, 'digest');
  return fromBin(host.pbkdf2(bin(pass), bin(s), iterations, keylen, digest));
}

function pbkdf2(password, salt, iterations, keylen, digest, callback) {
  checkCallback(callback);
  const key = pbkdf2Sync(password, salt, iterations, keylen, digest);
  later(callback, null, key);
}

function Cipheriv(encrypt, algorithm, key, iv, options) {
  checkString(algorithm, 'cipher');
  const info = CIPHERS[algorithm.toLowerCase()];
  if (!info) throw nodeError(Error, 'ERR_CRYPTO_UNKNOWN_CIPHER', 'Unknown cipher');
  const keyBytes = toBuffer(key, undefined, 'key');
  if (keyBytes.length !== info.keyLength) throw nodeError(RangeError, 'ERR_CRYPTO_INVALID_KEYLEN', 'Invalid key length');
  const ivBytes = toBuffer(iv, undefined, 'iv');
  if (ivBytes.length !== (info.mode === 'gcm' ? 12 : BLOCK)) {
    throw nodeError(RangeError, 'ERR_CRYPTO_INVALID_IV', 'Invalid initialization vector');
  }
  if (info.mode === 'gcm' && options && options.authTagLength !== undefined && options.authTagLength !== TAG) {
    throw nodeError(TypeError, 'ERR_CRYPTO_INVALID_AUTH_TAG', 'Invalid authentication tag length: ' + options.authTagLength);
  }
  this._encrypt = encrypt;
  this._mode = info.mode;
  this._key = bin(keyBytes);
  this._iv = bin(ivBytes);
  this._pending = EMPTY;
  this._chunks = [];
  this._aad = EMPTY;
  this._tag = null;
  this._padding = true;
  this._finished = false;
}

function invalidState(operation) {
  return nodeError(Error, 'ERR_CRYPTO_INVALID_STATE', 'Invalid state for operation ' + operation);
}

Cipheriv.prototype.update = function (data, inputEncoding, outputEncoding) {
  if (this._finished) throw invalidState('update');
  const input = toBuffer(data, inputEncoding, 'data');
  if (this._mode === 'gcm') {
    this._chunks.push(input);
    return encode(EMPTY, outputEncoding);
  }
  const pending = Buffer.concat([this._pending, input]);
  let whole = pending.length - (pending.length % BLOCK);
  // Deciphering with padding keeps the last block back: it may be all padding.
  if (!this._encrypt && this._padding && whole === pending.length) whole -= BLOCK;
  if (whole <= 0) {
    this._pending = pending;
    return encode(EMPTY, outputEncoding);
  }
  this._pending = pending.slice(whole);
  return encode(this._cbc(pending.slice(0, whole)), outputEncoding);
};

Cipheriv.prototype._cbc = function (blocks) {
  const out = fromBin(host.aesCbc(this._encrypt, this._key, this._iv, bin(blocks)));
  this._iv = bin((this._encrypt ? out : blocks).slice(-BLOCK));
  return out;
};

Cipheriv.prototype.final = function (outputEncoding) {
  if (this._finished) throw invalidState('final');
  this._finished = true;
  if (this._mode === 'gcm') return encode(this._gcmFinal(), outputEncoding);
  let pending = this._pending;
  this._pending = EMPTY;
  if (this._encrypt && this._padding) {
    const pad = BLOCK - (pending.length % BLOCK);
    pending = Buffer.concat([pending, Buffer.alloc(pad, pad)]);
  }
  if (pending.length % BLOCK !== 0) throw new Error(WRONG_FINAL_BLOCK);
  if (pending.length === 0) return encode(EMPTY, outputEncoding);
  let out = this._cbc(pending);
  if (!this._encrypt && this._padding) {
    const pad = out[out.length - 1];
    if (pad === 0 || pad > BLOCK) throw new Error(BAD_DECRYPT);
    for (let i = out.length - pad; i < out.length; i++) {
      if (out[i] !== pad) throw new Error(BAD_DECRYPT);
    }
    out = out.slice(0, out.length - pad);
  }
  return encode(out, outputEncoding);
};

Cipheriv.prototype._gcmFinal = function () {
  const data = bin(Buffer.concat(this._chunks));
  this._chunks = [];
  if (this._encrypt) {
    const sealed = fromBin(host.aesGcmSeal(this._key, this._iv, bin(this._aad), data));
    this._tag = sealed.slice(sealed.length - TAG);
    return sealed.slice(0, sealed.length - TAG);
  }
  if (!this._tag) throw new Error(UNAUTHENTICATED);
  return fromBin(host.aesGcmOpen(this._key, this._iv, bin(this._aad), data, bin(this._tag)));
};

Cipheriv.prototype.setAutoPadding = function (autoPadding) {
  if (this._finished) throw invalidState('setAutoPadding');
  this._padding = autoPadding !== false;
  return this;
};

Cipheriv.prototype.setAAD = function (buffer) {
  if (this._mode !== 'gcm' || this._finished || this._chunks.length) throw invalidState('setAAD');
  this._aad = Buffer.from(viewOnly(buffer, 'buffer'));
  return this;
};

Cipheriv.prototype.getAuthTag = function () {
  if (this._mode !== 'gcm' || !this._encrypt || !this._finished) throw invalidState('getAuthTag');
  return Buffer.from(this._tag);
};

Cipheriv.prototype.setAuthTag = function (tag) {
  if (this._mode !== 'gcm' || this._encrypt || this._finished) throw invalidState('setAuthTag');
  const bytes = toBuffer(tag, undefined, 'buffer');
  if (bytes.length !== TAG) {
    throw nodeError(TypeError, 'ERR_CRYPTO_INVALID_AUTH_TAG', 'Invalid authentication tag length: ' + bytes.length);
  }
  this._tag = Buffer.from(bytes);
  return this;
};

module.exports = {
  createHash: (algorithm, options) => new Hash(algorithm, options),
  createHmac: (algorithm, key, options) => new Hmac(algorithm, key, options),
  createCipheriv: (algorithm, key, iv, options) => new Cipheriv(true, algorithm, key, iv, options),
  createDecipheriv: (algorithm, key, iv, options) => new Cipheriv(false, algorithm, key, iv, options),
  randomBytes: randomBytes,
  pseudoRandomBytes: randomBytes,
  randomUUID: randomUUID,
  randomInt: randomInt,
  timingSafeEqual: timingSafeEqual,
  pbkdf2: pbkdf2,
  pbkdf2Sync: pbkdf2Sync,
  getHashes: () => HASHES.slice(),
  getCiphers: () => Object.keys(CIPHERS),
  Hash: Hash,
  Hmac: Hmac,
};
