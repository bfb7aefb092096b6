//! The admin console and the log-in pages in a real browser: headless Chromium (Debian's
//! `chromium`) driven by playwright-core, both installed by `compat/setup.sh`, against the
//! real binary. The story is `compat/browser/console.mjs`: an administrator logs in, creates
//! a role, makes it the sign-up default, a new user signs up through the log-in page, the
//! administrator sees the role on that user, and a rule written in the console changes the
//! user's next token. Screenshots of every page go to `target/browser-artifacts/`. The
//! second story, `compat/browser/spa.mjs`, is a single-page app on Auth0's auth0-spa-js;
//! then Express web apps on Auth0's express-openid-connect
//! (`compat/browser/express_openid_connect.mjs`) and on passport-auth0
//! (`compat/browser/passport_auth0.mjs`, against the server on HTTPS).
//! The auth0-spa-js, express-openid-connect and device-flow stories run twice: on plain
//! HTTP and on HTTPS with a self-signed certificate made for the test, which Node trusts
//! through `NODE_EXTRA_CA_CERTS` and Chromium by ignoring the certificate error.
//!
//! Without Chromium or playwright-core this test fails and says to run `compat/setup.sh`.

use crate::real_binary;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use real_binary::{Admin, Server, run_script};
use serde_json::json;

const BROWSER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../compat/browser");
const ARTIFACTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../target/browser-artifacts"
);
const CHROMIUM: &str = "/usr/bin/chromium";
const ADMIN_EMAIL: &str = "console-admin@example.com";
const ADMIN_PASSWORD: &str = "a console administrator's passphrase";
const API: &str = "https://api.castellan.example";
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(240);

/// Chromium and playwright-core must be there: a missing install is a failure, never a skip.
fn require_installed() {
    let missing: Vec<String> = [
        PathBuf::from(CHROMIUM),
        Path::new(BROWSER).join("node_modules/playwright-core/package.json"),
    ]
    .into_iter()
    .filter(|p| !p.exists())
    .map(|p| p.display().to_string())
    .collect();
    assert!(
        missing.is_empty(),
        "the browser tests need Debian's chromium and playwright-core (missing {missing:?}): \
         run compat/setup.sh from the workspace root first"
    );
}

/// The administrator the story logs in as: a user holding `castellan:admin` through a role.
async fn administrator(api: &Admin, base: &str) {
    let user = user_with_password(api, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let role = api.post("roles", json!({"name": "castellan-admin"})).await;
    let role_id = role["id"].as_str().unwrap();
    api.post(
        &format!("roles/{role_id}/permissions"),
        json!({"permissions": [{"resource_server_identifier": format!("{base}/api/v2/"),
                                "permission_name": "castellan:admin"}]}),
    )
    .await;
    let user_id = user["user_id"].as_str().unwrap().replace('|', "%7C");
    api.post(
        &format!("users/{user_id}/roles"),
        json!({"roles": [role_id]}),
    )
    .await;
}

#[tokio::test]
async fn the_console_story_in_headless_chromium() {
    require_installed();
    let server = Server::start().await;
    let api = Admin::new(&server).await;
    administrator(&api, &server.base).await;
    api.post(
        "resource-servers",
        json!({"name": "Example API", "identifier": API, "scopes": [{"value": "read:reports"}]}),
    )
    .await;
    let callback = format!("{}/app/callback", server.base);
    let app = api
        .post(
            "clients",
            json!({"name": "Example web app", "app_type": "regular_web",
                   "grant_types": ["authorization_code", "refresh_token"], "callbacks": [callback]}),
        )
        .await;

    let artifacts = Path::new(ARTIFACTS);
    let _ = std::fs::remove_dir_all(artifacts);
    let mut node = Command::new("node");
    node.arg(Path::new(BROWSER).join("console.mjs"))
        .arg(format!("--base={}", server.base))
        .arg(format!("--admin-email={ADMIN_EMAIL}"))
        .arg(format!("--admin-password={ADMIN_PASSWORD}"))
        .arg(format!("--app-id={}", app["client_id"].as_str().unwrap()))
        .arg(format!(
            "--app-secret={}",
            app["client_secret"].as_str().unwrap()
        ))
        .arg(format!("--redirect-uri={callback}"))
        .arg(format!("--audience={API}"))
        .arg(format!("--artifacts={}", artifacts.display()))
        .arg(format!("--chromium={CHROMIUM}"));
    run_story("the browser story", node, &server).await;
    let shots = std::fs::read_dir(artifacts)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "png"))
                .count()
        })
        .unwrap_or(0);
    assert!(shots >= 20, "a screenshot of each page, found {shots}");
}

