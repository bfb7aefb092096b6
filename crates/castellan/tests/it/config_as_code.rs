//! Configuration as code: `export` and `apply` on a tenant made through the real APIs,
//! on SQLite (or PostgreSQL with CASTELLAN_TEST_BACKEND=postgres). A round trip gives the
//! same bytes, a second apply changes nothing, a dry run writes nothing, a bad folder is
//! refused with its place in the file and leaves the tenant as it was, and a folder in
//! auth0-deploy-cli's layout applies.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;

use castellan::app::AppState;
use castellan::tenant_config::{self, ApplyOptions, ConfigError, Tenant};
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const API: &str = "https://reports.example.com";
const AUTHZ: &str = "urn:auth0-authz-api";

fn tenant(state: &AppState) -> Tenant<'_> {
    Tenant {
        store: state.store.as_ref(),
        clock: state.clock.as_ref(),
        master: &state.master_key,
        scripts: &state.scripts,
        issuer: &state.settings.issuer,
        bootstrap_client_id: state.settings.bootstrap.as_ref().map(|(id, _)| id.as_str()),
    }
}

fn no_env(_: &str) -> Option<String> {
    None
}

fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |k| {
        pairs
            .iter()
            .find(|(name, _)| *name == k)
            .map(|(_, v)| v.to_string())
    }
}

/// Every file under `dir`, by relative path.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

async fn export_files(server: &TestServer) -> BTreeMap<String, Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    tenant_config::export(&tenant(&server.running().state), dir.path())
        .await
        .unwrap();
    files(dir.path())
}

