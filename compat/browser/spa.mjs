// A single-page app built on Auth0's own SDK, @auth0/auth0-spa-js, unmodified, in headless
// Chromium driven by playwright-core (crates/castellan/tests/it/browser.rs starts the server,
// registers the app, and runs this script). The app is a static page on its own origin
// (another port of 127.0.0.1, so the same site but not the same origin as the server):
//
// 1. loginWithRedirect: the user signs in on Castellan's log-in page and comes back;
// 2. handleRedirectCallback: the code is exchanged from the page, across origins (CORS);
// 3. getTokenSilently with the cache off: a hidden iframe, prompt=none, web_message;
// 4. an API call with the access token (/userinfo, across origins);
// 5. a second client with useRefreshTokens: tokens refreshed from the page;
// 6. logout, after which silent authentication says login_required;
// 7. a page on an origin the app does not list cannot read a token answer.
//
// With --tls-cert and --tls-key (the server's own certificate, for 127.0.0.1), the app's
// pages are served over HTTPS too, and Chromium is told to accept that certificate.
//
// Exits non-zero on the first failure, after a screenshot of the page it happened on.

import { createServer } from 'node:http';
import { createServer as createSecureServer } from 'node:https';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { check, step } from './story.mjs';

const { values: args } = parseArgs({
  options: {
    base: { type: 'string' },
    'client-id': { type: 'string' },
    'app-port': { type: 'string' },
    'stranger-port': { type: 'string' },
    audience: { type: 'string' },
    email: { type: 'string' },
    password: { type: 'string' },
    artifacts: { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
  },
});
for (const name of ['base', 'client-id', 'app-port', 'stranger-port', 'audience', 'email', 'password', 'artifacts']) {
  if (!args[name]) throw new Error(`--${name} is required`);
}
const { base, audience, artifacts } = args;
mkdirSync(artifacts, { recursive: true });

const sdk = readFileSync(new URL('./node_modules/@auth0/auth0-spa-js/dist/auth0-spa-js.production.js', import.meta.url));

// The app's page: the SDK, and nothing else; the test calls the SDK from the page.
const page = `<!doctype html><html><head><meta charset="utf-8"><title>SPA</title>
<script src="/auth0-spa-js.js"></script></head><body><h1>Single page app</h1></body></html>`;

const tls = args['tls-cert'] && {
  cert: readFileSync(args['tls-cert']),
  key: readFileSync(args['tls-key']),
};

function serve(port) {
  const answer = (request, response) => {
    if (request.url === '/auth0-spa-js.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' });
      response.end(sdk);
    } else {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end(page);
    }
  };
  const server = tls ? createSecureServer(tls, answer) : createServer(answer);
  return new Promise((resolve) => server.listen(Number(port), '127.0.0.1', () => resolve(server)));
}

let shot = 0;
async function screenshot(tab, name) {
  shot += 1;
  const file = join(artifacts, `spa-${String(shot).padStart(2, '0')}-${name}.png`);
  await tab.screenshot({ path: file, fullPage: true });
}

const scheme = tls ? 'https' : 'http';
const app = `${scheme}://127.0.0.1:${args['app-port']}`;
const stranger = `${scheme}://127.0.0.1:${args['stranger-port']}`;
const servers = [await serve(args['app-port']), await serve(args['stranger-port'])];
const browser = await chromium.launch({ executablePath: args.chromium, args: ['--no-sandbox'] });
const tab = await (await browser.newContext({ ignoreHTTPSErrors: Boolean(tls) })).newPage();
tab.on('console', (message) => console.log(`  [page] ${message.text()}`));

// The options an app passes to createAuth0Client, here given to the page.
const options = {
  domain: base,
  clientId: args['client-id'],
  cacheLocation: 'localstorage',
  authorizationParams: { redirect_uri: `${app}/`, audience, scope: 'openid profile email offline_access' },
};

async function inPage(fn, arg) {
  return tab.evaluate(fn, arg);
}

