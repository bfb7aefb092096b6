// The device authorization flow (RFC 8628) with a real browser on the activation page
// (crates/castellan/tests/it/browser.rs starts the server and runs this script):
//
// 1. the "device" (this script, with Node's fetch) asks /oauth/device/code for a code;
// 2. it polls /oauth/token and is told authorization_pending;
// 3. the user opens verification_uri_complete in headless Chromium, sends the code, logs
//    in and confirms;
// 4. the device, polling at the interval it was given, gets its tokens, once.
//
// A screenshot of each page goes to --artifacts. Exits non-zero on the first failure.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import { check, claims, step } from './story.mjs';

const { values: args } = parseArgs({
  options: {
    base: { type: 'string' },
    'client-id': { type: 'string' },
    audience: { type: 'string' },
    email: { type: 'string' },
    password: { type: 'string' },
    artifacts: { type: 'string' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
  },
});
for (const name of ['base', 'client-id', 'audience', 'email', 'password', 'artifacts']) {
  if (!args[name]) throw new Error(`--${name} is required`);
}
const { base, artifacts } = args;
const clientId = args['client-id'];
const GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
mkdirSync(artifacts, { recursive: true });

let shot = 0;
async function screenshot(tab, name) {
  shot += 1;
  const file = join(artifacts, `device-${String(shot).padStart(2, '0')}-${name}.png`);
  await tab.screenshot({ path: file, fullPage: true });
}

async function post(path, form) {
  const answer = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: answer.status, body: await answer.json() };
}

step('the device asks for a code');
const code = await post('/oauth/device/code', {
  client_id: clientId,
  scope: 'openid email offline_access',
  audience: args.audience,
});
check(code.status === 200, `device code: ${JSON.stringify(code)}`);
const { device_code: deviceCode, user_code: userCode, verification_uri_complete: complete } = code.body;
check(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/.test(userCode), `user code ${userCode}`);
check(complete === `${base}/activate?user_code=${userCode}`, `verification_uri_complete ${complete}`);
let interval = code.body.interval;

const poll = () => post('/oauth/token', { grant_type: GRANT, device_code: deviceCode, client_id: clientId });
step('its first poll is pending');
const first = await poll();
check(first.status === 403 && first.body.error === 'authorization_pending', `first poll: ${JSON.stringify(first)}`);

const browser = await chromium.launch({ executablePath: args.chromium, args: ['--no-sandbox'] });
// A server on HTTPS has a certificate made for the test: the script's Node trusts it through
// NODE_EXTRA_CA_CERTS, Chromium by ignoring the error.
const tab = await (await browser.newContext({ ignoreHTTPSErrors: base.startsWith('https:') })).newPage();
try {
  step('the user opens verification_uri_complete: the code is filled in');
  await tab.goto(complete);
  check((await tab.inputValue('input[name=user_code]')) === userCode, 'the code is filled in');
  await screenshot(tab, 'code');
  await Promise.all([tab.waitForNavigation(), tab.click('button[type=submit]')]);

  step('logs in');
  await tab.waitForSelector('input[name=password]');
  await screenshot(tab, 'login');
  await tab.fill('input[name=username]', args.email);
  await tab.fill('input[name=password]', args.password);
  await Promise.all([tab.waitForNavigation(), tab.click('button[type=submit]')]);

  step('confirms the device');
  const question = await tab.textContent('main');
  check(question.includes(userCode) && question.includes('offline_access'), `confirmation page: ${question}`);
  await screenshot(tab, 'confirm');
  await Promise.all([tab.waitForNavigation(), tab.click('button[value=allow]')]);
  const done = await tab.textContent('main');
  check(done.includes('You can return to your device'), `after confirming: ${done}`);
  await screenshot(tab, 'done');
} catch (e) {
  await screenshot(tab, 'failure').catch(() => {});
  throw e;
} finally {
  await browser.close();
}

step('the device polls at its interval until it gets tokens');
let tokens;
for (let attempt = 0; attempt < 10 && !tokens; attempt += 1) {
  await sleep(interval * 1000);
  const answer = await poll();
  if (answer.status === 200) tokens = answer.body;
  else if (answer.body.error === 'slow_down') interval += 5;
  else check(answer.body.error === 'authorization_pending', `poll: ${JSON.stringify(answer)}`);
}
check(tokens, 'tokens within ten polls');
const access = claims(tokens.access_token);
const id = claims(tokens.id_token);
check([].concat(access.aud).includes(args.audience), `access token audience: ${JSON.stringify(access)}`);
check(id.email === args.email && id.sub === access.sub && id.aud === clientId, `ID token: ${JSON.stringify(id)}`);
check(typeof tokens.refresh_token === 'string', 'a refresh token with offline_access');

step('the code is used up');
await sleep(interval * 1000);
const again = await poll();
check(again.status === 403 && again.body.error === 'invalid_grant', `second exchange: ${JSON.stringify(again)}`);
console.log('device flow: ok');