async fn apply(
    server: &TestServer,
    path: &Path,
    options: ApplyOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<tenant_config::Applied, ConfigError> {
    tenant_config::apply(&tenant(&server.running().state), path, options, env).await
}

async fn ok(server: &TestServer, method: Method, path: &str, body: Value) -> Value {
    let (status, answer) = server.admin(method, path, Some(body)).await;
    assert!(status.is_success(), "{path}: {status} {answer}");
    answer
}

async fn authz(server: &TestServer, token: &str, method: Method, path: &str, body: Value) -> Value {
    let (status, answer) = server
        .call(method, &format!("/authz/api{path}"), token, Some(body))
        .await;
    assert!(status.is_success(), "{path}: {status} {answer}");
    answer
}

/// Creates an Authorization Extension object and gives its id.
async fn authz_create(server: &TestServer, token: &str, path: &str, body: Value) -> String {
    authz(server, token, Method::POST, path, body).await["_id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A tenant with something of every kind, made through the Management and Authorization
/// Extension APIs.
async fn seed(server: &TestServer) {
    ok(
        server,
        Method::POST,
        "/resource-servers",
        json!({
            "name": "Reports API", "identifier": API, "enforce_policies": true,
            "token_dialect": "access_token_authz",
            "scopes": [{"value": "read:reports", "description": "Read reports"},
                       {"value": "write:reports", "description": "Write reports"}]
        }),
    )
    .await;
    let dashboard = ok(server, Method::POST, "/clients", json!({
        "name": "Dashboard", "app_type": "spa",
        "callbacks": ["https://app.example.com/callback"], "web_origins": ["https://app.example.com"]
    })).await["client_id"].as_str().unwrap().to_string();
    let reporter = ok(
        server,
        Method::POST,
        "/clients",
        json!({
            "name": "Reporter", "app_type": "non_interactive", "client_metadata": {"team": "data"},
            "description": "Nightly: \"reports\" #1"
        }),
    )
    .await["client_id"]
        .as_str()
        .unwrap()
        .to_string();
    ok(
        server,
        Method::POST,
        "/client-grants",
        json!({"client_id": reporter, "audience": API, "scope": ["read:reports"]}),
    )
    .await;
    ok(
        server,
        Method::POST,
        "/client-grants",
        json!({"client_id": reporter, "audience": MANAGEMENT_AUDIENCE, "scope": ["read:users"]}),
    )
    .await;
    for (name, description, scopes) in [
        ("Reader", "Reads reports", vec!["read:reports"]),
        (
            "Writer",
            "Writes reports\nand reads them",
            vec!["read:reports", "write:reports"],
        ),
    ] {
        let id = ok(
            server,
            Method::POST,
            "/roles",
            json!({"name": name, "description": description}),
        )
        .await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let permissions: Vec<Value> = scopes
            .iter()
            .map(|s| json!({"resource_server_identifier": API, "permission_name": s}))
            .collect();
        ok(
            server,
            Method::POST,
            &format!("/roles/{id}/permissions"),
            json!({"permissions": permissions}),
        )
        .await;
    }
    let partners = ok(
        server,
        Method::POST,
        "/connections",
        json!({
            "name": "partners", "strategy": "auth0", "enabled_clients": [dashboard],
            "options": {"passwordPolicy": "good", "password_complexity_options": {"min_length": 10}}
        }),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    ok(server, Method::POST, "/rules", json!({
        "name": "Add team", "order": 1,
        "script": "function (user, context, callback) {\n  context.idToken['https://example.com/team'] = configuration.TEAM;\n  callback(null, user, context);\n}\n"
    })).await;
    ok(
        server,
        Method::POST,
        "/rules",
        json!({
            "name": "Switched off", "order": 3, "enabled": false,
            "script": "function (user, context, callback) { callback(null, user, context); }"
        }),
    )
    .await;
    ok(
        server,
        Method::PUT,
        "/rules-configs/TEAM",
        json!({"value": "blue"}),
    )
    .await;
    let tag = ok(server, Method::POST, "/actions/actions", json!({
        "name": "Tag token", "supported_triggers": [{"id": "post-login", "version": "v3"}],
        "code": "exports.onExecutePostLogin = async (event, api) => {\n  api.accessToken.setCustomClaim('https://example.com/tag', event.secrets.TAG);\n};\n",
        "secrets": [{"name": "TAG", "value": "green"}]
    })).await["id"].as_str().unwrap().to_string();
    ok(
        server,
        Method::POST,
        &format!("/actions/actions/{tag}/deploy"),
        json!({}),
    )
    .await;
    ok(server, Method::PATCH, "/actions/triggers/post-login/bindings", json!({
        "bindings": [{"ref": {"type": "action_name", "value": "Tag token"}, "display_name": "Tag"}]
    })).await;
    ok(
        server,
        Method::POST,
        "/actions/actions",
        json!({
            "name": "Welcome draft", "supported_triggers": [{"id": "post-user-registration"}],
            "code": "exports.onExecutePostUserRegistration = async (event, api) => {};\n"
        }),
    )
    .await;

    let token = server.token(ADMIN_ID, ADMIN_SECRET, AUTHZ, None).await;
    let permission = authz_create(
        server,
        &token,
        "/permissions",
        json!({
            "name": "approve", "description": "Approve reports",
            "applicationType": "client", "applicationId": dashboard
        }),
    )
    .await;
    let approver = authz_create(
        server,
        &token,
        "/roles",
        json!({
            "name": "Approver", "description": "Approves reports",
            "applicationType": "client", "applicationId": dashboard, "permissions": [permission]
        }),
    )
    .await;
    let staff = authz_create(
        server,
        &token,
        "/groups",
        json!({"name": "Staff", "description": "Everyone"}),
    )
    .await;
    let analysts = authz_create(
        server,
        &token,
        "/groups",
        json!({"name": "Analysts", "description": "Data people"}),
    )
    .await;
    let (_, roles) = server.admin(Method::GET, "/roles", None).await;
    let role = |name: &str| {
        roles
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    authz(
        server,
        &token,
        Method::PATCH,
        &format!("/groups/{staff}/roles"),
        json!([role("Reader")]),
    )
    .await;
    authz(
        server,
        &token,
        Method::PATCH,
        &format!("/groups/{analysts}/roles"),
        json!([role("Writer"), approver]),
    )
    .await;
    authz(
        server,
        &token,
        Method::PATCH,
        &format!("/groups/{staff}/nested"),
        json!([analysts]),
    )
    .await;
    authz(
        server,
        &token,
        Method::PATCH,
        &format!("/groups/{analysts}/mappings"),
        json!([{"groupName": "data-team", "connectionName": "partners"}]),
    )
    .await;
    authz(
        server,
        &token,
        Method::PATCH,
        "/configuration",
        json!({"groupsInToken": true, "rolesInToken": true}),
    )
    .await;
    ok(
        server,
        Method::PATCH,
        &format!("/connections/{partners}"),
        json!({
            "default_assignments": {"roles": [role("Reader")], "groups": ["Staff"], "on": "signup"}
        }),
    )
    .await;
}

/// An exported folder names secrets without their values; these take them from keywords.
fn with_secret_keywords(dir: &Path) {
    let file = dir.join("tenant.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let text = text
        .replace(
            "  - key: TEAM\n",
            "  - key: TEAM\n    value: \"##TEAM##\"\n",
        )
        .replace(
            "      - name: TAG\n",
            "      - name: TAG\n        value: \"##TAG##\"\n",
        );
    assert!(
        text.contains("##TEAM##") && text.contains("##TAG##"),
        "{text}"
    );
    std::fs::write(file, text).unwrap();
}

const SECRETS: &[(&str, &str)] = &[("TEAM", "blue"), ("TAG", "green")];

#[tokio::test]
async fn round_trip_gives_the_same_files_and_a_second_apply_changes_nothing() {
    let source = TestServer::start().await;
    seed(&source).await;
    let dir = tempfile::tempdir().unwrap();
    let exported = tenant_config::export(&tenant(&source.running().state), dir.path())
        .await
        .unwrap();
    assert!(exported.notes.is_empty(), "{:?}", exported.notes);
    let first = files(dir.path());
    let yaml = String::from_utf8(first["tenant.yaml"].clone()).unwrap();
    for absent in [ADMIN_ID, "client_secret:", "blue", "green", "auth0|"] {
        assert!(!yaml.contains(absent), "{absent} in\n{yaml}");
    }
    assert!(
        first.contains_key("rules/Add team.js"),
        "{:?}",
        first.keys()
    );
    assert!(first.contains_key("actions/Tag token/code.js"));
    // Exporting again gives the same bytes.
    assert_eq!(export_files(&source).await, first);

    let target = TestServer::start().await;
    with_secret_keywords(dir.path());
    let env = env_of(SECRETS);
    let applied = apply(&target, dir.path(), ApplyOptions::default(), &env)
        .await
        .unwrap();
    assert!(applied.applied, "{}", applied.plan);
    assert_eq!(export_files(&target).await, first);

    let again = apply(&target, dir.path(), ApplyOptions::default(), &env)
        .await
        .unwrap();
    assert!(again.plan.is_empty(), "{}", again.plan);
    assert!(!again.applied);

    // What the folder said works in the target: the rule reads its configuration, the
    // action its secret, and the groups give roles.
    let (_, rules_configs) = target.admin(Method::GET, "/rules-configs", None).await;
    assert_eq!(rules_configs, json!([{"key": "TEAM"}]));
    let (_, bindings) = target
        .admin(Method::GET, "/actions/triggers/post-login/bindings", None)
        .await;
    assert_eq!(bindings["bindings"][0]["display_name"], "Tag", "{bindings}");
    let (_, logs) = target.admin(Method::GET, "/logs?q=type:sapi", None).await;
    assert!(
        logs.as_array()
            .unwrap()
            .iter()
            .any(|l| l["details"]["actor"] == json!({"type": "cli"})),
        "{logs}"
    );
}

#[tokio::test]
async fn dry_run_prints_the_plan_and_changes_nothing() {
    let server = TestServer::start().await;
    seed(&server).await;
    let dir = tempfile::tempdir().unwrap();
    tenant_config::export(&tenant(&server.running().state), dir.path())
        .await
        .unwrap();
    let before = files(dir.path());
    let file = dir.path().join("tenant.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let text = text
        .replace(
            "description: Reads reports",
            "description: Reads every report",
        )
        .replace(
            "\nclients:\n",
            "\nclients:\n  - name: New app\n    app_type: regular_web\n",
        );
    std::fs::write(&file, text).unwrap();
    let options = ApplyOptions {
        dry_run: true,
        delete_missing: false,
    };
    let applied = apply(&server, dir.path(), options, &no_env).await.unwrap();
    let shown = applied.plan.to_string();
    assert!(!applied.applied);
    assert!(
        shown.contains("+ create application \"New app\""),
        "{shown}"
    );
    assert!(
        shown.contains("~ change role \"Reader\": description"),
        "{shown}"
    );
    // The store enables a new application on every connection; the folder's lists of
    // enabled applications do not name it, so the plan takes it off again.
    assert!(
        shown.contains("~ change connection partners: enabled_clients"),
        "{shown}"
    );
    assert!(
        shown.contains("Plan: 1 to create, 3 to change, 0 to delete."),
        "{shown}"
    );
    assert_eq!(export_files(&server).await, before);
}

#[tokio::test]
async fn bad_folders_are_refused_with_their_place_and_nothing_is_written() {
    let server = TestServer::start().await;
    seed(&server).await;
    let before = export_files(&server).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("rules")).unwrap();
    std::fs::write(
        dir.path().join("rules/broken.js"),
        "function (user, context, callback) {\n  callback(null, user, context;\n}\n",
    )
    .unwrap();
    let cases: &[(&str, &str, &str)] = &[
        (
            "clients:\n  - name: A\n    callbacks: [\n",
            "tenant.yaml:",
            "YAML error",
        ),
        (
            "clients:\n  - name: A\n    callbakcs: []\n",
            "tenant.yaml:3:5: clients[0].callbakcs: unknown field `callbakcs`",
            "unknown key",
        ),
        (
            "clients:\n  - name: A\nclientGrants:\n  - client_id: Nobody\n    audience: https://reports.example.com\n    scope: [read:reports]\n",
            "tenant.yaml:4:5: there is no application named \"Nobody\"",
            "dangling application",
        ),
        (
            "roles:\n  - name: Auditor\n    permissions:\n      - permission_name: audit:reports\n        resource_server_identifier: https://reports.example.com\n",
            "tenant.yaml:4:9: \"audit:reports\" is not a scope of the API",
            "unknown scope",
        ),
        (
            "castellan:\n  groups:\n    - name: Ops\n      description: Operations\n      nested: [Nobody]\n",
            "tenant.yaml:5:16: there is no group named \"Nobody\"",
            "dangling group",
        ),
        // Refused by the use cases while rehearsing: the role before it was made on the
        // copy only.
        (
            "roles:\n  - name: Auditor\n    description: Audits\nrules:\n  - name: Broken\n    script: ./rules/broken.js\n",
            "tenant.yaml:5:5: create rule \"Broken\": script has a syntax error",
            "bad script",
        ),
        (
            "resourceServers:\n  - identifier: https://other.example.com\n    token_lifetime: -5\n",
            "tenant.yaml:2:5: create API https://other.example.com: token_lifetime must be between",
            "bad value",
        ),
        (
            "rules:\n  - name: New rule\n",
            "tenant.yaml:2:5: rule \"New rule\" is new and needs a script",
            "no script",
        ),
        (
            "rulesConfigs:\n  - key: NEW\n",
            "tenant.yaml:2:5: key NEW holds no value yet",
            "no value",
        ),
        (
            "clients:\n  - name: \"##NOT_SET##\"\n",
            "tenant.yaml:2:12: ##NOT_SET## names the environment variable",
            "keyword",
        ),
    ];
    for (yaml, expected, what) in cases {
        std::fs::write(dir.path().join("tenant.yaml"), yaml).unwrap();
        let e = apply(&server, dir.path(), ApplyOptions::default(), &no_env)
            .await
            .expect_err(what);
        let shown = e.to_string();
        assert!(matches!(e, ConfigError::Refused(_)), "{what}: {shown}");
        assert!(shown.contains(expected), "{what}: {shown}");
        assert!(shown.ends_with("nothing was changed"), "{what}: {shown}");
        assert_eq!(export_files(&server).await, before, "{what}");
    }
}

/// A folder as auth0-deploy-cli writes it, from an Auth0 tenant.
const DEPLOY_CLI_TENANT: &str = r#"tenant:
  friendly_name: Example
  support_email: support@example.com
pages:
  - name: login
    html: pages/login.html
clients:
  - name: Example SPA
    app_type: spa
    callbacks:
      - https://##APP_HOST##/callback
    allowed_logout_urls: []
    allowed_origins: []
    web_origins:
      - https://##APP_HOST##
    grant_types:
      - authorization_code
      - implicit
      - refresh_token
    is_first_party: true
    oidc_conformant: true
    sso_disabled: false
    cross_origin_auth: false
    custom_login_page_on: true
    jwt_configuration:
      alg: RS256
      lifetime_in_seconds: 36000
      secret_encoded: false
    native_social_login:
      apple:
        enabled: false
    refresh_token:
      rotation_type: rotating
      expiration_type: expiring
    token_endpoint_auth_method: none
  - name: Example M2M
    app_type: non_interactive
    grant_types:
      - client_credentials
    jwt_configuration:
      alg: RS256
    client_metadata:
      owner: data-team
databases:
  - name: Username-Password-Authentication
    strategy: auth0
    enabled_clients:
      - Example SPA
    is_domain_connection: false
    realms:
      - Username-Password-Authentication
    options:
      mfa:
        active: true
      passwordPolicy: good
      brute_force_protection: true
resourceServers:
  - name: Example API
    identifier: https://api.example.com
    allow_offline_access: false
    signing_alg: RS256
    skip_consent_for_verifiable_first_party_clients: true
    token_lifetime: 86400
    token_lifetime_for_web: 7200
    enforce_policies: true
    token_dialect: access_token_authz
    scopes:
      - value: read:items
        description: Read items
      - value: write:items
        description: Write items
  - name: auth0-authorization-extension-api
    identifier: urn:auth0-authz-api
    scopes: []
clientGrants:
  - client_id: Example M2M
    audience: https://api.example.com
    scope:
      - read:items
roles:
  - name: Editor
    description: Edits items
    permissions:
      - permission_name: read:items
        resource_server_identifier: https://api.example.com
      - permission_name: write:items
        resource_server_identifier: https://api.example.com
  - name: Viewer
    description: Views items
    permissions:
      - permission_name: read:items
        resource_server_identifier: https://api.example.com
rules:
  - name: Add country
    script: ./rules/Add country.js
    stage: login_success
    enabled: true
    order: 1
rulesConfigs:
  - key: GEO_TOKEN
    value: '##GEO_TOKEN##'
actions:
  - name: Add roles claim
    code: ./actions/Add roles claim/code.js
    runtime: node22
    dependencies: []
    deployed: true
    status: built
    secrets:
      - name: NAMESPACE
        value: https://example.com/
    supported_triggers:
      - id: post-login
        version: v3
triggers:
  credentials-exchange: []
  post-change-password: []
  post-login:
    - action_name: Add roles claim
      display_name: Add roles claim
  post-user-registration: []
  pre-user-registration: []
  send-phone-message: []
emailTemplates:
  - template: verify_email
    enabled: true
    body: ./emailTemplates/verify_email.html
"#;

fn deploy_cli_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tenant.yaml"), DEPLOY_CLI_TENANT).unwrap();
    std::fs::create_dir_all(dir.path().join("rules")).unwrap();
    std::fs::write(
        dir.path().join("rules/Add country.js"),
        "function addCountry(user, context, callback) {\n  if (context.request.geoip) {\n    context.idToken['https://example.com/country'] = context.request.geoip.country_name;\n  }\n  callback(null, user, context);\n}\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("actions/Add roles claim")).unwrap();
    std::fs::write(
        dir.path().join("actions/Add roles claim/code.js"),
        "exports.onExecutePostLogin = async (event, api) => {\n  const namespace = event.secrets.NAMESPACE;\n  api.idToken.setCustomClaim(`${namespace}roles`, event.authorization.roles);\n};\n",
    )
    .unwrap();
    dir
}

#[tokio::test]
async fn an_auth0_deploy_cli_folder_applies() {
    let server = TestServer::start().await;
    let dir = deploy_cli_folder();
    let env = env_of(&[("APP_HOST", "app.example.com"), ("GEO_TOKEN", "geo-secret")]);
    let applied = apply(&server, dir.path(), ApplyOptions::default(), &env)
        .await
        .unwrap();
    assert!(applied.applied, "{}", applied.plan);
    let notes = applied.notes.join("\n");
    for ignored in [
        "tenant",
        "pages",
        "emailTemplates",
        "clients[].jwt_configuration",
        "databases[].realms",
        "resourceServers[].token_lifetime_for_web",
        "actions[].status",
    ] {
        assert!(notes.contains(ignored), "{ignored} not in\n{notes}");
    }
    assert!(
        notes.contains("urn:auth0-authz-api is a system API"),
        "{notes}"
    );

    let (_, clients) = server.admin(Method::GET, "/clients", None).await;
    let spa = clients
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Example SPA")
        .unwrap()
        .clone();
    assert_eq!(
        spa["callbacks"],
        json!(["https://app.example.com/callback"])
    );
    assert_eq!(spa["token_endpoint_auth_method"], "none");
    let (_, roles) = server.admin(Method::GET, "/roles", None).await;
    let editor = roles
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Editor")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, permissions) = server
        .admin(Method::GET, &format!("/roles/{editor}/permissions"), None)
        .await;
    assert_eq!(permissions.as_array().unwrap().len(), 2, "{permissions}");
    let (_, bindings) = server
        .admin(Method::GET, "/actions/triggers/post-login/bindings", None)
        .await;
    assert_eq!(
        bindings["bindings"][0]["action"]["name"], "Add roles claim",
        "{bindings}"
    );
    let (_, connection) = server
        .admin(
            Method::GET,
            "/connections?name=Username-Password-Authentication",
            None,
        )
        .await;
    let options = &connection.as_array().unwrap()[0]["options"];
    assert_eq!(options["passwordPolicy"], "good", "{connection}");

    // The machine-to-machine application gets tokens for the API with the granted scope.
    let again = apply(&server, dir.path(), ApplyOptions::default(), &env)
        .await
        .unwrap();
    assert!(again.plan.is_empty(), "{}", again.plan);
}

#[tokio::test]
async fn deleting_needs_delete_missing() {
    let server = TestServer::start().await;
    seed(&server).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("tenant.yaml"),
        "roles:\n  - name: Reader\n  - name: Writer\n",
    )
    .unwrap();
    let kept = apply(&server, dir.path(), ApplyOptions::default(), &no_env)
        .await
        .unwrap();
    assert!(kept.plan.is_empty(), "{}", kept.plan);
    // Nothing but roles is managed by this folder, and only roles not bound to an
    // application; the extension's roles are another kind.
    std::fs::write(dir.path().join("tenant.yaml"), "roles:\n  - name: Reader\n").unwrap();
    let shown = apply(&server, dir.path(), ApplyOptions::default(), &no_env)
        .await
        .unwrap()
        .plan
        .to_string();
    assert!(
        shown.contains("(kept: role \"Writer\" is not in the folder"),
        "{shown}"
    );
    let options = ApplyOptions {
        dry_run: false,
        delete_missing: true,
    };
    // Writer is held by the group Analysts, which this folder does not manage: the use
    // cases refuse, on the copy first, so nothing is deleted.
    let e = apply(&server, dir.path(), options, &no_env)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("delete role \"Writer\""), "{e}");
    let (_, roles) = server.admin(Method::GET, "/roles", None).await;
    assert!(
        roles
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "Writer")
    );

    std::fs::write(
        dir.path().join("tenant.yaml"),
        "roles:\n  - name: Reader\ncastellan:\n  groups:\n    - name: Staff\n      roles: [Reader]\n      nested: []\n",
    )
    .unwrap();
    let applied = apply(&server, dir.path(), options, &no_env).await.unwrap();
    let shown = applied.plan.to_string();
    assert!(shown.contains("- delete group \"Analysts\""), "{shown}");
    assert!(shown.contains("- delete role \"Writer\""), "{shown}");
    let (_, roles) = server.admin(Method::GET, "/roles", None).await;
    let names: Vec<&str> = roles
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Approver", "Reader"], "{roles}");
    let status = server.admin(Method::GET, "/groups", None).await;
    assert_eq!(status.0, StatusCode::OK);
    assert_eq!(status.1.as_array().unwrap().len(), 1, "{}", status.1);
}

/// The commands themselves, through the real binary on a database no server has opened.
#[test]
fn the_commands_work_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let folder = deploy_cli_folder();
    let castellan = |args: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_castellan"));
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("CASTELLAN_")) {
            cmd.env_remove(k);
        }
        cmd.current_dir(dir.path())
            .args(args)
            .env(
                "CASTELLAN_DATABASE_URL",
                format!("sqlite://{}/castellan.db", dir.path().display()),
            )
            .env("CASTELLAN_ISSUER", ISSUER)
            .env("CASTELLAN_ADMIN_CLIENT_ID", ADMIN_ID)
            .env("CASTELLAN_ADMIN_CLIENT_SECRET", ADMIN_SECRET)
            .env("APP_HOST", "app.example.com")
            .env("GEO_TOKEN", "geo-secret")
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let path = folder.path().to_str().unwrap();

    let out = castellan(&["apply", path, "--dry-run"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(
        shown.contains("+ create application \"Example SPA\""),
        "{shown}"
    );
    assert!(shown.contains("Dry run: nothing was changed."), "{shown}");
    assert!(
        text(&out.stderr).contains("note: clients[].jwt_configuration"),
        "{}",
        text(&out.stderr)
    );

    let out = castellan(&["apply", path]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Applied."),
        "{}",
        text(&out.stdout)
    );

    let out = castellan(&["export", "exported"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let exported = dir.path().join("exported");
    let yaml = std::fs::read_to_string(exported.join("tenant.yaml")).unwrap();
    assert!(yaml.contains("https://app.example.com/callback"), "{yaml}");
    assert!(!yaml.contains("geo-secret"), "{yaml}");

    // The export applies to the same tenant without a change, secrets kept as they are.
    let out = castellan(&["apply", exported.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("No changes: the tenant matches the folder."),
        "{}",
        text(&out.stdout)
    );

    std::fs::write(
        exported.join("tenant.yaml"),
        "clients:\n  - name: X\n    app_typ: spa\n",
    )
    .unwrap();
    let out = castellan(&["apply", exported.to_str().unwrap()]);
    assert!(!out.status.success());
    let error = text(&out.stderr);
    assert!(
        error.contains("tenant.yaml:3:5: clients[0].app_typ: unknown field"),
        "{error}"
    );
}

#[tokio::test]
async fn rules_swap_orders_and_export_keeps_to_its_own_folders() {
    let server = TestServer::start().await;
    seed(&server).await;
    let dir = tempfile::tempdir().unwrap();
    tenant_config::export(&tenant(&server.running().state), dir.path())
        .await
        .unwrap();
    let file = dir.path().join("tenant.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let swapped = text
        .replace("    order: 1\n", "    order: 9\n")
        .replace("    order: 3\n", "    order: 1\n")
        .replace("    order: 9\n", "    order: 3\n");
    std::fs::write(&file, &swapped).unwrap();
    let applied = apply(&server, dir.path(), ApplyOptions::default(), &no_env)
        .await
        .unwrap();
    let shown = applied.plan.to_string();
    assert!(
        shown.contains("~ change rule \"Add team\": order"),
        "{shown}"
    );
    assert!(shown.contains("Plan: 0 to create, 2 to change"), "{shown}");
    let (_, rules) = server.admin(Method::GET, "/rules", None).await;
    let orders: Vec<(String, i64)> = rules
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["order"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        orders,
        [("Switched off".to_string(), 1), ("Add team".to_string(), 3)]
    );

    // A folder that is not an export is not written into.
    let other = tempfile::tempdir().unwrap();
    std::fs::write(other.path().join("notes.txt"), "mine").unwrap();
    let e = tenant_config::export(&tenant(&server.running().state), other.path())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("holds no tenant.yaml"), "{e}");
    assert_eq!(
        std::fs::read_to_string(other.path().join("notes.txt")).unwrap(),
        "mine"
    );
}

#[tokio::test]
async fn a_role_made_through_the_api_and_through_apply_leaves_the_same_audit_entries() {
    let server = TestServer::start().await;
    seed(&server).await;
    let made = ok(
        &server,
        Method::POST,
        "/roles",
        json!({"name": "Auditor Api", "description": "Audits"}),
    )
    .await;
    let id = made["id"].as_str().unwrap();
    let (status, body) = server
        .admin(
            Method::POST,
            &format!("/roles/{id}/permissions"),
            Some(json!({"permissions": [{"resource_server_identifier": API, "permission_name": "read:reports"}]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("tenant.yaml"),
        format!("roles:\n  - name: Auditor Yaml\n    description: Audits\n    permissions:\n      - permission_name: read:reports\n        resource_server_identifier: {API}\n"),
    )
    .unwrap();
    apply(&server, dir.path(), ApplyOptions::default(), &no_env)
        .await
        .unwrap();

    let through_api = server.role_audit_entries("Auditor Api").await;
    assert_eq!(through_api.len(), 2, "{through_api:?}");
    assert_eq!(
        through_api[1]["changes"],
        json!(format!("{{\"added\":[\"{API} read:reports\"]}}"))
    );
    assert_eq!(server.role_audit_entries("Auditor Yaml").await, through_api);
}

#[tokio::test]
async fn applications_apis_grants_and_default_assignments_made_through_the_api_and_through_apply_leave_the_same_audit_entries()
 {
    let server = TestServer::start().await;
    ok(
        &server,
        Method::POST,
        "/resource-servers",
        json!({"name": "Reports", "identifier": API, "scopes": [{"value": "read:reports"}]}),
    )
    .await;
    ok(&server, Method::POST, "/roles", json!({"name": "editor"})).await;
    let (_, connections) = server.admin(Method::GET, "/connections", None).await;
    let connection = connections.as_array().unwrap()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let callback = "https://billing.example.com/callback";

    // Through the API.
    ok(
        &server,
        Method::POST,
        "/resource-servers",
        json!({"name": "ledger-api", "identifier": "https://ledger-api.example.com",
               "scopes": [{"value": "read:ledger", "description": "Read the ledger"}]}),
    )
    .await;
    let made = ok(
        &server,
        Method::POST,
        "/clients",
        json!({"name": "Billing Api", "app_type": "regular_web", "callbacks": [callback]}),
    )
    .await;
    let id = made["client_id"].as_str().unwrap();
    ok(
        &server,
        Method::POST,
        "/client-grants",
        json!({"client_id": id, "audience": API, "scope": ["read:reports"]}),
    )
    .await;
    ok(
        &server,
        Method::PATCH,
        &format!("/clients/{id}"),
        json!({"description": "Invoices", "web_origins": ["https://billing.example.com"]}),
    )
    .await;
    let (status, body) = server
        .admin(Method::DELETE, &format!("/clients/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let path = format!("/connections/{connection}");
    ok(
        &server,
        Method::PATCH,
        &path,
        json!({"default_assignments": {"roles": ["editor"]}}),
    )
    .await;
    ok(
        &server,
        Method::PATCH,
        &path,
        json!({"default_assignments": null}),
    )
    .await;

    // Through apply: created, changed, then deleted as missing from the folder.
    let dir = tempfile::tempdir().unwrap();
    let yaml = |client: &str| {
        format!(
            "clients:\n{client}resourceServers:\n  - name: ledger-yaml\n    identifier: https://ledger-yaml.example.com\n    scopes:\n      - value: read:ledger\n        description: Read the ledger\nclientGrants:\n  - client_id: Billing Yaml\n    audience: {API}\n    scope: [read:reports]\ncastellan:\n  defaultAssignments:\n    - connection: {DATABASE}\n      roles: [editor]\n"
        )
    };
    let client =
        format!("  - name: Billing Yaml\n    app_type: regular_web\n    callbacks: [{callback}]\n");
    std::fs::write(dir.path().join("tenant.yaml"), yaml(&client)).unwrap();
    apply(&server, dir.path(), ApplyOptions::default(), &no_env)
        .await
        .unwrap();
    let changed = format!(
        "{client}    description: Invoices\n    web_origins: [https://billing.example.com]\n"
    );
    std::fs::write(dir.path().join("tenant.yaml"), yaml(&changed)).unwrap();
    apply(&server, dir.path(), ApplyOptions::default(), &no_env)
        .await
        .unwrap();
    std::fs::write(dir.path().join("tenant.yaml"), "clients: []\n").unwrap();
    let options = ApplyOptions {
        dry_run: false,
        delete_missing: true,
    };
    apply(&server, dir.path(), options, &no_env).await.unwrap();

    let through_api = server.audit_entries_naming("Billing Api").await;
    let actions: Vec<&Value> = through_api.iter().map(|e| &e["action"]).collect();
    assert_eq!(
        actions,
        [
            "create_client",
            "create_client_grant",
            "update_client",
            "delete_client"
        ],
        "{through_api:?}"
    );
    assert_eq!(
        server.audit_entries_naming("Billing Yaml").await,
        through_api
    );

    let through_api = server.audit_entries_naming("ledger-api").await;
    assert_eq!(through_api.len(), 1, "{through_api:?}");
    assert_eq!(through_api[0]["action"], "create_resource_server");
    assert_eq!(
        server.audit_entries_naming("ledger-yaml").await,
        through_api
    );

    let defaults = server.audit_entries_of("set_default_assignments").await;
    assert_eq!(defaults.len(), 3, "{defaults:?}");
    assert_eq!(
        defaults[2], defaults[0],
        "apply sets the defaults as the API does"
    );
    assert_eq!(
        defaults[1]["details"]["changes"],
        json!({"default_assignments": null})
    );
}

const SCRIPT_ACTIONS: &[&str] = &[
    "create_rule",
    "update_rule",
    "delete_rule",
    "create_action",
    "update_action",
    "deploy_action",
    "update_trigger_bindings",
    "delete_action",
];
const TAG_RULE: &str =
    "function (user, context, callback) {\n  callback(null, user, context);\n}\n";
const TAG_RULE_2: &str = "function (user, context, callback) {\n  context.idToken.tag = 'b';\n  callback(null, user, context);\n}\n";
const STAMP: &str = "exports.onExecutePostLogin = async (event, api) => {\n};\n";
const STAMP_2: &str = "exports.onExecutePostLogin = async (event, api) => {\n  api.idToken.setCustomClaim('stamp', event.secrets.KEY);\n};\n";

/// Applies `yaml` with the rule's and the action's code beside it.
async fn apply_scripts(server: &TestServer, yaml: &str, rule: &str, action: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("rules")).unwrap();
    std::fs::create_dir_all(dir.path().join("actions/Stamp")).unwrap();
    std::fs::write(dir.path().join("rules/Tag.js"), rule).unwrap();
    std::fs::write(dir.path().join("actions/Stamp/code.js"), action).unwrap();
    std::fs::write(dir.path().join("tenant.yaml"), yaml).unwrap();
    let options = ApplyOptions {
        dry_run: false,
        delete_missing: true,
    };
    let applied = apply(server, dir.path(), options, &no_env).await.unwrap();
    assert!(applied.applied, "{}", applied.plan);
}

#[tokio::test]
async fn rules_and_actions_changed_through_the_api_and_through_apply_leave_the_same_audit_entries()
{
    let through_api = TestServer::start().await;
    let s = &through_api;
    let rule = ok(
        s,
        Method::POST,
        "/rules",
        json!({"name": "Tag", "script": TAG_RULE, "enabled": true}),
    )
    .await;
    let rule_path = format!("/rules/{}", rule["id"].as_str().unwrap());
    let action = ok(
        s,
        Method::POST,
        "/actions/actions",
        json!({"name": "Stamp", "code": STAMP, "supported_triggers": [{"id": "post-login", "version": "v3"}],
               "secrets": [{"name": "KEY", "value": "first"}]}),
    )
    .await;
    let action_path = format!("/actions/actions/{}", action["id"].as_str().unwrap());
    ok(s, Method::POST, &format!("{action_path}/deploy"), json!({})).await;
    let bindings = "/actions/triggers/post-login/bindings";
    let bind = json!({"bindings": [{"ref": {"type": "action_name", "value": "Stamp"}, "display_name": "Stamp"}]});
    ok(s, Method::PATCH, bindings, bind).await;
    ok(
        s,
        Method::PATCH,
        &rule_path,
        json!({"script": TAG_RULE_2, "enabled": false}),
    )
    .await;
    ok(s, Method::PATCH, &action_path, json!({"code": STAMP_2})).await;
    ok(s, Method::POST, &format!("{action_path}/deploy"), json!({})).await;
    ok(s, Method::PATCH, bindings, json!({"bindings": []})).await;
    for path in [&rule_path, &action_path] {
        let (status, body) = s.admin(Method::DELETE, path, None).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{path}: {body}");
    }

    let through_apply = TestServer::start().await;
    let s = &through_apply;
    let action_yaml = "actions:\n  - name: Stamp\n    code: ./actions/Stamp/code.js\n    deployed: true\n    secrets:\n      - name: KEY\n        value: first\n    supported_triggers:\n      - id: post-login\n        version: v3\n";
    apply_scripts(
        s,
        &format!("rules:\n  - name: Tag\n    script: ./rules/Tag.js\n    enabled: true\n{action_yaml}triggers:\n  post-login:\n    - action_name: Stamp\n      display_name: Stamp\n"),
        TAG_RULE,
        STAMP,
    )
    .await;
    apply_scripts(
        s,
        &format!("rules:\n  - name: Tag\n    script: ./rules/Tag.js\n    enabled: false\n{action_yaml}triggers:\n  post-login: []\n"),
        TAG_RULE_2,
        STAMP_2,
    )
    .await;
    apply_scripts(s, "rules: []\nactions: []\n", TAG_RULE_2, STAMP_2).await;

    let made = through_api.change_entries(SCRIPT_ACTIONS).await;
    let actions: Vec<&str> = made.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "create_rule",
            "create_action",
            "deploy_action",
            "update_trigger_bindings",
            "update_rule",
            "update_action",
            "deploy_action",
            "update_trigger_bindings",
            "delete_rule",
            "delete_action",
        ]
    );
    assert_eq!(
        made[5]["changes"],
        json!({"name": "Stamp", "trigger": "post-login", "runtime": "node22", "secrets": ["KEY"], "code_changed": true})
    );
    assert!(
        !serde_json::to_string(&made).unwrap().contains("first"),
        "no secret value in an entry"
    );
    assert_eq!(through_apply.change_entries(SCRIPT_ACTIONS).await, made);
}

#[tokio::test]
async fn allowed_origins_go_through_export_and_apply_and_a_bad_one_is_refused() {
    let source = TestServer::start().await;
    ok(
        &source,
        Method::POST,
        "/clients",
        json!({"name": "Storefront", "app_type": "spa",
               "allowed_origins": ["https://shop.example.com", "https://*.shop.example.com"]}),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    tenant_config::export(&tenant(&source.running().state), dir.path())
        .await
        .unwrap();
    let exported = files(dir.path());
    let yaml = String::from_utf8(exported["tenant.yaml"].clone()).unwrap();
    assert!(
        yaml.contains(
            "    allowed_origins:\n      - \"https://shop.example.com\"\n      - \"https://*.shop.example.com\"\n"
        ),
        "{yaml}"
    );

    let target = TestServer::start().await;
    let applied = apply(&target, dir.path(), ApplyOptions::default(), &no_env)
        .await
        .unwrap();
    assert!(applied.applied, "{}", applied.plan);
    assert!(
        !applied.notes.join("\n").contains("allowed_origins"),
        "{:?}",
        applied.notes
    );
    assert_eq!(export_files(&target).await, exported);
    let storefront = client_id_named(&target, "Storefront").await;
    let path = format!("/clients/{storefront}");
    let (_, client) = target.admin(Method::GET, &path, None).await;
    assert_eq!(
        client["allowed_origins"],
        json!(["https://shop.example.com", "https://*.shop.example.com"])
    );

    // A change to the list alone is a change to the client.
    let tenant_yaml = dir.path().join("tenant.yaml");
    std::fs::write(
        &tenant_yaml,
        "clients:\n  - name: Storefront\n    allowed_origins: [http://localhost:3000]\n",
    )
    .unwrap();
    let applied = apply(&target, dir.path(), ApplyOptions::default(), &no_env)
        .await
        .unwrap();
    assert!(
        applied.plan.to_string().contains("allowed_origins"),
        "{}",
        applied.plan
    );
    let (_, client) = target.admin(Method::GET, &path, None).await;
    assert_eq!(client["allowed_origins"], json!(["http://localhost:3000"]));

    let before = export_files(&target).await;
    std::fs::write(
        &tenant_yaml,
        "clients:\n  - name: Storefront\n    allowed_origins: [https://shop.example.com/cart]\n",
    )
    .unwrap();
    let e = apply(&target, dir.path(), ApplyOptions::default(), &no_env)
        .await
        .expect_err("a path is not part of an origin");
    let shown = e.to_string();
    assert!(matches!(e, ConfigError::Refused(_)), "{shown}");
    assert!(
        shown.contains("allowed_origins") && shown.contains("https://shop.example.com/cart"),
        "{shown}"
    );
    assert_eq!(export_files(&target).await, before);
}

/// The client id of the application named `name`.
async fn client_id_named(server: &TestServer, name: &str) -> String {
    let (_, clients) = server.admin(Method::GET, "/clients", None).await;
    clients
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no application {name} in {clients}"))["client_id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn refresh_token_settings_go_through_export_and_apply_and_bad_ones_are_refused() {
    let source = TestServer::start().await;
    let settings = json!({"rotation_type": "rotating", "expiration_type": "expiring", "leeway": 10,
                          "token_lifetime": 86_400, "infinite_token_lifetime": false,
                          "idle_token_lifetime": 3600, "infinite_idle_token_lifetime": false});
    ok(
        &source,
        Method::POST,
        "/clients",
        json!({"name": "Storefront", "app_type": "spa", "refresh_token": settings}),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    tenant_config::export(&tenant(&source.running().state), dir.path())
        .await
        .unwrap();
    let exported = files(dir.path());
    let yaml = String::from_utf8(exported["tenant.yaml"].clone()).unwrap();
    assert!(
        yaml.contains("    refresh_token:\n") && yaml.contains("      idle_token_lifetime: 3600\n"),
        "{yaml}"
    );

    let target = TestServer::start().await;
    let applied = apply(&target, dir.path(), ApplyOptions::default(), &no_env)
        .await
        .unwrap();
    assert!(applied.applied, "{}", applied.plan);
    assert!(
        !applied.notes.join("\n").contains("refresh_token"),
        "no longer an ignored field: {:?}",
        applied.notes
    );
    assert_eq!(export_files(&target).await, exported);
    let path = format!("/clients/{}", client_id_named(&target, "Storefront").await);
    let (_, client) = target.admin(Method::GET, &path, None).await;
    assert_eq!(client["refresh_token"], settings);

    // A file may give only the types; the rest takes their defaults, and applying the
    // same file again changes nothing.
    let tenant_yaml = dir.path().join("tenant.yaml");
    std::fs::write(
        &tenant_yaml,
        "clients:\n  - name: Storefront\n    refresh_token:\n      rotation_type: non-rotating\n      expiration_type: non-expiring\n",
    )
    .unwrap();
    for changes in [true, false] {
        let applied = apply(&target, dir.path(), ApplyOptions::default(), &no_env)
            .await
            .unwrap();
        assert_eq!(
            applied.plan.to_string().contains("refresh_token"),
            changes,
            "{}",
            applied.plan
        );
    }
    let (_, client) = target.admin(Method::GET, &path, None).await;
    assert_eq!(
        client["refresh_token"],
        json!({"rotation_type": "non-rotating", "expiration_type": "non-expiring", "leeway": 0,
               "token_lifetime": 31_557_600, "infinite_token_lifetime": true,
               "idle_token_lifetime": 2_592_000, "infinite_idle_token_lifetime": true})
    );

    let before = export_files(&target).await;
    std::fs::write(
        &tenant_yaml,
        "clients:\n  - name: Storefront\n    refresh_token:\n      rotation_type: rotating\n      expiration_type: expiring\n      token_lifetime: 31557601\n",
    )
    .unwrap();
    let e = apply(&target, dir.path(), ApplyOptions::default(), &no_env)
        .await
        .expect_err("rotating tokens live a year at most");
    let shown = e.to_string();
    assert!(matches!(e, ConfigError::Refused(_)), "{shown}");
    assert!(shown.contains("refresh_token.token_lifetime"), "{shown}");
    assert_eq!(export_files(&target).await, before);
}
