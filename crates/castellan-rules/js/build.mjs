// Bundles the npm packages the rule runtime gives `require` into single CommonJS bodies under
// `../src/modules/vendor/`, which are committed: building the server needs neither npm nor
// this script. Run `npm ci && node build.mjs` here after changing a version in package.json,
// then update `vendor.rs` and LICENSES.md. Every package's own license file is copied
// into `licenses/`.
//
// Node's built-in modules and the packages the runtime provides itself (`crypto`, `buffer`,
// `url`, `querystring`, `request`, ...) stay `require` calls, resolved by the runtime's own
// registry when the bundle runs.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';

// Module name as scripts require it -> what to bundle for it.
export const BUNDLES = {
  buffer: 'buffer',
};

// Resolved at run time by the runtime's registry, never bundled.
const PROVIDED = ['crypto', 'buffer', 'url', 'querystring', 'request', 'request-promise',
  'axios', 'node-fetch', 'jsonwebtoken', 'lodash', 'util', 'events', 'stream', 'http', 'https',
  'fs', 'path', 'os', 'zlib', 'net', 'tls', 'assert'];

for (const [name, entry] of Object.entries(BUNDLES)) {
  const version = JSON.parse(readFileSync(`node_modules/${entry}/package.json`, 'utf8')).version;
  await build({
    // `entry/` names the package in node_modules, even where Node has a built-in of that name.
    stdin: { contents: `module.exports = require(${JSON.stringify(entry + '/')});`, resolveDir: '.' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    target: 'es2020',
    // A package never bundles the module it is.
    external: PROVIDED.filter((p) => p !== name),
    banner: { js: `// ${entry}@${version}, bundled by crates/castellan-rules/js/build.mjs; license in js/LICENSES.md` },
    outfile: `../src/modules/vendor/${name.replace(/[@/]/g, (c) => (c === '@' ? '' : '-'))}.js`,
    logLevel: 'warning',
  });
  console.log(`${name}: ${entry}@${version}`);
}

// The license files of every package in node_modules that a bundle may contain.
mkdirSync('licenses', { recursive: true });
const packages = readdirSync('node_modules').flatMap((name) =>
  name.startsWith('@') ? readdirSync(`node_modules/${name}`).map((inner) => `${name}/${inner}`) : [name]);
for (const name of packages) {
  if (name.startsWith('@esbuild') || name === 'esbuild' || name.startsWith('.')) continue;
  const dir = `node_modules/${name}`;
  const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
  if (file) copyFileSync(`${dir}/${file}`, `licenses/${name.replace('/', '__')}.txt`);
}
