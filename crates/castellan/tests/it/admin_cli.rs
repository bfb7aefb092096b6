//! The administration commands (`users`, `roles`, `groups`, `admin create-user`) and
//! `serve --demo`, through the real binary on SQLite, or on PostgreSQL with
//! `CASTELLAN_TEST_BACKEND=postgres`. What they change is checked through the commands
//! themselves and through a server started on the same database afterwards.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_castellan");
const ADMIN_ID: &str = "cli-test-admin";
const ADMIN_SECRET: &str = "cli-test-admin-secret-long-enough";
const REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";

/// A data folder and a database, SQLite in the folder unless the backend is PostgreSQL.
/// Every command and server of one tenant uses one issuer, as in real use: the server
/// listens on the issuer's port each time it starts.
struct Tenant {
    dir: tempfile::TempDir,
    database: String,
    port: u16,
}

impl Tenant {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let database = match std::env::var("CASTELLAN_TEST_BACKEND").as_deref() {
            Ok("postgres") => {
                let admin = std::env::var("CASTELLAN_TEST_POSTGRES_URL")
                    .expect("CASTELLAN_TEST_BACKEND=postgres needs CASTELLAN_TEST_POSTGRES_URL");
                castellan_store::create_scratch_postgres_database(&admin)
                    .await
                    .unwrap()
            }
            _ => format!("sqlite://{}/castellan.db", dir.path().display()),
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self {
            dir,
            database,
            port,
        }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(self.path())
            .args(args)
            .args(["--database", &self.database])
            .env("RUST_LOG", "warn");
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("CASTELLAN_")) {
            cmd.env_remove(k);
        }
        cmd.env(
            "CASTELLAN_ISSUER",
            format!("http://127.0.0.1:{}/", self.port),
        )
        .env("CASTELLAN_ADMIN_CLIENT_ID", ADMIN_ID)
        .env("CASTELLAN_ADMIN_CLIENT_SECRET", ADMIN_SECRET);
        cmd
    }

    /// Runs a command with nothing (or `stdin`) on standard input.
    fn run_with_input(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_with_input(args, "")
    }

    /// Succeeds and returns standard output.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.push("--json");
        let text = self.ok(&args);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: {e}: {text}"))
    }

    /// Fails with exactly one line on stderr, which is returned.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "{args:?} should fail");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("castellan: "), "{stderr}");
        assert!(out.stdout.is_empty(), "nothing on stdout: {args:?}");
        stderr.trim().to_string()
    }

    fn serve(&self, extra: &[&str]) -> Server {
        self.serve_on(self.port, extra)
    }

    /// A server of this tenant (its issuer) listening on another port.
    fn serve_on(&self, port: u16, extra: &[&str]) -> Server {
        let listen = format!("127.0.0.1:{port}");
        let mut args = vec!["serve", "--listen", &listen];
        args.extend_from_slice(extra);
        let mut child = self
            .command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = Arc::new(Mutex::new(String::new()));
        let sink = stdout.clone();
        let pipe = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut all = sink.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        });
        Server {
            child,
            base: format!("http://{listen}"),
            stdout,
            http: reqwest::Client::new(),
        }
    }
}

struct Server {
    child: Child,
    base: String,
    stdout: Arc<Mutex<String>>,
    http: reqwest::Client,
}