/// Two ports that were free a moment ago, for the app's origins the script serves.
fn free_ports() -> (u16, u16) {
    let a = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let b = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    )
}

/// `compat/browser/spa.mjs`: a single-page app on Auth0's own SDK, auth0-spa-js, on another
/// origin: log-in by redirect, the code exchanged across origins, silent authentication in
/// an iframe, refresh tokens, an API call, log-out, and a page on an unlisted origin refused.
#[tokio::test]
async fn a_single_page_app_on_auth0_spa_js_in_headless_chromium() {
    spa_story(None).await;
}

/// The same story with the server and the app on HTTPS, with a certificate made here.
#[tokio::test]
async fn a_single_page_app_on_auth0_spa_js_over_https() {
    let (cert, key) = self_signed();
    spa_story(Some((cert, key))).await;
}

/// Runs `spa.mjs` against a server on plain HTTP, or on HTTPS with `tls` (a certificate
/// and its key, PEM) that the app's pages are served with too.
async fn spa_story(tls: Option<(String, String)>) {
    require_installed();
    let (server, api) = server_and_admin(&tls).await;
    api.post(
        "resource-servers",
        json!({"name": "Example API", "identifier": API, "allow_offline_access": true,
               "scopes": [{"value": "read:reports"}]}),
    )
    .await;
    let (app_port, stranger_port) = free_ports();
    let scheme = scheme(&tls);
    let app = format!("{scheme}://127.0.0.1:{app_port}");
    let client = api
        .post(
            "clients",
            json!({"name": "Single page app", "app_type": "spa",
                   "token_endpoint_auth_method": "none",
                   "grant_types": ["authorization_code", "refresh_token"],
                   "callbacks": [format!("{app}/")], "allowed_logout_urls": [format!("{app}/")],
                   "web_origins": [app]}),
        )
        .await;
    let email = "spa-user@example.com";
    let password = "a single page app's passphrase";
    user_with_password(&api, email, password).await;

    let dir = tempfile::tempdir().unwrap();
    let artifacts = Path::new(ARTIFACTS).join(format!("spa-{scheme}"));
    let _ = std::fs::remove_dir_all(&artifacts);
    let mut node = Command::new("node");
    node.arg(Path::new(BROWSER).join("spa.mjs"))
        .arg(format!("--base={}", server.base))
        .arg(format!(
            "--client-id={}",
            client["client_id"].as_str().unwrap()
        ))
        .arg(format!("--app-port={app_port}"))
        .arg(format!("--stranger-port={stranger_port}"))
        .arg(format!("--audience={API}"))
        .arg(format!("--email={email}"))
        .arg(format!("--password={password}"))
        .arg(format!("--artifacts={}", artifacts.display()))
        .arg(format!("--chromium={CHROMIUM}"));
    if let Some((cert, key)) = &tls {
        let (cert_file, key_file) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        std::fs::write(&cert_file, cert).unwrap();
        std::fs::write(&key_file, key).unwrap();
        node.arg(format!("--tls-cert={}", cert_file.display()))
            .arg(format!("--tls-key={}", key_file.display()));
    }
    run_story("the single-page app story", node, &server).await;
}

/// `compat/browser/express_openid_connect.mjs`: two Express web apps on Auth0's Express SDK,
/// express-openid-connect, against the server over plain HTTP. Auth0's quickstart (no client
/// secret: an ID token posted back by `form_post`, with a nonce; log-out by `/v2/logout`),
/// and the code flow with a secret, an API audience and a scope (the app calls `/userinfo`
/// with the access token; log-out by `/oidc/logout`).
#[tokio::test]
async fn web_apps_on_express_openid_connect_in_headless_chromium() {
    express_openid_connect_story(None).await;
}

/// The same story with the server on HTTPS, with a certificate made here; the Express apps
/// stay on `http://127.0.0.1` (a potentially trustworthy origin to Chromium).
#[tokio::test]
async fn web_apps_on_express_openid_connect_over_https() {
    express_openid_connect_story(Some(self_signed())).await;
}

