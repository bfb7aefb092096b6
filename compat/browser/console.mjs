// The admin console and the log-in pages in headless Chromium, driven by playwright-core
// (crates/castellan/tests/it/browser.rs starts the server and runs this script):
//
// 1. an administrator logs in to /admin through the log-in page;
// 2. creates a role and makes it the database connection's sign-up default;
// 3. a new user signs up through /authorize's sign-up page and gets tokens;
// 4. the administrator finds that user and sees the role on them;
// 5. the administrator writes a rule in the console, tries it, saves it, and the user's
//    next token carries the rule's claim (the first did not);
// 6. every console page is visited.
//
// A screenshot of each page goes to --artifacts. Exits non-zero on the first failure,
// after a screenshot of the page it happened on.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { check, claims, step } from './story.mjs';

const { values: args } = parseArgs({
  options: {
    base: { type: 'string' },
    'admin-email': { type: 'string' },
    'admin-password': { type: 'string' },
    'app-id': { type: 'string' },
    'app-secret': { type: 'string' },
    'redirect-uri': { type: 'string' },
    audience: { type: 'string' },
    artifacts: { type: 'string' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
  },
});
for (const name of ['base', 'admin-email', 'admin-password', 'app-id', 'app-secret', 'redirect-uri', 'audience', 'artifacts']) {
  if (!args[name]) throw new Error(`--${name} is required`);
}
const base = args.base;
const artifacts = args.artifacts;
mkdirSync(artifacts, { recursive: true });

const ROLE = 'member';
const CLAIM = 'https://castellan.example/roles';
const NEW_USER = `newcomer-${Date.now()}@example.com`;
const NEW_PASSWORD = 'a long and unusual passphrase';

let shot = 0;
async function screenshot(page, name) {
  shot += 1;
  const file = join(artifacts, `${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`screenshot ${file}`);
}

// An authorization-code log-in of the application in `page`, ending at the callback;
// returns the tokens of the exchange.
async function authorize(page, { signup, screenshotName }) {
  const state = Math.random().toString(36).slice(2);
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: args['app-id'],
    redirect_uri: args['redirect-uri'],
    scope: 'openid profile email',
    audience: args.audience,
    state,
  });
  if (signup) query.set('screen_hint', 'signup');
  // The application's callback is not served here: the browser only has to get there.
  const landed = page.waitForURL((url) => url.href.startsWith(args['redirect-uri']));
  await page.goto(`${base}/authorize?${query}`);
  if (signup) {
    await page.fill('#email', NEW_USER);
    await page.fill('#password', NEW_PASSWORD);
    await screenshot(page, screenshotName);
    await page.click('button:has-text("Create account")');
  } else if (!page.url().startsWith(args['redirect-uri']) && (await page.locator('#password').count())) {
    await page.fill('#username', NEW_USER);
    await page.fill('#password', NEW_PASSWORD);
    await screenshot(page, screenshotName);
    await page.click('button:has-text("Continue")');
  }
  await landed;
  const back = new URL(page.url());
  check(back.searchParams.get('state') === state, `state came back as ${back.searchParams.get('state')}`);
  const code = back.searchParams.get('code');
  check(code, `no code in ${back}: ${back.searchParams.get('error_description')}`);
  const answer = await fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: args['app-id'],
      client_secret: args['app-secret'],
      code,
      redirect_uri: args['redirect-uri'],
    }),
  });
  const tokens = await answer.json();
  check(answer.ok, `the code exchange failed: ${JSON.stringify(tokens)}`);
  return tokens;
}

async function expectNotice(page, text) {
  const notice = await page.locator('p.notice').first().textContent();
  check(notice && notice.includes(text), `expected the notice "${text}", got "${notice}"`);
}

const browser = await chromium.launch({
  executablePath: args.chromium,
  headless: true,
  // The test runs as root in a container, where Chromium's sandbox cannot start.
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
const adminContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const admin = await adminContext.newPage();
const userContext = await browser.newContext({ viewport: { width: 1000, height: 800 } });
const user = await userContext.newPage();
let current = admin;
// What the browser complains about on the console's pages: a Content-Security-Policy
// violation is a console error; a failed load is recorded with its URL (the browser's own
// /favicon.ico guess is not a page's resource).
const complaints = [];
admin.on('console', (m) => {
  if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) complaints.push(m.text());
});
admin.on('response', (r) => {
  if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) complaints.push(`${r.status()} ${r.url()}`);
});

try {
  step('the administrator opens /admin and is sent to the log-in page');
  await admin.goto(`${base}/admin`);
  check(new URL(admin.url()).pathname === '/authorize', `expected the log-in page, at ${admin.url()}`);
  await admin.fill('#username', args['admin-email']);
  await admin.fill('#password', args['admin-password']);
  await screenshot(admin, 'console-login');
  await admin.click('button:has-text("Continue")');
  await admin.waitForURL(`${base}/admin/users`);
  check((await admin.textContent('header')).includes(args['admin-email']), 'the header names the administrator');
  await screenshot(admin, 'users');

  step(`creates the role ${ROLE}`);
  await admin.goto(`${base}/admin/roles`);
  await admin.fill('#name', ROLE);
  await admin.fill('#description', 'Everyone who signs up');
  await admin.click('button:has-text("Create role")');
  await admin.waitForURL(/\/admin\/roles\/rol_[^/]+\?done=created$/);
  await expectNotice(admin, 'Created.');
  await screenshot(admin, 'role');

  step('makes it the sign-up default of the database connection');
  await admin.goto(`${base}/admin/connections`);
  await admin.click('a:has-text("Username-Password-Authentication")');
  await admin.getByLabel(ROLE, { exact: true }).check();
  await admin.selectOption('#on', 'signup');
  await admin.click('button:has-text("Save default assignments")');
  await admin.waitForURL(/done=saved$/);
  await expectNotice(admin, 'Saved.');
  check(await admin.getByLabel(ROLE, { exact: true }).isChecked(), 'the default is shown as set');
  await screenshot(admin, 'connection-defaults');

  step(`${NEW_USER} signs up through the sign-up page`);
  current = user;
  const first = await authorize(user, { signup: true, screenshotName: 'signup' });
  check(!(CLAIM in claims(first.access_token)), 'no rule yet, so no claim yet');
  const firstClaims = claims(first.access_token);

  step('the administrator finds the new user and sees the role');
  current = admin;
  await admin.goto(`${base}/admin/users`);
  await admin.fill('#q', NEW_USER);
  await admin.click('form.search button');
  await admin.click(`a:has-text("${NEW_USER}")`);
  await admin.waitForURL(/\/admin\/users\/auth0%7C/);
  const roles = await admin.locator('#roles table').textContent();
  check(roles.includes(ROLE), `the user's roles show ${ROLE}: ${roles}`);
  await screenshot(admin, 'new-user');

  step('writes a rule in the console, tries it against the new user, and saves it');
  await admin.goto(`${base}/admin/rules/new`);
  await admin.fill('#name', 'roles into the token');
  await admin.fill(
    '#script',
    `function (user, context, callback) {\n  context.accessToken['${CLAIM}'] = context.authorization.roles;\n  context.idToken['${CLAIM}'] = context.authorization.roles;\n  callback(null, user, context);\n}\n`,
  );
  await admin.fill('#try_user', NEW_USER);
  await admin.click('button:has-text("Try it")');
  await admin.waitForSelector('#try-verdict');
  const verdict = await admin.textContent('#try-verdict');
  check(verdict.includes('would succeed'), `the try says: ${verdict}`);
  const report = await admin.textContent('#try-report');
  check(report.includes(CLAIM) && report.includes(ROLE), `the try report shows the claim: ${report}`);
  await screenshot(admin, 'rule-try');
  await admin.click('button[value="save"]');
  await admin.waitForURL(/\/admin\/rules\/[^/]+\?done=saved$/);
  await screenshot(admin, 'rule-saved');

  step('the user logs in again and the next token carries the claim');
  current = user;
  const second = await authorize(user, { signup: false, screenshotName: 'login-again' });
  const access = claims(second.access_token);
  const id = claims(second.id_token);
  check(Array.isArray(access[CLAIM]) && access[CLAIM].includes(ROLE), `access token ${JSON.stringify(access)}`);
  check(Array.isArray(id[CLAIM]) && id[CLAIM].includes(ROLE), `ID token ${JSON.stringify(id)}`);
  check(access.sub === firstClaims.sub, 'the same user');

  step('every console page');
  current = admin;
  await admin.goto(`${base}/admin/groups`);
  await admin.fill('#name', 'staff');
  await admin.click('button:has-text("Create group")');
  await admin.waitForURL(/\/admin\/groups\/grp_[^/]+\?done=created$/);
  await admin.fill('#member', NEW_USER);
  await admin.click('form[action$="/add-member"] button');
  await admin.waitForURL(/done=assigned$/);
  check((await admin.locator('#members table').textContent()).includes(NEW_USER), 'the member is listed');
  await screenshot(admin, 'group');
  await admin.goto(`${base}/admin/actions`);
  await admin.fill('#name', 'tag the log-in');
  await admin.click('button:has-text("Create action")');
  await admin.waitForURL(/\/admin\/actions\/[^/]+\?done=created$/);
  await screenshot(admin, 'action');
  await admin.goto(`${base}/admin/users/new`);
  await screenshot(admin, 'user-new');
  for (const section of ['roles', 'connections', 'groups', 'apis', 'applications', 'rules', 'actions', 'logs']) {
    await admin.goto(`${base}/admin/${section}`);
    check((await admin.title()).includes('Castellan'), `${section} renders`);
    await screenshot(admin, section);
  }
  for (const [section, link] of [['apis', 'table a'], ['applications', 'table a'], ['logs', 'table a']]) {
    await admin.goto(`${base}/admin/${section}`);
    await admin.click(`${link} >> nth=0`);
    await screenshot(admin, `${section}-detail`);
  }
  check(complaints.length === 0, `the browser reported errors: ${complaints.join('\n')}`);

  step('logs out');
  await admin.goto(`${base}/admin/users`);
  await admin.click('button:has-text("Log out")');
  await admin.waitForSelector('text=You are logged out of the console.');
  await screenshot(admin, 'logged-out');
  await admin.goto(`${base}/admin/users`);
  check(new URL(admin.url()).pathname === '/authorize', 'after logging out the console asks to log in');

  console.log(JSON.stringify({ ok: true, user: NEW_USER, claim: access[CLAIM] }));
} catch (e) {
  await screenshot(current, 'failure').catch(() => {});
  console.error(`FAILED at ${current.url()}: ${e.stack || e}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
