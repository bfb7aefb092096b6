// Two Express web apps on Auth0's Express SDK, express-openid-connect, unmodified, each on
// its own port of 127.0.0.1, and a user in headless Chromium (playwright-core) using them
// (crates/castellan/tests/it/browser.rs starts the server, registers the two apps and the
// user, and runs this script).
//
// The first app is Auth0's quickstart as written: `auth({ issuerBaseURL, baseURL, clientID,
// secret, authRequired: false, auth0Logout: true })` and no client secret, so the SDK asks
// for an ID token alone (`response_type=id_token`), posted back to it (`form_post`), with a
// nonce:
//
// 1. /login sends the user to Castellan's log-in page, with those parameters;
// 2. the user signs in, Castellan's page posts the ID token to /callback, the SDK checks it
//    and lands the user on the app's home page, signed in;
// 3. /profile shows `req.oidc.user`, the ID token's claims;
// 4. /logout goes through Castellan's /v2/logout (what `auth0Logout` does) and back;
// 5. signing in again shows the log-in page: the session at Castellan ended too.
//
// The second app uses the code flow with a client secret, an API audience and a scope:
//
// 6. /login sends `response_type=code` with the audience; the user signs in again;
// 7. /profile shows the user; /userinfo is the app calling Castellan's /userinfo with
//    `req.oidc.accessToken`, and the access token is for the API with the scope asked for;
// 8. /logout goes through Castellan's /oidc/logout (RP-initiated logout, `idpLogout`) with
//    the ID token as its hint, and back; signing in again shows the log-in page.
//
// Exits non-zero on the first failure, after a screenshot of the page it happened on.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import express from 'express';
import eoc from 'express-openid-connect';
import { chromium } from 'playwright-core';
import { check, claims, step } from './story.mjs';

const { auth, requiresAuth } = eoc;

