#!/usr/bin/env python3
"""Castellan against the authentication layer of the official Python SDK, auth0-python.

Run by crates/castellan/tests/it/compat.rs against a real server, with the SDK installed by
compat/setup.sh into compat/.python (PYTHONPATH=compat/.python). Every value can come from
the command line or from the environment:

  --base           CASTELLAN_BASE            http://127.0.0.1:PORT (no trailing slash)
  --client-id      CASTELLAN_CLIENT_ID       a regular web application allowed the
  --client-secret  CASTELLAN_CLIENT_SECRET   password-realm and refresh_token grants
  --m2m-id         CASTELLAN_M2M_ID          a machine-to-machine client with a client grant
  --m2m-secret     CASTELLAN_M2M_SECRET      on the Management API

Each check prints one line, "ok" or "FAIL" with what was expected and what came back; the
checks that do not depend on a failed one still run, and the script exits 1 if any failed.
"""

from __future__ import annotations

import sys
import uuid
from urllib.parse import urlsplit

import auth0
import jwt
import requests
from auth0.authentication import Database, GetToken, RevokeToken, Users
from auth0.authentication.token_verifier import (
    AsymmetricSignatureVerifier,
    TokenVerifier,
)
from auth0.authentication.exceptions import Auth0Error

from checks import CheckFailed, Steps, arguments, check

CONNECTION = "Username-Password-Authentication"
# The SDK's default of 5 s is too short for a shared CI machine hashing passwords.
TIMEOUT = 30.0
PASSWORD = "Correct-Horse-Battery-9"


def expect_auth0_error(call, status: int, code: str, what: str) -> Auth0Error:
    """Runs `call`, which must raise the SDK's Auth0Error with this status and error code."""
    try:
        answer = call()
    except Auth0Error as e:
        check(
            e.status_code == status and e.error_code == code,
            f"{what}: expected Auth0Error({status}, {code!r}), "
            f"got Auth0Error({e.status_code}, {e.error_code!r}, {e.message!r})",
        )
        return e
    raise CheckFailed(f"{what}: expected Auth0Error({status}, {code!r}), got success: {answer!r}")


def explain(error: Exception, token: str, jwks_url: str, call: str) -> str:
    """A verification failure, with the token's header and the keys the server publishes."""
    header = jwt.get_unverified_header(token)
    keys = requests.get(jwks_url, timeout=5).json().get("keys", [])
    published = [f"{k.get('kid')} kty={k.get('kty')} alg={k.get('alg')}" for k in keys]
    message = (
        f"AsymmetricSignatureVerifier({jwks_url!r}) in {call} raised "
        f"{type(error).__name__}: {error}\n"
        f"       token header: {header}\n"
        f"       keys published at {jwks_url}: {published}"
    )
    if any(k.get("kty") != "RSA" for k in keys):
        message += (
            "\n       (auth0-python's JwksFetcher reads every key of the set with"
            " RSAAlgorithm.from_jwk: a set holding any non-RSA key cannot be used)"
        )
    return message


def verify_id_token(verifier: TokenVerifier, token: str, jwks_url: str) -> dict:
    """The SDK's verification (signature, iss, aud, exp, iat...), its failure explained."""
    try:
        return verifier.verify(token)
    except Exception as e:
        raise CheckFailed(explain(e, token, jwks_url, "TokenVerifier.verify")) from e


OPTIONS = [
    ("--base", "CASTELLAN_BASE", "server base URL, http://127.0.0.1:PORT"),
    ("--client-id", "CASTELLAN_CLIENT_ID", "web application client id"),
    ("--client-secret", "CASTELLAN_CLIENT_SECRET", "web application client secret"),
    ("--m2m-id", "CASTELLAN_M2M_ID", "machine-to-machine client id"),
    ("--m2m-secret", "CASTELLAN_M2M_SECRET", "machine-to-machine client secret"),
]


