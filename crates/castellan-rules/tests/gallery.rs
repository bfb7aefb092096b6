//! Auth0's public rule gallery (`gallery/templates/`, origin in `gallery/ORIGIN.md`), every
//! template run unmodified in the sandbox with a realistic user and context, and the
//! settings each one reads. The web services they call are answered by a stand-in
//! internet (`support/internet.rs`) that the sandbox reaches through its outbound proxy
//! and whose certificate authority it trusts, with `200 {}` for every request. A template
//! *runs* when it gets to its callback: with the user and context, with an
//! `UnauthorizedError` (a template that refuses this user), or with an error it reports
//! itself. It does *not* run when the runtime stops it: a module or global it needs is
//! missing, it throws, it never calls back. The test prints the table and holds the count,
//! so that a change that breaks a template that ran is seen.

#[path = "support/http_wire.rs"]
mod http_wire;
#[path = "support/internet.rs"]
mod internet;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use castellan_rules::{AllowList, Limits, Sandbox, ScriptError, Setup, WorkerProgram};
use serde_json::{Map, Value, json};

/// Templates that run today; raise it when more do.
const RUNNING_AT_LEAST: usize = 83;

/// A sandbox whose `fetch` reaches `hosts` (https) through the stand-in internet.
fn sandbox(
    net: &internet::Internet,
    hosts: &BTreeSet<String>,
    ca_file: &std::path::Path,
) -> Sandbox {
    let entries: Vec<String> = hosts.iter().cloned().collect();
    Sandbox::new(Limits {
        workers: 2,
        per_rule: Duration::from_secs(2),
        per_login: Duration::from_secs(5),
        fetch_allow: AllowList::new(&entries),
        fetch_proxy: Some(net.proxy_url.parse().unwrap()),
        fetch_ca_file: Some(ca_file.to_path_buf()),
        worker: WorkerProgram::new(env!("CARGO_BIN_EXE_castellan-rules-worker"), &[]),
        ..Limits::default()
    })
}

