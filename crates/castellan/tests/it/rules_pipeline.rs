//! Rules and actions in the log-in pipeline, through real log-ins: the corpus in `tests/rules/` (the
//! rules people bring from Auth0) shapes the very first token and the stored user; denials
//! and failures reach the client and the tenant log; client credentials never run rules;
//! a looping rule does not stop other log-ins; post-login actions run after the rules and
//! post-user-registration actions at sign-up.

use crate::authz_support;
use crate::common;
use crate::real_binary;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const API: &str = "https://api.example.com";
const REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";
const DB: &str = "Username-Password-Authentication";
const PASSWORD: &str = "correct horse battery";

fn corpus(name: &str) -> String {
    let path = format!("{}/tests/rules/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

struct Tenant {
    server: TestServer,
    client_id: String,
    client_secret: String,
}

/// An RBAC API whose `member` role holds both its scopes, and a client with the password
/// and refresh grants.
async fn tenant_on(server: TestServer) -> Tenant {
    let api = json!({"identifier": API, "enforce_policies": true, "token_dialect": "access_token_authz",
                     "allow_offline_access": true,
                     "scopes": [{"value": "read:reports"}, {"value": "write:reports"}]});
    let (status, body) = server
        .admin(Method::POST, "/resource-servers", Some(api))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, role) = server
        .admin(Method::POST, "/roles", Some(json!({"name": "member"})))
        .await;
    let grant = json!({"permissions": [
        {"resource_server_identifier": API, "permission_name": "read:reports"},
        {"resource_server_identifier": API, "permission_name": "write:reports"}]});
    let path = format!("/roles/{}/permissions", role["id"].as_str().unwrap());
    assert_eq!(
        server.admin(Method::POST, &path, Some(grant)).await.0,
        StatusCode::CREATED
    );
    let (_, client) = server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "reports app", "grant_types": [REALM, "refresh_token"]})),
        )
        .await;
    Tenant {
        client_id: client["client_id"].as_str().unwrap().into(),
        client_secret: client["client_secret"].as_str().unwrap().into(),
        server,
    }
}

impl Tenant {
    async fn rule(&self, name: &str, script: &str) {
        self.server.add_rule(name, script).await;
    }