/// Runs `express_openid_connect.mjs` against a server on plain HTTP, or on HTTPS with `tls`
/// (a certificate and its key, PEM), which the script's Node trusts.
async fn express_openid_connect_story(tls: Option<(String, String)>) {
    require_installed();
    require_package("express-openid-connect");
    let (server, api) = server_and_admin(&tls).await;
    api.post(
        "resource-servers",
        json!({"name": "Example API", "identifier": API, "scopes": [{"value": "read:reports"}]}),
    )
    .await;
    let (quickstart_port, code_port) = free_ports();
    let quickstart = format!("http://127.0.0.1:{quickstart_port}");
    let code_app = format!("http://127.0.0.1:{code_port}");
    // What the quickstart registers: its callback and its home page to come back to; the
    // grant types are a regular web application's defaults, implicit among them.
    let web_app = |name: &str, app: &str| {
        json!({"name": name, "app_type": "regular_web",
               "callbacks": [format!("{app}/callback")],
               "allowed_logout_urls": [app, format!("{app}/")]})
    };
    let (quickstart_id, _) = api.client(web_app("Quickstart web app", &quickstart)).await;
    // The SDK authenticates with HTTP Basic (its `clientAuthMethod` default), and Castellan
    // takes a secret only the way the client registered.
    let mut code_client = web_app("Code flow web app", &code_app);
    code_client["token_endpoint_auth_method"] = json!("client_secret_basic");
    let (code_id, code_secret) = api.client(code_client).await;
    let email = "webapp-user@example.com";
    let password = "a web app user's passphrase";
    user_with_password(&api, email, password).await;

    let dir = tempfile::tempdir().unwrap();
    let artifacts = Path::new(ARTIFACTS).join(format!("express-openid-connect-{}", scheme(&tls)));
    let _ = std::fs::remove_dir_all(&artifacts);
    let mut node = Command::new("node");
    trust(&mut node, &tls, dir.path());
    node.arg(Path::new(BROWSER).join("express_openid_connect.mjs"))
        .arg(format!("--base={}", server.base))
        .arg(format!("--quickstart-id={quickstart_id}"))
        .arg(format!("--quickstart-port={quickstart_port}"))
        .arg(format!("--code-id={code_id}"))
        .arg(format!("--code-secret={code_secret}"))
        .arg(format!("--code-port={code_port}"))
        .arg(format!("--audience={API}"))
        .arg("--scope=openid profile email read:reports")
        .arg(format!("--email={email}"))
        .arg(format!("--password={password}"))
        .arg(format!("--artifacts={}", artifacts.display()))
        .arg(format!("--chromium={CHROMIUM}"));
    run_story("the express-openid-connect story", node, &server).await;
}

/// `compat/browser/passport_auth0.mjs`: an Express web app on Passport with Auth0's
/// strategy, passport-auth0, which builds `https://{domain}/...` from a bare domain, so the
/// server runs on HTTPS with a certificate made here; Node trusts it through
/// `NODE_EXTRA_CA_CERTS`. Log-in by code, the ID token checked, the profile from
/// `/userinfo?access_token=`, log-out by `/v2/logout`.
#[tokio::test]
async fn a_web_app_on_passport_auth0_in_headless_chromium() {
    require_installed();
    require_package("passport-auth0");
    let (cert, key) = self_signed();
    let (server, api) = on_https(&cert, &key).await;
    let (app_port, _) = free_ports();
    let app = format!("http://127.0.0.1:{app_port}");
    // A regular web application's defaults: the secret sent in the body.
    let (client_id, client_secret) = api
        .client(
            json!({"name": "Passport web app", "app_type": "regular_web",
                   "callbacks": [format!("{app}/callback")],
                   "allowed_logout_urls": [format!("{app}/")]}),
        )
        .await;
    let email = "passport-user@example.com";
    let password = "a Passport user's passphrase";
    user_with_password(&api, email, password).await;

    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("castellan.pem");
    std::fs::write(&ca, &cert).unwrap();
    let artifacts = Path::new(ARTIFACTS).join("passport-auth0");
    let _ = std::fs::remove_dir_all(&artifacts);
    let mut node = Command::new("node");
    node.arg(Path::new(BROWSER).join("passport_auth0.mjs"))
        .env("NODE_EXTRA_CA_CERTS", &ca)
        .arg(format!(
            "--domain={}",
            server.base.strip_prefix("https://").unwrap()
        ))
        .arg(format!("--client-id={client_id}"))
        .arg(format!("--client-secret={client_secret}"))
        .arg(format!("--app-port={app_port}"))
        .arg(format!("--email={email}"))
        .arg(format!("--password={password}"))
        .arg(format!("--artifacts={}", artifacts.display()))
        .arg(format!("--chromium={CHROMIUM}"));
    run_story("the passport-auth0 story", node, &server).await;
}

/// Runs a story's script; a failure shows its output and the server's log.
async fn run_story(name: &str, script: Command, server: &Server) {
    if let Err(failure) = run_script(name, script, Path::new(BROWSER), SCRIPT_TIMEOUT).await {
        panic!("{failure}\n=== server log:\n{}", server.log());
    }
}

