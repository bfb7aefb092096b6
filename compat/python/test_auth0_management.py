#!/usr/bin/env python3
"""Castellan against the Management API layer of the official Python SDK, auth0-python.

What people's provisioning scripts do: an API with scopes and RBAC, roles with permissions,
users created and searched, roles assigned, everything listed through the SDK's pagers
(which always send include_totals=true and ask for the next page until an empty one comes
back), and errors raised with their HTTP status.

auth0-python's ManagementClient hardcodes https://{domain}/api/v2, so, as documented for a
plain-http server, the script uses the Fern client underneath it,
auth0.management.Auth0(base_url=BASE/api/v2, token=...), with a token from
GetToken(..., protocol="http").client_credentials for the audience
https://HOST:PORT/api/v2/ (the https form every SDK builds from the domain).

Run by crates/castellan/tests/it/compat.rs against a real server, with the SDK installed by
compat/setup.sh into compat/.python (PYTHONPATH=compat/.python). Every value can come from
the command line or from the environment:

  --base        CASTELLAN_BASE         http://127.0.0.1:PORT (no trailing slash)
  --app-id      CASTELLAN_APP_ID       an application that may sign users up on the
  --app-secret  CASTELLAN_APP_SECRET   Username-Password-Authentication connection, and
                                       log them in with the password-realm grant
  --m2m-id      CASTELLAN_MGMT_M2M_ID      a machine-to-machine client with a client grant
  --m2m-secret  CASTELLAN_MGMT_M2M_SECRET  on the Management API (the scopes are in compat.rs)

Each check prints one line, "ok" or "FAIL" with what was expected and what came back; the
checks that do not depend on a failed one still run, and the script exits 1 if any failed.
"""

from __future__ import annotations

import sys
import uuid
from collections import Counter
from urllib.parse import urlsplit

import auth0
import jwt
from auth0.authentication import Database, GetToken
from auth0.management import Auth0
from auth0.management.core.api_error import ApiError
from auth0.management.types import PermissionRequestPayload, ResourceServerScope

from checks import CheckFailed, Steps, arguments, check

CONNECTION = "Username-Password-Authentication"
# The SDK's default of 5 s is too short for a shared CI machine hashing passwords.
TIMEOUT = 30.0
PASSWORD = "Correct-Horse-Battery-9"
# Small pages, so that every listing below spans several of them.
PER_PAGE = 2


def ok(message: str) -> None:
    print(f"ok   {message}", flush=True)


def expect_api_error(call, status: int, what: str) -> ApiError:
    """Runs `call`, which must raise the SDK's ApiError (or a subclass) with this status."""
    try:
        answer = call()
    except ApiError as e:
        check(
            e.status_code == status,
            f"{what}: expected an error with status {status}, "
            f"got {type(e).__name__}({e.status_code}, body={e.body!r})",
        )
        return e
    raise CheckFailed(f"{what}: expected an error with status {status}, got success: {answer!r}")


def exactly_once(seen: list[str], wanted: list[str], what: str) -> None:
    """Every id of `wanted` appears once in `seen`, and no id of `seen` twice."""
    counts = Counter(seen)
    twice = sorted(k for k, n in counts.items() if n > 1)
    missing = [k for k in wanted if counts[k] == 0]
    check(not twice, f"{what}: returned more than once: {twice} (all: {seen})")
    check(not missing, f"{what}: never returned: {missing} (all: {seen})")


def pages(pager, limit: int = 100) -> list[list]:
    """The non-empty pages a pager walks through, each a list of items. The SDK stops at
    the first empty page: a server that never gives one would keep it going forever."""
    walked = []
    for page in pager.iter_pages():
        walked.append(list(page.items or []))
        check(
            len(walked) <= limit,
            f"still paging after {limit} pages (the server never answered an empty page?): "
            f"first items {walked[0][:3]!r}",
        )
    return walked


def items(pager) -> list:
    """Every item a pager walks through (bounded like `pages`)."""
    return [item for page in pages(pager) for item in page]


def sdk_error(e: Exception) -> str | None:
    """The Management layer's HTTP errors in one line: status and body."""
    if isinstance(e, ApiError):
        return f"the SDK raised {type(e).__name__}: status {e.status_code}, body {e.body!r}"
    return None


