#!/usr/bin/env python3
"""Castellan's MFA administration against auth0-python's Management layer.

What an administrator's script does with the official SDK: give a user a TOTP factor with a
known key and an email factor (users.authentication_methods.create), list them through the
SDK's pager and read one, list the user's Guardian enrollments, regenerate the recovery
code, forget remembered browsers, delete one method and then all of them; read and set the
tenant's MFA policy and factors (guardian.policies, guardian.factors); and see the SDK raise
the HTTP status of a refusal (an unsupported type, an unknown method).

As test_auth0_management.py does for a plain-http server, it uses
auth0.management.Auth0(base_url=BASE/api/v2, token=...) with a token from
GetToken(..., protocol="http").client_credentials for https://HOST:PORT/api/v2/.

Run by crates/castellan/tests/it/mfa_compat.rs against the real binary, with the SDK
installed by compat/setup.sh into compat/.python:

  --base        CASTELLAN_BASE             http://127.0.0.1:PORT (no trailing slash)
  --user-id     CASTELLAN_MFA_USER_ID      a user of the tenant, with no factor yet
  --m2m-id      CASTELLAN_MGMT_M2M_ID      a machine-to-machine client with a client grant
  --m2m-secret  CASTELLAN_MGMT_M2M_SECRET  on the Management API (scopes in mfa_compat.rs)

Each check prints "ok" or "FAIL"; the script exits 1 if any failed.
"""

from __future__ import annotations

import sys
from urllib.parse import urlsplit

import auth0
from auth0.authentication import GetToken
from auth0.management import Auth0
from auth0.management.core.api_error import ApiError

from checks import CheckFailed, Steps, arguments, check

TIMEOUT = 30.0
TOTP_SECRET = "JBSWY3DPEHPK3PXP"


def ok(message: str) -> None:
    print(f"ok   {message}", flush=True)


def expect_status(call, status: int, what: str) -> ApiError:
    try:
        answer = call()
    except ApiError as e:
        check(e.status_code == status, f"{what}: expected {status}, got {e.status_code} {e.body!r}")
        return e
    raise CheckFailed(f"{what}: expected an error with status {status}, got {answer!r}")


def sdk_error(e: Exception) -> str | None:
    if isinstance(e, ApiError):
        return f"the SDK raised {type(e).__name__}: status {e.status_code}, body {e.body!r}"
    return None


OPTIONS = [
    ("--base", "CASTELLAN_BASE", "server base URL, http://127.0.0.1:PORT"),
    ("--user-id", "CASTELLAN_MFA_USER_ID", "a user with no factor yet"),
    ("--m2m-id", "CASTELLAN_MGMT_M2M_ID", "machine-to-machine client id"),
    ("--m2m-secret", "CASTELLAN_MGMT_M2M_SECRET", "machine-to-machine client secret"),
]


def main() -> int:
    args = arguments(__doc__.splitlines()[0], OPTIONS)
    url = urlsplit(args.base)
    domain, protocol = url.netloc, url.scheme
    audience = f"https://{domain}/api/v2/"
    print(f"auth0-python {auth0.__version__} (MFA administration) against {args.base}", flush=True)
    steps = Steps("auth0-python MFA", explain=sdk_error)
    user = args.user_id

    def token() -> str:
        granted = GetToken(
            domain, args.m2m_id, client_secret=args.m2m_secret, protocol=protocol, timeout=TIMEOUT
        ).client_credentials(audience=audience)
        return granted["access_token"]

    access_token = steps.run("GetToken.client_credentials", token, needed=True)
    mgmt = Auth0(base_url=f"{args.base}/api/v2", token=access_token, timeout=TIMEOUT)
    methods = mgmt.users.authentication_methods

    def create() -> list[str]:
        totp = methods.create(user, type="totp", totp_secret=TOTP_SECRET, name="Phone")
        check(totp.type == "totp" and totp.id.startswith("totp|dev_"), f"created {totp!r}")
        email = methods.create(user, type="email", email="codes@example.com")
        check(email.email == "codes@example.com", f"created {email!r}")
        ok(f"users.authentication_methods.create totp and email -> {totp.id}, {email.id}")
        return [totp.id, email.id]

    created = steps.run("users.authentication_methods.create", create, needed=True)

    def refused() -> None:
        e = expect_status(
            lambda: methods.create(user, type="phone", phone_number="+15551234567"), 400, "phone"
        )
        check("totp, email" in str(e.body), f"the refusal names the supported types: {e.body!r}")
        expect_status(lambda: methods.get(user, "totp|dev_nothing"), 404, "unknown method")
        ok("an unsupported type is a 400 naming the supported ones; an unknown method a 404")

    steps.run("refusals", refused)

    def listed() -> None:
        # Two made in the same second are listed by id: compare without the order.
        seen = [m.id for m in methods.list(user, per_page=1)]
        check(sorted(seen) == sorted(created), f"the pager walked {seen}, expected {created}")
        one = methods.get(user, created[0])
        check(one.confirmed is True and one.name == "Phone", f"read {one!r}")
        ok(f"users.authentication_methods.list (one per page) and get -> {seen}")

    steps.run("users.authentication_methods.list/get", listed)

    def enrollments() -> None:
        enrolled = mgmt.users.enrollments.get(user)
        kinds = sorted(e.type for e in enrolled)
        check(kinds == ["authenticator", "email"], f"enrollments {enrolled!r}")
        ok(f"users.enrollments.get -> {kinds}")

    steps.run("users.enrollments.get", enrollments)

    def recovery() -> None:
        first = mgmt.users.regenerate_recovery_code(user).recovery_code
        second = mgmt.users.regenerate_recovery_code(user).recovery_code
        check(first and second and first != second, f"codes {first!r}, {second!r}")
        mgmt.users.multifactor.invalidate_remember_browser(user)
        ok("users.regenerate_recovery_code twice, users.multifactor.invalidate_remember_browser")

    steps.run("recovery code and remembered browsers", recovery)

    def delete() -> None:
        methods.delete(user, created[0])
        left = [m.id for m in methods.list(user)]
        check(created[0] not in left, f"still listed: {left}")
        methods.delete_all(user)
        check(list(methods.list(user)) == [], "methods left after delete_all")
        ok("users.authentication_methods.delete and delete_all")

    steps.run("users.authentication_methods.delete", delete)

    def tenant() -> None:
        check(list(mgmt.guardian.policies.list()) == [], "the policy starts as never")
        mgmt.guardian.policies.set(request=["all-applications"])
        check(list(mgmt.guardian.policies.list()) == ["all-applications"], "policy not set")
        expect_status(
            lambda: mgmt.guardian.policies.set(request=["confidence-score"]), 400, "adaptive MFA"
        )
        answer = mgmt.guardian.factors.set("email", enabled=True)
        check(answer.enabled is True, f"set answered {answer!r}")
        factors = {f.name: f.enabled for f in mgmt.guardian.factors.list()}
        check(factors.get("email") is True and factors.get("otp") is True, f"factors {factors}")
        ok(f"guardian.policies.list/set, guardian.factors.set/list -> {factors}")

    steps.run("guardian policies and factors", tenant)
    return steps.finish()


if __name__ == "__main__":
    sys.exit(main())
