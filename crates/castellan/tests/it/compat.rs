//! Compatibility with people's existing code: real third-party client libraries against the
//! real `castellan` binary. The official Python SDK's authentication layer (auth0-python:
//! sign-up, the password-realm grant, userinfo, ID token verification, refresh, revocation,
//! client credentials) and openid-client from npm (discovery, authorization code + PKCE
//! through the server's own pages, userinfo, refresh); then the Management API layers of the
//! official SDKs, auth0-python's `auth0.management.Auth0` and npm `auth0` v7's per-resource
//! clients, doing what provisioning scripts do (APIs, roles, permissions, users, role
//! assignments, every listing paged to its end, errors with their status). Authlib's
//! `OAuth2Session` refreshes past a scope RBAC withholds (`compat/python/test_authlib.py`),
//! on plain HTTP and on HTTPS with a self-signed certificate requests trusts.
//!
//! The libraries are installed by `compat/setup.sh` (which `scripts/test` runs first) into
//! `compat/.python` and `compat/node/node_modules`; the checks themselves are the scripts
//! `compat/python/test_auth0_python.py`, `compat/node/test_openid_client.mjs`,
//! `compat/python/test_auth0_management.py` and `compat/node/test_auth0_node.mjs`. Without
//! the libraries this test fails and says to run `compat/setup.sh`.

use crate::{browser, real_binary};

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use real_binary::{Admin, Server, run_script};
use serde_json::json;

const COMPAT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../compat");
/// How long one library's script may take before it is stopped and the test fails.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(180);
/// The Management API scopes the SDK management scripts use (APIs, roles, users, role
/// members), granted to their machine-to-machine client.
const MANAGEMENT_SCRIPT_SCOPES: &[&str] = &[
    "read:resource_servers",
    "create:resource_servers",
    "update:resource_servers",
    "delete:resource_servers",
    "read:roles",
    "create:roles",
    "update:roles",
    "delete:roles",
    "read:users",
    "create:users",
    "update:users",
    "delete:users",
    "read:role_members",
    "create:role_members",
    "delete:role_members",
];

fn compat(path: &str) -> PathBuf {
    Path::new(COMPAT).join(path)
}

/// The libraries must be there: a missing install is a failure, never a silent skip.
fn require_installed() {
    let missing: Vec<&str> = [
        ".python/auth0/authentication",
        ".python/auth0/management",
        ".python/jwt",
        "node/node_modules/openid-client/package.json",
        "node/node_modules/jose/package.json",
        "node/node_modules/auth0/package.json",
        "node/node_modules/auth0-legacy/package.json",
    ]
    .into_iter()
    .filter(|p| !compat(p).exists())
    .collect();
    assert!(
        missing.is_empty(),
        "the compatibility tests' client libraries are not installed (missing {missing:?} \
         under {COMPAT}): run compat/setup.sh from the workspace root first"
    );
}

/// `--name=value` in one argument: a generated secret may start with `-`, which a parser
/// would take for the next option if it came as a separate argument.
fn flag(name: &str, value: &str) -> String {
    format!("--{name}={value}")
}