const { values: args } = parseArgs({
  options: {
    base: { type: 'string' },
    'quickstart-id': { type: 'string' },
    'quickstart-port': { type: 'string' },
    'code-id': { type: 'string' },
    'code-secret': { type: 'string' },
    'code-port': { type: 'string' },
    audience: { type: 'string' },
    scope: { type: 'string' },
    email: { type: 'string' },
    password: { type: 'string' },
    artifacts: { type: 'string' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
  },
});
for (const name of ['base', 'quickstart-id', 'quickstart-port', 'code-id', 'code-secret', 'code-port',
  'audience', 'scope', 'email', 'password', 'artifacts']) {
  if (!args[name]) throw new Error(`--${name} is required`);
}
const { base, audience, artifacts } = args;
mkdirSync(artifacts, { recursive: true });

// The routes of Auth0's quickstart, on an app configured with `config`.
function webApp(port, config) {
  const app = express();
  app.use(auth(config));
  app.get('/', (req, res) => res.send(req.oidc.isAuthenticated() ? 'Logged in' : 'Logged out'));
  app.get('/profile', requiresAuth(), (req, res) => res.json(req.oidc.user));
  // An API call with the access token the SDK keeps in its session.
  app.get('/userinfo', requiresAuth(), async (req, res) => {
    const { access_token: token, token_type: type } = req.oidc.accessToken;
    const answer = await fetch(`${base}/userinfo`, { headers: { Authorization: `${type} ${token}` } });
    res.status(answer.status).json({ userinfo: await answer.json(), access_token: claims(token) });
  });
  app.use((err, req, res, next) => {
    console.error(`  [app] ${err.stack || err}`);
    res.status(err.status || 500).send(`app error: ${err.message}`);
  });
  return new Promise((resolve) => {
    const server = app.listen(Number(port), '127.0.0.1', () => resolve(server));
  });
}

const quickstart = `http://127.0.0.1:${args['quickstart-port']}`;
const codeApp = `http://127.0.0.1:${args['code-port']}`;
const secret = 'a long, randomly-generated string stored in env';
const servers = [
  // Auth0's quickstart, word for word but for the values.
  await webApp(args['quickstart-port'], {
    authRequired: false,
    auth0Logout: true,
    secret,
    baseURL: quickstart,
    clientID: args['quickstart-id'],
    issuerBaseURL: base,
  }),
  await webApp(args['code-port'], {
    authRequired: false,
    idpLogout: true,
    secret,
    baseURL: codeApp,
    clientID: args['code-id'],
    clientSecret: args['code-secret'],
    issuerBaseURL: base,
    authorizationParams: { response_type: 'code', audience, scope: args.scope },
  }),
];

const browser = await chromium.launch({ executablePath: args.chromium, args: ['--no-sandbox'] });
// A server on HTTPS has a certificate made for the test: the script's Node trusts it through
// NODE_EXTRA_CA_CERTS, Chromium by ignoring the error.
const tab = await (await browser.newContext({ ignoreHTTPSErrors: base.startsWith('https:') })).newPage();

let shot = 0;
async function screenshot(name) {
  shot += 1;
  const file = join(artifacts, `eoc-${String(shot).padStart(2, '0')}-${name}.png`);
  await tab.screenshot({ path: file, fullPage: true });
}

// A route of the app that answers JSON, as the browser shows it.
async function json(url) {
  const answer = await tab.goto(url);
  const text = await tab.textContent('body');
  check(answer.ok(), `${url}: ${answer.status()} ${text}`);
  return JSON.parse(text);
}

// From the app's /login to Castellan's log-in page, signed in there, and back on the app's
// home page: the authorization request's parameters.
async function logIn(app) {
  await tab.goto(`${app}/login`);
  await tab.waitForURL((url) => url.href.startsWith(`${base}/authorize`));
  const request = new URL(tab.url()).searchParams;
  await screenshot('login');
  await tab.fill('input[name=username]', args.email);
  await tab.fill('input[name=password]', args.password);
  await Promise.all([tab.waitForURL(`${app}/`), tab.click('button[type=submit]')]);
  check((await tab.textContent('body')) === 'Logged in', `signed in: ${await tab.textContent('body')}`);
  return request;
}

// /logout through `endpoint` at Castellan and back to the app, signed out.
async function logOut(app, endpoint) {
  const idp = tab.waitForRequest((request) => request.url().startsWith(`${base}${endpoint}`));
  await tab.goto(`${app}/logout`);
  const request = new URL((await idp).url()).searchParams;
  await tab.waitForURL((url) => url.href.startsWith(app) && !url.pathname.startsWith('/logout'));
  check((await tab.textContent('body')) === 'Logged out', `signed out: ${await tab.textContent('body')}`);
  // Signing in again asks for the password: Castellan's session ended.
  await tab.goto(`${app}/login`);
  await tab.waitForSelector('input[name=password]');
  check(tab.url().startsWith(`${base}/`), `the log-in page again: ${tab.url()}`);
  return request;
}

try {
  step('the quickstart: /login asks for an ID token, posted back, with a nonce');
  const request = await logIn(quickstart);
  check(request.get('response_type') === 'id_token', `response_type: ${request}`);
  check(request.get('response_mode') === 'form_post', `response_mode: ${request}`);
  check(request.get('nonce'), `a nonce: ${request}`);
  check(request.get('redirect_uri') === `${quickstart}/callback`, `redirect_uri: ${request}`);

  step('the quickstart: /profile shows req.oidc.user');
  const user = await json(`${quickstart}/profile`);
  check(user.email === args.email && user.sub, `req.oidc.user: ${JSON.stringify(user)}`);
  check(!('nonce' in user), `the SDK keeps protocol claims out of the user: ${JSON.stringify(user)}`);
  await screenshot('quickstart-profile');

  step('the quickstart: /logout goes through /v2/logout and back');
  const logout = await logOut(quickstart, '/v2/logout');
  check(logout.get('client_id') === args['quickstart-id'], `/v2/logout's client_id: ${logout}`);
  check(logout.get('returnTo').startsWith(quickstart), `/v2/logout's returnTo: ${logout}`);

  step('the code flow: /login asks for a code for the API');
  const codeRequest = await logIn(codeApp);
  check(codeRequest.get('response_type') === 'code', `response_type: ${codeRequest}`);
  check(codeRequest.get('audience') === audience, `audience: ${codeRequest}`);

  step('the code flow: /profile, then /userinfo called with req.oidc.accessToken');
  const codeUser = await json(`${codeApp}/profile`);
  check(codeUser.email === args.email, `req.oidc.user: ${JSON.stringify(codeUser)}`);
  const called = await json(`${codeApp}/userinfo`);
  check(called.userinfo.sub === codeUser.sub && called.userinfo.email === args.email,
    `userinfo: ${JSON.stringify(called)}`);
  const aud = [].concat(called.access_token.aud);
  check(aud.includes(audience), `the access token is for the API: ${JSON.stringify(called.access_token)}`);
  const scopes = called.access_token.scope.split(' ');
  for (const scope of args.scope.split(' ')) {
    check(scopes.includes(scope), `the access token has ${scope}: ${JSON.stringify(called.access_token)}`);
  }
  await screenshot('code-userinfo');

  step('the code flow: /logout goes through /oidc/logout with the ID token and back');
  const oidcLogout = await logOut(codeApp, '/oidc/logout');
  check(oidcLogout.get('id_token_hint'), `an id_token_hint: ${oidcLogout}`);
  check(oidcLogout.get('post_logout_redirect_uri').startsWith(codeApp), `post_logout_redirect_uri: ${oidcLogout}`);
  await screenshot('done');
  console.log('the express-openid-connect story passed');
} catch (e) {
  await screenshot('failure').catch(() => {});
  console.error(e);
  process.exitCode = 1;
} finally {
  await browser.close();
  for (const server of servers) server.close();
}
