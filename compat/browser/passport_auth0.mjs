// An Express web app on Passport and Auth0's strategy, passport-auth0, unmodified, as Auth0's
// Node.js web app sample sets it up, and a user in headless Chromium (playwright-core) using
// it (crates/castellan/tests/it/browser.rs starts the server on HTTPS, registers the app and
// the user, and runs this script with NODE_EXTRA_CA_CERTS naming the server's certificate).
//
// passport-auth0 takes a bare `domain` and builds `https://{domain}/authorize`,
// `/oauth/token` and `/userinfo` from it, so the server is `127.0.0.1:PORT` on HTTPS; the
// app itself is plain HTTP on another port.
//
// 1. /login (passport.authenticate('auth0')) sends the user to Castellan's log-in page with
//    a state and a nonce;
// 2. the user signs in and comes back to /callback with a code; the strategy exchanges it
//    (client_secret_post), checks the ID token (issuer, audience, nonce), fetches the
//    profile from /userinfo?access_token=..., and hands it to the verify callback;
// 3. /profile shows the user the verify callback kept in the session;
// 4. /logout ends the app's session and sends the user through Castellan's /v2/logout back
//    to the app, after which signing in again shows the log-in page.
//
// Exits non-zero on the first failure, after a screenshot of the page it happened on.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import express from 'express';
import session from 'express-session';
import passport from 'passport';
import Auth0Strategy from 'passport-auth0';
import { chromium } from 'playwright-core';
import { check, claims, step } from './story.mjs';

const { values: args } = parseArgs({
  options: {
    domain: { type: 'string' },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    'app-port': { type: 'string' },
    email: { type: 'string' },
    password: { type: 'string' },
    artifacts: { type: 'string' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
  },
});
for (const name of ['domain', 'client-id', 'client-secret', 'app-port', 'email', 'password', 'artifacts']) {
  if (!args[name]) throw new Error(`--${name} is required`);
}
const { domain, artifacts } = args;
const base = `https://${domain}`;
const appBase = `http://127.0.0.1:${args['app-port']}`;
mkdirSync(artifacts, { recursive: true });

// The app, as Auth0's sample sets it up: a session, the strategy, and the routes.
const verified = [];
passport.use(
  new Auth0Strategy(
    {
      domain,
      clientID: args['client-id'],
      clientSecret: args['client-secret'],
      callbackURL: `${appBase}/callback`,
    },
    (accessToken, refreshToken, extraParams, profile, done) => {
      verified.push({ accessToken, extraParams, profile });
      const { _raw, _json, ...user } = profile;
      return done(null, { ...user, email: _json.email, id_token: claims(extraParams.id_token) });
    },
  ),
);
passport.serializeUser((user, done) => done(null, user));
passport.deserializeUser((user, done) => done(null, user));

const app = express();
app.use(session({ secret: 'a long, randomly-generated string', resave: false, saveUninitialized: true }));
app.use(passport.initialize());
app.use(passport.session());
app.get('/', (req, res) => res.send(req.user ? 'Logged in' : 'Logged out'));
app.get('/login', passport.authenticate('auth0', { scope: 'openid email profile' }), (req, res) => res.redirect('/'));
app.get('/callback', (req, res, next) => {
  passport.authenticate('auth0', (err, user, info) => {
    if (err) return next(err);
    if (!user) return next(new Error(`no user: ${JSON.stringify(info)}`));
    req.logIn(user, (err) => (err ? next(err) : res.redirect('/')));
  })(req, res, next);
});
app.get('/profile', (req, res) => (req.user ? res.json(req.user) : res.status(401).send('Logged out')));
app.get('/logout', (req, res, next) => {
  req.logout((err) => {
    if (err) return next(err);
    const logout = new URL(`${base}/v2/logout`);
    logout.search = new URLSearchParams({ client_id: args['client-id'], returnTo: `${appBase}/` }).toString();
    res.redirect(logout.href);
  });
});
app.use((err, req, res, next) => {
  console.error(`  [app] ${err.stack || err}`);
  res.status(500).send(`app error: ${err.message}`);
});
const server = await new Promise((resolve) => {
  const listening = app.listen(Number(args['app-port']), '127.0.0.1', () => resolve(listening));
});

// Chromium is not given the test's certificate: it is told to accept it.
const browser = await chromium.launch({ executablePath: args.chromium, args: ['--no-sandbox'] });
const tab = await (await browser.newContext({ ignoreHTTPSErrors: true })).newPage();

let shot = 0;
async function screenshot(name) {
  shot += 1;
  const file = join(artifacts, `passport-${String(shot).padStart(2, '0')}-${name}.png`);
  await tab.screenshot({ path: file, fullPage: true });
}

try {
  step('/login sends the user to the log-in page with a state and a nonce');
  await tab.goto(`${appBase}/login`);
  await tab.waitForURL((url) => url.href.startsWith(`${base}/authorize`));
  const request = new URL(tab.url()).searchParams;
  check(request.get('response_type') === 'code', `response_type: ${request}`);
  check(request.get('state') && request.get('nonce'), `a state and a nonce: ${request}`);
  await screenshot('login');

  step('the user signs in; /callback exchanges the code, checks the ID token, fetches /userinfo');
  await tab.fill('input[name=username]', args.email);
  await tab.fill('input[name=password]', args.password);
  await Promise.all([tab.waitForURL(`${appBase}/`), tab.click('button[type=submit]')]);
  check((await tab.textContent('body')) === 'Logged in', `signed in: ${await tab.textContent('body')}`);
  check(verified.length === 1, `the verify callback ran once: ${verified.length}`);
  const [{ accessToken, extraParams, profile }] = verified;
  check(accessToken && extraParams.id_token, `tokens: ${JSON.stringify(extraParams)}`);
  // The profile is what /userinfo answered (the strategy's Profile keeps the answer in _json).
  check(profile._json.email === args.email, `the profile from /userinfo: ${JSON.stringify(profile._json)}`);
  check(profile.id === profile._json.sub && profile.id.startsWith('auth0|'), `the profile's id: ${profile.id}`);
  check(profile.provider === 'auth0', `the profile's provider: ${profile.provider}`);
  check(claims(extraParams.id_token).sub === profile.id, 'the ID token and the profile name the same user');

  step('/profile shows the user kept in the session');
  const answer = await tab.goto(`${appBase}/profile`);
  const user = JSON.parse(await tab.textContent('body'));
  check(answer.ok() && user.email === args.email && user.id === profile.id, `/profile: ${JSON.stringify(user)}`);
  check(user.id_token.iss === `${base}/`, `the ID token's issuer: ${user.id_token.iss}`);
  await screenshot('profile');

  step('/logout goes through /v2/logout and back, and the log-in page asks again');
  const idp = tab.waitForRequest((request) => request.url().startsWith(`${base}/v2/logout`));
  await tab.goto(`${appBase}/logout`);
  await idp;
  await tab.waitForURL(`${appBase}/`);
  check((await tab.textContent('body')) === 'Logged out', `signed out: ${await tab.textContent('body')}`);
  await tab.goto(`${appBase}/login`);
  await tab.waitForSelector('input[name=password]');
  check(tab.url().startsWith(`${base}/`), `the log-in page again: ${tab.url()}`);
  await screenshot('done');
  console.log('the passport-auth0 story passed');
} catch (e) {
  await screenshot('failure').catch(() => {});
  console.error(e);
  process.exitCode = 1;
} finally {
  await browser.close();
  server.close();
}
