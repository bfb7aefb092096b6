//! The admin console over HTTP, as a browser without JavaScript uses it: signing in through
//! the log-in page, every page rendering, and the ways a request must fail without changing
//! anything (no session, not an administrator, a missing or wrong CSRF token, bad input).
//! Changes are checked through the Management API and the audit log.

use crate::common;

use std::collections::HashMap;

use common::browser::{Browser, Page};
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";
const REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";

impl Browser {
    /// Logs in through the console's redirect to the log-in page and back; returns the
    /// page the callback leads to.
    pub(crate) async fn log_in(&mut self, email: &str) -> Page {
        let start = self.get("/admin/login").await;
        assert_eq!(start.status, StatusCode::SEE_OTHER, "{}", start.body);
        let form = self.get(&start.next()).await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        let q = form.field("q");
        let csrf = form.field("csrf");
        let posted = self
            .post(
                "/authorize/login",
                &[
                    ("q", &q),
                    ("csrf", &csrf),
                    ("username", email),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert!(posted.status.is_redirection(), "{}", posted.body);
        let callback = posted.next();
        assert!(callback.starts_with("/admin/callback?"), "{callback}");
        self.get(&callback).await
    }

    /// A console page's CSRF token (every form carries it).
    pub(crate) async fn csrf(&mut self) -> String {
        let page = self.get("/admin/users").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        page.field("csrf")
    }
}

/// A user holding `castellan:admin` through a role, as `castellan admin create-user` makes one.
pub(crate) async fn administrator(server: &TestServer, email: &str) -> String {
    let user = server
        .create_user(email, json!({"email_verified": true}))
        .await;
    let id = user["user_id"].as_str().unwrap().to_string();
    let (status, role) = server
        .admin(
            Method::POST,
            "/roles",
            Some(json!({"name": format!("castellan-admin-{email}")})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{role}");
    let role_id = role["id"].as_str().unwrap();
    let permission = json!({"permissions": [{"resource_server_identifier": MANAGEMENT_AUDIENCE, "permission_name": "castellan:admin"}]});
    let (status, body) = server
        .admin(
            Method::POST,
            &format!("/roles/{role_id}/permissions"),
            Some(permission),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = server
        .admin(
            Method::POST,
            &format!("/users/{}/roles", encoded(&id)),
            Some(json!({"roles": [role_id]})),
        )
        .await;
    assert!(status.is_success(), "{body}");
    id
}

pub(crate) async fn signed_in(server: &TestServer) -> (Browser, String) {
    let admin = administrator(server, "admin@example.com").await;
    let mut browser = Browser::new(server);
    let landed = browser.log_in("admin@example.com").await;
    assert_eq!(landed.status, StatusCode::SEE_OTHER, "{}", landed.body);
    assert_eq!(landed.next(), "/admin");
    (browser, admin)
}

async fn sapi_events(server: &TestServer) -> Vec<Value> {
    let (status, logs) = server
        .admin(Method::GET, "/logs?q=type:sapi&per_page=100", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{logs}");
    logs.as_array().unwrap().clone()
}

#[tokio::test]
async fn without_a_session_the_console_sends_the_browser_to_the_log_in_page() {
    let server = TestServer::start().await;
    let mut browser = Browser::new(&server);
    let page = browser.get("/admin/users?q=abc").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        page.next(),
        "/admin/login?return_to=%2Fadmin%2Fusers%3Fq%3Dabc"
    );
    let post = browser.post("/admin/roles", &[("name", "x")]).await;
    assert_eq!(post.status, StatusCode::SEE_OTHER);
    assert!(post.next().starts_with("/admin/login"));

    let start = browser.get(&page.next()).await;
    let authorize = start.next();
    assert!(authorize.starts_with("/authorize?"), "{authorize}");
    let query: HashMap<String, String> =
        serde_urlencoded::from_str(authorize.split_once('?').unwrap().1).unwrap();
    assert_eq!(query["client_id"], "castellan-admin-console");
    assert_eq!(query["redirect_uri"], format!("{ISSUER}admin/callback"));
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["prompt"], "login");
    assert!(browser.cookies.contains_key("castellan_admin_login"));

    // A forged or stale callback is refused and starts nothing.
    let mut stranger = Browser::new(&server);
    let forged = stranger.get("/admin/callback?code=abc&state=def").await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST);
    assert!(!stranger.cookies.contains_key("castellan_admin"));

    // A callback's error text comes from whoever made the link: it is never shown.
    let phishing = "/admin/callback?error=access_denied\
                    &error_description=Call%20support%20at%20%2B1%20555%200100";
    let page = stranger.get(phishing).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("did not complete"), "{}", page.body);
    assert!(!page.body.contains("support"), "{}", page.body);
    assert!(!page.body.contains("access_denied"), "{}", page.body);
}

#[tokio::test]
async fn an_administrator_logs_in_and_comes_back_to_the_page_asked_for() {
    let server = TestServer::start().await;
    administrator(&server, "admin@example.com").await;
    let mut browser = Browser::new(&server);
    let asked = browser.get("/admin/roles").await;
    let start = browser.get(&asked.next()).await;
    assert_eq!(start.status, StatusCode::SEE_OTHER);
    // log_in starts again at /admin/login, which forgets the page asked for; so follow
    // this start by hand.
    let form = browser.get(&start.next()).await;
    let (q, csrf) = (form.field("q"), form.field("csrf"));
    let posted = browser
        .post(
            "/authorize/login",
            &[
                ("q", &q),
                ("csrf", &csrf),
                ("username", "admin@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    let landed = browser.get(&posted.next()).await;
    assert_eq!(landed.next(), "/admin/roles");
    let cookie = browser.cookies.get("castellan_admin").cloned().unwrap();
    let roles = browser.get("/admin/roles").await;
    assert_eq!(roles.status, StatusCode::OK);
    assert!(
        roles.body.contains("admin@example.com"),
        "the page names the administrator"
    );
    let csp = roles.csp.unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("form-action 'self'"),
        "{csp}"
    );
    assert!(!csp.contains("script-src"), "{csp}");

    // The console cookie is not a single sign-on session, and the code is single use.
    let mut other = Browser::new(&server);
    other
        .cookies
        .insert("castellan_session".into(), cookie.clone());
    let sso = other.get("/admin/login").await;
    let page = other.get(&sso.next()).await;
    assert!(
        page.body.contains("name=\"password\""),
        "a log-in form, not a session"
    );
    let replay = browser.get(&posted.next()).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST);

    // Logging out ends the console session: the old cookie no longer works.
    let csrf = browser.csrf().await;
    let out = browser.post("/admin/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::OK);
    assert!(!browser.cookies.contains_key("castellan_admin"));
    let mut again = Browser::new(&server);
    again.cookies.insert("castellan_admin".into(), cookie);
    let after = again.get("/admin/users").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_user_without_castellan_admin_is_refused_with_a_clear_page() {
    let server = TestServer::start().await;
    server
        .create_user("someone@example.com", json!({"email_verified": true}))
        .await;
    let mut browser = Browser::new(&server);
    let page = browser.log_in("someone@example.com").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.body
            .contains("does not hold the permission castellan:admin"),
        "{}",
        page.body
    );
    assert!(!browser.cookies.contains_key("castellan_admin"));

    // An administrator whose role is taken away is refused at the next request.
    let (mut admin, admin_id) = signed_in(&server).await;
    let (_, roles) = server
        .admin(
            Method::GET,
            &format!("/users/{}/roles", encoded(&admin_id)),
            None,
        )
        .await;
    let role = roles[0]["id"].as_str().unwrap();
    let (status, _) = server
        .admin(Method::DELETE, &format!("/roles/{role}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let refused = admin.get("/admin/users").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_form_without_the_session_csrf_token_changes_nothing() {
    let server = TestServer::start().await;
    let (mut browser, _) = signed_in(&server).await;
    let missing = browser.post("/admin/roles", &[("name", "forged")]).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    let wrong = browser
        .post(
            "/admin/roles",
            &[("name", "forged"), ("csrf", "not-the-token")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    // The log-in pages' CSRF cookie is not the console's token either.
    let pages_token = browser.cookies.get("castellan_csrf").cloned().unwrap();
    let other = browser
        .post(
            "/admin/roles",
            &[("name", "forged"), ("csrf", &pages_token)],
        )
        .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    let (_, roles) = server.admin(Method::GET, "/roles", None).await;
    assert!(
        !roles.to_string().contains("forged"),
        "no role was made: {roles}"
    );

    // Another console session's token does not pass either.
    let mut second = Browser::new(&server);
    second.log_in("admin@example.com").await;
    let foreign = second.csrf().await;
    let crossed = browser
        .post("/admin/roles", &[("name", "forged"), ("csrf", &foreign)])
        .await;
    assert_eq!(crossed.status, StatusCode::FORBIDDEN);
    let csrf = browser.csrf().await;
    let made = browser
        .post("/admin/roles", &[("name", "real"), ("csrf", &csrf)])
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    assert!(made.next().starts_with("/admin/roles/rol_"));
}

#[tokio::test]
async fn bad_input_shows_the_form_again_and_changes_nothing() {
    let server = TestServer::start().await;
    let (mut browser, _) = signed_in(&server).await;
    let user = server
        .create_user(
            "member@example.com",
            json!({"app_metadata": {"plan": "gold"}}),
        )
        .await;
    let id = user["user_id"].as_str().unwrap();
    let path = format!("/admin/users/{}", encoded(id));
    let csrf = browser.csrf().await;

    let bad_json = browser
        .post(
            &format!("{path}/metadata"),
            &[
                ("csrf", &csrf),
                ("app_metadata", "{\"plan\": \"platinum\""),
                ("user_metadata", "{}"),
            ],
        )
        .await;
    assert_eq!(bad_json.status, StatusCode::BAD_REQUEST);
    assert!(
        bad_json.body.contains("app_metadata is not valid JSON"),
        "{}",
        bad_json.body
    );
    assert!(
        bad_json.body.contains("platinum"),
        "what was typed is shown again"
    );
    let not_object = browser
        .post(
            &format!("{path}/metadata"),
            &[
                ("csrf", &csrf),
                ("app_metadata", "[1, 2]"),
                ("user_metadata", ""),
            ],
        )
        .await;
    assert_eq!(not_object.status, StatusCode::BAD_REQUEST);
    assert!(not_object.body.contains("must be a JSON object"));
    let bad_key = browser
        .post(
            &format!("{path}/metadata"),
            &[
                ("csrf", &csrf),
                ("app_metadata", "{\"a.b\": 1}"),
                ("user_metadata", ""),
            ],
        )
        .await;
    assert_eq!(bad_key.status, StatusCode::BAD_REQUEST);

    let unknown_role = browser
        .post(
            &format!("{path}/roles"),
            &[("csrf", &csrf), ("role", "no-such-role")],
        )
        .await;
    assert_eq!(unknown_role.status, StatusCode::BAD_REQUEST);
    assert!(
        unknown_role.body.contains("There is no role"),
        "{}",
        unknown_role.body
    );

    let reset = browser
        .post(&format!("{path}/password-reset"), &[("csrf", &csrf)])
        .await;
    assert_eq!(reset.status, StatusCode::SEE_OTHER, "{}", reset.body);
    let (_, outbox) = server.admin(Method::GET, "/logs?q=type:scpr", None).await;
    assert_eq!(
        outbox.as_array().unwrap().len(),
        1,
        "the reset link was sent: {outbox}"
    );

    let weak = browser
        .post(
            &format!("{path}/password"),
            &[("csrf", &csrf), ("password", "short")],
        )
        .await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST);

    let (_, stored) = server
        .admin(Method::GET, &format!("/users/{}", encoded(id)), None)
        .await;
    assert_eq!(stored["app_metadata"], json!({"plan": "gold"}));
    let (_, roles) = server
        .admin(Method::GET, &format!("/users/{}/roles", encoded(id)), None)
        .await;
    assert_eq!(roles, json!([]));

    // The same forms with good input change the user.
    let saved = browser
        .post(
            &format!("{path}/metadata"),
            &[
                ("csrf", &csrf),
                ("app_metadata", "{\"tier\": 2}"),
                ("user_metadata", "{\"lang\": \"fr\"}"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(saved.next(), format!("{path}?done=saved"));
    let (_, stored) = server
        .admin(Method::GET, &format!("/users/{}", encoded(id)), None)
        .await;
    assert_eq!(
        stored["app_metadata"],
        json!({"tier": 2}),
        "replaced, not merged"
    );
    assert_eq!(stored["user_metadata"], json!({"lang": "fr"}));
    let shown = browser.get(&saved.next()).await;
    assert!(shown.body.contains("Saved."));

    let bad_rule = browser
        .post(
            "/admin/rules",
            &[
                ("csrf", &csrf),
                ("op", "save"),
                ("name", "broken"),
                ("script", "function (user, context, callback) {"),
                ("enabled", "on"),
            ],
        )
        .await;
    assert_eq!(bad_rule.status, StatusCode::BAD_REQUEST);
    assert!(bad_rule.body.contains("syntax error"), "{}", bad_rule.body);
    let (_, rules) = server.admin(Method::GET, "/rules", None).await;
    assert_eq!(rules, json!([]));
}

#[tokio::test]
async fn changes_go_through_the_use_cases_and_are_audited_with_the_administrator() {
    let server = TestServer::start().await;
    let (mut browser, admin_id) = signed_in(&server).await;
    let csrf = browser.csrf().await;

    let made = browser
        .post(
            "/admin/roles",
            &[
                ("csrf", &csrf),
                ("name", "editor"),
                ("description", "Edits"),
            ],
        )
        .await;
    let role_page = made.next();
    let role_path = role_page.split('?').next().unwrap().to_string();
    let role_id = role_path.rsplit('/').next().unwrap().to_string();
    let (_, api) = server
        .admin(
            Method::POST,
            "/resource-servers",
            Some(json!({"identifier": "https://api.example.com", "scopes": [{"value": "read:reports"}]})),
        )
        .await;
    assert!(api["id"].is_string(), "{api}");
    let added = browser
        .post(
            &format!("{role_path}/permissions"),
            &[
                ("csrf", &csrf),
                ("api", "https://api.example.com"),
                ("permission", "read:reports"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let undefined = browser
        .post(
            &format!("{role_path}/permissions"),
            &[
                ("csrf", &csrf),
                ("api", "https://api.example.com"),
                ("permission", "write:everything"),
            ],
        )
        .await;
    assert_eq!(undefined.status, StatusCode::BAD_REQUEST);

    let (_, connections) = server.admin(Method::GET, "/connections", None).await;
    let connection = connections
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == DATABASE)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let defaults = browser
        .post(
            &format!("/admin/connections/{connection}/defaults"),
            &[("csrf", &csrf), ("role", "editor"), ("on", "signup")],
        )
        .await;
    assert_eq!(defaults.status, StatusCode::SEE_OTHER, "{}", defaults.body);
    let (_, c) = server
        .admin(Method::GET, &format!("/connections/{connection}"), None)
        .await;
    assert_eq!(
        c["default_assignments"],
        json!({"roles": ["editor"], "groups": [], "on": "signup"})
    );
    let bad_trigger = browser
        .post(
            &format!("/admin/connections/{connection}/defaults"),
            &[("csrf", &csrf), ("role", "editor"), ("on", "tuesday")],
        )
        .await;
    assert_eq!(bad_trigger.status, StatusCode::BAD_REQUEST);

    // Created through the API's use case, which applies the sign-up defaults.
    let user = server.create_user("new@example.com", json!({})).await;
    let user_id = user["user_id"].as_str().unwrap().to_string();
    let shown = browser
        .get(&format!("/admin/users/{}", encoded(&user_id)))
        .await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(
        shown.body.contains(&format!("/admin/roles/{role_id}")),
        "the default role shows"
    );
    assert!(
        shown.body.contains("read:reports"),
        "its permission shows as effective"
    );

    let blocked = browser
        .post(
            &format!("/admin/users/{}/blocked", encoded(&user_id)),
            &[("csrf", &csrf), ("blocked", "true")],
        )
        .await;
    assert_eq!(blocked.status, StatusCode::SEE_OTHER);
    let (_, stored) = server
        .admin(Method::GET, &format!("/users/{}", encoded(&user_id)), None)
        .await;
    assert_eq!(stored["blocked"], true);

    let events = sapi_events(&server).await;
    for action in [
        "create_role",
        "add_role_permissions",
        "set_default_assignments",
        "update_user",
    ] {
        let event = events
            .iter()
            .find(|e| e["details"]["action"] == action && e["details"]["actor"]["type"] == "user")
            .unwrap_or_else(|| panic!("no {action} event in {events:?}"));
        assert_eq!(
            event["details"]["actor"],
            json!({"type": "user", "id": admin_id}),
            "{event}"
        );
    }
    assert_eq!(
        events
            .iter()
            .filter(|e| e["details"]["action"] == "add_role_permissions"
                && e["details"]["actor"]["type"] == "user")
            .count(),
        1,
        "the refused permission was not recorded"
    );
}

#[tokio::test]
async fn the_rules_editor_checks_tries_and_saves() {
    let server = TestServer::start().await;
    let (mut browser, _) = signed_in(&server).await;
    let csrf = browser.csrf().await;
    server
        .create_user(
            "member@example.com",
            json!({"app_metadata": {"plan": "gold"}}),
        )
        .await;
    let script = "function (user, context, callback) {\n  context.accessToken['https://example.com/plan'] = user.app_metadata.plan;\n  console.log('plan', user.app_metadata.plan);\n  callback(null, user, context);\n}";
    let form = |op: &'static str, user: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("op", op.to_string()),
            ("name", "plan claim".to_string()),
            ("script", script.to_string()),
            ("enabled", "on".to_string()),
            ("try_user", user.to_string()),
        ]
    };
    let as_refs = |f: &[(&'static str, String)]| -> Vec<(&'static str, String)> { f.to_vec() };

    let check = browser
        .post_pairs("/admin/rules", &as_refs(&form("check", "")))
        .await;
    assert_eq!(check.status, StatusCode::OK, "{}", check.body);
    assert!(check.body.contains("The script compiles."));

    let tried = browser
        .post_pairs("/admin/rules", &as_refs(&form("try", "member@example.com")))
        .await;
    assert_eq!(tried.status, StatusCode::OK, "{}", tried.body);
    assert!(
        tried.body.contains("The log-in would succeed."),
        "{}",
        tried.body
    );
    assert!(tried.body.contains("https://example.com/plan"));
    assert!(tried.body.contains("gold"));
    let nobody = browser
        .post_pairs("/admin/rules", &as_refs(&form("try", "nobody@example.com")))
        .await;
    assert_eq!(nobody.status, StatusCode::BAD_REQUEST);
    let (_, rules) = server.admin(Method::GET, "/rules", None).await;
    assert_eq!(rules, json!([]), "trying saves nothing");

    let saved = browser
        .post_pairs("/admin/rules", &as_refs(&form("save", "")))
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let (_, rules) = server.admin(Method::GET, "/rules", None).await;
    assert_eq!(rules[0]["name"], "plan claim");
    assert_eq!(rules[0]["enabled"], true);

    // A denying version, tried against the stored rule, says the log-in would be refused.
    let rule_path = saved.next().split('?').next().unwrap().to_string();
    let denying =
        "function (user, context, callback) { callback(new UnauthorizedError('no gold')); }";
    let refused = browser
        .post_pairs(
            &rule_path,
            &[
                ("csrf", csrf.clone()),
                ("op", "try".into()),
                ("name", "plan claim".into()),
                ("script", denying.into()),
                ("try_user", "member@example.com".into()),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::OK, "{}", refused.body);
    assert!(
        refused.body.contains("would be refused: no gold"),
        "{}",
        refused.body
    );
    let (_, rules) = server.admin(Method::GET, "/rules", None).await;
    assert!(
        rules[0]["script"].as_str().unwrap().contains("plan"),
        "unchanged"
    );
}

#[tokio::test]
async fn every_console_page_renders() {
    let server = TestServer::start().await;
    let (mut browser, admin_id) = signed_in(&server).await;
    let csrf = browser.csrf().await;
    let mut visit = vec![
        "/admin/users".to_string(),
        "/admin/users?q=admin".to_string(),
        "/admin/users/new".to_string(),
        format!("/admin/users/{}", encoded(&admin_id)),
        "/admin/roles".to_string(),
        "/admin/groups".to_string(),
        "/admin/apis".to_string(),
        "/admin/applications".to_string(),
        "/admin/connections".to_string(),
        "/admin/rules".to_string(),
        "/admin/rules/new".to_string(),
        "/admin/actions".to_string(),
        "/admin/logs".to_string(),
        "/admin/logs?type=sapi&from=2020-01-01".to_string(),
    ];
    // One of everything, made through the console.
    let mut made = Vec::new();
    for (path, form) in [
        ("/admin/groups", vec![("name", "parent")]),
        (
            "/admin/apis",
            vec![
                ("name", "Reports"),
                ("identifier", "https://reports.example"),
            ],
        ),
        (
            "/admin/applications",
            vec![
                ("name", "Web"),
                ("app_type", "spa"),
                ("callbacks", "https://web.example/cb"),
            ],
        ),
        (
            "/admin/actions",
            vec![("name", "tag"), ("trigger", "post-login")],
        ),
        (
            "/admin/rules",
            vec![
                ("op", "save"),
                ("name", "noop"),
                ("script", "function (u, c, cb) { cb(null, u, c); }"),
            ],
        ),
        (
            "/admin/users",
            vec![
                ("email", "made@example.com"),
                ("password", PASSWORD),
                ("connection", DATABASE),
            ],
        ),
    ] {
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend(form);
        let page = browser.post(path, &fields).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}: {}", page.body);
        made.push(page.next());
    }
    visit.extend(made.iter().cloned());
    let group = made[0].split('?').next().unwrap().to_string();
    let child = browser
        .post("/admin/groups", &[("csrf", &csrf), ("name", "child")])
        .await
        .next();
    let child_id = child
        .split('?')
        .next()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let nested = browser
        .post(
            &format!("{group}/add-nested"),
            &[("csrf", &csrf), ("value", &child_id)],
        )
        .await;
    assert_eq!(nested.status, StatusCode::SEE_OTHER, "{}", nested.body);
    let member = browser
        .post(
            &format!("{group}/add-member"),
            &[("csrf", &csrf), ("value", "made@example.com")],
        )
        .await;
    assert_eq!(member.status, StatusCode::SEE_OTHER, "{}", member.body);
    let tree = browser.get("/admin/groups").await;
    assert!(
        tree.body.contains("class=\"depth-1\""),
        "nesting shows: {}",
        tree.body
    );

    let action = made[3].split('?').next().unwrap().to_string();
    for step in ["deploy", "bind"] {
        let page = browser
            .post(&format!("{action}/{step}"), &[("csrf", &csrf)])
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{step}: {}", page.body);
    }
    let (_, bindings) = server
        .admin(Method::GET, "/actions/triggers/post-login/bindings", None)
        .await;
    assert_eq!(bindings["bindings"][0]["display_name"], "tag", "{bindings}");

    let (_, roles) = server.admin(Method::GET, "/roles", None).await;
    visit.push(format!("/admin/roles/{}", roles[0]["id"].as_str().unwrap()));
    let (_, connections) = server.admin(Method::GET, "/connections", None).await;
    visit.push(format!(
        "/admin/connections/{}",
        connections[0]["id"].as_str().unwrap()
    ));
    let (_, logs) = server.admin(Method::GET, "/logs", None).await;
    visit.push(format!(
        "/admin/logs/{}",
        logs[0]["log_id"].as_str().unwrap()
    ));
    visit.push(format!("/admin/applications/{}", "castellan-admin-console"));

    for path in &visit {
        let page = browser.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        assert!(
            page.body.contains("<nav aria-label=\"Sections\">"),
            "{path}"
        );
    }

    // A web application's secret is shown once, on rotation.
    let (_, web) = server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "Confidential"})),
        )
        .await;
    let rotated = browser
        .post(
            &format!(
                "/admin/applications/{}/rotate-secret",
                web["client_id"].as_str().unwrap()
            ),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    let secret = rotated
        .body
        .split("<code id=\"client-secret\">")
        .nth(1)
        .unwrap();
    let secret = &secret[..secret.find('<').unwrap()];
    let (status, _) = server
        .token_request(json!({"grant_type": "client_credentials", "client_id": web["client_id"], "client_secret": web["client_secret"], "audience": MANAGEMENT_AUDIENCE}))
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the old secret stopped working"
    );
    assert_eq!(secret.len(), 64);

    let missing = browser.get("/admin/users/auth0%7Cnobody").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_role_made_in_the_console_through_the_cli_and_through_the_api_leaves_the_same_audit_entries()
 {
    let server = TestServer::start().await;
    let (mut browser, _) = signed_in(&server).await;
    let api = "https://reports.example.com";
    let (status, body) = server
        .admin(
            Method::POST,
            "/resource-servers",
            Some(json!({"identifier": api, "scopes": [{"value": "read:reports"}]})),
        )
        .await;
    assert!(status.is_success(), "{body}");

    let (_, made) = server
        .admin(
            Method::POST,
            "/roles",
            Some(json!({"name": "Auditor Api", "description": "Audits"})),
        )
        .await;
    let id = made["id"].as_str().unwrap();
    let permission = json!({"permissions": [{"resource_server_identifier": api, "permission_name": "read:reports"}]});
    let (status, body) = server
        .admin(
            Method::POST,
            &format!("/roles/{id}/permissions"),
            Some(permission),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let csrf = browser.csrf().await;
    let created = browser
        .post(
            "/admin/roles",
            &[
                ("csrf", &csrf),
                ("name", "Auditor Console"),
                ("description", "Audits"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let role_page = created.next();
    let path = role_page.split('?').next().unwrap();
    let added = browser
        .post(
            &format!("{path}/permissions"),
            &[
                ("csrf", &csrf),
                ("api", api),
                ("permission", "read:reports"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);

    cli(
        &server,
        &["roles", "create", "Auditor Cli", "--description", "Audits"],
    )
    .await;
    cli(
        &server,
        &[
            "roles",
            "add-permissions",
            "--api",
            api,
            "Auditor Cli",
            "read:reports",
        ],
    )
    .await;

    let through_api = server.role_audit_entries("Auditor Api").await;
    assert_eq!(through_api.len(), 2, "{through_api:?}");
    assert_eq!(
        server.role_audit_entries("Auditor Console").await,
        through_api
    );
    assert_eq!(server.role_audit_entries("Auditor Cli").await, through_api);
}

/// The client id of the application named `name`.
async fn client_named(server: &TestServer, name: &str) -> String {
    let (status, clients) = server.admin(Method::GET, "/clients", None).await;
    assert_eq!(status, StatusCode::OK, "{clients}");
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
async fn applications_apis_and_default_assignments_changed_in_the_console_and_through_the_api_leave_the_same_audit_entries()
 {
    let server = TestServer::start().await;
    let (mut browser, _) = signed_in(&server).await;
    let csrf = browser.csrf().await;
    let callback = "https://billing.example.com/callback";

    // An application created, changed and given a new secret.
    let (status, body) = server
        .admin(
            Method::POST,
            "/clients",
            Some(
                json!({"name": "Billing Api", "app_type": "regular_web", "callbacks": [callback]}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["client_id"].as_str().unwrap();
    let change = json!({"description": "Invoices", "web_origins": ["https://billing.example.com"]});
    let (status, body) = server
        .admin(Method::PATCH, &format!("/clients/{id}"), Some(change))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = server
        .admin(Method::POST, &format!("/clients/{id}/rotate-secret"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let secret = body["client_secret"].as_str().unwrap().to_string();

    let created = browser
        .post(
            "/admin/applications",
            &[
                ("csrf", &csrf),
                ("name", "Billing Console"),
                ("app_type", "regular_web"),
                ("callbacks", callback),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "the secret page");
    let id = client_named(&server, "Billing Console").await;
    let page = format!("/admin/applications/{}", encoded(&id));
    let updated = browser
        .post(
            &page,
            &[
                ("csrf", &csrf),
                ("name", "Billing Console"),
                ("description", "Invoices"),
                ("callbacks", callback),
                ("allowed_logout_urls", ""),
                ("web_origins", "https://billing.example.com"),
            ],
        )
        .await;
    assert_eq!(updated.status, StatusCode::SEE_OTHER, "{}", updated.body);
    let rotated = browser
        .post(&format!("{page}/rotate-secret"), &[("csrf", &csrf)])
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);

    let through_api = server.audit_entries_naming("Billing Api").await;
    let actions: Vec<&Value> = through_api.iter().map(|e| &e["action"]).collect();
    assert_eq!(
        actions,
        ["create_client", "update_client", "rotate_client_secret"],
        "{through_api:?}"
    );
    assert_eq!(
        through_api[1]["changes"],
        json!({"attributes": ["description", "web_origins"]}).to_string()
    );
    assert!(
        !json!(server.sapi_entries().await)
            .to_string()
            .contains(&secret),
        "the secret is never in an entry"
    );
    assert_eq!(
        server.audit_entries_naming("Billing Console").await,
        through_api
    );

    // An API created and given a scope.
    let (status, body) = server
        .admin(
            Method::POST,
            "/resource-servers",
            Some(json!({"name": "ledger-api", "identifier": "https://ledger-api.example.com"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let scopes = json!({"scopes": [{"value": "read:ledger", "description": "Read the ledger"}]});
    let path = format!("/resource-servers/{}", body["id"].as_str().unwrap());
    let (status, body) = server.admin(Method::PATCH, &path, Some(scopes)).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let created = browser
        .post(
            "/admin/apis",
            &[
                ("csrf", &csrf),
                ("name", "ledger-console"),
                ("identifier", "https://ledger-console.example.com"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let api_page = created.next();
    let api_page = api_page.split('?').next().unwrap();
    let added = browser
        .post(
            &format!("{api_page}/scopes"),
            &[
                ("csrf", &csrf),
                ("value", "read:ledger"),
                ("description", "Read the ledger"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);

    let through_api = server.audit_entries_naming("ledger-api").await;
    let actions: Vec<&Value> = through_api.iter().map(|e| &e["action"]).collect();
    assert_eq!(
        actions,
        ["create_resource_server", "update_resource_server"],
        "{through_api:?}"
    );
    assert_eq!(
        through_api[1]["changes"],
        json!({"added_scopes": ["read:ledger"]}).to_string()
    );
    assert_eq!(
        server.audit_entries_naming("ledger-console").await,
        through_api
    );

    // The database connection's default assignments.
    let (status, body) = server
        .admin(Method::POST, "/roles", Some(json!({"name": "editor"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, connections) = server.admin(Method::GET, "/connections", None).await;
    let connection = connections
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == DATABASE)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let defaults = json!({"default_assignments": {"roles": ["editor"], "on": "signup"}});
    let (status, body) = server
        .admin(
            Method::PATCH,
            &format!("/connections/{connection}"),
            Some(defaults),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let saved = browser
        .post(
            &format!("/admin/connections/{connection}/defaults"),
            &[("csrf", &csrf), ("role", "editor"), ("on", "signup")],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);

    let entries = server.audit_entries_of("set_default_assignments").await;
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(
        entries[0]["details"]["changes"],
        json!({"default_assignments": {"roles": ["editor"], "groups": [], "on": "signup"}})
    );
    assert_eq!(entries[0], entries[1]);
}

/// `castellan ARGS…` on the server's database, which must succeed; its standard output.
async fn cli(server: &TestServer, args: &[&str]) -> String {
    let out = server.castellan(args).await;
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The user id in a console page's path (`/admin/users/auth0%7C…?done=…`).
fn user_in_path(path: &str) -> String {
    let segment = path
        .split('?')
        .next()
        .unwrap()
        .strip_prefix("/admin/users/")
        .unwrap();
    segment.replace("%7C", "|")
}

#[tokio::test]
async fn a_user_changed_in_the_console_through_the_api_and_with_the_cli_leaves_the_same_audit_entries()
 {
    let server = TestServer::start().await;
    let (mut browser, _) = signed_in(&server).await;
    let new_password = "another good passphrase";

    let made = server.create_user("api@example.com", json!({})).await;
    let api_user = made["user_id"].as_str().unwrap().to_string();
    let path = format!("/users/{}", encoded(&api_user));
    for patch in [
        json!({"blocked": true}),
        json!({"password": new_password}),
        json!({"blocked": false}),
    ] {
        let (status, body) = server.admin(Method::PATCH, &path, Some(patch)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let blocks = format!("/user-blocks/{}", encoded(&api_user));
    let (status, body) = server.admin(Method::DELETE, &blocks, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = server.admin(Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    let csrf = browser.csrf().await;
    let created = browser
        .post(
            "/admin/users",
            &[
                ("csrf", &csrf),
                ("email", "console@example.com"),
                ("password", PASSWORD),
                ("connection", DATABASE),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let console_user = user_in_path(&created.next());
    let page = format!("/admin/users/{}", encoded(&console_user));
    for (form, value) in [
        ("blocked", "true"),
        ("password", new_password),
        ("blocked", "false"),
    ] {
        let posted = browser
            .post(&format!("{page}/{form}"), &[("csrf", &csrf), (form, value)])
            .await;
        assert_eq!(posted.status, StatusCode::SEE_OTHER, "{}", posted.body);
    }
    let deleted = browser
        .post(&format!("{page}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER, "{}", deleted.body);

    let email = "cli@example.com";
    let created = cli(
        &server,
        &[
            "users",
            "create",
            "--email",
            email,
            "--password",
            PASSWORD,
            "--json",
        ],
    )
    .await;
    let cli_user: Value = serde_json::from_str(&created).unwrap();
    cli(&server, &["users", "block", email]).await;
    let password = ["users", "set-password", email, "--password", new_password];
    cli(&server, &password).await;
    cli(&server, &["users", "unblock", email]).await;
    cli(&server, &["users", "delete", email]).await;

    let through_api = server.user_audit_entries(&api_user).await;
    let actions: Vec<&str> = through_api
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "create_user",
            "update_user",
            "update_user",
            "update_user",
            "unblock_user_logins",
            "delete_user"
        ],
        "{through_api:?}"
    );
    assert_eq!(
        through_api[2]["changes"],
        json!({"attributes": ["password"]}),
        "the attribute's name, never the password"
    );
    assert_eq!(
        server.user_audit_entries(&console_user).await,
        through_api,
        "the console"
    );
    assert_eq!(
        server
            .user_audit_entries(cli_user["user_id"].as_str().unwrap())
            .await,
        through_api,
        "the command line"
    );
}

#[tokio::test]
async fn unblocking_in_the_console_lifts_the_blocks_of_failed_log_ins_which_patch_leaves() {
    let server = TestServer::start().await;
    let (mut browser, _) = signed_in(&server).await;
    let (status, client) = server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "web", "grant_types": [REALM]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{client}");
    let user = server.create_user("ada@example.com", json!({})).await;
    let user_id = user["user_id"].as_str().unwrap();
    let login = |password: &'static str| {
        server.token_request(
            json!({"grant_type": REALM, "client_id": client["client_id"],
            "client_secret": client["client_secret"], "username": "ada@example.com",
            "password": password, "realm": DATABASE}),
        )
    };
    for _ in 0..10 {
        assert_eq!(login("a wrong guess").await.0, StatusCode::FORBIDDEN);
    }
    assert_eq!(login(PASSWORD).await.0, StatusCode::TOO_MANY_REQUESTS);

    let path = format!("/users/{}", encoded(user_id));
    let (status, body) = server
        .admin(Method::PATCH, &path, Some(json!({"blocked": false})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        login(PASSWORD).await.0,
        StatusCode::TOO_MANY_REQUESTS,
        "PATCH blocked:false lifts the flag only, as in Auth0"
    );

    let csrf = browser.csrf().await;
    let unblocked = browser
        .post(
            &format!("/admin/users/{}/blocked", encoded(user_id)),
            &[("csrf", &csrf), ("blocked", "false")],
        )
        .await;
    assert_eq!(
        unblocked.status,
        StatusCode::SEE_OTHER,
        "{}",
        unblocked.body
    );
    assert_eq!(login(PASSWORD).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_refused_user_change_writes_neither_the_change_nor_an_audit_entry() {
    let server = TestServer::start().await;
    let (mut browser, _) = signed_in(&server).await;
    let user = server
        .create_user("ada@example.com", json!({"app_metadata": {"plan": "gold"}}))
        .await;
    let user_id = user["user_id"].as_str().unwrap();
    let path = format!("/users/{}", encoded(user_id));
    let (_, before) = server.admin(Method::GET, &path, None).await;
    let entries = server.user_audit_entries(user_id).await;
    assert_eq!(entries.len(), 1, "{entries:?}");

    for (patch, status) in [
        (
            json!({"name": "Changed", "app_metadata": {"a.b": 1}}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"name": "Changed", "password": "short"}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (answer, body) = server.admin(Method::PATCH, &path, Some(patch)).await;
        assert_eq!(answer, status, "{body}");
    }
    let nobody = [
        (
            Method::PATCH,
            "/users/auth0%7Cnobody",
            Some(json!({"name": "x"})),
        ),
        (Method::DELETE, "/user-blocks/auth0%7Cnobody", None),
    ];
    for (method, unknown, body) in nobody {
        let (status, answer) = server.admin(method, unknown, body).await;
        assert_eq!(
            (status, answer["errorCode"].as_str()),
            (StatusCode::NOT_FOUND, Some("inexistent_user"))
        );
    }

    let csrf = browser.csrf().await;
    let page = format!("/admin/users/{}", encoded(user_id));
    let metadata = browser
        .post(
            &format!("{page}/metadata"),
            &[
                ("csrf", &csrf),
                ("app_metadata", r#"{"plan": "silver", "a.b": 1}"#),
                ("user_metadata", "{}"),
            ],
        )
        .await;
    assert_eq!(
        metadata.status,
        StatusCode::BAD_REQUEST,
        "{}",
        metadata.body
    );
    let password = browser
        .post(
            &format!("{page}/password"),
            &[("csrf", &csrf), ("password", "short")],
        )
        .await;
    assert_eq!(
        password.status,
        StatusCode::BAD_REQUEST,
        "{}",
        password.body
    );

    let weak = server
        .castellan(&[
            "users",
            "set-password",
            "ada@example.com",
            "--password",
            "short",
        ])
        .await;
    assert!(!weak.status.success());

    let (_, after) = server.admin(Method::GET, &path, None).await;
    assert_eq!(after, before, "nothing changed");
    assert_eq!(server.user_audit_entries(user_id).await, entries);
    assert!(server.user_audit_entries("auth0|nobody").await.is_empty());
}

#[tokio::test]
async fn rules_and_actions_changed_in_the_console_and_through_the_api_leave_the_same_audit_entries()
{
    let rule_1 = "function (user, context, callback) {\n  callback(null, user, context);\n}\n";
    let rule_2 = "function (user, context, callback) {\n  context.idToken.tag = 'b';\n  callback(null, user, context);\n}\n";
    let template = "exports.onExecutePostLogin = async (event, api) => {\n};\n";
    let code_2 = "exports.onExecutePostLogin = async (event, api) => {\n  api.idToken.setCustomClaim('stamp', 1);\n};\n";
    let kinds = [
        "create_rule",
        "update_rule",
        "delete_rule",
        "create_action",
        "update_action",
        "deploy_action",
        "update_trigger_bindings",
    ];

    let through_api = TestServer::start().await;
    let call = async |method: Method, path: &str, body: Value| {
        let (status, answer) = through_api.admin(method, path, Some(body)).await;
        assert!(status.is_success(), "{path}: {status} {answer}");
        answer
    };
    let rule = call(
        Method::POST,
        "/rules",
        json!({"name": "Tag", "script": rule_1, "enabled": true}),
    )
    .await;
    let rule_path = format!("/rules/{}", rule["id"].as_str().unwrap());
    call(
        Method::PATCH,
        &rule_path,
        json!({"script": rule_2, "enabled": false}),
    )
    .await;
    let action = call(
        Method::POST,
        "/actions/actions",
        json!({"name": "Stamp", "code": template, "supported_triggers": [{"id": "post-login"}]}),
    )
    .await;
    let action_id = action["id"].as_str().unwrap();
    let action_path = format!("/actions/actions/{action_id}");
    call(Method::PATCH, &action_path, json!({"code": code_2})).await;
    call(Method::POST, &format!("{action_path}/deploy"), json!({})).await;
    let bindings = "/actions/triggers/post-login/bindings";
    let bind = json!({"bindings": [{"ref": {"type": "action_id", "value": action_id}}]});
    call(Method::PATCH, bindings, bind).await;
    call(Method::PATCH, bindings, json!({"bindings": []})).await;
    let (status, body) = through_api.admin(Method::DELETE, &rule_path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    let in_console = TestServer::start().await;
    let (mut browser, _) = signed_in(&in_console).await;
    let csrf = browser.csrf().await;
    let mut post = async |path: &str, fields: &[(&str, &str)]| {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        let page = browser.post(path, &form).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}: {}", page.body);
        page.next().split('?').next().unwrap().to_string()
    };
    let rule_page = post(
        "/admin/rules",
        &[
            ("op", "save"),
            ("name", "Tag"),
            ("script", rule_1),
            ("enabled", "on"),
        ],
    )
    .await;
    post(
        &rule_page,
        &[
            ("op", "save"),
            ("name", "Tag"),
            ("script", rule_2),
            ("order", "1"),
        ],
    )
    .await;
    let action_page = post(
        "/admin/actions",
        &[("name", "Stamp"), ("trigger", "post-login")],
    )
    .await;
    post(&action_page, &[("code", code_2)]).await;
    for step in ["deploy", "bind", "unbind"] {
        post(&format!("{action_page}/{step}"), &[]).await;
    }
    post(&format!("{rule_page}/delete"), &[]).await;

    let made = through_api.change_entries(&kinds).await;
    assert_eq!(made.len(), 8, "{made:?}");
    assert_eq!(
        made[1]["changes"],
        json!({"name": "Tag", "order": 1, "enabled": false, "script_changed": true})
    );
    assert_eq!(in_console.change_entries(&kinds).await, made);
}

#[tokio::test]
async fn the_application_form_sets_allowed_origins_one_a_line_and_refuses_a_bad_one() {
    let server = TestServer::start().await;
    let (mut browser, _) = signed_in(&server).await;
    let csrf = browser.csrf().await;
    let (status, body) = server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "Storefront", "app_type": "spa"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["client_id"].as_str().unwrap();
    let page = format!("/admin/applications/{}", encoded(id));
    let form = |origins: &str| {
        [
            ("csrf", csrf.clone()),
            ("name", "Storefront".to_string()),
            ("callbacks", String::new()),
            ("allowed_logout_urls", String::new()),
            ("web_origins", String::new()),
            ("allowed_origins", origins.to_string()),
        ]
    };

    let saved = browser
        .post_pairs(
            &page,
            &form("https://shop.example.com\r\nhttp://localhost:3000\r\n"),
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let (_, client) = server
        .admin(Method::GET, &format!("/clients/{id}"), None)
        .await;
    assert_eq!(
        client["allowed_origins"],
        json!(["https://shop.example.com", "http://localhost:3000"])
    );
    let shown = browser.get(&page).await;
    let textarea = shown
        .body
        .split("name=\"allowed_origins\"")
        .nth(1)
        .and_then(|rest| rest.split("</textarea>").next())
        .unwrap_or_else(|| panic!("no allowed_origins field in {}", shown.body));
    assert!(
        textarea.contains("shop.example.com\nhttp:") && textarea.contains("localhost:3000"),
        "{textarea}"
    );

    let refused = browser
        .post_pairs(&page, &form("https://shop.example.com/cart"))
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("allowed_origins"), "{}", refused.body);
    let (_, unchanged) = server
        .admin(Method::GET, &format!("/clients/{id}"), None)
        .await;
    assert_eq!(unchanged, client);
}

#[tokio::test]
async fn the_application_form_sets_refresh_token_settings_and_refuses_bad_ones() {
    let server = TestServer::start().await;
    let (mut browser, _) = signed_in(&server).await;
    let csrf = browser.csrf().await;
    let (status, body) = server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "Storefront", "app_type": "spa"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["client_id"].as_str().unwrap();
    let page = format!("/admin/applications/{}", encoded(id));
    let shown = browser.get(&page).await;
    assert!(
        shown.body.contains("<option value=\"rotating\" selected>")
            && shown.body.contains(
                "name=\"idle_token_lifetime\" type=\"number\" min=\"1\" value=\"1296000\""
            ),
        "{}",
        shown.body
    );
    let form = |idle: &str| {
        [
            ("csrf", csrf.clone()),
            ("name", "Storefront".to_string()),
            ("rotation_type", "rotating".to_string()),
            ("expiration_type", "expiring".to_string()),
            ("leeway", "10".to_string()),
            ("token_lifetime", "86400".to_string()),
            ("idle_token_lifetime", idle.to_string()),
            ("infinite_idle_token_lifetime", "on".to_string()),
        ]
    };

    let saved = browser.post_pairs(&page, &form("3600")).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let (_, client) = server
        .admin(Method::GET, &format!("/clients/{id}"), None)
        .await;
    assert_eq!(
        client["refresh_token"],
        json!({"rotation_type": "rotating", "expiration_type": "expiring", "leeway": 10,
               "token_lifetime": 86_400, "infinite_token_lifetime": false,
               "idle_token_lifetime": 3600, "infinite_idle_token_lifetime": true})
    );

    for bad in ["an hour", "0"] {
        let refused = browser.post_pairs(&page, &form(bad)).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
        assert!(
            refused.body.contains("idle_token_lifetime"),
            "{}",
            refused.body
        );
    }
    let (_, unchanged) = server
        .admin(Method::GET, &format!("/clients/{id}"), None)
        .await;
    assert_eq!(unchanged, client);
}
