#!/usr/bin/env python3
"""Castellan against Authlib's OAuth 2.0 client for requests, OAuth2Session, unmodified.

Run by crates/castellan/tests/it/compat.rs against a real server, with Authlib installed by
compat/setup.sh into compat/.python (PYTHONPATH=compat/.python). The story: an API enforces
RBAC (`enforce_policies`), and a user's role grants write:reports but not read:reports.

1. The app logs the user in with Auth0's password-realm grant, asking for
   `openid offline_access read:reports write:reports` on the API: it gets a refresh token,
   and an access token with write:reports and without read:reports.
2. `refresh_token()`, which sends the session's scope again (read:reports included),
   succeeds: the new access token's scope still lacks read:reports, and a new refresh
   token replaces the old one (rotation).
3. The new access token calls /userinfo, which answers the user's id.
4. The old refresh token is refused (invalid_grant).
5. That reuse of a rotated token revokes its family: the newest refresh token is refused too.

Every value can come from the command line or from the environment:

  --base           CASTELLAN_BASE            http://127.0.0.1:PORT (no trailing slash)
  --client-id      CASTELLAN_CLIENT_ID       a regular web application allowed the
  --client-secret  CASTELLAN_CLIENT_SECRET   password-realm and refresh_token grants
  --audience       CASTELLAN_AUDIENCE        the API, with RBAC on
  --username       CASTELLAN_USERNAME        a user whose role grants write:reports only
  --password       CASTELLAN_PASSWORD

Each check prints one line, "ok" or "FAIL" with what was expected and what came back; the
script exits 1 if any failed.
"""

from __future__ import annotations

import base64
import json
import sys

from authlib.integrations.requests_client import OAuth2Session, OAuthError

from checks import CheckFailed, Steps, arguments, check

CONNECTION = "Username-Password-Authentication"
PASSWORD_REALM = "http://auth0.com/oauth/grant-type/password-realm"
SCOPE = "openid offline_access read:reports write:reports"
TIMEOUT = 30.0


def claims(jwt: str) -> dict:
    """A JWT's claims, unverified: only to see what the token says."""
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def scopes(token: dict) -> set[str]:
    """The scope of a token answer, as the answer says and as the access token says."""
    said = set(token.get("scope", "").split())
    carried = set(claims(token["access_token"]).get("scope", "").split())
    check(said == carried, f"the answer's scope {said} differs from the token's {carried}")
    return said


def explain(error: Exception) -> str | None:
    if isinstance(error, OAuthError):
        return f"OAuthError({error.error!r}, {error.description!r})"
    return None


def main() -> int:
    args = arguments(
        __doc__.splitlines()[0],
        [
            ("--base", "CASTELLAN_BASE", "the server's base URL"),
            ("--client-id", "CASTELLAN_CLIENT_ID", "the web application's client id"),
            ("--client-secret", "CASTELLAN_CLIENT_SECRET", "its secret"),
            ("--audience", "CASTELLAN_AUDIENCE", "the API with RBAC on"),
            ("--username", "CASTELLAN_USERNAME", "the user's email"),
            ("--password", "CASTELLAN_PASSWORD", "the user's password"),
        ],
    )
    token_url = f"{args.base}/oauth/token"
    steps = Steps("authlib", explain)
    # The client registered client_secret_post, Auth0's default for a regular web app.
    session = OAuth2Session(
        args.client_id,
        args.client_secret,
        scope=SCOPE,
        token_endpoint_auth_method="client_secret_post",
    )

    def login():
        token = session.fetch_token(
            token_url,
            grant_type=PASSWORD_REALM,
            username=args.username,
            password=args.password,
            realm=CONNECTION,
            audience=args.audience,
            timeout=TIMEOUT,
        )
        check(token.get("refresh_token"), f"a refresh token for offline_access: {token!r}")
        check(token.get("id_token"), f"an ID token for openid: {token!r}")
        granted = scopes(token)
        check("write:reports" in granted, f"the role's write:reports is granted: {granted}")
        check("read:reports" not in granted, f"read:reports, which no role grants, is not: {granted}")
        aud = claims(token["access_token"])["aud"]
        check(args.audience in ([aud] if isinstance(aud, str) else aud), f"for the API: {aud}")
        print("ok OAuth2Session.fetch_token (password-realm)", flush=True)
        return dict(token)

    first = steps.run("OAuth2Session.fetch_token", login, needed=True)

    def refresh():
        # refresh_token() sends the session's scope again, read:reports included.
        token = session.refresh_token(token_url, timeout=TIMEOUT)
        granted = scopes(token)
        check("read:reports" not in granted, f"read:reports is still left out: {granted}")
        check("write:reports" in granted, f"write:reports is kept: {granted}")
        check(token["refresh_token"] != first["refresh_token"], "the refresh token rotated")
        check(token["access_token"] != first["access_token"], "a new access token")
        print("ok OAuth2Session.refresh_token (with the original scope again)", flush=True)
        return dict(token)

    second = steps.run("OAuth2Session.refresh_token", refresh, needed=True)

    def userinfo():
        # The session now holds the refreshed token and sends it as a bearer token.
        answer = session.get(f"{args.base}/userinfo", timeout=TIMEOUT)
        check(answer.status_code == 200, f"userinfo: {answer.status_code} {answer.text}")
        # Only the user's id: the scope asked for no profile claims.
        sub = claims(first["id_token"])["sub"]
        check(answer.json() == {"sub": sub}, f"userinfo, expected sub {sub}: {answer.text}")
        print("ok OAuth2Session.get /userinfo with the refreshed token", flush=True)

    steps.run("OAuth2Session.get /userinfo", userinfo)

    def refused(refresh_token: str, what: str):
        try:
            token = session.refresh_token(token_url, refresh_token=refresh_token, timeout=TIMEOUT)
        except OAuthError as e:
            check(e.error == "invalid_grant", f"{what}: expected invalid_grant, got {e.error!r}")
            print(f"ok {what} is refused: {e.error} ({e.description})", flush=True)
            return
        raise CheckFailed(f"{what}: expected invalid_grant, got {token!r}")

    steps.run(
        "the old refresh token",
        lambda: refused(first["refresh_token"], "the rotated-out refresh token"),
    )
    steps.run(
        "the newest refresh token after a reuse",
        lambda: refused(second["refresh_token"], "the newest refresh token, after that reuse"),
    )
    return steps.finish()


if __name__ == "__main__":
    sys.exit(main())