try {
  step('loginWithRedirect sends the user to the log-in page');
  await tab.goto(`${app}/`);
  await inPage(async (options) => {
    const client = await auth0.createAuth0Client(options);
    await client.loginWithRedirect();
  }, options);
  await tab.waitForURL((url) => url.href.startsWith(`${base}/authorize`));
  await screenshot(tab, 'login');
  await tab.fill('input[name=username]', args.email);
  await tab.fill('input[name=password]', args.password);
  await Promise.all([tab.waitForURL((url) => url.href.startsWith(`${app}/`)), tab.click('button[type=submit]')]);
  check(new URL(tab.url()).searchParams.has('code'), `back with a code: ${tab.url()}`);

  step('handleRedirectCallback exchanges the code from the page');
  const user = await inPage(async (options) => {
    const client = await auth0.createAuth0Client(options);
    await client.handleRedirectCallback();
    return client.getUser();
  }, options);
  check(user && user.email === args.email, `the user is known: ${JSON.stringify(user)}`);
  await screenshot(tab, 'signed-in');

  step('getTokenSilently through a hidden iframe (prompt=none, web_message)');
  const silent = await inPage(async (options) => {
    const client = await auth0.createAuth0Client(options);
    return client.getTokenSilently({ cacheMode: 'off', detailedResponse: true });
  }, options);
  check(silent.access_token && silent.id_token, `tokens from the iframe: ${JSON.stringify(silent)}`);

  step('the access token calls an API across origins');
  const profile = await inPage(async ({ base, token }) => {
    const answer = await fetch(`${base}/userinfo`, { headers: { Authorization: `Bearer ${token}` } });
    return answer.json();
  }, { base, token: silent.access_token });
  check(profile.email === args.email, `userinfo: ${JSON.stringify(profile)}`);

  step('useRefreshTokens: a refresh from the page, rotated');
  const refreshed = await inPage(async (options) => {
    // The SDK keeps the refresh token in its cache entry; rotation replaces it.
    const refreshToken = () =>
      Object.keys(localStorage)
        .filter((key) => key.startsWith('@@auth0spajs@@') && !key.endsWith('@@user@@'))
        .map((key) => JSON.parse(localStorage.getItem(key)).body?.refresh_token)
        .find(Boolean);
    const client = await auth0.createAuth0Client({ ...options, useRefreshTokens: true });
    const before = refreshToken();
    const answer = await client.getTokenSilently({ cacheMode: 'off', detailedResponse: true });
    return { before, after: refreshToken(), token: answer.access_token };
  }, options);
  check(refreshed.before && refreshed.token, `a refresh token from the log-in: ${JSON.stringify(refreshed)}`);
  check(refreshed.after && refreshed.after !== refreshed.before, 'the refresh token rotated');

  step('logout ends the session');
  // From a page whose address differs from returnTo, so the return is seen for what it is.
  await tab.goto(`${app}/?signed-in`);
  const loggingOut = tab.waitForRequest((request) => request.url().startsWith(`${base}/v2/logout`));
  // The page navigates away while the SDK's promise is pending.
  inPage(async (options) => {
    const client = await auth0.createAuth0Client(options);
    await client.logout({ logoutParams: { returnTo: options.authorizationParams.redirect_uri } });
  }, options).catch(() => {});
  await loggingOut;
  await tab.waitForURL(`${app}/`, { waitUntil: 'load' });
  const after = await inPage(async (options) => {
    const client = await auth0.createAuth0Client({ ...options, cacheLocation: 'memory' });
    try {
      await client.getTokenSilently({ cacheMode: 'off' });
      return 'got a token';
    } catch (e) {
      return e.error || e.message;
    }
  }, options);
  check(after === 'login_required', `after logout: ${after}`);

  step('a page on an origin the app does not list cannot read the token endpoint');
  await tab.goto(`${stranger}/`);
  const refused = await inPage(async ({ base, clientId }) => {
    try {
      const answer = await fetch(`${base}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'refresh_token', client_id: clientId, refresh_token: 'x' }),
      });
      return `read: ${answer.status}`;
    } catch (e) {
      return 'blocked';
    }
  }, { base, clientId: args['client-id'] });
  check(refused === 'blocked', `the browser kept the answer from the page: ${refused}`);
  await screenshot(tab, 'done');
  console.log('the single-page app story passed');
} catch (e) {
  await screenshot(tab, 'failure').catch(() => {});
  console.error(e);
  process.exitCode = 1;
} finally {
  await browser.close();
  for (const server of servers) server.close();
}