impl Server {
    /// Waits until standard output holds `text` (the server is listening by then).
    async fn wait_for_output(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let out = self.stdout.lock().unwrap().clone();
            if out.contains(text) {
                return out;
            }
            assert!(Instant::now() < deadline, "no \"{text}\" in: {out}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(r) = self.http.get(format!("{}/healthz", self.base)).send().await
                && r.status() == 200
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the server did not come up");
    }

    async fn token(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/oauth/token", self.base))
            .form(form)
            .send()
            .await
            .unwrap();
        (
            response.status().as_u16(),
            response.json().await.unwrap_or(Value::Null),
        )
    }

    async fn admin_get(&self, path: &str) -> Value {
        let audience = format!("{}/api/v2/", self.base);
        let (status, token) = self
            .token(&[
                ("grant_type", "client_credentials"),
                ("client_id", ADMIN_ID),
                ("client_secret", ADMIN_SECRET),
                ("audience", &audience),
            ])
            .await;
        assert_eq!(status, 200, "{token}");
        let response = self
            .http
            .get(format!("{}/api/v2{path}", self.base))
            .bearer_auth(token["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        response.json().await.unwrap()
    }

    fn stop(mut self) -> String {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "the server stopped with {status}");
        self.stdout.lock().unwrap().clone()
    }
}

/// Decodes a JWT's payload without verifying it.
fn claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

fn names(list: &Value) -> Vec<String> {
    let mut names: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

/// The audit entries the command line wrote, through the Management API's log.
async fn cli_actions(server: &Server) -> Vec<String> {
    let logs = server.admin_get("/logs?q=type:sapi&per_page=100").await;
    logs.as_array()
        .unwrap()
        .iter()
        .filter(|e| e["details"]["actor"] == json!({"type": "cli"}))
        .map(|e| e["details"]["action"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn users_are_created_listed_blocked_and_given_passwords() {
    let t = Tenant::new().await;
    let created = t.ok(&[
        "users",
        "create",
        "--email",
        "Alice@Example.com",
        "--password",
        "correct horse",
    ]);
    assert!(created.starts_with("created auth0|"), "{created}");
    assert!(created.contains("alice@example.com"), "{created}");

    // The password from standard input, JSON out.
    let out = t.run_with_input(
        &[
            "users",
            "create",
            "--email",
            "bob@example.com",
            "--verified",
            "--json",
        ],
        "battery staple\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bob: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(bob["email"], "bob@example.com");
    assert_eq!(bob["email_verified"], true);
    let bob_id = bob["user_id"].as_str().unwrap().to_string();

    // Refusals: one line, a failure exit, nothing created.
    let duplicate = t.fails(&[
        "users",
        "create",
        "--email",
        "alice@example.com",
        "--password",
        "another one",
    ]);
    assert!(duplicate.contains("already exists"), "{duplicate}");
    let weak = t.fails(&[
        "users",
        "create",
        "--email",
        "carol@example.com",
        "--password",
        "short",
    ]);
    assert!(weak.contains("Password is too short"), "{weak}");
    let empty = t.fails(&["users", "create", "--email", "dave@example.com"]);
    assert!(empty.contains("no password given"), "{empty}");
    let bad_email = t.fails(&[
        "users",
        "create",
        "--email",
        "nobody",
        "--password",
        "long enough",
    ]);
    assert!(bad_email.contains("not a valid address"), "{bad_email}");

    let listed = t.json(&["users", "list"]);
    let emails: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["alice@example.com", "bob@example.com"]);
    let table = t.ok(&["users", "list"]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("USER ID"), "{table}");
    let email_column = lines[0].find("EMAIL").unwrap();
    assert_eq!(
        lines[1].find("alice@example.com"),
        Some(email_column),
        "{table}"
    );
    assert_eq!(
        lines[2].find("bob@example.com"),
        Some(email_column),
        "{table}"
    );
    assert_eq!(lines[3], "2 users");
    let second_page = t.ok(&["users", "list", "--per-page", "1", "--page", "1"]);
    assert!(second_page.contains("2–2 of 2 users"), "{second_page}");

    // Block by email, unblock by id.
    let blocked = t.json(&["users", "block", "bob@example.com"]);
    assert_eq!(blocked["blocked"], true);
    let found = t.json(&["users", "list", "--query", "blocked:true"]);
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(found[0]["user_id"], bob_id.as_str());
    let unblocked = t.json(&["users", "unblock", &bob_id]);
    assert_eq!(unblocked["blocked"], false);
    assert!(t.json(&["users", "list", "-q", "blocked:true"]) == json!([]));

    let unknown = t.fails(&["users", "block", "nobody@example.com"]);
    assert_eq!(unknown, "castellan: no user \"nobody@example.com\"");
    let unknown = t.fails(&[
        "users",
        "set-password",
        "auth0|nobody",
        "--password",
        "long enough",
    ]);
    assert_eq!(unknown, "castellan: no user \"auth0|nobody\"");
    let weak = t.fails(&[
        "users",
        "set-password",
        "bob@example.com",
        "--password",
        "short",
    ]);
    assert!(weak.contains("Password is too short"), "{weak}");
    let out = t.run_with_input(
        &["users", "set-password", "bob@example.com"],
        "a new password\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Every change is in the tenant log with the command line as the actor.
    let server = t.serve(&[]);
    server.wait_ready().await;
    let actions = cli_actions(&server).await;
    for action in ["create_user", "update_user", "unblock_user_logins"] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
    let created = actions.iter().filter(|a| *a == "create_user").count();
    assert_eq!(created, 2, "refused creations are not audited: {actions:?}");
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn roles_and_groups_are_created_and_assigned_by_name_or_id() {
    let t = Tenant::new().await;
    for email in ["ann@example.com", "ben@example.com"] {
        t.ok(&[
            "users",
            "create",
            "--email",
            email,
            "--password",
            "long enough",
        ]);
    }
    let editor = t.json(&["roles", "create", "editor", "--description", "Edits things"]);
    assert!(editor["id"].as_str().unwrap().starts_with("rol_"));
    assert_eq!(editor["description"], "Edits things");
    let duplicate = t.fails(&["roles", "create", "Editor"]);
    assert_eq!(
        duplicate,
        "castellan: a role named \"Editor\" already exists"
    );
    t.ok(&["roles", "create", "viewer"]);
    assert_eq!(names(&t.json(&["roles", "list"])), ["editor", "viewer"]);
    let table = t.ok(&["roles", "list", "--filter", "edit"]);
    assert!(table.starts_with("ID "), "{table}");
    assert!(
        table.contains("editor") && !table.contains("viewer"),
        "{table}"
    );

    // By name, to users by email; an unknown user anywhere in the list changes nothing.
    let refused = t.fails(&[
        "roles",
        "assign",
        "viewer",
        "ann@example.com",
        "nobody@example.com",
    ]);
    assert_eq!(refused, "castellan: no user \"nobody@example.com\"");
    assert_eq!(
        t.json(&["users", "show", "ann@example.com"])["roles"],
        json!([])
    );
    let unknown_role = t.fails(&["roles", "assign", "nope", "ann@example.com"]);
    assert_eq!(unknown_role, "castellan: no role \"nope\"");
    t.ok(&[
        "roles",
        "assign",
        "editor",
        "ann@example.com",
        "ben@example.com",
    ]);
    // By id too.
    let viewer_id = t.json(&["roles", "list", "--filter", "viewer"])[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    t.ok(&["roles", "assign", &viewer_id, "ann@example.com"]);
    let ann = t.json(&["users", "show", "ann@example.com"]);
    assert_eq!(names(&ann["roles"]), ["editor", "viewer"]);

    // Permissions: only scopes the API defines.
    let bad = t.fails(&[
        "roles",
        "add-permissions",
        "editor",
        "--api",
        "urn:auth0-authz-api",
        "make:coffee",
    ]);
    assert!(bad.contains("make:coffee"), "{bad}");
    t.ok(&[
        "roles",
        "add-permissions",
        "editor",
        "--api",
        "urn:auth0-authz-api",
        "read:groups",
    ]);

    let staff = t.json(&[
        "groups",
        "create",
        "staff",
        "--description",
        "Everyone on staff",
    ]);
    assert!(staff["id"].as_str().unwrap().starts_with("grp_"));
    let duplicate = t.fails(&["groups", "create", "staff"]);
    assert_eq!(
        duplicate,
        "castellan: a group named \"staff\" already exists"
    );
    let refused = t.fails(&["groups", "assign", "staff", "nobody@example.com"]);
    assert_eq!(refused, "castellan: no user \"nobody@example.com\"");
    let unknown_group = t.fails(&["groups", "assign", "nope", "ann@example.com"]);
    assert_eq!(unknown_group, "castellan: no group \"nope\"");
    t.ok(&["groups", "assign", "staff", "ben@example.com"]);
    let groups = t.json(&["groups", "list"]);
    assert_eq!(groups[0]["name"], "staff");
    assert_eq!(groups[0]["members"], 1);
    assert!(t.ok(&["groups", "list"]).contains("MEMBERS"));
    let ben = t.ok(&["users", "show", "ben@example.com"]);
    assert!(ben.contains("groups      staff"), "{ben}");
    assert!(ben.contains("roles       editor"), "{ben}");

    let server = t.serve(&[]);
    server.wait_ready().await;
    let actions = cli_actions(&server).await;
    for action in [
        "create_role",
        "assign_user_roles",
        "add_role_permissions",
        "create_group",
        "add_group_members",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
    // Effective permissions, as tokens see them, follow the assignment.
    let ann_id = ann["user_id"].as_str().unwrap().replace('|', "%7C");
    let permissions = server
        .admin_get(&format!("/users/{ann_id}/permissions"))
        .await;
    assert_eq!(permissions[0]["permission_name"], "read:groups");
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_create_user_makes_a_console_administrator_once() {
    let t = Tenant::new().await;
    let first = t.ok(&["admin", "create-user", "--email", "root@example.com"]);
    assert!(first.starts_with("Created auth0|"), "{first}");
    let password = first
        .lines()
        .find_map(|l| l.strip_prefix("Generated password, shown only now: "))
        .expect("the generated password is printed")
        .to_string();
    assert!(password.len() >= 20, "{password}");

    // Again: found, nothing new, no password.
    let again = t.json(&["admin", "create-user", "--email", "root@example.com"]);
    assert_eq!(again["created"], false);
    assert!(again.get("password").is_none(), "{again}");
    assert_eq!(again["role"], "castellan-admin");
    // An existing user given a password gets it.
    t.ok(&[
        "users",
        "create",
        "--email",
        "ops@example.com",
        "--password",
        "long enough",
    ]);
    let promoted = t.json(&[
        "admin",
        "create-user",
        "--email",
        "ops@example.com",
        "--password",
        "replaced password",
    ]);
    assert_eq!(promoted["created"], false);
    let weak = t.fails(&[
        "admin",
        "create-user",
        "--email",
        "new@example.com",
        "--password",
        "short",
    ]);
    assert!(weak.contains("Password is too short"), "{weak}");

    let roles = t.json(&["roles", "list"]);
    assert_eq!(names(&roles), ["castellan-admin"], "one role, made once");
    let root = t.json(&["users", "show", "root@example.com"]);
    assert_eq!(names(&root["roles"]), ["castellan-admin"]);
    assert_eq!(root["email_verified"], true);

    let server = t.serve(&[]);
    server.wait_ready().await;
    let management = format!("{}/api/v2/", server.base);
    for email in ["root@example.com", "ops@example.com"] {
        let user = t.json(&["users", "show", email]);
        let id = user["user_id"].as_str().unwrap().replace('|', "%7C");
        let held = server.admin_get(&format!("/users/{id}/permissions")).await;
        assert_eq!(held.as_array().unwrap().len(), 1, "{held}");
        assert_eq!(held[0]["permission_name"], "castellan:admin");
        assert_eq!(held[0]["resource_server_identifier"], management.as_str());
        assert_eq!(
            held[0]["sources"],
            json!([{"source_id": roles[0]["id"], "source_name": "castellan-admin", "source_type": "ROLE"}]),
        );
    }
    let actions = cli_actions(&server).await;
    let count = |name: &str| actions.iter().filter(|a| *a == name).count();
    assert_eq!(count("create_role"), 1, "{actions:?}");
    assert_eq!(count("add_role_permissions"), 1, "{actions:?}");
    assert_eq!(count("assign_user_roles"), 2, "{actions:?}");
    server.stop();
}

/// The values a printed `curl` passes with `-d NAME=VALUE` or `--data-urlencode NAME=VALUE`.
fn curl_value(curl: &str, name: &str) -> Option<String> {
    curl.split_whitespace()
        .find_map(|word| word.strip_prefix(&format!("{name}=")))
        .map(|v| v.trim_matches('\'').to_string())
}

fn password_realm_curl(stdout: &str) -> String {
    let start = stdout
        .find(&format!("-d grant_type={REALM}"))
        .expect("a password-realm curl is printed");
    stdout[start..].to_string()
}

fn pairs(form: &[(String, String)]) -> Vec<(&str, &str)> {
    form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

async fn counts(server: &Server) -> Value {
    let mut counts = json!({});
    for path in [
        "/roles",
        "/rules",
        "/clients",
        "/resource-servers",
        "/users",
    ] {
        counts[path] = json!(server.admin_get(path).await.as_array().unwrap().len());
    }
    counts["connection"] = server.admin_get("/connections").await[0]["default_assignments"].clone();
    counts
}

/// Two nodes started together on an empty database race to migrate it, to make the secret
/// key and to seed the demo: both come up, and everything is there once.
#[tokio::test(flavor = "multi_thread")]
async fn two_demo_starts_together_on_an_empty_database_both_come_up() {
    let t = Tenant::new().await;
    let other = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (first, second) = (t.serve(&["--demo"]), t.serve_on(other, &["--demo"]));
    let printed = first.wait_for_output("--data-urlencode 'scope=").await;
    let also = second.wait_for_output("--data-urlencode 'scope=").await;
    let seeded = counts(&first).await;
    let roles: Vec<Value> = first.admin_get("/roles").await.as_array().unwrap().clone();
    let mut names: Vec<&str> = roles.iter().map(|r| r["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["admin", "castellan-admin", "member"], "{roles:?}");
    assert_eq!(seeded["/rules"], json!(1));
    assert_eq!(seeded["/users"], json!(1));
    // One secret key for both: the demo client's derived secret is the same in each print.
    let secret = |out: &str| curl_value(&password_realm_curl(out), "client_secret");
    assert_eq!(secret(&printed), secret(&also));
    first.stop();
    second.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_seeds_once_and_its_printed_credentials_get_a_token_with_roles() {
    let t = Tenant::new().await;
    let first = t.serve(&["--demo"]);
    let stdout = first.wait_for_output("--data-urlencode 'scope=").await;
    let seeded = counts(&first).await;
    // The printed log-in URL opens the log-in page.
    let login_url = stdout
        .split_whitespace()
        .find(|w| w.starts_with(&format!("{}/authorize?", first.base)))
        .expect("a log-in URL is printed");
    let page = first.http.get(login_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        stdout.contains(&format!("{}/admin", first.base)),
        "{stdout}"
    );
    first.stop();
    let curl = password_realm_curl(&stdout);
    let secret = curl_value(&curl, "client_secret").unwrap();
    let password = curl_value(&curl, "password").unwrap();
    assert!(
        stdout.contains(&format!("password       {password}")),
        "{stdout}"
    );

    // Second start on the same database: nothing added, and the password is not known.
    let second = t.serve(&["--demo"]);
    let again = second.wait_for_output("--data-urlencode 'scope=").await;
    assert_eq!(counts(&second).await, seeded);
    assert!(!again.contains(&password), "{again}");
    assert!(
        again.contains("castellan users set-password admin@demo.example.com"),
        "{again}"
    );
    assert_eq!(
        curl_value(&password_realm_curl(&again), "client_secret").unwrap(),
        secret
    );

    let log_in = |username: &str, password: &str| -> Vec<(String, String)> {
        let mut form: Vec<(String, String)> = ["grant_type", "realm", "client_id", "audience"]
            .into_iter()
            .map(|name| (name.to_string(), curl_value(&curl, name).unwrap()))
            .collect();
        form.push(("client_secret".into(), secret.clone()));
        form.push(("username".into(), username.into()));
        form.push(("password".into(), password.into()));
        form.push((
            "scope".into(),
            "openid read:notes write:notes delete:notes".into(),
        ));
        form
    };
    assert_eq!(
        curl_value(&curl, "username").unwrap(),
        "admin@demo.example.com"
    );
    let (status, body) = second
        .token(&pairs(&log_in("admin@demo.example.com", &password)))
        .await;
    assert_eq!(status, 200, "{body}");
    let access = claims(body["access_token"].as_str().unwrap());
    let mut roles: Vec<String> =
        serde_json::from_value(access["https://demo.example.com/roles"].clone()).unwrap();
    roles.sort();
    assert_eq!(roles, ["admin", "castellan-admin", "member"], "{access}");
    assert_eq!(access["aud"][0], "https://api.demo.example.com");
    let mut permissions: Vec<String> =
        serde_json::from_value(access["permissions"].clone()).unwrap();
    permissions.sort();
    assert_eq!(permissions, ["delete:notes", "read:notes", "write:notes"]);
    let id_token = claims(body["id_token"].as_str().unwrap());
    assert!(
        id_token["https://demo.example.com/roles"].is_array(),
        "{id_token}"
    );

    // A sign-up lands in `member`, the default role, and its first token says so.
    let signup = second
        .http
        .post(format!("{}/dbconnections/signup", second.base))
        .json(&json!({"client_id": "demo-web-app", "email": "new@example.com",
                      "password": "a long password", "connection": "Username-Password-Authentication"}))
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), 200);
    let (status, body) = second
        .token(&pairs(&log_in("new@example.com", "a long password")))
        .await;
    assert_eq!(status, 200, "{body}");
    let access = claims(body["access_token"].as_str().unwrap());
    assert_eq!(access["https://demo.example.com/roles"], json!(["member"]));
    assert_eq!(access["permissions"], json!(["read:notes", "write:notes"]));
    second.stop();

    // The reset the printout suggests works, and the new password logs in.
    t.ok(&[
        "users",
        "set-password",
        "admin@demo.example.com",
        "--password",
        "chosen again",
    ]);
    let third = t.serve(&["--demo"]);
    third.wait_for_output("--data-urlencode 'scope=").await;
    let (status, body) = third
        .token(&pairs(&log_in("admin@demo.example.com", "chosen again")))
        .await;
    assert_eq!(status, 200, "{body}");
    let actions = cli_actions(&third).await;
    assert!(actions.iter().any(|a| a == "create_rule"), "{actions:?}");
    assert!(
        actions.iter().any(|a| a == "set_default_assignments"),
        "{actions:?}"
    );
    third.stop();
}

#[test]
fn admin_commands_need_a_reachable_database() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args([
            "users",
            "list",
            "--database",
            "postgres://postgres@127.0.0.1:1/none",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("castellan: cannot reach the database"),
        "{stderr}"
    );
}