def main() -> int:
    args = arguments(__doc__.splitlines()[0], OPTIONS)
    url = urlsplit(args.base)
    # As documented for local servers: a bare host:port as the domain, and protocol="http".
    domain, protocol = url.netloc, url.scheme
    issuer = f"{args.base}/"
    jwks_url = f"{args.base}/.well-known/jwks.json"
    management_audience = f"{args.base}/api/v2/"
    print(f"auth0-python {auth0.__version__} against {args.base}", flush=True)

    steps = Steps("auth0-python")
    email = f"py-{uuid.uuid4().hex[:12]}@example.com"
    database = Database(domain, args.client_id, protocol=protocol, timeout=TIMEOUT)
    get_token = GetToken(
        domain, args.client_id, client_secret=args.client_secret, protocol=protocol, timeout=TIMEOUT
    )
    verifier = TokenVerifier(
        signature_verifier=AsymmetricSignatureVerifier(jwks_url),
        issuer=issuer,
        audience=args.client_id,
    )

    # 1. Sign-up on the database connection.
    def signup() -> None:
        created = database.signup(email=email, password=PASSWORD, connection=CONNECTION)
        check(isinstance(created, dict), f"expected a JSON object, got {created!r}")
        check(
            created.get("email") == email,
            f"expected email {email!r} in the answer, got {created!r}",
        )
        check(
            isinstance(created.get("_id"), str) and created["_id"],
            f"expected an _id in the answer (as Auth0 returns), got {created!r}",
        )
        print(f"ok   Database.signup -> _id={created['_id']}", flush=True)

    steps.run("Database.signup", signup, needed=True)

    def signup_again() -> None:
        expect_auth0_error(
            lambda: database.signup(email=email, password=PASSWORD, connection=CONNECTION),
            400,
            "user_exists",
            "signup of the same email again",
        )
        print("ok   Database.signup twice -> Auth0Error(400, user_exists)", flush=True)

    steps.run("Database.signup of a taken email", signup_again)

    # 2. The password-realm grant, with the client secret.
    def login() -> dict:
        tokens = get_token.login(
            username=email,
            password=PASSWORD,
            realm=CONNECTION,
            scope="openid profile email offline_access",
        )
        for key in ("access_token", "id_token", "refresh_token", "expires_in", "token_type"):
            check(key in tokens, f"expected {key!r} in the token response, got {sorted(tokens)}")
        check(
            tokens["token_type"].lower() == "bearer",
            f"expected token_type Bearer, got {tokens['token_type']!r}",
        )
        check(
            isinstance(tokens["expires_in"], int) and tokens["expires_in"] > 0,
            f"expected a positive integer expires_in, got {tokens['expires_in']!r}",
        )
        print("ok   GetToken.login (password-realm) -> access, ID and refresh tokens", flush=True)
        return tokens

    tokens = steps.run("GetToken.login", login, needed=True)

    def wrong_password() -> None:
        expect_auth0_error(
            lambda: get_token.login(
                username=email, password="not-the-password", realm=CONNECTION, scope="openid"
            ),
            403,
            "invalid_grant",
            "login with a wrong password",
        )
        print("ok   GetToken.login with a wrong password -> Auth0Error(403, invalid_grant)")

    steps.run("GetToken.login with a wrong password", wrong_password)

    # 3. userinfo with the access token.
    def userinfo() -> None:
        profile = Users(domain, protocol=protocol, timeout=TIMEOUT).userinfo(tokens["access_token"])
        subject = jwt.decode(tokens["id_token"], options={"verify_signature": False})["sub"]
        check(profile.get("sub") == subject, f"expected sub {subject!r}, got {profile!r}")
        check(profile.get("email") == email, f"expected email {email!r}, got {profile!r}")
        print(f"ok   Users.userinfo -> sub={profile['sub']}", flush=True)

    steps.run("Users.userinfo", userinfo)

    # 4. The ID token, verified by the SDK against the server's JWKS.
    def verify() -> None:
        claims = verify_id_token(verifier, tokens["id_token"], jwks_url)
        check(
            claims.get("email") == email,
            f"expected email {email!r} with scope email, got {claims!r}",
        )
        print(
            f"ok   TokenVerifier.verify(ID token) -> iss={claims['iss']} aud={claims['aud']}",
            flush=True,
        )

    steps.run("TokenVerifier.verify (ID token of the password-realm grant)", verify)

    # 5. Refresh, revoke, and the revoked refresh token refused.
    def refresh() -> dict:
        refreshed = get_token.refresh_token(tokens["refresh_token"], scope="openid profile email")
        check(
            "access_token" in refreshed and "id_token" in refreshed,
            f"expected access_token and id_token, got {sorted(refreshed)}",
        )
        print("ok   GetToken.refresh_token -> new access and ID tokens", flush=True)
        return refreshed

    refreshed = steps.run("GetToken.refresh_token", refresh)

    if refreshed:

        def verify_refreshed() -> None:
            verify_id_token(verifier, refreshed["id_token"], jwks_url)
            print("ok   TokenVerifier.verify(refreshed ID token)", flush=True)

        steps.run("TokenVerifier.verify (ID token of the refresh)", verify_refreshed)

    def revoke() -> None:
        latest = (refreshed or {}).get("refresh_token", tokens["refresh_token"])
        RevokeToken(
            domain, args.client_id, client_secret=args.client_secret, protocol=protocol, timeout=TIMEOUT
        ).revoke_refresh_token(latest)
        expect_auth0_error(
            lambda: get_token.refresh_token(latest),
            403,
            "invalid_grant",
            "refresh with a revoked refresh token",
        )
        print("ok   RevokeToken.revoke_refresh_token -> then refused by refresh_token")

    steps.run("RevokeToken.revoke_refresh_token", revoke)

    # 6. Client credentials for the machine-to-machine client.
    def client_credentials() -> str:
        m2m = GetToken(domain, args.m2m_id, client_secret=args.m2m_secret, protocol=protocol, timeout=TIMEOUT)
        granted = m2m.client_credentials(audience=management_audience)
        check(
            "access_token" in granted and granted.get("token_type", "").lower() == "bearer",
            f"expected a Bearer access_token, got {granted!r}",
        )
        claims = jwt.decode(granted["access_token"], options={"verify_signature": False})
        audiences = claims.get("aud")
        audiences = audiences if isinstance(audiences, list) else [audiences]
        check(
            management_audience in audiences,
            f"expected aud {management_audience!r}, got {claims!r}",
        )
        check(claims.get("iss") == issuer, f"expected iss {issuer!r}, got {claims!r}")
        check(
            "read:clients" in claims.get("scope", "").split(),
            f"expected scope read:clients, got {claims.get('scope')!r}",
        )
        print(f"ok   GetToken.client_credentials -> scope={claims.get('scope')!r}", flush=True)
        return granted["access_token"]

    access_token = steps.run("GetToken.client_credentials", client_credentials)

    if access_token:
        # The access token is a JWT signed with the same keys: the SDK's verifier checks it.
        def access_token_signature() -> None:
            try:
                AsymmetricSignatureVerifier(jwks_url).verify_signature(access_token)
            except Exception as e:
                raise CheckFailed(explain(e, access_token, jwks_url, "verify_signature")) from e
            print("ok   AsymmetricSignatureVerifier.verify_signature(M2M access token)")

        steps.run("AsymmetricSignatureVerifier (M2M access token)", access_token_signature)

    def wrong_secret() -> None:
        expect_auth0_error(
            lambda: GetToken(
                domain, args.m2m_id, client_secret="wrong-secret", protocol=protocol, timeout=TIMEOUT
            ).client_credentials(audience=management_audience),
            401,
            "invalid_client",
            "client_credentials with a wrong secret",
        )
        print("ok   GetToken.client_credentials, wrong secret -> Auth0Error(401, invalid_client)")

    steps.run("GetToken.client_credentials with a wrong secret", wrong_secret)
    return steps.finish()


if __name__ == "__main__":
    sys.exit(main())
