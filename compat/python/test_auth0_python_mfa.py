#!/usr/bin/env python3
"""Castellan's MFA API through auth0-python's authentication layer, unmodified.

Run by crates/castellan/tests/it/compat.rs (`auth0_python_passes_the_mfa_api`) against a
real server whose tenant asks every log-in for a second factor, with auth0-python installed
by compat/setup.sh into compat/.python. auth0-python 6.8 has no MFA methods of its own:
`GetToken.login` raises `Auth0Error` whose `content` holds the `mfa_token` (the SDK keeps
the body for `mfa_required` only), and the MFA calls go through the SDK's own REST client
(`post`, and `authenticated_post`, which adds the client's secret or assertion as for any
grant; the client id goes in the body, as `GetToken`'s own grants put it).

1. `GetToken.login` (password-realm) raises Auth0Error mfa_required with an mfa_token.
2. `/mfa/associate` with the mfa_token enrols an app: a secret, an otpauth URI, a
   recovery code.
3. The mfa-otp grant with the app's code (computed here, RFC 6238) answers tokens whose
   ID token says `amr: ["mfa"]`.
4. A wrong code is refused with invalid_grant "Invalid otp_code.".
5. The mfa-recovery-code grant answers tokens and a new recovery code.

  --base           CASTELLAN_BASE            http://127.0.0.1:PORT (no trailing slash)
  --client-id      CASTELLAN_CLIENT_ID       an app allowed password-realm and the MFA grants
  --client-secret  CASTELLAN_CLIENT_SECRET
  --username       CASTELLAN_USERNAME        a user with no second factor yet
  --password       CASTELLAN_PASSWORD
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import struct
import sys
import time

from auth0.authentication import GetToken
from auth0.authentication.exceptions import Auth0Error

from checks import CheckFailed, Steps, arguments, check

CONNECTION = "Username-Password-Authentication"
MFA_OTP = "http://auth0.com/oauth/grant-type/mfa-otp"
MFA_RECOVERY_CODE = "http://auth0.com/oauth/grant-type/mfa-recovery-code"


def claims(jwt: str) -> dict:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def totp(secret_b32: str, at: float) -> str:
    """RFC 6238 with SHA-1, 30-second steps and six digits, as authenticator apps do."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(at) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def explain(e: Exception) -> str | None:
    if isinstance(e, Auth0Error):
        return f"Auth0Error {e.status_code} {e.error_code}: {e.message}"
    return None


def main() -> int:
    args = arguments(
        __doc__.splitlines()[0],
        [
            ("--base", "CASTELLAN_BASE", "the server"),
            ("--client-id", "CASTELLAN_CLIENT_ID", "the app"),
            ("--client-secret", "CASTELLAN_CLIENT_SECRET", "its secret"),
            ("--username", "CASTELLAN_USERNAME", "the user"),
            ("--password", "CASTELLAN_PASSWORD", "the user's password"),
        ],
    )
    scheme, host = args.base.split("://", 1)
    sdk = GetToken(host, args.client_id, client_secret=args.client_secret, protocol=scheme)
    token_url = f"{args.base}/oauth/token"
    steps = Steps("auth0-python MFA", explain)

    def mfa_required() -> str:
        try:
            sdk.login(args.username, args.password, scope="openid", realm=CONNECTION)
        except Auth0Error as e:
            check(e.error_code == "mfa_required", f"error {e.error_code}")
            check(e.status_code == 403, f"status {e.status_code}")
            return e.content["mfa_token"]
        raise CheckFailed("the log-in gave tokens without a second factor")

    mfa_token = steps.run("GetToken.login answers mfa_required", mfa_required, needed=True)

    def associate() -> dict:
        answer = sdk.post(
            f"{args.base}/mfa/associate",
            data={"authenticator_types": ["otp"]},
            headers={"Authorization": f"Bearer {mfa_token}"},
        )
        check(answer["authenticator_type"] == "otp", f"answered {answer}")
        check(answer["barcode_uri"].startswith("otpauth://totp/"), answer["barcode_uri"])
        check(len(answer["recovery_codes"]) == 1, f"recovery codes {answer}")
        return answer

    enrolled = steps.run("post /mfa/associate", associate, needed=True)

    def wrong_code() -> None:
        right = totp(enrolled["secret"], time.time())
        wrong = "000000" if right != "000000" else "111111"
        try:
            sdk.authenticated_post(
                token_url, {"grant_type": MFA_OTP, "client_id": args.client_id, "mfa_token": mfa_token,
                 "otp": wrong}
            )
        except Auth0Error as e:
            check(e.error_code == "invalid_grant", f"error {e.error_code}")
            check(e.message == "Invalid otp_code.", f"message {e.message}")
            return
        raise CheckFailed("a wrong code gave tokens")

    steps.run("mfa-otp with a wrong code", wrong_code)

    def otp_grant() -> None:
        code = totp(enrolled["secret"], time.time())
        tokens = sdk.authenticated_post(
            token_url, {"grant_type": MFA_OTP, "client_id": args.client_id, "mfa_token": mfa_token,
                 "otp": code}
        )
        check(claims(tokens["id_token"]).get("amr") == ["mfa"], f"id token {tokens}")

    steps.run("authenticated_post mfa-otp", otp_grant, needed=True)

    def recovery() -> None:
        fresh = mfa_required()
        first = enrolled["recovery_codes"][0]
        tokens = sdk.authenticated_post(
            token_url,
            {"grant_type": MFA_RECOVERY_CODE, "client_id": args.client_id, "mfa_token": fresh,
             "recovery_code": first},
        )
        check(tokens.get("access_token"), f"no access token: {tokens}")
        check(tokens.get("recovery_code") not in (None, first), f"recovery code {tokens}")

    steps.run("authenticated_post mfa-recovery-code", recovery)
    return steps.finish()


if __name__ == "__main__":
    sys.exit(main())
