// Bundles the npm packages the rule runtime gives `require` into single CommonJS bodies under
// `../src/modules/vendor/`, which are committed: building the server needs neither npm nor
// this script. Run `npm ci && node build.mjs` here after changing a version in package.json,
// then update `vendor.rs` and LICENSES.md. The license file of every package a bundle
// contains is copied into `licenses/`.
//
// Node's built-in modules and the packages the runtime provides itself (`crypto`, `buffer`,
// `url`, `querystring`, `request`, ...) stay `require` calls, resolved by the runtime's own
// registry when the bundle runs, so a module is loaded once however many bundles use it.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';

// Module name as scripts require it -> the package to bundle for it, and optionally the file
// of that package (`file`) or a local entry (`entry`) to bundle instead of its main.
export const BUNDLES = {
  assert: { package: 'assert' },
  buffer: { package: 'buffer' },
  events: { package: 'events' },
  'ipaddr.js': { package: 'ipaddr.js' },
  lodash: { package: 'lodash' },
  moment: { package: 'moment' },
  // The data of 1970 to 2030 only: the full build is 730 kB, and rules convert dates of
  // log-ins and sign-ups.
  'moment-timezone': { package: 'moment-timezone', file: 'builds/moment-timezone-with-data-1970-2030.js' },
  'oauth-sign': { package: 'oauth-sign' },
  punycode: { package: 'punycode' },
  querystring: { package: 'querystring-es3' },
  'slack-notify': { package: 'slack-notify' },
  // Node's `url` has the WHATWG classes too, and rules take them from it; its query strings
  // are Node's `querystring`'s, not the nested ones of `qs` that npm's `url` uses.
  url: { package: 'url', entry: './entries/url.js', alias: { qs: './entries/url-querystring.js' } },
  util: { package: 'util' },
  uuid: { package: 'uuid' },
  xmldom: { package: 'xmldom' },
  xpath: { package: 'xpath' },
};

// Resolved at run time by the runtime's registry, never bundled: the modules written in Rust
// or by hand (`shims/`) and those not offered at all (which then fail when required, as they
// would in a rule).
const PROVIDED = ['crypto', 'request', 'request-promise', 'axios', 'node-fetch', 'jsonwebtoken',
  'stream', 'http', 'https', 'fs', 'path', 'os', 'zlib', 'net', 'tls'];

// `require('util/')` (a trailing slash picks the npm package over Node's built-in) of a module
// the registry has is that module too.
const registryModules = (self) => ({
  name: 'registry-modules',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.kind === 'entry-point' || args.importer === '<stdin>') return undefined;
      const name = args.path.replace(/\/$/, '');
      const provided = PROVIDED.includes(name) || Object.hasOwn(BUNDLES, name);
      if (!provided || name === self) return undefined;
      return { path: name, external: true };
    });
  },
});

const fileName = (name) => name.replace(/^@/, '').replace(/\//g, '-');
const packageOf = (input) => {
  const parts = input.split('/');
  const at = parts.lastIndexOf('node_modules');
  if (at < 0) return undefined;
  const scoped = parts[at + 1].startsWith('@');
  return { name: parts.slice(at + 1, at + (scoped ? 3 : 2)).join('/'), dir: parts.slice(0, at + (scoped ? 3 : 2)).join('/') };
};

const contained = new Map();
for (const [name, { package: pkg, file, entry, alias }] of Object.entries(BUNDLES)) {
  const version = JSON.parse(readFileSync(`node_modules/${pkg}/package.json`, 'utf8')).version;
  // `pkg/` names the package in node_modules, even where Node has a built-in of that name.
  const target = entry ?? (file ? `${pkg}/${file}` : `${pkg}/`);
  const outfile = `../src/modules/vendor/${fileName(name)}.js`;
  const result = await build({
    stdin: { contents: `module.exports = require(${JSON.stringify(target)});`, resolveDir: '.' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    target: 'es2020',
    plugins: [registryModules(name)],
    alias,
    banner: { js: `// ${pkg}@${version}, bundled by crates/castellan-rules/js/build.mjs; license in js/LICENSES.md` },
    outfile,
    metafile: true,
    logLevel: 'warning',
  });
  const packages = new Map();
  for (const input of Object.keys(result.metafile.inputs)) {
    const found = packageOf(input);
    if (!found) continue;
    const { version: v, license } = JSON.parse(readFileSync(`${found.dir}/package.json`, 'utf8'));
    packages.set(`${found.name}@${v}`, { ...found, license });
  }
  for (const [key, value] of packages) contained.set(key, value);
  const source = readFileSync(outfile, 'utf8');
  const requires = [...new Set([...source.matchAll(/\brequire\(("[^"]*"|'[^']*'|`[^`]*`)\)/g)].map((m) => m[1]))];
  console.log(`${name}: ${pkg}@${version}, ${source.length} bytes; contains ${[...packages.keys()].join(', ')}; requires ${requires.join(', ') || 'nothing'}`);
}

// The license files of the packages the bundles contain, as each package published them.
rmSync('licenses', { recursive: true, force: true });
mkdirSync('licenses');
for (const [key, { name, dir, license }] of contained) {
  const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.|-|$)/i.test(f));
  if (!file) throw new Error(`${key} (${license}) publishes no license file`);
  copyFileSync(`${dir}/${file}`, `licenses/${name.replace('/', '__')}@${key.slice(key.lastIndexOf('@') + 1)}.txt`);
}
