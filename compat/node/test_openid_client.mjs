#!/usr/bin/env node
// Castellan against openid-client (npm), the certified OpenID Connect relying party library.
//
// openid-client validates the ID token's claims (iss, aud, exp, iat, nonce, azp) but, as
// OpenID Connect Core §3.1.3.7 allows for a token straight from the token endpoint, not its
// signature: jose (openid-client's own JOSE library) checks that against the discovered
// jwks_uri, as resource servers and many web frameworks do.
//
// Run by crates/castellan/tests/it/compat.rs against a real server, with the package installed
// by compat/setup.sh into compat/node/node_modules. Every value can come from the command
// line (--name value) or from the environment:
//
//   --base          CASTELLAN_BASE          http://127.0.0.1:PORT (the issuer is BASE/)
//   --redirect-uri  CASTELLAN_REDIRECT_URI  a callback registered on both clients
//   --spa-id        CASTELLAN_SPA_ID        a public single-page application (no secret, PKCE)
//   --web-id        CASTELLAN_WEB_ID        a confidential regular web application allowed
//   --web-secret    CASTELLAN_WEB_SECRET    the authorization_code and refresh_token grants
//
// The browser is played without JavaScript: GET the authorization URL that the library
// built, read the hidden inputs of the form in the HTML page, POST the form with the CSRF
// cookie, and hand the Location of the redirect (the callback with code and state) back to
// the library. Each check prints one line; the first failure prints what was expected and
// what came back, and the script exits 1.

import { parseArgs } from 'node:util'
import { readFileSync } from 'node:fs'
import * as client from 'openid-client'
import * as jose from 'jose'

const PASSWORD = 'Correct-Horse-Battery-9'

class CheckFailed extends Error {}

function check(condition, message) {
  if (!condition) throw new CheckFailed(message)
}

function ok(message) {
  console.log(`ok   ${message}`)
}

function options() {
  const names = {
    base: 'CASTELLAN_BASE',
    'redirect-uri': 'CASTELLAN_REDIRECT_URI',
    'spa-id': 'CASTELLAN_SPA_ID',
    'web-id': 'CASTELLAN_WEB_ID',
    'web-secret': 'CASTELLAN_WEB_SECRET',
  }
  const { values } = parseArgs({
    options: Object.fromEntries(Object.keys(names).map((k) => [k, { type: 'string' }])),
  })
  const missing = []
  for (const [name, env] of Object.entries(names)) {
    values[name] ??= process.env[env]
    if (!values[name]) missing.push(`--${name} (or $${env})`)
  }
  if (missing.length) {
    console.error(`missing: ${missing.join(', ')}`)
    process.exit(2)
  }
  values.base = values.base.replace(/\/+$/, '')
  return values
}

/// HTML character references as a template engine writes them in attribute values.
function unescapeHtml(s) {
  const named = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, ref) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10)
      return String.fromCodePoint(code)
    }
    return named[ref.toLowerCase()] ?? whole
  })
}

function attributes(tag) {
  const found = {}
  for (const m of tag.matchAll(/([a-zA-Z_:-]+)\s*=\s*("([^"]*)"|'([^']*)')/g)) {
    found[m[1].toLowerCase()] = unescapeHtml(m[3] ?? m[4])
  }
  return found
}

/// A browser without JavaScript: keeps cookies, never follows redirects.
class Browser {
  constructor() {
    this.cookies = new Map()
  }

  async request(url, init = {}) {
    const headers = new Headers(init.headers)
    if (this.cookies.size) {
      headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '))
    }
    const response = await fetch(url, { ...init, headers, redirect: 'manual' })
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const at = pair.indexOf('=')
      const name = pair.slice(0, at).trim()
      const value = pair.slice(at + 1).trim()
      if (value) this.cookies.set(name, value)
      else this.cookies.delete(name)
    }
    const body = await response.text()
    return { status: response.status, location: response.headers.get('location'), body, url }
  }

  /// The page's form: where it posts and its hidden inputs.
  static form(page, what) {
    const form = page.body.match(/<form\b[^>]*>/i)
    check(form, `${what}: expected an HTML form, got ${page.status}: ${page.body.slice(0, 2000)}`)
    const { action, method } = attributes(form[0])
    check(
      (method ?? '').toLowerCase() === 'post',
      `${what}: expected a form posted with method=post, got ${form[0]}`,
    )
    const fields = {}
    for (const input of page.body.matchAll(/<input\b[^>]*>/gi)) {
      const a = attributes(input[0])
      if (a.type === 'hidden' && a.name) fields[a.name] = a.value ?? ''
    }
    return { action: new URL(action, page.url), fields }
  }

  /// Fills the page's form with `filled` and posts it; the answer must be a redirect.
  async submit(page, filled, what) {
    const { action, fields } = Browser.form(page, what)
    for (const name of ['q', 'csrf']) {
      check(fields[name], `${what}: expected a hidden input "${name}" in the form, got ${JSON.stringify(fields)}`)
    }
    check(this.cookies.has('castellan_csrf'), `${what}: expected the page to set the castellan_csrf cookie`)
    const answer = await this.request(action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...fields, ...filled }).toString(),
    })
    check(
      [302, 303].includes(answer.status) && answer.location,
      `${what}: expected a redirect to the callback after POST ${action.pathname}, ` +
        `got ${answer.status} ${answer.location ?? ''}: ${answer.body.slice(0, 2000)}`,
    )
    return answer
  }
}