/// A story's own npm package must be there too: missing, the test fails and says why.
fn require_package(name: &str) {
    let manifest = Path::new(BROWSER).join(format!("node_modules/{name}/package.json"));
    assert!(
        manifest.exists(),
        "{name} is not installed ({}): run compat/setup.sh from the workspace root first",
        manifest.display()
    );
}

/// The real binary on plain HTTP, or on HTTPS with `tls`, and its administrator.
pub(crate) async fn server_and_admin(tls: &Option<(String, String)>) -> (Server, Admin) {
    match tls {
        None => {
            let server = Server::start().await;
            let api = Admin::new(&server).await;
            (server, api)
        }
        Some((cert, key)) => on_https(cert, key).await,
    }
}

/// "https" with a certificate, "http" without.
fn scheme(tls: &Option<(String, String)>) -> &'static str {
    if tls.is_some() { "https" } else { "http" }
}

/// With a certificate, writes it into `dir` and has `script` trust it: Node through
/// `NODE_EXTRA_CA_CERTS`, Python's requests through `REQUESTS_CA_BUNDLE`.
pub(crate) fn trust(script: &mut Command, tls: &Option<(String, String)>, dir: &Path) {
    if let Some((cert, _)) = tls {
        let ca = dir.join("castellan.pem");
        std::fs::write(&ca, cert).unwrap();
        script
            .env("NODE_EXTRA_CA_CERTS", &ca)
            .env("REQUESTS_CA_BUNDLE", &ca);
    }
}

/// A certificate for 127.0.0.1 and its key, PEM, made for one test.
pub(crate) fn self_signed() -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    (cert.pem(), key.serialize_pem())
}

/// The real binary on HTTPS with this certificate, and its administrator trusting it.
async fn on_https(cert: &str, key: &str) -> (Server, Admin) {
    let server = Server::start_tls(cert, key).await;
    let trusting = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(cert.as_bytes()).unwrap()])
        .build()
        .unwrap();
    let api = Admin::with_http(&server, trusting).await;
    (server, api)
}

/// A user of the database connection who signs in with this password.
async fn user_with_password(api: &Admin, email: &str, password: &str) -> serde_json::Value {
    api.post(
        "users",
        json!({"connection": "Username-Password-Authentication", "email": email,
               "password": password, "email_verified": true}),
    )
    .await
}

/// `compat/browser/device.mjs`: a device (Node's fetch) asks for a device code and polls
/// while its user, in Chromium, opens `verification_uri_complete`, logs in and confirms.
#[tokio::test]
async fn a_device_flow_log_in_with_chromium_on_the_activate_page() {
    device_story(None).await;
}

/// The same story with the server on HTTPS, with a certificate made here.
#[tokio::test]
async fn a_device_flow_log_in_with_chromium_over_https() {
    device_story(Some(self_signed())).await;
}

/// Runs `device.mjs` against a server on plain HTTP, or on HTTPS with `tls` (a certificate
/// and its key, PEM), which the device (Node) trusts.
async fn device_story(tls: Option<(String, String)>) {
    require_installed();
    let (server, api) = server_and_admin(&tls).await;
    api.post(
        "resource-servers",
        json!({"name": "Example API", "identifier": API, "allow_offline_access": true}),
    )
    .await;
    let client = api
        .post(
            "clients",
            json!({"name": "Living-room TV", "app_type": "native",
                   "token_endpoint_auth_method": "none",
                   "grant_types": ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"]}),
        )
        .await;
    let email = "tv-viewer@example.com";
    let password = "a television viewer's passphrase";
    user_with_password(&api, email, password).await;

    let dir = tempfile::tempdir().unwrap();
    let artifacts = Path::new(ARTIFACTS).join(format!("device-{}", scheme(&tls)));
    let _ = std::fs::remove_dir_all(&artifacts);
    let mut node = Command::new("node");
    trust(&mut node, &tls, dir.path());
    node.arg(Path::new(BROWSER).join("device.mjs"))
        .arg(format!("--base={}", server.base))
        .arg(format!(
            "--client-id={}",
            client["client_id"].as_str().unwrap()
        ))
        .arg(format!("--audience={API}"))
        .arg(format!("--email={email}"))
        .arg(format!("--password={password}"))
        .arg(format!("--artifacts={}", artifacts.display()))
        .arg(format!("--chromium={CHROMIUM}"));
    run_story("the device flow story", node, &server).await;
}