/// The hosts of the `https://` addresses a source names.
fn hosts_named(source: &str, into: &mut BTreeSet<String>) {
    for (at, _) in source.match_indices("https://") {
        let host: String = source[at + "https://".len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
            .collect();
        if host.contains('.') && !host.ends_with('.') {
            into.insert(host);
        }
    }
}

fn user() -> Value {
    json!({
        "user_id": "auth0|5f7c8ec7c33c6c004bbafe82",
        "email": "jane.doe@example.com",
        "email_verified": true,
        "username": "jane",
        "name": "Jane Doe",
        "given_name": "Jane",
        "family_name": "Doe",
        "nickname": "jane.doe",
        "picture": "https://s.gravatar.com/avatar/0?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com%2Favatars%2Fjd.png",
        "created_at": "2024-03-01T10:00:00.000Z",
        "updated_at": "2026-12-01T09:30:00.000Z",
        "last_login": "2026-12-01T09:30:00.000Z",
        "last_ip": "203.0.113.7",
        "logins_count": 3,
        "identities": [{
            "provider": "auth0",
            "user_id": "5f7c8ec7c33c6c004bbafe82",
            "connection": "Username-Password-Authentication",
            "isSocial": false
        }],
        "app_metadata": {"roles": ["reader"], "plan": "free"},
        "user_metadata": {"favorite_color": "blue", "preferred_language": "en"}
    })
}

fn context() -> Value {
    json!({
        "tenant": "tenant.example.com",
        "clientID": "aK3xQ9pL2mN8vB4cR7tY1wE5",
        "clientName": "Example Web App",
        "clientMetadata": {},
        "connection": "Username-Password-Authentication",
        "connectionID": "con_2aB3cD4eF5gH6iJ7",
        "connectionStrategy": "auth0",
        "connectionOptions": {},
        "connectionMetadata": {},
        "protocol": "oidc-basic-profile",
        "stats": {"loginsCount": 3},
        "request": {
            "ip": "203.0.113.7",
            "userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
            "hostname": "tenant.example.com",
            "query": {"scope": "openid profile email", "client_id": "aK3xQ9pL2mN8vB4cR7tY1wE5", "response_type": "code"},
            "body": {},
            "geoip": {"country_code": "US", "country_code3": "USA", "country_name": "United States", "city_name": "Seattle", "latitude": 47.6, "longitude": -122.3, "time_zone": "America/Los_Angeles", "continent_code": "NA"}
        },
        "idToken": {},
        "accessToken": {"scope": ["openid", "profile", "email"]},
        "authentication": {"methods": [{"name": "pwd", "timestamp": 1764581400000i64}]},
        "sso": {"with_auth0": false, "with_dbconn": false, "current_clients": []},
        "authorization": {"roles": ["reader"], "groups": []},
        "primaryUser": "auth0|5f7c8ec7c33c6c004bbafe82",
        "sessionID": "s3ss10n1d"
    })
}

/// A plausible value for every setting a template reads (`configuration.NAME`).
fn configuration(source: &str) -> Map<String, Value> {
    let mut settings = Map::new();
    let mut rest = source;
    while let Some(at) = rest.find("configuration.") {
        rest = &rest[at + "configuration.".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if name.is_empty() {
            continue;
        }
        let upper = name.to_ascii_uppercase();
        let value = if upper.contains("URL") || upper.ends_with("ENDPOINT") {
            "https://service.example.com/endpoint".to_owned()
        } else if upper.contains("DOMAIN") || upper.ends_with("HOST") {
            "service.example.com".to_owned()
        } else if upper.contains("SECRET") || upper.contains("KEY") {
            "c2VjcmV0LXZhbHVlLWZvci10ZXN0cy0wMTIzNDU2Nzg5".to_owned()
        } else if upper.contains("ID") {
            "1".to_owned()
        } else {
            "value".to_owned()
        };
        settings.insert(name, json!(value));
    }
    settings
}

#[derive(Debug)]
enum Verdict {
    Ran(&'static str),
    Stopped(String),
}

fn verdict(result: &Result<castellan_rules::RuleOutcome, ScriptError>) -> Verdict {
    match result {
        Ok(_) => Verdict::Ran("called back"),
        Err(ScriptError::Denied { .. }) => Verdict::Ran("refused the user"),
        Err(ScriptError::Failed { message, .. })
            if !message.contains("is not available") && !message.contains("is not defined") =>
        {
            Verdict::Ran("reported an error")
        }
        Err(e) => Verdict::Stopped(e.to_string()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gallery_templates_run_unmodified() {
    let net =
        internet::Internet::start(Arc::new(|_: &internet::Seen| (200, "{}".to_owned()))).await;
    let ca_file = std::env::temp_dir().join(format!("gallery-ca-{}.pem", std::process::id()));
    std::fs::write(&ca_file, &net.ca_pem).unwrap();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/gallery/templates");
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let sources: Vec<(String, String)> = names
        .iter()
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(path).unwrap())
        })
        .collect();
    let mut hosts: BTreeSet<String> = ["tenant.example.com", "service.example.com"]
        .map(str::to_owned)
        .into();
    for (_, source) in &sources {
        hosts_named(source, &mut hosts);
    }
    let sandbox = sandbox(&net, &hosts, &ca_file);
    let mut verdicts = BTreeMap::new();
    for (name, source) in sources {
        let setup = Setup {
            configuration: configuration(&source),
            domain: "tenant.example.com".into(),
            base_url: "https://tenant.example.com/api/v2".into(),
            access_token: Some("management-api-token".into()),
            ..Setup::default()
        };
        let result = sandbox
            .open(setup)
            .run_rule(&name, &source, user(), context())
            .await;
        verdicts.insert(name, verdict(&result));
    }
    let _ = std::fs::remove_file(&ca_file);
    let called = net.take();
    println!("{} requests reached the stand-in internet", called.len());
    let ran = verdicts
        .values()
        .filter(|v| matches!(v, Verdict::Ran(_)))
        .count();
    for (name, verdict) in &verdicts {
        match verdict {
            Verdict::Ran(how) => println!("runs     {name}: {how}"),
            Verdict::Stopped(why) => println!("stops    {name}: {why}"),
        }
    }
    println!("{ran} of {} templates run", verdicts.len());
    assert_eq!(verdicts.len(), 90);
    assert!(
        ran >= RUNNING_AT_LEAST,
        "{ran} templates run, fewer than {RUNNING_AT_LEAST}"
    );
}
