//! `castellan import users` and `castellan import authz` through the real binary, against the
//! database of a running server (SQLite, or PostgreSQL with `CASTELLAN_TEST_BACKEND=postgres`):
//! 100 k imported users log in with their old passwords and get their old roles; bad files
//! are refused with their line numbers and change nothing. `benches/import_users.rs` measures
//! the import rate of the same file in a release build.

use crate::common;
use crate::import_support;

use std::path::Path;
use std::process::Output;
use std::sync::Arc;

use common::*;
use import_support::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_castellan");
const REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";
const API: &str = "https://reports.example.com";

/// A debug build imports them in about 10 s (2 shared cores, SQLite or PostgreSQL).
const USERS: usize = 100_000;

struct Tenant {
    server: TestServer,
    dir: Arc<tempfile::TempDir>,
    client_id: String,
    client_secret: String,
}

impl Tenant {
    /// A running server, a web application with the password-realm grant, and an API
    /// under RBAC whose tokens list permissions.
    async fn start() -> Self {
        let dir = Arc::new(tempfile::tempdir().unwrap());
        let url = database_url(dir.path()).await;
        let server =
            TestServer::start_with(settings(url, dir.path().to_path_buf()), dir.clone()).await;
        let (status, client) = server
            .admin(
                Method::POST,
                "/clients",
                Some(json!({"name": "Web", "grant_types": ["password", REALM]})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{client}");
        let api = json!({"identifier": API, "name": "Reports", "enforce_policies": true,
                         "token_dialect": "access_token_authz",
                         "scopes": [{"value": "read:reports"}, {"value": "write:reports"}]});
        let (status, body) = server
            .admin(Method::POST, "/resource-servers", Some(api))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        Tenant {
            client_id: client["client_id"].as_str().unwrap().into(),
            client_secret: client["client_secret"].as_str().unwrap().into(),
            server,
            dir,
        }
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    /// `castellan --database URL ARGS…` with none of the caller's `CASTELLAN_*` settings.
    /// Awaited, not blocked on: the server shares this test's runtime, and a transaction it
    /// has open must be able to finish while the command runs.
    async fn castellan(&self, args: &[&str]) -> Output {
        self.castellan_reading(args, "").await
    }

    /// The same, with `input` on standard input.
    async fn castellan_reading(&self, args: &[&str], input: &str) -> Output {
        use tokio::io::AsyncWriteExt;
        let mut cmd = Command::new(BIN);
        cmd.current_dir(self.dir.path())
            .args(["--database", &self.server.settings.database_url])
            .args(args)
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("CASTELLAN_")) {
            cmd.env_remove(k);
        }
        let mut child = cmd.spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(input.as_bytes()).await.unwrap();
        drop(stdin);
        child.wait_with_output().await.unwrap()
    }

    fn write(&self, name: &str, text: &str) -> String {
        std::fs::write(self.path(name), text).unwrap();
        self.path(name).display().to_string()
    }

    async fn login(&self, username: &str, password: &str) -> (StatusCode, Value) {
        let body = json!({
            "grant_type": REALM, "client_id": self.client_id, "client_secret": self.client_secret,
            "username": username, "password": password, "realm": DATABASE,
            "audience": API, "scope": "openid read:reports write:reports",
        });
        self.server.token_request(body).await
    }

    async fn permissions(&self, i: usize) -> Value {
        let (status, body) = self.login(&email(i), password(i)).await;
        assert_eq!(status, StatusCode::OK, "user {i}: {body}");
        claims(body["access_token"].as_str().unwrap())["permissions"].clone()
    }

    async fn user_count(&self) -> u64 {
        let (status, page) = self
            .server
            .admin(Method::GET, "/users?include_totals=true&per_page=1", None)
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        page["total"].as_u64().unwrap()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn succeeded(output: &Output) -> String {
    assert!(
        output.status.success(),
        "stdout: {}\nstderr: {}",
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}

fn failed(output: &Output) -> String {
    assert!(!output.status.success(), "stdout: {}", text(&output.stdout));
    text(&output.stderr)
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

#[tokio::test]
async fn imported_users_log_in_with_their_old_passwords_and_get_their_old_roles() {
    let tenant = Tenant::start().await;
    let hashes = hashes();
    let export = tenant.path("users.json");
    write_users(&export, USERS, &hashes);

    let started = std::time::Instant::now();
    let out = succeeded(
        &tenant
            .castellan(&["import", "users", &display(&export)])
            .await,
    );
    eprintln!(
        "imported {USERS} users in {:.1?} (debug build)",
        started.elapsed()
    );
    let with_hash = (0..USERS).filter(|i| has_hash(*i)).count();
    assert!(
        out.contains(&format!(
            "imported {USERS} users ({with_hash} with password hashes) into {DATABASE}"
        )),
        "{out}"
    );
    assert_eq!(tenant.user_count().await, USERS as u64);

    // Profiles come over as Auth0 had them: ids, dates, metadata, counts.
    let i = 1234;
    let (status, user) = tenant
        .server
        .admin(
            Method::GET,
            &format!("/users/{}", encoded(&user_id(i))),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    let expected = import_support::user(i, &hashes);
    for field in [
        "user_id",
        "email",
        "email_verified",
        "name",
        "nickname",
        "given_name",
        "family_name",
        "picture",
        "logins_count",
        "app_metadata",
        "user_metadata",
    ] {
        assert_eq!(user[field], expected[field], "{field}");
    }
    assert_eq!(user["created_at"], "2021-03-04T05:06:07Z");
    assert_eq!(user["last_login"], "2024-06-07T08:09:10Z");
    assert_eq!(user["identities"][0]["connection"], DATABASE);

    // Old passwords work, with either spelling of the hash, and are upgraded to argon2id.
    for i in [0, 1, 2, 3, USERS - 2] {
        let (status, body) = tenant.login(&email(i), password(i)).await;
        assert_eq!(status, StatusCode::OK, "user {i}: {body}");
        assert_eq!(
            claims(body["access_token"].as_str().unwrap())["sub"],
            user_id(i)
        );
    }
    let upgraded = tenant
        .server
        .running()
        .state
        .store
        .find_password_hash(&user_id(0))
        .await
        .unwrap()
        .unwrap();
    assert!(upgraded.starts_with("$argon2id$"), "{upgraded}");
    let (status, _) = tenant.login(&email(5), password(6)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a wrong password is refused");
    let (status, _) = tenant.login(&email(49), password(49)).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a user exported without a hash needs a reset"
    );

    // Before the extension's data, nobody holds a permission on the API.
    assert_eq!(tenant.permissions(1).await, json!([]));

    // The extension's export gives users 1 and 2 the Reader role directly, and users 3 and 4
    // the Editor role through their group (nested in Company). A member who is not a user
    // here is skipped with a warning.
    let readers = vec![user_id(1), user_id(2)];
    let editors = vec![user_id(3), user_id(4), "auth0|not-imported".to_string()];
    let doc = extension_export(API, &readers, &editors);
    let authz = tenant.write("authz.json", &serde_json::to_string_pretty(&doc).unwrap());
    let output = tenant.castellan(&["import", "authz", &authz]).await;
    let out = succeeded(&output);
    assert!(
        out.contains("2 groups, 2 roles, 2 permissions and the settings"),
        "{out}"
    );
    assert!(
        text(&output.stderr).contains("1 member(s) or role user(s)"),
        "{}",
        text(&output.stderr)
    );

    assert_eq!(tenant.permissions(1).await, json!(["read:reports"]));
    assert_eq!(tenant.permissions(2).await, json!(["read:reports"]));
    assert_eq!(
        tenant.permissions(3).await,
        json!(["read:reports", "write:reports"])
    );
    assert_eq!(tenant.permissions(5).await, json!([]));
    let (_, roles) = tenant
        .server
        .admin(
            Method::GET,
            &format!("/users/{}/roles", encoded(&user_id(4))),
            None,
        )
        .await;
    assert_eq!(
        roles,
        json!([]),
        "Editor comes through the group, not directly"
    );
    let (_, roles) = tenant
        .server
        .admin(
            Method::GET,
            &format!("/users/{}/effective-roles", encoded(&user_id(4))),
            None,
        )
        .await;
    let names: Vec<&str> = roles
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(names, ["Editor"], "{roles}");

    // Both imports are in the tenant log, made by the command line.
    let (_, logs) = tenant
        .server
        .admin(Method::GET, "/logs?q=type:sapi", None)
        .await;
    let actions: Vec<(&str, &Value)> = logs
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["details"]["action"].as_str().unwrap_or(""),
                &e["details"]["actor"],
            )
        })
        .collect();
    for action in ["import_users", "import_extension_data"] {
        assert!(
            actions.contains(&(action, &json!({"type": "cli"}))),
            "{action} in {actions:?}"
        );
    }
}

#[tokio::test]
async fn bad_files_are_refused_by_line_and_nothing_is_written() {
    let tenant = Tenant::start().await;
    let hashes = hashes();
    let line = |i: usize| serde_json::to_string(&import_support::user(i, &hashes)).unwrap();
    let good = tenant.write("good.json", &format!("{}\n{}\n", line(0), line(1)));
    succeeded(&tenant.castellan(&["import", "users", &good]).await);
    assert_eq!(tenant.user_count().await, 2);

    let mut md5 = import_support::user(13, &hashes);
    md5.as_object_mut().unwrap().remove("passwordHash");
    md5["custom_password_hash"] =
        json!({"algorithm": "md5", "hash": {"value": "5f4dcc3b5aa765d61d8327deb882cf99"}});
    let mut same_email = import_support::user(14, &hashes);
    same_email["email"] = json!("USER10@example.com");
    let mut taken = import_support::user(15, &hashes);
    taken["email"] = json!(email(0));
    let mut argon = import_support::user(16, &hashes);
    argon["passwordHash"] = json!("$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo");
    let bad = [
        line(10),                                        // 1
        "{\"user_id\": \"auth0|x\", \"email\": ".into(), // 2: not JSON
        line(11),                                        // 3
        line(10).replace("user10@", "other@"),           // 4: the id of line 1 again
        serde_json::to_string(&same_email).unwrap(),     // 5: the address of line 1 again
        serde_json::to_string(&md5).unwrap(),            // 6: another algorithm
        line(1),                                         // 7: already imported
        serde_json::to_string(&taken).unwrap(),          // 8: an address already taken
        serde_json::to_string(&argon).unwrap(),          // 9: not a bcrypt hash
        "[1, 2]".into(),                                 // 10: not an object
        line(12),                                        // 11
    ]
    .join("\n");
    let bad = tenant.write("bad.json", &bad);
    let stderr = failed(&tenant.castellan(&["import", "users", &bad]).await);
    for expected in [
        format!("{bad}:line 2: not valid JSON"),
        format!(
            "{bad}:line 4: user_id \"{}\" is also on line 1",
            user_id(10)
        ),
        format!("{bad}:line 5: email \"user10@example.com\" is also on line 1"),
        format!("{bad}:line 6: password hash algorithm \"md5\" is not supported"),
        format!(
            "{bad}:line 7: user_id \"{}\" already belongs to a user of the database",
            user_id(1)
        ),
        format!("{bad}:line 8: email \"user0@example.com\" already belongs"),
        format!("{bad}:line 9: the password hash ($argon2id$) is not a bcrypt hash"),
        format!("{bad}:line 10: expected a JSON object"),
        format!("castellan: 8 record(s) of {bad} refused; nothing was imported"),
    ] {
        assert!(
            stderr.contains(&expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
    assert!(
        !stderr.contains("line 1:") && !stderr.contains("line 3:"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("c2FsdHNhbHQ"),
        "hashes are not shown: {stderr}"
    );
    assert_eq!(
        tenant.user_count().await,
        2,
        "nothing of the refused file was written"
    );

    // A JSON array (the bulk-import schema) reports the line an entry starts on.
    let array = format!(
        "[\n  {},\n  {{\n    \"email\": \"a@example.com\",\n    \"blocked\": \"no\"\n  }},\n  {{\"email\": }}\n]",
        line(20)
    );
    let array = tenant.write("array.json", &array);
    let stderr = failed(&tenant.castellan(&["import", "users", &array]).await);
    assert!(
        stderr.contains(&format!(
            "{array}:line 3: \"blocked\" must be true or false"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{array}:line 7: not valid JSON")),
        "{stderr}"
    );

    // An empty file, a missing file, an unknown connection: one line each, nothing written.
    let empty = tenant.write("empty.json", "\n\n");
    assert!(
        failed(&tenant.castellan(&["import", "users", &empty]).await).contains("holds no users")
    );
    let missing = display(&tenant.path("missing.json"));
    assert!(
        failed(&tenant.castellan(&["import", "users", &missing]).await).contains("missing.json")
    );
    let fine = tenant.write("fine.json", &line(30));
    let stderr = failed(
        &tenant
            .castellan(&["import", "users", &fine, "--connection", "nope"])
            .await,
    );
    assert!(
        stderr.contains("the connection \"nope\" does not exist"),
        "{stderr}"
    );

    // A dry run checks and writes nothing; the real run then goes through.
    let out = succeeded(
        &tenant
            .castellan(&["import", "users", &fine, "--dry-run"])
            .await,
    );
    assert!(
        out.contains("1 users (1 with password hashes) can be imported"),
        "{out}"
    );
    assert_eq!(tenant.user_count().await, 2);
    succeeded(&tenant.castellan(&["import", "users", &fine]).await);
    assert_eq!(tenant.user_count().await, 3);
    // `-` reads standard input, e.g. straight from `gunzip -c`.
    let out = succeeded(
        &tenant
            .castellan_reading(&["import", "users", "-"], &format!("{}\n", line(31)))
            .await,
    );
    assert!(out.contains("imported 1 users"), "{out}");
    assert_eq!(tenant.user_count().await, 4);

    // An extension document that the extension would refuse changes nothing.
    let doc = extension_export(API, &[user_id(0)], &[]);
    let authz = tenant.write("authz.json", &doc.to_string());
    succeeded(&tenant.castellan(&["import", "authz", &authz]).await);
    let mut cyclic = doc.clone();
    cyclic["groups"][0]["nested"] = json!([COMPANY_GUID]);
    let cyclic = tenant.write("cyclic.json", &cyclic.to_string());
    let stderr = failed(&tenant.castellan(&["import", "authz", &cyclic]).await);
    assert!(
        stderr.contains("cycle") && stderr.contains("nothing was imported"),
        "{stderr}"
    );
    let broken = tenant.write("broken.json", "{\n \"groups\": [\n}");
    let stderr = failed(&tenant.castellan(&["import", "authz", &broken]).await);
    assert!(stderr.contains("line 3"), "{stderr}");
    assert_eq!(
        tenant.permissions(0).await,
        json!(["read:reports"]),
        "the first document still holds"
    );
}

#[tokio::test]
async fn an_import_is_written_with_its_one_audit_entry_or_not_at_all() {
    let tenant = Tenant::start().await;
    let hashes = hashes();
    let line = |i: usize| serde_json::to_string(&import_support::user(i, &hashes)).unwrap();
    let file = tenant.write("two.json", &format!("{}\n{}\n", line(0), line(1)));
    succeeded(&tenant.castellan(&["import", "users", &file]).await);
    let (_, logs) = tenant
        .server
        .admin(Method::GET, "/logs?q=type:sapi", None)
        .await;
    let imports: Vec<&Value> = logs
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["details"]["action"] == "import_users")
        .collect();
    assert_eq!(imports.len(), 1, "{logs}");
    assert_eq!(
        imports[0]["description"],
        format!("Imported 2 users into {DATABASE}")
    );
    assert_eq!(
        imports[0]["details"]["changes"],
        json!({"users": 2, "with_password_hash": 2}),
        "counts, never hashes"
    );

    tenant.server.refuse_audit_entries().await;
    let more = tenant.write("more.json", &format!("{}\n", line(2)));
    failed(&tenant.castellan(&["import", "users", &more]).await);
    assert_eq!(
        tenant.user_count().await,
        2,
        "without its entry, the import is not written"
    );
}
