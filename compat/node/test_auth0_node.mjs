#!/usr/bin/env node
// Castellan against the Management API layer of the official Node SDK, npm `auth0` v7.
//
// What people's provisioning scripts do: an API with scopes and RBAC, roles with permissions,
// users created and searched, roles assigned, everything listed with `for await` over the
// SDK's pages (which always send include_totals=true and ask for the next page until an
// empty or short one comes back), and errors raised with their HTTP status.
//
// v7's ManagementClient hardcodes https://{domain}/api/v2, so, as documented for a
// plain-http server, the script uses the per-resource clients the package exports
// (`auth0/resourceServers`, `auth0/roles`, `auth0/users`: camelCase export paths) with
// {baseUrl: BASE/api/v2, token}. The token comes from the v4 AuthenticationClient that v7
// still ships as `auth0/legacy`, pointed at the server with its `fetch` option (it builds
// https://{domain} URLs), for the audience https://HOST:PORT/api/v2/ (the https form every
// SDK builds from the domain). Users are signed up through the same client as well.
//
// Run by crates/castellan/tests/it/compat.rs against a real server, with the package installed
// by compat/setup.sh into compat/node/node_modules. Every value can come from the command
// line (--name value) or from the environment:
//
//   --base        CASTELLAN_BASE             http://127.0.0.1:PORT (no trailing slash)
//   --app-id      CASTELLAN_APP_ID           an application that may sign users up on the
//                                            Username-Password-Authentication connection
//   --m2m-id      CASTELLAN_MGMT_M2M_ID      a machine-to-machine client with a client grant
//   --m2m-secret  CASTELLAN_MGMT_M2M_SECRET  on the Management API (the scopes are in compat.rs)
//
// Each check prints one line, "ok" or "FAIL" with what was expected and what came back; the
// checks that do not depend on a failed one still run, and the script exits 1 if any failed.

import { parseArgs } from 'node:util'
import { readFileSync } from 'node:fs'
import { randomUUID } from 'node:crypto'
import { ManagementError } from 'auth0'
import { ResourceServersClient } from 'auth0/resourceServers'
import { RolesClient } from 'auth0/roles'
import { UsersClient } from 'auth0/users'
import { AuthenticationClient } from 'auth0/legacy'
import * as jose from 'jose'

const CONNECTION = 'Username-Password-Authentication'
const PASSWORD = 'Correct-Horse-Battery-9'
// Small pages, so that every listing below spans several of them.
const PER_PAGE = 2
// A server that never answers an empty page would keep `for await` going forever.
const MAX_ITEMS = 500

class CheckFailed extends Error {}

function check(condition, message) {
  if (!condition) throw new CheckFailed(message)
}

function ok(message) {
  console.log(`ok   ${message}`)
}

const show = (v) => JSON.stringify(v)

/// Every item of a Page, with `for await` as the SDK's README shows, bounded.
async function all(pagePromise) {
  const items = []
  for await (const item of await pagePromise) {
    items.push(item)
    check(
      items.length <= MAX_ITEMS,
      `still paging after ${MAX_ITEMS} items (the server never answered an empty page?): ` +
        `first ${show(items.slice(0, 3))}`,
    )
  }
  return items
}

/// `call` must throw the SDK's ManagementError (or a subclass) with this status.
async function expectStatus(call, status, what) {
  let answer
  try {
    answer = await call()
  } catch (e) {
    check(
      e instanceof ManagementError && e.statusCode === status,
      `${what}: expected a ManagementError with status ${status}, got ` +
        `${e?.constructor?.name}(${e?.statusCode}, body=${show(e?.body)}): ${String(e?.message).split("\n")[0]}`,
    )
    return e
  }
  throw new CheckFailed(`${what}: expected a ManagementError with status ${status}, got success: ${show(answer)}`)
}

/// Every id of `wanted` appears once in `seen`, and no id of `seen` twice.
function exactlyOnce(seen, wanted, what) {
  const counts = new Map()
  for (const id of seen) counts.set(id, (counts.get(id) ?? 0) + 1)
  const twice = [...counts].filter(([, n]) => n > 1).map(([id]) => id)
  const missing = wanted.filter((id) => !counts.has(id))
  check(twice.length === 0, `${what}: returned more than once: ${show(twice)} (all: ${show(seen)})`)
  check(missing.length === 0, `${what}: never returned: ${show(missing)} (all: ${show(seen)})`)
}