/// Builds an authorization-code request with PKCE (S256), state and nonce.
async function authorizationRequest(config, redirectUri, scope, extra = {}) {
  const verifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const nonce = client.randomNonce()
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  })
  return { url, verifier, state, nonce }
}

/// The library's code exchange on the callback URL, with every check it offers.
async function exchange(config, request, location, what) {
  const callback = new URL(location)
  check(callback.searchParams.get('code'), `${what}: expected a code in the callback, got ${location}`)
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
    idTokenExpected: true,
  })
  const claims = tokens.claims()
  check(claims, `${what}: expected a validated ID token, got ${JSON.stringify(tokens)}`)
  return { tokens, claims }
}

async function main() {
  const args = options()
  const pkg = JSON.parse(readFileSync(new URL('./node_modules/openid-client/package.json', import.meta.url)))
  const issuer = new URL(`${args.base}/`)
  const email = `node-${client.randomState().slice(0, 12).toLowerCase()}@example.com`
  console.log(`openid-client ${pkg.version} against ${issuer.href}`)

  // 1. Discovery, for the public SPA (no client authentication) and the confidential web app.
  // Plain http is refused unless allowed: allowInsecureRequests is the documented switch.
  const insecure = { execute: [client.allowInsecureRequests] }
  const spa = await client.discovery(issuer, args['spa-id'], undefined, client.None(), insecure)
  const web = await client.discovery(
    issuer,
    args['web-id'],
    undefined,
    client.ClientSecretBasic(args['web-secret']),
    insecure,
  )
  const metadata = spa.serverMetadata()
  check(metadata.issuer === issuer.href, `discovery: expected issuer ${issuer.href}, got ${metadata.issuer}`)
  check(metadata.supportsPKCE('S256'), `discovery: expected code_challenge_methods_supported to list S256`)
  ok(`discovery -> issuer ${metadata.issuer}, token endpoint ${metadata.token_endpoint}`)
  const jwks = jose.createRemoteJWKSet(new URL(metadata.jwks_uri))
  const verifySignature = async (token, audience, what) => {
    try {
      const { payload, protectedHeader } = await jose.jwtVerify(token, jwks, { issuer: issuer.href, audience })
      return { payload, protectedHeader }
    } catch (e) {
      throw new CheckFailed(`${what}: expected a token signed by a key of ${metadata.jwks_uri} for ${audience}, jose says ${e.code ?? e.name}: ${e.message}`)
    }
  }

  // 2. The SPA: sign-up through the server's page, then the code exchange with PKCE.
  const browser = new Browser()
  const signupRequest = await authorizationRequest(spa, args['redirect-uri'], 'openid profile email', {
    screen_hint: 'signup',
  })
  const signupPage = await browser.request(signupRequest.url)
  check(signupPage.status === 200, `GET ${signupRequest.url}: expected 200 and the sign-up page, got ${signupPage.status} ${signupPage.body.slice(0, 2000)}`)
  check(
    Browser.form(signupPage, 'sign-up page').action.pathname === '/authorize/signup',
    `sign-up page: expected a form posting to /authorize/signup`,
  )
  const signedUp = await browser.submit(signupPage, { email, password: PASSWORD }, 'sign-up')
  check(
    signedUp.location.startsWith(args['redirect-uri']),
    `sign-up: expected a redirect to ${args['redirect-uri']}, got ${signedUp.location}`,
  )
  const first = await exchange(spa, signupRequest, signedUp.location, 'SPA code exchange')
  check(first.claims.aud === args['spa-id'] || first.claims.aud?.includes?.(args['spa-id']), `SPA ID token: expected aud ${args['spa-id']}, got ${JSON.stringify(first.claims.aud)}`)
  check(first.claims.email === email, `SPA ID token: expected email ${email}, got ${JSON.stringify(first.claims)}`)
  ok(`sign-up page + authorizationCodeGrant (public client, PKCE S256) -> ID token for ${first.claims.sub}`)
  const signed = await verifySignature(first.tokens.id_token, args['spa-id'], 'SPA ID token signature')
  ok(`jose.jwtVerify(ID token, jwks_uri) -> signed with ${signed.protectedHeader.alg}`)

  const spaInfo = await client.fetchUserInfo(spa, first.tokens.access_token, first.claims.sub)
  check(spaInfo.email === email, `SPA userinfo: expected email ${email}, got ${JSON.stringify(spaInfo)}`)
  ok(`fetchUserInfo (SPA access token) -> ${spaInfo.email}`)

  // 3. Single sign-on: the same browser asking for the web app gets its code at once.
  const ssoRequest = await authorizationRequest(web, args['redirect-uri'], 'openid email')
  const sso = await browser.request(ssoRequest.url)
  check(
    [302, 303].includes(sso.status) && sso.location,
    `single sign-on: expected a redirect with a code for a signed-in browser, got ${sso.status}: ${sso.body.slice(0, 2000)}`,
  )
  const second = await exchange(web, ssoRequest, sso.location, 'single sign-on code exchange')
  check(second.claims.sub === first.claims.sub, `single sign-on: expected sub ${first.claims.sub}, got ${second.claims.sub}`)
  ok(`single sign-on + authorizationCodeGrant (client_secret_basic) -> same sub`)

  // 4. A fresh browser: the log-in page, a confidential client, then a refresh.
  const other = new Browser()
  const loginRequest = await authorizationRequest(web, args['redirect-uri'], 'openid profile email offline_access')
  const loginPage = await other.request(loginRequest.url)
  check(loginPage.status === 200, `GET ${loginRequest.url}: expected 200 and the log-in page, got ${loginPage.status} ${loginPage.body.slice(0, 2000)}`)
  check(
    Browser.form(loginPage, 'log-in page').action.pathname === '/authorize/login',
    `log-in page: expected a form posting to /authorize/login`,
  )
  const loggedIn = await other.submit(loginPage, { username: email, password: PASSWORD }, 'log-in')
  const third = await exchange(web, loginRequest, loggedIn.location, 'web code exchange')
  check(third.claims.sub === first.claims.sub, `log-in: expected sub ${first.claims.sub}, got ${third.claims.sub}`)
  check(third.tokens.refresh_token, `log-in: expected a refresh_token with offline_access, got ${Object.keys(third.tokens)}`)
  ok(`log-in page + authorizationCodeGrant (client_secret_basic) -> ID token and refresh token`)

  const webInfo = await client.fetchUserInfo(web, third.tokens.access_token, third.claims.sub)
  check(webInfo.sub === third.claims.sub && webInfo.email === email, `web userinfo: expected ${third.claims.sub} / ${email}, got ${JSON.stringify(webInfo)}`)
  ok(`fetchUserInfo (web access token) -> ${webInfo.sub}`)

  const refreshed = await client.refreshTokenGrant(web, third.tokens.refresh_token)
  check(refreshed.access_token, `refreshTokenGrant: expected an access_token, got ${JSON.stringify(refreshed)}`)
  const refreshedClaims = refreshed.claims()
  check(
    !refreshedClaims || refreshedClaims.sub === third.claims.sub,
    `refreshTokenGrant: expected the ID token of ${third.claims.sub}, got ${JSON.stringify(refreshedClaims)}`,
  )
  ok(`refreshTokenGrant -> new access token${refreshedClaims ? ' and a validated ID token' : ''}`)

  // 5. The library refuses a callback whose state is not the one it sent.
  const forged = await authorizationRequest(web, args['redirect-uri'], 'openid')
  const forgedAnswer = await other.request(forged.url)
  check(forgedAnswer.location, `single sign-on: expected a redirect, got ${forgedAnswer.status}`)
  let refused = null
  try {
    await client.authorizationCodeGrant(web, new URL(forgedAnswer.location), {
      pkceCodeVerifier: forged.verifier,
      expectedState: client.randomState(),
    })
  } catch (e) {
    refused = e
  }
  check(refused, `a callback with another state: expected the library to refuse it`)
  ok(`authorizationCodeGrant with a mismatched state -> refused (${refused.code ?? refused.name})`)
}

try {
  await main()
  console.log('openid-client: all checks passed')
} catch (e) {
  if (e instanceof CheckFailed) {
    console.error(`FAIL ${e.message}`)
  } else {
    console.error('FAIL unexpected error:')
    console.error(e)
    if (e?.cause) console.error('cause:', e.cause)
  }
  process.exit(1)
}