    async fn config(&self, key: &str, value: &str) {
        let (status, body) = self
            .server
            .admin(
                Method::PUT,
                &format!("/rules-configs/{key}"),
                Some(json!({"value": value})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    async fn user(&self, email: &str, verified: bool) -> String {
        let user = self
            .server
            .create_user(email, json!({"email_verified": verified}))
            .await;
        user["user_id"].as_str().unwrap().into()
    }

    async fn log_in_as(&self, client_id: &str, secret: &str, email: &str) -> (StatusCode, Value) {
        self.server
            .token_request(json!({
                "grant_type": REALM, "realm": DB, "client_id": client_id,
                "client_secret": secret, "username": email, "password": PASSWORD,
                "audience": API, "scope": "openid offline_access read:reports write:reports"}))
            .await
    }

    async fn log_in(&self, email: &str) -> (StatusCode, Value) {
        self.log_in_as(&self.client_id, &self.client_secret, email)
            .await
    }

    async fn refresh(&self, refresh_token: &str) -> (StatusCode, Value) {
        self.server
            .token_request(json!({
                "grant_type": "refresh_token", "client_id": self.client_id,
                "client_secret": self.client_secret, "refresh_token": refresh_token}))
            .await
    }

    async fn logs(&self, query: &str) -> Vec<Value> {
        let (status, logs) = self
            .server
            .admin(Method::GET, &format!("/logs?q={query}&sort=date:1"), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{logs}");
        logs.as_array().unwrap().clone()
    }
}

fn scopes(token_response: &Value) -> Vec<String> {
    let mut s: Vec<String> = token_response["scope"]
        .as_str()
        .unwrap()
        .split(' ')
        .map(String::from)
        .collect();
    s.sort();
    s
}

#[tokio::test]
async fn the_corpus_shapes_the_first_token_and_the_stored_user() {
    let t = tenant_on(TestServer::start().await).await;
    t.config("DEFAULT_ROLE", "member").await;
    t.config("PLAN", "gold").await;
    t.config("BLOCKED_DOMAINS", "blocked.example").await;
    for name in [
        "deny-unverified-email",
        "deny-email-domain",
        "first-login-timestamp",
        "default-role-on-first-login",
        "roles-into-claims",
        "scope-rewrite",
        "forge-restricted-claims",
    ] {
        t.rule(name, &corpus(&format!("{name}.js"))).await;
    }
    let user_id = t.user("ada@example.com", true).await;

    let (status, first) = t.log_in("ada@example.com").await;
    assert_eq!(status, StatusCode::OK, "{first}");
    // The role the rule assigned natively is in this very token, with its permissions.
    let access = claims(first["access_token"].as_str().unwrap());
    assert_eq!(
        access["permissions"],
        json!(["read:reports", "write:reports"])
    );
    assert_eq!(
        scopes(&first),
        ["offline_access", "openid", "read:reports", "write:reports"]
    );
    assert_eq!(access["https://example.com/roles"], json!(["member"]));
    // A rule cannot forge what the server owns; namespaced claims are kept.
    assert_eq!(access["sub"], json!(user_id));
    assert_eq!(
        access["https://example.com/forged"],
        json!("kept: namespaced claims are allowed")
    );
    let id = claims(first["id_token"].as_str().unwrap());
    assert_eq!(id["https://example.com/roles"], json!(["member"]));
    assert_eq!(id["https://example.com/plan"], json!("gold"));
    assert!(id.get("roles").is_none(), "{id}");
    assert!(id.get("https://tenant.auth0.com/admin").is_none(), "{id}");

    let path = format!("/users/{}", encoded(&user_id));
    let (_, stored) = t.server.admin(Method::GET, &path, None).await;
    let first_login_at = stored["app_metadata"]["first_login_at"].clone();
    assert!(first_login_at.is_string(), "{stored}");
    let (_, roles) = t
        .server
        .admin(Method::GET, &format!("{path}/roles"), None)
        .await;
    assert_eq!(roles.as_array().unwrap().len(), 1, "{roles}");

    // A refresh runs the rules with `oauth2-refresh-token`: the scope rewrite drops writes.
    let (status, refreshed) = t.refresh(first["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    assert_eq!(
        scopes(&refreshed),
        ["offline_access", "openid", "read:reports"]
    );

    // A second log-in changes nothing the first one set.
    let (status, _) = t.log_in("ada@example.com").await;
    assert_eq!(status, StatusCode::OK);
    let (_, stored) = t.server.admin(Method::GET, &path, None).await;
    assert_eq!(stored["app_metadata"]["first_login_at"], first_login_at);
    let audited: Vec<Value> = t
        .logs("type:sapi")
        .await
        .into_iter()
        .filter(|e| e["details"]["actor"]["type"] == "rule")
        .collect();
    assert_eq!(audited.len(), 1, "{audited:?}");
    assert_eq!(
        audited[0]["details"]["actor"]["name"],
        "default-role-on-first-login"
    );
    assert_eq!(audited[0]["user_id"], json!(user_id));
}

#[tokio::test]
async fn denials_and_failures_reach_the_client_and_the_log() {
    let t = tenant_on(TestServer::start().await).await;
    t.config("BLOCKED_DOMAINS", "blocked.example").await;
    t.rule("deny-unverified-email", &corpus("deny-unverified-email.js"))
        .await;
    t.rule("deny-email-domain", &corpus("deny-email-domain.js"))
        .await;
    t.rule(
        "crash",
        "function (user, context, callback) {\n  if (user.email === 'crash@example.com') {\n    console.log('about to fail for', user.email);\n    return null.boom;\n  }\n  callback(null, user, context);\n}",
    )
    .await;
    t.user("unverified@example.com", false).await;
    t.user("eve@blocked.example", true).await;
    t.user("crash@example.com", true).await;
    t.user("fine@example.com", true).await;

    let (status, body) = t.log_in("unverified@example.com").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "unauthorized");
    assert_eq!(
        body["error_description"],
        "Please verify your email before logging in."
    );
    let (status, body) = t.log_in("eve@blocked.example").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body["error_description"],
        "Access denied for blocked.example"
    );

    let (status, body) = t.log_in("crash@example.com").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"], "access_denied");
    let description = body["error_description"].as_str().unwrap();
    assert!(
        description.starts_with("rule 'crash' threw:"),
        "{description}"
    );

    let (status, _) = t.log_in("fine@example.com").await;
    assert_eq!(status, StatusCode::OK);

    let failed = t.logs("type:f").await;
    assert_eq!(failed.len(), 3, "{failed:?}");
    let crash = failed
        .iter()
        .find(|e| e["details"]["script"] == "crash")
        .unwrap();
    assert!(crash["details"]["stack"].as_str().unwrap().contains(':'));
    assert_eq!(
        crash["details"]["console"][0]["text"],
        "about to fail for crash@example.com"
    );
    assert!(crash["description"].as_str().unwrap().contains("crash"));
}

/// A rule asking for multi-factor authentication on a password log-in answers Auth0's
/// `mfa_required` (the MFA API, `tests/it/mfa_api.rs`, goes on from there), logs `mfar`,
/// and no token is issued; an MFA rule that does not ask for it on this log-in changes
/// nothing.
#[tokio::test]
async fn a_rule_asking_for_mfa_answers_mfa_required() {
    let t = tenant_on(TestServer::start().await).await;
    t.config("MFA_CLIENTS", "some-other-client").await;
    t.rule("mfa-for-clients", &corpus("mfa-for-clients.js"))
        .await;
    t.user("ada@example.com", true).await;
    let (status, body) = t.log_in("ada@example.com").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "MFA is not asked for this client: {body}"
    );

    t.config("MFA_CLIENTS", &t.client_id).await;
    let (status, body) = t.log_in("ada@example.com").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"], "mfa_required");
    assert_eq!(
        body["error_description"],
        "Multifactor authentication required"
    );
    assert!(body["mfa_token"].is_string());
    assert!(body.get("access_token").is_none());
    let asked = t.logs("type:mfar").await;
    assert_eq!(asked.len(), 1, "{asked:?}");
}

/// Each kind of request, from rules (also on a new `context` object a rule calls back
/// with, which names that rule) and from post-login actions.
#[tokio::test]
async fn every_unsupported_request_is_refused_naming_its_script() {
    let t = tenant_on(TestServer::start().await).await;
    t.user("ada@example.com", true).await;
    let rules = [
        (
            "saml-mappings",
            "function (user, context, callback) { context.samlConfiguration.mappings = { 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn': 'upn' }; callback(null, user, context); }",
            "rule 'saml-mappings' set SAML response settings, which are not supported",
        ),
        (
            "fresh-context",
            "function (user, context, callback) { callback(null, user, Object.assign({}, context, { multifactor: { provider: 'guardian' } })); }",
            "Multifactor authentication required",
        ),
    ];
    for (name, script, expected) in rules {
        t.rule(name, script).await;
        // A rule after it, so a request on a new object is seen as the next rule starts.
        t.rule(
            "after",
            "function (user, context, callback) { callback(null, user, context); }",
        )
        .await;
        let (status, body) = t.log_in("ada@example.com").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}: {body}");
        let error = if name == "fresh-context" {
            "mfa_required"
        } else {
            "access_denied"
        };
        assert_eq!(body["error"], error);
        assert_eq!(body["error_description"], expected);
        let (_, all) = t.server.admin(Method::GET, "/rules", None).await;
        for rule in all.as_array().unwrap() {
            let path = format!("/rules/{}", rule["id"].as_str().unwrap());
            t.server.admin(Method::DELETE, &path, None).await;
        }
    }
    let (status, _) = t.log_in("ada@example.com").await;
    assert_eq!(status, StatusCode::OK);

    t.action(
        "step-up",
        "post-login",
        "exports.onExecutePostLogin = async (event, api) => { if (event.user.email === 'ada@example.com') { api.multifactor.enable('any', { allowRememberBrowser: false }); } };",
        json!([]),
    )
    .await;
    t.bind("post-login", &["step-up"]).await;
    let (status, body) = t.log_in("ada@example.com").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"], "mfa_required", "{body}");
    assert_eq!(t.logs("type:mfar").await.len(), 2);
}

#[tokio::test]
async fn client_credentials_never_run_rules() {
    let t = tenant_on(TestServer::start().await).await;
    t.rule(
        "nobody",
        "function (u, c, cb) { cb(new UnauthorizedError('nobody gets in')); }",
    )
    .await;
    t.user("ada@example.com", true).await;
    assert_eq!(
        t.log_in("ada@example.com").await.0,
        StatusCode::UNAUTHORIZED
    );
    let (client_id, secret) = t
        .server
        .m2m_client_for(
            json!({"identifier": "https://m2m.example.com", "scopes": [{"value": "read:things"}]}),
            &["read:things"],
        )
        .await;
    t.server
        .token(&client_id, &secret, "https://m2m.example.com", None)
        .await;
}

#[tokio::test]
async fn a_rule_asking_for_an_unknown_role_fails_the_log_in_and_changes_nothing() {
    let t = tenant_on(TestServer::start().await).await;
    t.rule(
        "typo",
        "function (u, c, cb) { c.authorization.assignRoles(['member', 'membr']).then(function () { cb(null, u, c); }); }",
    )
    .await;
    let user_id = t.user("ada@example.com", true).await;
    let (status, body) = t.log_in("ada@example.com").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body["error_description"],
        "rule 'typo' failed: unknown role 'membr'"
    );
    let (_, roles) = t
        .server
        .admin(
            Method::GET,
            &format!("/users/{}/roles", encoded(&user_id)),
            None,
        )
        .await;
    assert_eq!(roles, json!([]));
}