const sorted = (a) => [...a].sort()
const same = (a, b) => show(sorted(a)) === show(sorted(b))

function options() {
  const names = {
    base: 'CASTELLAN_BASE',
    'app-id': 'CASTELLAN_APP_ID',
    'm2m-id': 'CASTELLAN_MGMT_M2M_ID',
    'm2m-secret': 'CASTELLAN_MGMT_M2M_SECRET',
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

/// Runs the checks in order; a failed step is reported and the independent ones still run,
/// while a step that later ones need (`needed`) stops the run.
class Steps {
  failed = []

  async run(name, step, { needed = false } = {}) {
    try {
      return await step()
    } catch (e) {
      if (e instanceof CheckFailed) {
        console.log(`FAIL ${name}: ${e.message}`)
      } else if (e instanceof ManagementError) {
        console.log(`FAIL ${name}: the SDK threw ${e.constructor.name}: status ${e.statusCode}, body ${show(e.body)}`)
      } else {
        console.log(`FAIL ${name}: unexpected ${e?.stack ?? e}`)
      }
    }
    this.failed.push(name)
    if (needed) process.exit(this.finish())
    return undefined
  }

  finish() {
    if (this.failed.length) {
      console.log(`auth0 (node) management: ${this.failed.length} failed: ${this.failed.join(', ')}`)
      return 1
    }
    console.log('auth0 (node) management: all checks passed')
    return 0
  }
}

async function main() {
  const args = options()
  const domain = new URL(args.base).host
  // What the SDKs build from a domain, https even for a plain-http server.
  const audience = `https://${domain}/api/v2/`
  const version = JSON.parse(readFileSync(new URL('./node_modules/auth0/package.json', import.meta.url))).version
  console.log(`auth0 ${version} (node, per-resource management clients) against ${args.base}`)

  const steps = new Steps()
  const tag = randomUUID().replaceAll('-', '').slice(0, 10)
  // The legacy AuthenticationClient builds https://{domain}/...: send it to the server.
  const toServer = (url, init) =>
    fetch(String(typeof url === 'object' && url.url ? url.url : url).replace(/^https:\/\/[^/]+/, args.base), init)

  // 0. The Management API token, and the clients.
  const token = await steps.run(
    'AuthenticationClient.oauth.clientCredentialsGrant (Management API)',
    async () => {
      const auth = new AuthenticationClient({
        domain,
        clientId: args['m2m-id'],
        clientSecret: args['m2m-secret'],
        fetch: toServer,
      })
      const { data } = await auth.oauth.clientCredentialsGrant({ audience })
      const scopes = (jose.decodeJwt(data.access_token).scope ?? '').split(' ')
      for (const needed of ['create:resource_servers', 'create:roles', 'read:users', 'update:users']) {
        check(scopes.includes(needed), `expected scope ${needed} in the token, got ${show(scopes)}`)
      }
      ok(`auth0/legacy oauth.clientCredentialsGrant({audience: ${show(audience)}}) -> ${scopes.length} scopes`)
      return data.access_token
    },
    { needed: true },
  )
  const config = { baseUrl: `${args.base}/api/v2`, token }
  const resourceServers = new ResourceServersClient(config)
  const roles = new RolesClient(config)
  const users = new UsersClient(config)

  // 1. An API with scopes, RBAC on and permissions in the access token.
  const identifier = `https://api-${tag}.example.com/`
  const scopeNames = ['read:docs', 'write:docs', 'delete:docs']
  const apiName = `Docs ${tag}`

  const api = await steps.run(
    'resourceServers.create',
    async () => {
      const created = await resourceServers.create({
        identifier,
        name: apiName,
        scopes: scopeNames.map((value) => ({ value, description: `${value} on docs` })),
        signing_alg: 'RS256',
        enforce_policies: true,
        token_dialect: 'access_token_authz',
        token_lifetime: 3600,
      })
      check(created.id, `expected an id, got ${show(created)}`)
      check(created.identifier === identifier, `expected identifier ${identifier}, got ${show(created)}`)
      check(created.enforce_policies === true, `expected enforce_policies true, got ${show(created)}`)
      check(created.token_dialect === 'access_token_authz', `expected token_dialect access_token_authz, got ${show(created)}`)
      check(same((created.scopes ?? []).map((s) => s.value), scopeNames), `expected scopes ${show(scopeNames)}, got ${show(created.scopes)}`)
      ok(`resourceServers.create -> ${created.id} (RBAC, access_token_authz, ${created.scopes.length} scopes)`)
      return created
    },
    { needed: true },
  )

  await steps.run('resourceServers.get/update', async () => {
    const byId = await resourceServers.get(api.id)
    check(byId.identifier === identifier, `get by id: expected ${identifier}, got ${show(byId)}`)
    // Addressed by its identifier, a URL: the SDK percent-encodes it in the path.
    const byIdentifier = await resourceServers.get(identifier)
    check(byIdentifier.id === api.id, `get by identifier: expected ${api.id}, got ${show(byIdentifier)}`)
    const updated = await resourceServers.update(api.id, { token_lifetime: 7200 })
    check(updated.token_lifetime === 7200 && updated.enforce_policies === true, `update: got ${show(updated)}`)
    ok('resourceServers.get (by id and by identifier), resourceServers.update')
  })

  await steps.run('resourceServers.list across pages', async () => {
    const ids = (await all(resourceServers.list({ per_page: PER_PAGE }))).map((a) => a.id)
    exactlyOnce(ids, [api.id], 'resourceServers.list')
    const first = await resourceServers.list({ per_page: PER_PAGE })
    check(first.response.total === ids.length, `expected total ${ids.length}, got ${show(first.response)}`)
    ok(`for await resourceServers.list({per_page: ${PER_PAGE}}) -> ${ids.length} APIs, each once`)
  })

  // 2. Roles, one of them with permissions on the API.
  const roleNames = [0, 1, 2, 3, 4].map((i) => `${tag}-role-${i}`)
  const created = await steps.run(
    'roles.create',
    async () => {
      const made = []
      for (const name of roleNames) {
        const role = await roles.create({ name, description: `Role ${name}` })
        check(role.id && role.name === name, `expected role ${name}, got ${show(role)}`)
        made.push(role)
      }
      ok(`roles.create x${made.length} -> ${made.map((r) => r.id).join(', ')}`)
      return made
    },
    { needed: true },
  )
  const editor = created[0]

  await steps.run('roles.create of a taken name', async () => {
    const e = await expectStatus(() => roles.create({ name: roleNames[0] }), 409, 'roles.create of a taken name')
    ok(`roles.create of a taken name -> ${e.constructor.name}(409)`)
  })

  await steps.run('roles.permissions.add/list', async () => {
    await roles.permissions.add(editor.id, {
      permissions: ['read:docs', 'write:docs'].map((permission_name) => ({
        resource_server_identifier: identifier,
        permission_name,
      })),
    })
    const listed = await all(roles.permissions.list(editor.id, { per_page: 1 }))
    check(same(listed.map((p) => p.permission_name), ['read:docs', 'write:docs']), `expected read:docs, write:docs, got ${show(listed)}`)
    for (const p of listed) {
      check(
        p.resource_server_identifier === identifier &&
          p.resource_server_name === apiName &&
          p.description === `${p.permission_name} on docs`,
        `expected the API's identifier, name and the scope's description, got ${show(p)}`,
      )
    }
    ok('roles.permissions.add, for await roles.permissions.list({per_page: 1}) -> 2 permissions')
  })

  await steps.run('roles.list across pages', async () => {
    const ids = (await all(roles.list({ per_page: PER_PAGE }))).map((r) => r.id)
    exactlyOnce(ids, created.map((r) => r.id), 'roles.list')
    const first = await roles.list({ per_page: PER_PAGE })
    check(first.response.total === ids.length, `expected total ${ids.length}, got ${show(first.response)}`)
    const filtered = (await all(roles.list({ name_filter: `${tag}-role-`, per_page: PER_PAGE }))).map((r) => r.name)
    check(same(filtered, roleNames), `name_filter: expected ${show(roleNames)}, got ${show(filtered)}`)
    ok(`for await roles.list({per_page: ${PER_PAGE}}) -> ${ids.length} roles, each once; name_filter`)
  })

  await steps.run('roles.get/update', async () => {
    const got = await roles.get(editor.id)
    check(got.name === roleNames[0], `roles.get: expected ${roleNames[0]}, got ${show(got)}`)
    const updated = await roles.update(editor.id, { description: 'Edits the docs' })
    check(updated.description === 'Edits the docs', `roles.update: got ${show(updated)}`)
    ok('roles.get, roles.update')
  })

  await steps.run('roles.get of an unknown id', async () => {
    const e = await expectStatus(() => roles.get('rol_doesnotexist0000'), 404, 'roles.get')
    ok(`roles.get of an unknown id -> ${e.constructor.name}(404)`)
  })

  // 3. Users: signed up through the Authentication API, and created through the
  // Management API.
  const signedUp = await steps.run(
    'database.signUp',
    async () => {
      const auth = new AuthenticationClient({ domain, clientId: args['app-id'], fetch: toServer })
      const ids = []
      for (const i of [0, 1, 2]) {
        const { data } = await auth.database.signUp({
          email: `${tag}-signup-${i}@example.com`,
          password: PASSWORD,
          connection: CONNECTION,
        })
        check(data._id, `expected an _id, got ${show(data)}`)
        ids.push(`auth0|${data._id}`)
      }
      ok(`auth0/legacy database.signUp x${ids.length} -> ${ids.join(', ')}`)
      return ids
    },
    { needed: true },
  )
  const member = signedUp[0]

  const createdUsers =
    (await steps.run('users.create', async () => {
      const ids = []
      for (const i of [0, 1, 2]) {
        const email = `${tag}-created-${i}@example.com`
        const user = await users.create({
          connection: CONNECTION,
          email,
          password: PASSWORD,
          app_metadata: { plan: 'free', flags: { beta: true } },
          user_metadata: { theme: 'dark' },
        })
        check(user.user_id?.startsWith('auth0|'), `expected an auth0| user_id, got ${show(user)}`)
        check(user.email === email, `expected email ${email}, got ${show(user)}`)
        ids.push(user.user_id)
      }
      ok(`users.create x${ids.length} -> ${ids.join(', ')}`)
      return ids
    })) ?? []

  await steps.run('users.create of a taken email', async () => {
    const e = await expectStatus(
      () => users.create({ connection: CONNECTION, email: `${tag}-signup-0@example.com`, password: PASSWORD }),
      409,
      'users.create of a taken email',
    )
    ok(`users.create of a taken email -> ${e.constructor.name}(409)`)
  })

  await steps.run('users.get', async () => {
    const user = await users.get(member)
    check(user.user_id === member, `expected ${member}, got ${show(user)}`)
    check(user.email === `${tag}-signup-0@example.com`, `expected the signed-up email, got ${show(user.email)}`)
    check(user.identities?.[0]?.connection === CONNECTION, `expected an identity on ${CONNECTION}, got ${show(user.identities)}`)
    ok(`users.get(${show(member)})`)
  })

  await steps.run('users.update app_metadata', async () => {
    const target = createdUsers[0] ?? member
    await users.update(target, { app_metadata: { plan: 'gold', flags: { beta: true } } })
    const updated = await users.update(target, { app_metadata: { flags: { alpha: true }, seats: 3 } })
    // Merged one level deep: "plan" kept, "flags" replaced as a whole.
    const want = { plan: 'gold', flags: { alpha: true }, seats: 3 }
    const canonical = (o) => show(Object.fromEntries(Object.entries(o ?? {}).sort()))
    check(canonical(updated.app_metadata) === canonical(want), `expected app_metadata ${show(want)}, got ${show(updated.app_metadata)}`)
    const again = (await users.get(target)).app_metadata
    check(canonical(again) === canonical(want), `users.get after the update: expected ${show(want)}, got ${show(again)}`)
    const removed = (await users.update(target, { app_metadata: { seats: null } })).app_metadata
    delete want.seats
    check(canonical(removed) === canonical(want), `null removes a key: expected ${show(want)}, got ${show(removed)}`)
    ok('users.update({app_metadata}) merges one level deep, null removes a key')
  })

  await steps.run('users.list with q (search v3)', async () => {
    const email = `${tag}-signup-1@example.com`
    const found = await all(users.list({ q: `email:"${email}"`, search_engine: 'v3', per_page: PER_PAGE }))
    check(
      show(found.map((u) => u.user_id)) === show([signedUp[1]]),
      `expected exactly ${signedUp[1]}, got ${show(found.map((u) => [u.user_id, u.email]))}`,
    )
    ok(`users.list({q: 'email:"${email}"', search_engine: 'v3'}) -> 1 user`)
  })

  await steps.run('users.list across pages', async () => {
    const ids = (await all(users.list({ per_page: PER_PAGE }))).map((u) => u.user_id)
    exactlyOnce(ids, [...signedUp, ...createdUsers], 'users.list')
    const first = await users.list({ per_page: PER_PAGE })
    check(first.response.total === ids.length, `expected total ${ids.length}, got ${show({ ...first.response, users: undefined })}`)
    ok(`for await users.list({per_page: ${PER_PAGE}}) -> ${ids.length} users, each once`)
  })

  // 4. Roles of a user (a signed-up one: that part needs no user endpoint).
  await steps.run('users.roles.assign/list', async () => {
    const three = created.slice(0, 3).map((r) => r.id)
    await users.roles.assign(member, { roles: three })
    const ids = (await all(users.roles.list(member, { per_page: PER_PAGE }))).map((r) => r.id)
    exactlyOnce(ids, three, 'users.roles.list')
    check(ids.length === 3, `expected 3 roles, got ${show(ids)}`)
    ok(`users.roles.assign(${show(member)}, 3 roles), for await users.roles.list({per_page: ${PER_PAGE}})`)
  })

  await steps.run('roles.users.assign/list', async () => {
    if (createdUsers.length) await roles.users.assign(editor.id, { users: [createdUsers[1]] })
    const listed = (await all(roles.users.list(editor.id, { take: 1 }))).map((u) => u.user_id)
    const want = [member, ...(createdUsers.length ? [createdUsers[1]] : [])]
    exactlyOnce(listed, want, 'roles.users.list')
    check(listed.length === want.length, `expected ${show(want)}, got ${show(listed)}`)
    ok(`roles.users.assign, for await roles.users.list({take: 1}) -> ${show(listed)}`)
  })

  await steps.run('users.permissions.create/list', async () => {
    const target = createdUsers[1] ?? member
    await users.permissions.create(target, {
      permissions: [{ resource_server_identifier: identifier, permission_name: 'delete:docs' }],
    })
    const listed = await all(users.permissions.list(target, { per_page: 1 }))
    const got = listed.map((p) => `${p.resource_server_identifier} ${p.permission_name}`)
    // The direct permission, and the ones of the directly assigned role "editor".
    const want = ['delete:docs', 'read:docs', 'write:docs'].map((p) => `${identifier} ${p}`)
    check(same(got, want) && got.length === want.length, `expected ${show(want)}, got ${show(listed)}`)
    ok(`users.permissions.create, for await users.permissions.list({per_page: 1}) -> ${got.length}`)
  })

  await steps.run('users.roles.delete', async () => {
    await users.roles.delete(member, { roles: [created[1].id, created[2].id] })
    const left = (await all(users.roles.list(member, { per_page: PER_PAGE }))).map((r) => r.id)
    check(show(left) === show([editor.id]), `expected only ${editor.id} left, got ${show(left)}`)
    ok('users.roles.delete -> one role left')
  })

  // 5. Deletion, and what is left is not found.
  await steps.run('users.delete', async () => {
    const target = createdUsers[2] ?? signedUp[2]
    await users.delete(target)
    const e = await expectStatus(() => users.get(target), 404, 'users.get after delete')
    ok(`users.delete, then users.get -> ${e.constructor.name}(404)`)
  })

  await steps.run('roles.delete', async () => {
    const doomed = created[4]
    await roles.delete(doomed.id)
    const e = await expectStatus(() => roles.get(doomed.id), 404, 'roles.get after delete')
    const left = (await all(roles.list({ name_filter: `${tag}-role-` }))).map((r) => r.id)
    check(!left.includes(doomed.id), `roles.list still has ${doomed.id}: ${show(left)}`)
    ok(`roles.delete, then roles.get -> ${e.constructor.name}(404)`)
  })

  await steps.run('resourceServers.delete', async () => {
    await resourceServers.delete(api.id)
    const e = await expectStatus(() => resourceServers.get(api.id), 404, 'resourceServers.get after delete')
    ok(`resourceServers.delete, then resourceServers.get -> ${e.constructor.name}(404)`)
  })

  return steps.finish()
}

process.exit(await main())