#[tokio::test]
async fn real_client_libraries_work_against_the_real_binary() {
    require_installed();
    let server = Server::start().await;
    let admin = Admin::new(&server).await;
    let callback = format!("{}/cb", server.base);

    // auth0-python: a regular web application with the password grants, and an M2M client.
    let (py_id, py_secret) = admin
        .client(json!({
            "name": "auth0-python web app",
            "app_type": "regular_web",
            "grant_types": [
                "password",
                "http://auth0.com/oauth/grant-type/password-realm",
                "authorization_code",
                "refresh_token",
            ],
            "callbacks": [callback],
        }))
        .await;
    let (m2m_id, m2m_secret) = admin
        .client(json!({
            "name": "auth0-python m2m",
            "app_type": "non_interactive",
            "grant_types": ["client_credentials"],
        }))
        .await;
    admin
        .post(
            "client-grants",
            json!({
                "client_id": m2m_id,
                "audience": format!("{}/api/v2/", server.base),
                "scope": ["read:clients"],
            }),
        )
        .await;

    // openid-client: a public SPA (PKCE, no secret) and a confidential web application
    // authenticating with HTTP Basic.
    let (spa_id, _) = admin
        .client(json!({
            "name": "openid-client spa",
            "app_type": "spa",
            "callbacks": [callback],
        }))
        .await;
    let (web_id, web_secret) = admin
        .client(json!({
            "name": "openid-client web app",
            "app_type": "regular_web",
            "grant_types": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_method": "client_secret_basic",
            "callbacks": [callback],
        }))
        .await;

    // The SDKs' Management API layers: an M2M client granted what provisioning scripts
    // need. They sign users up (and Python logs them in) through the auth0-python web
    // application.
    let (mgmt_id, mgmt_secret) = admin
        .client(json!({
            "name": "sdk management m2m",
            "app_type": "non_interactive",
            "grant_types": ["client_credentials"],
        }))
        .await;
    admin
        .post(
            "client-grants",
            json!({
                "client_id": mgmt_id,
                "audience": format!("{}/api/v2/", server.base),
                "scope": MANAGEMENT_SCRIPT_SCOPES,
            }),
        )
        .await;

    let mut python = Command::new("python3");
    python
        .arg(compat("python/test_auth0_python.py"))
        .env("PYTHONPATH", compat(".python"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .arg(flag("base", &server.base))
        .arg(flag("client-id", &py_id))
        .arg(flag("client-secret", &py_secret))
        .arg(flag("m2m-id", &m2m_id))
        .arg(flag("m2m-secret", &m2m_secret));
    let python = run_script(
        "the auth0-python checks",
        python,
        Path::new(COMPAT),
        SCRIPT_TIMEOUT,
    )
    .await;

    let mut node = Command::new("node");
    node.arg(compat("node/test_openid_client.mjs"))
        .arg(flag("base", &server.base))
        .arg(flag("redirect-uri", &callback))
        .arg(flag("spa-id", &spa_id))
        .arg(flag("web-id", &web_id))
        .arg(flag("web-secret", &web_secret));
    let node = run_script(
        "the openid-client checks",
        node,
        Path::new(COMPAT),
        SCRIPT_TIMEOUT,
    )
    .await;

    let mut python_management = Command::new("python3");
    python_management
        .arg(compat("python/test_auth0_management.py"))
        .env("PYTHONPATH", compat(".python"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .arg(flag("base", &server.base))
        .arg(flag("app-id", &py_id))
        .arg(flag("app-secret", &py_secret))
        .arg(flag("m2m-id", &mgmt_id))
        .arg(flag("m2m-secret", &mgmt_secret));
    let python_management = run_script(
        "the auth0-python management checks",
        python_management,
        Path::new(COMPAT),
        SCRIPT_TIMEOUT,
    )
    .await;

    let mut node_management = Command::new("node");
    node_management
        .arg(compat("node/test_auth0_node.mjs"))
        .arg(flag("base", &server.base))
        .arg(flag("app-id", &py_id))
        .arg(flag("m2m-id", &mgmt_id))
        .arg(flag("m2m-secret", &mgmt_secret));
    let node_management = run_script(
        "the auth0 (node) management checks",
        node_management,
        Path::new(COMPAT),
        SCRIPT_TIMEOUT,
    )
    .await;

    // Every library always runs, and a failure shows every output and the server's log.
    let failures: Vec<String> = [python, node, python_management, node_management]
        .into_iter()
        .filter_map(Result::err)
        .collect();
    assert!(
        failures.is_empty(),
        "{}\n=== server log:\n{}",
        failures.join("\n"),
        server.log()
    );
}

/// Authlib's `OAuth2Session` (`compat/python/test_authlib.py`): a password-realm log-in
/// asking for a scope RBAC does not grant, a refresh that asks for it again and succeeds
/// without it, and refresh-token rotation.
#[tokio::test]
async fn authlib_refreshes_past_a_scope_rbac_withholds() {
    authlib_story(None).await;
}

/// The same story with the server on HTTPS, with a certificate made here that requests
/// trusts through `REQUESTS_CA_BUNDLE`.
#[tokio::test]
async fn authlib_refreshes_past_a_scope_rbac_withholds_over_https() {
    authlib_story(Some(browser::self_signed())).await;
}

/// Runs `test_authlib.py` against a server on plain HTTP, or on HTTPS with `tls` (a
/// certificate and its key, PEM).
async fn authlib_story(tls: Option<(String, String)>) {
    require_installed();
    assert!(
        compat(".python/authlib/integrations/requests_client").exists(),
        "Authlib is not installed under {COMPAT}/.python: run compat/setup.sh from the \
         workspace root first"
    );
    let (server, admin) = browser::server_and_admin(&tls).await;
    let audience = "https://reports.castellan.example";
    admin
        .post(
            "resource-servers",
            json!({"name": "Reports", "identifier": audience, "enforce_policies": true,
                   "allow_offline_access": true,
                   "scopes": [{"value": "read:reports"}, {"value": "write:reports"}]}),
        )
        .await;
    // A role with write:reports only, held by the user.
    let role = admin.post("roles", json!({"name": "report writer"})).await;
    let role_id = role["id"].as_str().unwrap();
    admin
        .post(
            &format!("roles/{role_id}/permissions"),
            json!({"permissions": [{"resource_server_identifier": audience,
                                    "permission_name": "write:reports"}]}),
        )
        .await;
    let email = "authlib-user@example.com";
    let password = "an Authlib user's passphrase";
    let user = admin
        .post(
            "users",
            json!({"connection": "Username-Password-Authentication", "email": email,
                   "password": password, "email_verified": true}),
        )
        .await;
    let user_id = user["user_id"].as_str().unwrap().replace('|', "%7C");
    admin
        .post(
            &format!("users/{user_id}/roles"),
            json!({"roles": [role_id]}),
        )
        .await;
    let (client_id, client_secret) = admin
        .client(json!({
            "name": "Authlib web app",
            "app_type": "regular_web",
            "grant_types": ["http://auth0.com/oauth/grant-type/password-realm", "refresh_token"],
            // A web app's tokens rotate only when asked to, as on Auth0.
            "refresh_token": {"rotation_type": "rotating", "expiration_type": "expiring"},
        }))
        .await;

    let dir = tempfile::tempdir().unwrap();
    let mut python = Command::new("python3");
    browser::trust(&mut python, &tls, dir.path());
    python
        .arg(compat("python/test_authlib.py"))
        .env("PYTHONPATH", compat(".python"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .arg(flag("base", &server.base))
        .arg(flag("client-id", &client_id))
        .arg(flag("client-secret", &client_secret))
        .arg(flag("audience", audience))
        .arg(flag("username", email))
        .arg(flag("password", password));
    let story = run_script(
        "the Authlib checks",
        python,
        Path::new(COMPAT),
        SCRIPT_TIMEOUT,
    )
    .await;
    if let Err(failure) = story {
        panic!("{failure}\n=== server log:\n{}", server.log());
    }
}

/// auth0-python through the MFA API (`compat/python/test_auth0_python_mfa.py`): a rule asks
/// every log-in for a second factor; `GetToken.login` raises `mfa_required` with the
/// `mfa_token`, an app is enrolled with `/mfa/associate`, and the `mfa-otp` and
/// `mfa-recovery-code` grants finish log-ins through the SDK's client authentication. The
/// npm `auth0` package (`auth0/legacy`, 4.37) has no MFA calls, so it has no story here;
/// `tests/it/mfa_api.rs` covers the API over plain HTTP.
#[tokio::test]
async fn auth0_python_passes_the_mfa_api() {
    require_installed();
    let (server, admin) = browser::server_and_admin(&None).await;
    admin
        .post(
            "rules",
            json!({"name": "mfa for everyone",
                   "script": "function (user, context, callback) { context.multifactor = {provider: 'any', allowRememberBrowser: false}; callback(null, user, context); }"}),
        )
        .await;
    let email = "mfa-user@example.com";
    let password = "an MFA user's passphrase";
    admin
        .post(
            "users",
            json!({"connection": "Username-Password-Authentication", "email": email,
                   "password": password, "email_verified": true}),
        )
        .await;
    let (client_id, client_secret) = admin
        .client(json!({
            "name": "auth0-python native app",
            "app_type": "native",
            "token_endpoint_auth_method": "client_secret_post",
            "grant_types": [
                "http://auth0.com/oauth/grant-type/password-realm",
                "http://auth0.com/oauth/grant-type/mfa-otp",
                "http://auth0.com/oauth/grant-type/mfa-recovery-code",
            ],
        }))
        .await;
    let mut python = Command::new("python3");
    python
        .arg(compat("python/test_auth0_python_mfa.py"))
        .env("PYTHONPATH", compat(".python"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .arg(flag("base", &server.base))
        .arg(flag("client-id", &client_id))
        .arg(flag("client-secret", &client_secret))
        .arg(flag("username", email))
        .arg(flag("password", password));
    let story = run_script(
        "the auth0-python MFA checks",
        python,
        Path::new(COMPAT),
        SCRIPT_TIMEOUT,
    )
    .await;
    if let Err(failure) = story {
        panic!("{failure}\n=== server log:\n{}", server.log());
    }
}
