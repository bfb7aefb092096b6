// The Node globals rules rely on, installed in each fresh context after the prelude: timers
// (run by the host between promise jobs, bounded by the script's deadline), `process` with
// an empty environment, `URL` (parsed by the host), `URLSearchParams`, `TextEncoder`,
// `TextDecoder`, `queueMicrotask`, and `Buffer`, loaded from the `buffer` module the first
// time a script reads it. Returns what the host needs to run the timers.
(function (host, require) {
  'use strict';
  const parse = JSON.parse;
  const defineProperty = Object.defineProperty;
  const NativePromise = Promise;
  const now = Date.now;

  // Timers due, in order of their time then of their creation.
  let timers = [];
  let sequence = 0;
  const schedule = (fn, delay, args, repeat) => {
    if (typeof fn !== 'function') throw new TypeError('the callback must be a function');
    const wait = Math.max(0, Number(delay) || 0);
    sequence += 1;
    timers.push({ id: sequence, at: now() + wait, fn: fn, args: args, repeat: repeat ? Math.max(1, wait) : 0 });
    return new Timeout(sequence);
  };
  // Node's timers are objects; scripts pass them back to clear them, or call `unref`.
  class Timeout {
    constructor(id) { this.id = id; }
    ref() { return this; }
    unref() { return this; }
    hasRef() { return true; }
    [Symbol.toPrimitive]() { return this.id; }
  }
  const clear = (timer) => {
    const id = timer instanceof Timeout ? timer.id : Number(timer);
    timers = timers.filter((t) => t.id !== id);
  };
  globalThis.setTimeout = (fn, delay, ...args) => schedule(fn, delay, args, false);
  globalThis.setInterval = (fn, delay, ...args) => schedule(fn, delay, args, true);
  globalThis.setImmediate = (fn, ...args) => schedule(fn, 0, args, false);
  globalThis.clearTimeout = clear;
  globalThis.clearInterval = clear;
  globalThis.clearImmediate = clear;
  globalThis.queueMicrotask = (fn) => { NativePromise.resolve().then(fn); };

  // Runs the earliest timer if it is due; answers how many milliseconds until the next one
  // (0: run again now), or -1 when none is left. An error a timer throws goes back to the
  // host, as an uncaught exception in Node.
  const runTimer = () => {
    if (timers.length === 0) return -1;
    let next = 0;
    for (let i = 1; i < timers.length; i++) {
      if (timers[i].at < timers[next].at) next = i;
    }
    const timer = timers[next];
    const wait = timer.at - now();
    if (wait > 0) return wait;
    if (timer.repeat > 0) {
      timer.at = now() + timer.repeat;
    } else {
      timers.splice(next, 1);
    }
    timer.fn.apply(undefined, timer.args);
    // 0 even when it was the last: what it queued (promise jobs) must run before the host
    // is told nothing is left.
    return 0;
  };

  globalThis.process = {
    env: {},
    version: 'v18.20.0',
    versions: { node: '18.20.0' },
    platform: 'linux',
    nextTick: (fn, ...args) => { NativePromise.resolve().then(() => fn.apply(undefined, args)); },
    hrtime: Object.assign((previous) => {
      const ms = now();
      const time = [Math.floor(ms / 1000), (ms % 1000) * 1e6];
      if (!previous) return time;
      return [time[0] - previous[0], time[1] - previous[1]];
    }, { bigint: () => BigInt(now()) * 1000000n }),
  };

  const PARTS = ['href', 'origin', 'protocol', 'username', 'password', 'host', 'hostname', 'port', 'pathname', 'search', 'hash'];
  const SETTABLE = ['href', 'protocol', 'username', 'password', 'host', 'hostname', 'port', 'pathname', 'search', 'hash'];
  const fromPairs = (init) => {
    if (init === undefined || init === null) return [];
    if (init instanceof URLSearchParams) return init.entries ? Array.from(init.entries()) : [];
    if (typeof init === 'object') {
      if (typeof init[Symbol.iterator] === 'function') {
        return Array.from(init, (pair) => [String(pair[0]), String(pair[1])]);
      }
      return Object.keys(init).map((key) => [key, String(init[key])]);
    }
    const text = String(init).replace(/^\?/, '');
    if (text === '') return [];
    return text.split('&').filter((s) => s !== '').map((pair) => {
      const at = pair.indexOf('=');
      const name = at < 0 ? pair : pair.slice(0, at);
      const value = at < 0 ? '' : pair.slice(at + 1);
      return [decode(name), decode(value)];
    });
  };
  const decode = (s) => {
    try { return decodeURIComponent(s.replace(/\+/g, ' ')); } catch (e) { return s; }
  };
  const encode = (s) => encodeURIComponent(s).replace(/%20/g, '+')
    .replace(/[!'()~]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

  class URLSearchParams {
    constructor(init, url) {
      defineProperty(this, '_pairs', { value: fromPairs(init), writable: true });
      defineProperty(this, '_url', { value: url, writable: true });
    }
    _changed() { if (this._url) this._url._searchChanged(this.toString()); }
    append(name, value) { this._pairs.push([String(name), String(value)]); this._changed(); }
    delete(name) { this._pairs = this._pairs.filter((p) => p[0] !== String(name)); this._changed(); }
    get(name) { const found = this._pairs.find((p) => p[0] === String(name)); return found ? found[1] : null; }
    getAll(name) { return this._pairs.filter((p) => p[0] === String(name)).map((p) => p[1]); }
    has(name) { return this._pairs.some((p) => p[0] === String(name)); }
    set(name, value) {
      const key = String(name);
      const at = this._pairs.findIndex((p) => p[0] === key);
      if (at < 0) {
        this._pairs.push([key, String(value)]);
      } else {
        this._pairs[at] = [key, String(value)];
        this._pairs = this._pairs.filter((p, i) => i <= at || p[0] !== key);
      }
      this._changed();
    }
    sort() { this._pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)); this._changed(); }
    forEach(fn, self) { this._pairs.forEach((p) => fn.call(self, p[1], p[0], this)); }
    keys() { return this._pairs.map((p) => p[0])[Symbol.iterator](); }
    values() { return this._pairs.map((p) => p[1])[Symbol.iterator](); }
    entries() { return this._pairs.map((p) => [p[0], p[1]])[Symbol.iterator](); }
    [Symbol.iterator]() { return this.entries(); }
    get size() { return this._pairs.length; }
    toString() { return this._pairs.map((p) => encode(p[0]) + '=' + encode(p[1])).join('&'); }
  }
  globalThis.URLSearchParams = URLSearchParams;

  class URL {
    constructor(input, base) {
      const parts = parse(host.parseUrl(String(input), base === undefined ? undefined : String(base)));
      defineProperty(this, '_parts', { value: parts, writable: true });
      defineProperty(this, '_query', { value: new URLSearchParams(parts.search, this), writable: true });
    }
    _set(part, value) {
      this._parts = parse(host.setUrl(this._parts.href, part, String(value)));
      this._query._pairs = fromPairs(this._parts.search);
    }
    _searchChanged(search) {
      this._parts = parse(host.setUrl(this._parts.href, 'search', search));
    }
    get searchParams() { return this._query; }
    toString() { return this._parts.href; }
    toJSON() { return this._parts.href; }
    static canParse(input, base) {
      try { new URL(input, base); return true; } catch (e) { return false; }
    }
  }
  for (const part of PARTS) {
    const property = { get() { return this._parts[part]; }, enumerable: true, configurable: true };
    if (SETTABLE.includes(part)) property.set = function (value) { this._set(part, value); };
    defineProperty(URL.prototype, part, property);
  }
  globalThis.URL = URL;

  class TextEncoder {
    get encoding() { return 'utf-8'; }
    encode(input) {
      const text = input === undefined ? '' : String(input);
      const bytes = [];
      for (const ch of text) {
        let c = ch.codePointAt(0);
        if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
        if (c < 0x80) bytes.push(c);
        else if (c < 0x800) bytes.push(0xc0 | (c >> 6), 0x80 | (c & 63));
        else if (c < 0x10000) bytes.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
        else bytes.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      }
      return new Uint8Array(bytes);
    }
  }
  class TextDecoder {
    constructor(label) {
      const name = label === undefined ? 'utf-8' : String(label).toLowerCase();
      if (name !== 'utf-8' && name !== 'utf8') throw new RangeError('only utf-8 is supported');
    }
    get encoding() { return 'utf-8'; }
    decode(input) {
      if (input === undefined) return '';
      const bytes = input instanceof ArrayBuffer ? new Uint8Array(input)
        : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
      let out = '';
      for (let i = 0; i < bytes.length;) {
        const b = bytes[i];
        const need = b < 0x80 ? 0 : b >= 0xf0 && b < 0xf8 ? 3 : b >= 0xe0 ? 2 : b >= 0xc0 ? 1 : -1;
        let c = need === 0 ? b : need === 1 ? b & 31 : need === 2 ? b & 15 : b & 7;
        let ok = need >= 0;
        for (let k = 1; ok && k <= need; k++) {
          const next = bytes[i + k];
          if (next === undefined || (next & 0xc0) !== 0x80) ok = false;
          else c = (c << 6) | (next & 63);
        }
        if (!ok) { out += '\ufffd'; i += 1; continue; }
        out += String.fromCodePoint(c > 0x10ffff ? 0xfffd : c);
        i += need + 1;
      }
      return out;
    }
  }
  globalThis.TextEncoder = TextEncoder;
  globalThis.TextDecoder = TextDecoder;

  // `Buffer` costs a module load, so only a log-in that reads it pays for it.
  defineProperty(globalThis, 'Buffer', {
    get() {
      const Buffer = require('buffer').Buffer;
      defineProperty(globalThis, 'Buffer', { value: Buffer, writable: true, configurable: true });
      return Buffer;
    },
    set(value) {
      defineProperty(globalThis, 'Buffer', { value: value, writable: true, configurable: true });
    },
    configurable: true,
  });

  return { runTimer: runTimer, dropTimers: () => { timers = []; } };
})