#[tokio::test]
async fn a_looping_rule_does_not_stop_other_log_ins() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings(database_url(dir.path()).await, dir.path().to_path_buf());
    settings.scripts.workers = 2;
    settings.scripts.per_rule = Duration::from_secs(5);
    let t = Arc::new(tenant_on(TestServer::start_with(settings, Arc::new(dir)).await).await);
    let (_, stuck) = t
        .server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "stuck app", "grant_types": [REALM]})),
        )
        .await;
    let stuck_id = stuck["client_id"].as_str().unwrap().to_owned();
    let stuck_secret = stuck["client_secret"].as_str().unwrap().to_owned();
    t.rule(
        "loop-for-one-app",
        &format!(
            "function (u, c, cb) {{ if (c.clientID === '{stuck_id}') {{ try {{ while (true) {{}} }} catch (e) {{}} }} cb(null, u, c); }}"
        ),
    )
    .await;
    t.user("ada@example.com", true).await;
    let looping = {
        let t = Arc::clone(&t);
        tokio::spawn(async move {
            t.log_in_as(&stuck_id, &stuck_secret, "ada@example.com")
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    for _ in 0..3 {
        let (status, body) = t.log_in("ada@example.com").await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    assert!(
        !looping.is_finished(),
        "the other log-ins were served while the loop ran"
    );
    let (status, body) = looping.await.unwrap();
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body["error_description"],
        "rule 'loop-for-one-app' timed out"
    );
}

/// Whether the process is still there (a zombie, killed but not waited for, counts).
fn alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// One built-in that computes for long between two looks at the clock (QuickJS asks its
/// interrupt handler about the deadline only every ten thousand or so operations): the
/// log-in still fails at the rule's deadline, naming it, the worker process that ran it is
/// killed, and other log-ins go on meanwhile.
#[tokio::test]
async fn a_rule_stuck_in_a_built_in_fails_the_log_in_at_its_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings(database_url(dir.path()).await, dir.path().to_path_buf());
    settings.scripts.workers = 2;
    // Long enough for other log-ins (password hashing included) on a busy machine.
    let per_rule = Duration::from_secs(3);
    settings.scripts.per_rule = per_rule;
    let t = Arc::new(tenant_on(TestServer::start_with(settings, Arc::new(dir)).await).await);
    let (_, stuck) = t
        .server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "stuck app", "grant_types": [REALM]})),
        )
        .await;
    let stuck_id = stuck["client_id"].as_str().unwrap().to_owned();
    let stuck_secret = stuck["client_secret"].as_str().unwrap().to_owned();
    t.rule(
        "bigint-for-one-app",
        &format!(
            "function (u, c, cb) {{ if (c.clientID === '{stuck_id}') {{ while (true) {{ ((1n << 200000n) - 1n).toString(); }} }} cb(null, u, c); }}"
        ),
    )
    .await;
    t.user("ada@example.com", true).await;
    let (status, body) = t.log_in("ada@example.com").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Both workers are up (each starts on its own thread when the server does).
    let mut workers = Vec::new();
    for _ in 0..100 {
        workers = t.server.running().state.scripts.worker_pids();
        if workers.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(workers.len(), 2);
    let started = std::time::Instant::now();
    let looping = {
        let t = Arc::clone(&t);
        tokio::spawn(async move {
            let answer = t
                .log_in_as(&stuck_id, &stuck_secret, "ada@example.com")
                .await;
            (answer, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    // What a log-in takes besides its rule (hashing the password, mostly), as the longest
    // of the others.
    let mut besides = Duration::ZERO;
    for _ in 0..2 {
        let started = std::time::Instant::now();
        let (status, body) = t.log_in("ada@example.com").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        besides = besides.max(started.elapsed());
    }
    assert!(
        !looping.is_finished(),
        "the other log-ins were served while the rule was stuck"
    );
    let ((status, body), took) = looping.await.unwrap();
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body["error_description"],
        "rule 'bigint-for-one-app' timed out"
    );
    // The rule's deadline and at most 1 s more.
    assert!(
        took < besides + per_rule + Duration::from_secs(1),
        "{took:?}, other log-ins {besides:?}"
    );
    let gone: Vec<_> = workers.iter().filter(|pid| !alive(**pid)).collect();
    assert_eq!(gone.len(), 1, "the stuck worker was killed: {workers:?}");
    let (status, body) = t.log_in("ada@example.com").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A new worker took the killed one's place.
    let mut count = 0;
    for _ in 0..100 {
        count = t.server.running().state.scripts.worker_pids().len();
        if count == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(count, 2);
}

/// Saving a rule evaluates its top level (to refuse one that throws), bounded by the
/// rule's deadline like a log-in.
#[tokio::test]
async fn saving_a_rule_whose_top_level_is_stuck_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings(database_url(dir.path()).await, dir.path().to_path_buf());
    settings.scripts.workers = 1;
    settings.scripts.per_rule = Duration::from_secs(1);
    let t = tenant_on(TestServer::start_with(settings, Arc::new(dir)).await).await;
    let script = "function (u, c, cb) { cb(null, u, c); }); for (;;) ((1n << 200000n) - 1n).toString(); (function () {}";
    let started = std::time::Instant::now();
    let (status, body) = t
        .server
        .admin(
            Method::POST,
            "/rules",
            Some(json!({"name": "stuck-at-save", "enabled": false, "script": script})),
        )
        .await;
    let took = started.elapsed();
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.ends_with("the script failed when evaluated: 'stuck-at-save' timed out"),
        "{message}"
    );
    assert!(took < Duration::from_secs(2), "{took:?}");
    t.rule("fine", "function (u, c, cb) { cb(null, u, c); }")
        .await;
}

/// The real binary: a SIGTERM while a log-in is stuck in a rule's built-in stops the server
/// once that log-in has failed at the rule's deadline, and no worker process outlives it.
#[tokio::test]
async fn sigterm_with_a_rule_stuck_in_a_built_in_stops_the_server_and_its_workers() {
    let mut server =
        real_binary::Server::start_with_env(&[("CASTELLAN_SCRIPTS_RULE_TIMEOUT_MS", "2000")]).await;
    let admin = real_binary::Admin::new(&server).await;
    let (client_id, secret) = admin
        .client(json!({"name": "app", "grant_types": [REALM]}))
        .await;
    admin
        .post(
            "users",
            json!({"connection": DB, "email": "ada@example.com", "password": PASSWORD,
                   "email_verified": true}),
        )
        .await;
    admin
        .post(
            "rules",
            json!({"name": "stuck", "script": "function (u, c, cb) { while (true) { ((1n << 200000n) - 1n).toString(); } }"}),
        )
        .await;
    let mut workers = Vec::new();
    for _ in 0..100 {
        workers = real_binary::children_of(server.pid());
        if workers.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(workers.len(), 2, "two worker processes by default");
    let login = {
        let url = format!("{}/oauth/token", server.base);
        tokio::spawn(async move {
            let answer = reqwest::Client::new()
                .post(url)
                .json(
                    &json!({"grant_type": REALM, "realm": DB, "client_id": client_id,
                              "client_secret": secret, "username": "ada@example.com",
                              "password": PASSWORD}),
                )
                .send()
                .await
                .unwrap();
            (answer.status(), answer.json::<Value>().await.unwrap())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    let code = server.terminate_within(Duration::from_secs(15)).await;
    let took = started.elapsed();
    assert_eq!(code, Some(0), "{}", server.log());
    // The log-in fails at its rule's 2 s and a grace (after hashing the password), then
    // the server is done.
    assert!(took < Duration::from_secs(6), "{took:?}");
    let (status, body) = login.await.unwrap();
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error_description"], "rule 'stuck' timed out");
    let mut left = workers.clone();
    for _ in 0..40 {
        left.retain(|pid| real_binary::running(*pid));
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(left.is_empty(), "workers {left:?} outlived the server");
}

/// Rules cache in `global` (Auth0 keeps it per container); a worker keeps it across real
/// log-ins, here with one worker so every log-in meets the same `global`.
#[tokio::test]
async fn global_is_kept_across_real_log_ins() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings(database_url(dir.path()).await, dir.path().to_path_buf());
    settings.scripts.workers = 1;
    let t = tenant_on(TestServer::start_with(settings, Arc::new(dir)).await).await;
    t.rule(
        "count-in-global",
        "function (user, context, callback) {
           global.logins = (global.logins || 0) + 1;
           context.accessToken['https://example.com/logins'] = global.logins;
           callback(null, user, context);
         }",
    )
    .await;
    t.user("ada@example.com", true).await;
    for expected in 1..=3 {
        let (status, body) = t.log_in("ada@example.com").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let access = claims(body["access_token"].as_str().unwrap());
        assert_eq!(access["https://example.com/logins"], json!(expected));
    }
}

impl Tenant {
    /// Creates, deploys and returns the id of an action for `trigger`.
    async fn action(&self, name: &str, trigger: &str, code: &str, secrets: Value) -> String {
        let body = json!({"name": name, "supported_triggers": [{"id": trigger}],
                          "code": code, "secrets": secrets});
        let (status, action) = self
            .server
            .admin(Method::POST, "/actions/actions", Some(body))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{action}");
        let id = action["id"].as_str().unwrap().to_owned();
        let (status, version) = self
            .server
            .admin(Method::POST, &format!("/actions/actions/{id}/deploy"), None)
            .await;
        assert!(status.is_success(), "{version}");
        id
    }

    async fn bind(&self, trigger: &str, names: &[&str]) {
        let bindings: Vec<Value> = names
            .iter()
            .map(|n| json!({"ref": {"type": "action_name", "value": n}, "display_name": n}))
            .collect();
        let (status, body) = self
            .server
            .admin(
                Method::PATCH,
                &format!("/actions/triggers/{trigger}/bindings"),
                Some(json!({"bindings": bindings})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

#[tokio::test]
async fn post_login_actions_run_after_the_rules() {
    let t = tenant_on(TestServer::start().await).await;
    let (_, closed) = t
        .server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "closed app", "grant_types": [REALM]})),
        )
        .await;
    let closed_id = closed["client_id"].as_str().unwrap();
    t.config("DEFAULT_ROLE", "member").await;
    t.rule(
        "default-role-on-first-login",
        &corpus("default-role-on-first-login.js"),
    )
    .await;
    t.action(
        "roles-claim",
        "post-login",
        &corpus("actions/roles-claim.js"),
        json!([{"name": "DENY_CLIENT", "value": closed_id}]),
    )
    .await;
    t.action(
        "read-only",
        "post-login",
        "exports.onExecutePostLogin = async (event, api) => {\n  api.accessToken.removeScope('write:reports');\n};",
        json!([]),
    )
    .await;
    t.bind("post-login", &["roles-claim", "read-only"]).await;
    let user_id = t.user("ada@example.com", true).await;

    let (status, tokens) = t.log_in("ada@example.com").await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let id = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(
        id["https://example.com/action_roles"],
        json!(["member"]),
        "the action sees the role a rule assigned in the same log-in"
    );
    let access = claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(access["https://example.com/client"], "reports app");
    assert_eq!(
        scopes(&tokens),
        ["offline_access", "openid", "read:reports"]
    );
    let path = format!("/users/{}", encoded(&user_id));
    let (_, stored) = t.server.admin(Method::GET, &path, None).await;
    assert_eq!(stored["app_metadata"]["last_client"], json!(t.client_id));

    // Denied through the closed app: the client is told why, the metadata stays.
    let (status, body) = t
        .log_in_as(
            closed_id,
            closed["client_secret"].as_str().unwrap(),
            "ada@example.com",
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        (body["error"].as_str(), body["error_description"].as_str()),
        (Some("access_denied"), Some("this application is closed"))
    );
    let (_, stored) = t.server.admin(Method::GET, &path, None).await;
    assert_eq!(stored["app_metadata"]["last_client"], json!(t.client_id));

    // Code that does not compile is refused when saved.
    let (status, answer) = t
        .server
        .admin(
            Method::POST,
            "/actions/actions",
            Some(json!({"name": "broken", "supported_triggers": [{"id": "post-login"}],
                        "code": "exports.onExecutePostLogin = async (event, api) => {\n  api.deny(;\n};"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("syntax error at line 2"),
        "{answer}"
    );
}

#[tokio::test]
async fn post_user_registration_actions_assign_at_sign_up() {
    let t = tenant_on(TestServer::start().await).await;
    t.action(
        "welcome",
        "post-user-registration",
        "exports.onExecutePostUserRegistration = async (event, api) => {\n  if (event.user.email.startsWith('broken')) throw new Error('cannot welcome ' + event.user.email);\n  await api.authorization.assignRoles(['member']);\n};",
        json!([]),
    )
    .await;
    t.bind("post-user-registration", &["welcome"]).await;
    for email in ["new@example.com", "broken@example.com"] {
        let (status, body) = t.server.sign_up(&t.client_id, email).await;
        assert_eq!(status, StatusCode::OK, "{email}: {body}");
    }
    let (_, users) = t.server.admin(Method::GET, "/users", None).await;
    let id_of = |email: &str| -> String {
        users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"] == email)
            .unwrap()["user_id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let roles_of = |id: String| format!("/users/{}/roles", encoded(&id));
    let (_, roles) = t
        .server
        .admin(Method::GET, &roles_of(id_of("new@example.com")), None)
        .await;
    assert_eq!(roles[0]["name"], "member", "{roles}");
    let (_, roles) = t
        .server
        .admin(Method::GET, &roles_of(id_of("broken@example.com")), None)
        .await;
    assert_eq!(roles, json!([]));
    let warnings = t.logs("type:w").await;
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0]["description"]
            .as_str()
            .unwrap()
            .contains("cannot welcome broken@example.com")
    );
    let audited: Vec<Value> = t
        .logs("type:sapi")
        .await
        .into_iter()
        .filter(|e| e["details"]["actor"]["name"] == "welcome")
        .collect();
    assert_eq!(audited.len(), 1);
}

/// `castellan rules test --user-id` runs the database's enabled rules against a stored user
/// and writes nothing.
#[tokio::test]
async fn rules_test_against_the_database_writes_nothing() {
    let t = tenant_on(TestServer::start().await).await;
    t.config("DEFAULT_ROLE", "member").await;
    t.rule(
        "default-role-on-first-login",
        &corpus("default-role-on-first-login.js"),
    )
    .await;
    t.rule("roles-into-claims", &corpus("roles-into-claims.js"))
        .await;
    let user_id = t.user("ada@example.com", true).await;
    let settings = &t.server.running().state.settings;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_castellan"))
        .args(["rules", "test", "--user-id", &user_id])
        .env("CASTELLAN_DATABASE_URL", &settings.database_url)
        .env("CASTELLAN_DATA_DIR", &settings.data_dir)
        .env("CASTELLAN_ISSUER", &settings.issuer)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        report["rules"],
        json!(["default-role-on-first-login", "roles-into-claims"])
    );
    assert_eq!(report["roles"], json!(["member"]));
    assert_eq!(
        report["id_token_claims"]["https://example.com/roles"],
        json!(["member"])
    );
    let (_, roles) = t
        .server
        .admin(
            Method::GET,
            &format!("/users/{}/roles", encoded(&user_id)),
            None,
        )
        .await;
    assert_eq!(roles, json!([]), "a dry run writes nothing");
}

/// The scripts are kept in memory between log-ins; every change reaches the next log-in.
#[tokio::test]
async fn changes_to_rules_configuration_and_bindings_reach_the_next_log_in() {
    let t = tenant_on(TestServer::start().await).await;
    t.user("ada@example.com", true).await;
    assert_eq!(t.log_in("ada@example.com").await.0, StatusCode::OK);
    t.config("BLOCKED_DOMAINS", "example.com").await;
    t.rule("deny-email-domain", &corpus("deny-email-domain.js"))
        .await;
    assert_eq!(
        t.log_in("ada@example.com").await.0,
        StatusCode::UNAUTHORIZED
    );
    t.config("BLOCKED_DOMAINS", "blocked.example").await;
    assert_eq!(t.log_in("ada@example.com").await.0, StatusCode::OK);
    t.action(
        "closed",
        "post-login",
        "exports.onExecutePostLogin = async (event, api) => { api.access.deny('closed'); };",
        json!([]),
    )
    .await;
    assert_eq!(
        t.log_in("ada@example.com").await.0,
        StatusCode::OK,
        "deployed but not bound"
    );
    t.bind("post-login", &["closed"]).await;
    assert_eq!(t.log_in("ada@example.com").await.0, StatusCode::FORBIDDEN);
    t.bind("post-login", &[]).await;
    assert_eq!(t.log_in("ada@example.com").await.0, StatusCode::OK);
}

/// Once the Authorization Extension is configured, its rule's work is done before the
/// user's rules: `user.groups`, `.roles`, `.permissions` from the policy for the client,
/// persisted to `app_metadata.authorization` as asked; an imported copy of the rule is not
/// run, and end users never get a token for the extension's API.
#[tokio::test]
async fn the_extension_rule_is_done_natively_before_the_rules() {
    let a = authz_support::Authz::start().await;
    let (status, _) = a
        .call(
            Method::PATCH,
            "/configuration",
            Some(
                json!({"groupsInToken": true, "rolesInToken": true, "permissionsInToken": true,
                        "persistGroups": true, "persistRoles": true}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let permission = a.permission("read:docs", "client", &a.web_id).await;
    let role = a.role("Reader", &a.web_id, &[&permission]).await;
    let group = a.group("Staff").await;
    let user = a.signup("ada@example.com").await;
    for (path, body) in [
        (format!("/groups/{group}/roles"), json!([role])),
        (format!("/groups/{group}/members"), json!([user])),
    ] {
        assert_eq!(
            a.call(Method::PATCH, &path, Some(body)).await.0,
            StatusCode::NO_CONTENT
        );
    }
    for (name, script) in [
        (
            "auth0-authorization-extension",
            "function (u, c, cb) { cb(new UnauthorizedError('the imported rule ran')); }",
        ),
        (
            "extension-claims",
            "function (user, context, callback) {\n  const ns = 'https://example.com/';\n  context.idToken[ns + 'groups'] = user.groups;\n  context.idToken[ns + 'roles'] = user.roles;\n  context.idToken[ns + 'permissions'] = user.permissions;\n  callback(null, user, context);\n}",
        ),
    ] {
        let (status, body) = a
            .server
            .admin(
                Method::POST,
                "/rules",
                Some(json!({"name": name, "script": script})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let log_in = |audience: Option<&str>| {
        let mut body = json!({"grant_type": REALM, "realm": DB, "client_id": a.web_id,
                              "client_secret": a.web_secret, "username": "ada@example.com",
                              "password": PASSWORD, "scope": "openid"});
        if let Some(audience) = audience {
            body["audience"] = json!(audience);
        }
        a.server.token_request(body)
    };
    let (status, tokens) = log_in(None).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let id = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["https://example.com/groups"], json!(["Staff"]));
    assert_eq!(id["https://example.com/roles"], json!(["Reader"]));
    assert_eq!(id["https://example.com/permissions"], json!(["read:docs"]));
    let (_, stored) = a
        .server
        .admin(Method::GET, &format!("/users/{}", encoded(&user)), None)
        .await;
    assert_eq!(
        stored["app_metadata"]["authorization"],
        json!({"groups": ["Staff"], "roles": ["Reader"]})
    );

    let (status, refused) = log_in(Some(authz_support::AUTHZ)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{refused}");
    assert_eq!(refused["error_description"], "no_end_users");
}