OPTIONS = [
    ("--base", "CASTELLAN_BASE", "server base URL, http://127.0.0.1:PORT"),
    ("--app-id", "CASTELLAN_APP_ID", "application allowed to sign users up"),
    ("--app-secret", "CASTELLAN_APP_SECRET", "that application's secret"),
    ("--m2m-id", "CASTELLAN_MGMT_M2M_ID", "machine-to-machine client id"),
    ("--m2m-secret", "CASTELLAN_MGMT_M2M_SECRET", "machine-to-machine client secret"),
]


def main() -> int:
    args = arguments(__doc__.splitlines()[0], OPTIONS)
    url = urlsplit(args.base)
    domain, protocol = url.netloc, url.scheme
    # What the SDKs build from a domain, https even for a plain-http server.
    audience = f"https://{domain}/api/v2/"
    print(f"auth0-python {auth0.__version__} (management layer) against {args.base}", flush=True)

    steps = Steps("auth0-python management", explain=sdk_error)
    tag = uuid.uuid4().hex[:10]

    # 0. The Management API token, and the client.
    def token() -> str:
        granted = GetToken(
            domain, args.m2m_id, client_secret=args.m2m_secret, protocol=protocol, timeout=TIMEOUT
        ).client_credentials(audience=audience)
        claims = jwt.decode(granted["access_token"], options={"verify_signature": False})
        scopes = claims.get("scope", "").split()
        for needed in ("create:resource_servers", "create:roles", "read:users", "update:users"):
            check(needed in scopes, f"expected scope {needed!r} in the token, got {scopes}")
        ok(f"GetToken.client_credentials(audience={audience!r}) -> {len(scopes)} scopes")
        return granted["access_token"]

    access_token = steps.run("GetToken.client_credentials (Management API)", token, needed=True)
    mgmt = Auth0(base_url=f"{args.base}/api/v2", token=access_token)

    # 1. An API with scopes, RBAC on and permissions in the access token.
    identifier = f"https://api-{tag}.example.com/"
    scope_names = ["read:docs", "write:docs", "delete:docs"]

    def create_api():
        api = mgmt.resource_servers.create(
            identifier=identifier,
            name=f"Docs {tag}",
            scopes=[ResourceServerScope(value=s, description=f"{s} on docs") for s in scope_names],
            signing_alg="RS256",
            enforce_policies=True,
            token_dialect="access_token_authz",
            token_lifetime=3600,
        )
        check(api.id, f"expected an id, got {api!r}")
        check(api.identifier == identifier, f"expected identifier {identifier!r}, got {api!r}")
        check(api.enforce_policies is True, f"expected enforce_policies true, got {api!r}")
        check(
            api.token_dialect == "access_token_authz",
            f"expected token_dialect access_token_authz, got {api.token_dialect!r}",
        )
        got = sorted(s.value for s in api.scopes or [])
        check(got == sorted(scope_names), f"expected scopes {scope_names}, got {got}")
        ok(f"resource_servers.create -> {api.id} (RBAC, access_token_authz, {len(got)} scopes)")
        return api

    api = steps.run("resource_servers.create", create_api, needed=True)

    def read_api() -> None:
        by_id = mgmt.resource_servers.get(api.id)
        check(by_id.identifier == identifier, f"get by id: expected {identifier!r}, got {by_id!r}")
        # Addressed by its identifier, a URL: the SDK percent-encodes it in the path.
        by_identifier = mgmt.resource_servers.get(identifier)
        check(by_identifier.id == api.id, f"get by identifier: expected {api.id}, got {by_identifier!r}")
        updated = mgmt.resource_servers.update(api.id, name=f"Docs {tag} (renamed)")
        check(updated.name == f"Docs {tag} (renamed)", f"update: got name {updated.name!r}")
        check(updated.enforce_policies is True, f"update: enforce_policies lost: {updated!r}")
        ok("resource_servers.get (by id and by identifier), resource_servers.update")

    steps.run("resource_servers.get/update", read_api)

    def list_apis() -> None:
        walked = pages(mgmt.resource_servers.list(per_page=PER_PAGE))
        ids = [a.id for page in walked for a in page]
        exactly_once(ids, [api.id], "resource_servers.list")
        first = mgmt.resource_servers.list(per_page=PER_PAGE).response
        check(first.total == len(ids), f"expected total {len(ids)}, got {first.total}")
        ok(f"resource_servers.list(per_page={PER_PAGE}) -> {len(ids)} APIs in {len(walked)} pages")

    steps.run("resource_servers.list across pages", list_apis)

    # 2. Roles, one of them with permissions on the API.
    role_names = [f"{tag}-role-{i}" for i in range(5)]

    def create_roles() -> list:
        created = [
            mgmt.roles.create(name=name, description=f"Role {name}") for name in role_names
        ]
        for role, name in zip(created, role_names):
            check(role.id and role.name == name, f"expected role {name!r}, got {role!r}")
        ok(f"roles.create x{len(created)} -> {', '.join(r.id for r in created)}")
        return created

    roles = steps.run("roles.create", create_roles, needed=True)
    editor = roles[0]

    def role_conflict() -> None:
        # The Fern client retries a 409 twice; the third answer is raised.
        e = expect_api_error(
            lambda: mgmt.roles.create(name=role_names[0]), 409, "roles.create of a taken name"
        )
        ok(f"roles.create of a taken name -> {type(e).__name__}(409)")

    steps.run("roles.create of a taken name", role_conflict)

    def role_permissions() -> None:
        mgmt.roles.permissions.add(
            editor.id,
            permissions=[
                PermissionRequestPayload(resource_server_identifier=identifier, permission_name=p)
                for p in ("read:docs", "write:docs")
            ],
        )
        listed = items(mgmt.roles.permissions.list(editor.id, per_page=1))
        names = sorted(p.permission_name for p in listed)
        check(names == ["read:docs", "write:docs"], f"expected read:docs, write:docs, got {listed!r}")
        for p in listed:
            check(
                p.resource_server_identifier == identifier
                and p.resource_server_name == f"Docs {tag} (renamed)"
                and p.description == f"{p.permission_name} on docs",
                f"expected the API's identifier, name and the scope's description, got {p!r}",
            )
        ok("roles.permissions.add, roles.permissions.list(per_page=1) -> 2 permissions")

    steps.run("roles.permissions.add/list", role_permissions)

    def list_roles() -> None:
        walked = pages(mgmt.roles.list(per_page=PER_PAGE))
        ids = [r.id for page in walked for r in page]
        exactly_once(ids, [r.id for r in roles], "roles.list")
        total = mgmt.roles.list(per_page=PER_PAGE).response.total
        check(total == len(ids), f"expected total {len(ids)}, got {total}")
        filtered = [r.name for r in items(mgmt.roles.list(name_filter=f"{tag}-role-", per_page=PER_PAGE))]
        check(
            sorted(filtered) == sorted(role_names),
            f"name_filter: expected {role_names}, got {filtered}",
        )
        ok(f"roles.list(per_page={PER_PAGE}) -> {len(ids)} roles in {len(walked)} pages, each once")

    steps.run("roles.list across pages", list_roles)

    def role_read_update() -> None:
        got = mgmt.roles.get(editor.id)
        check(got.name == role_names[0], f"roles.get: expected {role_names[0]!r}, got {got!r}")
        updated = mgmt.roles.update(editor.id, description="Edits the docs")
        check(updated.description == "Edits the docs", f"roles.update: got {updated!r}")
        ok("roles.get, roles.update")

    steps.run("roles.get/update", role_read_update)

    def role_not_found() -> None:
        e = expect_api_error(lambda: mgmt.roles.get("rol_doesnotexist0000"), 404, "roles.get")
        ok(f"roles.get of an unknown id -> {type(e).__name__}(404)")

    steps.run("roles.get of an unknown id", role_not_found)

    # 3. Users: signed up through the Authentication API, and created through the
    # Management API.
    database = Database(domain, args.app_id, protocol=protocol, timeout=TIMEOUT)

    def signup_users() -> list[str]:
        ids = []
        for i in range(3):
            created = database.signup(
                email=f"{tag}-signup-{i}@example.com", password=PASSWORD, connection=CONNECTION
            )
            ids.append(f"auth0|{created['_id']}")
        ok(f"Database.signup x{len(ids)} -> {', '.join(ids)}")
        return ids

    signed_up = steps.run("Database.signup", signup_users, needed=True)
    member = signed_up[0]

    created_emails = [f"{tag}-created-{i}@example.com" for i in range(3)]

    def create_users() -> list[str]:
        ids = []
        for email in created_emails:
            user = mgmt.users.create(
                connection=CONNECTION,
                email=email,
                password=PASSWORD,
                app_metadata={"plan": "free", "flags": {"beta": True}},
                user_metadata={"theme": "dark"},
            )
            check(
                user.user_id and user.user_id.startswith("auth0|"),
                f"expected an auth0| user_id, got {user!r}",
            )
            check(user.email == email, f"expected email {email!r}, got {user!r}")
            ids.append(user.user_id)
        ok(f"users.create x{len(ids)} -> {', '.join(ids)}")
        return ids

    created = steps.run("users.create", create_users) or []

    def user_conflict() -> None:
        e = expect_api_error(
            lambda: mgmt.users.create(
                connection=CONNECTION, email=f"{tag}-signup-0@example.com", password=PASSWORD
            ),
            409,
            "users.create of a taken email",
        )
        ok(f"users.create of a taken email -> {type(e).__name__}(409)")

    steps.run("users.create of a taken email", user_conflict)

    def get_user() -> None:
        user = mgmt.users.get(member)
        check(user.user_id == member, f"expected {member!r}, got {user!r}")
        check(
            user.email == f"{tag}-signup-0@example.com",
            f"expected the signed-up email, got {user.email!r}",
        )
        identities = user.identities or []
        check(
            identities and identities[0].connection == CONNECTION,
            f"expected an identity on {CONNECTION}, got {identities!r}",
        )
        ok(f"users.get({member!r})")

    steps.run("users.get", get_user)

    def update_app_metadata() -> None:
        target = created[0] if created else member
        mgmt.users.update(target, app_metadata={"plan": "gold", "flags": {"beta": True}})
        updated = mgmt.users.update(target, app_metadata={"flags": {"alpha": True}, "seats": 3})
        # Merged one level deep: "plan" kept, "flags" replaced as a whole.
        want = {"plan": "gold", "flags": {"alpha": True}, "seats": 3}
        check(updated.app_metadata == want, f"expected app_metadata {want}, got {updated.app_metadata!r}")
        again = mgmt.users.get(target).app_metadata
        check(again == want, f"users.get after the update: expected {want}, got {again!r}")
        removed = mgmt.users.update(target, app_metadata={"seats": None}).app_metadata
        want.pop("seats")
        check(removed == want, f"null removes a key: expected {want}, got {removed!r}")
        ok("users.update(app_metadata=...) merges one level deep, null removes a key")

    steps.run("users.update app_metadata", update_app_metadata)

    def search_user() -> None:
        email = f"{tag}-signup-1@example.com"
        found = items(mgmt.users.list(q=f'email:"{email}"', search_engine="v3", per_page=PER_PAGE))
        check(
            [u.user_id for u in found] == [signed_up[1]],
            f"expected exactly {signed_up[1]!r}, got {[(u.user_id, u.email) for u in found]}",
        )
        ok(f"users.list(q='email:\"{email}\"', search_engine='v3') -> 1 user")

    steps.run("users.list with q (search v3)", search_user)

    def list_users() -> None:
        walked = pages(mgmt.users.list(per_page=PER_PAGE))
        ids = [u.user_id for page in walked for u in page]
        exactly_once(ids, signed_up + created, "users.list")
        total = mgmt.users.list(per_page=PER_PAGE).response.total
        check(total == len(ids), f"expected total {len(ids)}, got {total}")
        ok(f"users.list(per_page={PER_PAGE}) -> {len(ids)} users in {len(walked)} pages, each once")

    steps.run("users.list across pages", list_users)

    # 4. Roles of a user (a signed-up one: that part needs no user endpoint).
    def assign_roles() -> None:
        mgmt.users.roles.assign(member, roles=[r.id for r in roles[:3]])
        walked = pages(mgmt.users.roles.list(member, per_page=PER_PAGE))
        ids = [r.id for page in walked for r in page]
        exactly_once(ids, [r.id for r in roles[:3]], "users.roles.list")
        check(len(ids) == 3, f"expected 3 roles, got {ids}")
        ok(f"users.roles.assign({member!r}, 3 roles), users.roles.list(per_page={PER_PAGE})")

    steps.run("users.roles.assign/list", assign_roles)

    # What the setup is for: the member's access token for the API carries the permissions
    # of its roles (RBAC on, dialect access_token_authz), and its scope is narrowed to them.
    def rbac_token() -> None:
        tokens = GetToken(
            domain, args.app_id, client_secret=args.app_secret, protocol=protocol, timeout=TIMEOUT
        ).login(
            username=f"{tag}-signup-0@example.com",
            password=PASSWORD,
            realm=CONNECTION,
            audience=identifier,
            scope="openid read:docs write:docs delete:docs",
        )
        claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
        audiences = claims.get("aud")
        audiences = audiences if isinstance(audiences, list) else [audiences]
        check(identifier in audiences, f"expected aud {identifier!r}, got {claims!r}")
        check(
            sorted(claims.get("permissions") or []) == ["read:docs", "write:docs"],
            f"expected permissions [read:docs, write:docs] (role {role_names[0]}), got {claims!r}",
        )
        granted = set(claims.get("scope", "").split())
        check(
            {"read:docs", "write:docs"} <= granted and "delete:docs" not in granted,
            f"expected the scope narrowed to read:docs write:docs, got {claims.get('scope')!r}",
        )
        ok(f"GetToken.login(audience=API) -> permissions {claims['permissions']}")

    steps.run("access token of a user with roles (RBAC, access_token_authz)", rbac_token)

    def role_users() -> None:
        if created:
            mgmt.roles.users.assign(editor.id, users=[created[1]])
        listed = [u.user_id for u in items(mgmt.roles.users.list(editor.id, take=1))]
        want = [member] + ([created[1]] if created else [])
        exactly_once(listed, want, "roles.users.list")
        check(len(listed) == len(want), f"expected {want}, got {listed}")
        ok(f"roles.users.assign, roles.users.list(take=1) -> {listed}")

    steps.run("roles.users.assign/list", role_users)

    def user_permissions() -> None:
        target = created[1] if created else member
        mgmt.users.permissions.create(
            target,
            permissions=[
                PermissionRequestPayload(
                    resource_server_identifier=identifier, permission_name="delete:docs"
                )
            ],
        )
        listed = items(mgmt.users.permissions.list(target, per_page=1))
        got = sorted((p.resource_server_identifier, p.permission_name) for p in listed)
        # The direct permission, and the ones of the directly assigned role "editor".
        want = sorted((identifier, p) for p in ("delete:docs", "read:docs", "write:docs"))
        check(got == want, f"expected {want}, got {listed!r}")
        ok(f"users.permissions.create, users.permissions.list(per_page=1) -> {len(got)}")

    steps.run("users.permissions.create/list", user_permissions)

    def remove_roles() -> None:
        mgmt.users.roles.delete(member, roles=[roles[1].id, roles[2].id])
        left = [r.id for r in items(mgmt.users.roles.list(member, per_page=PER_PAGE))]
        check(left == [editor.id], f"expected only {editor.id} left, got {left}")
        ok("users.roles.delete -> one role left")

    steps.run("users.roles.delete", remove_roles)

    # 5. Deletion, and what is left is not found.
    def delete_user() -> None:
        target = created[2] if created else signed_up[2]
        mgmt.users.delete(target)
        e = expect_api_error(lambda: mgmt.users.get(target), 404, "users.get after delete")
        ok(f"users.delete, then users.get -> {type(e).__name__}(404)")

    steps.run("users.delete", delete_user)

    def delete_role() -> None:
        doomed = roles[4]
        mgmt.roles.delete(doomed.id)
        e = expect_api_error(lambda: mgmt.roles.get(doomed.id), 404, "roles.get after delete")
        left = [r.id for r in items(mgmt.roles.list(name_filter=f"{tag}-role-"))]
        check(doomed.id not in left, f"roles.list still has {doomed.id}: {left}")
        ok(f"roles.delete, then roles.get -> {type(e).__name__}(404)")

    steps.run("roles.delete", delete_role)

    def delete_api() -> None:
        mgmt.resource_servers.delete(api.id)
        e = expect_api_error(
            lambda: mgmt.resource_servers.get(api.id), 404, "resource_servers.get after delete"
        )
        ok(f"resource_servers.delete, then resource_servers.get -> {type(e).__name__}(404)")

    steps.run("resource_servers.delete", delete_api)
    return steps.finish()


if __name__ == "__main__":
    sys.exit(main())
