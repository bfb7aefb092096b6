//! Effective authorization at tenant scale, on the embedded SQLite store:
//! - a generator fills 1 M users, 10 k groups nested 5 deep, 10 k roles and 100 k permissions
//!   (100 APIs × 1,000 scopes), with a progress bar; the seeded file is kept under
//!   `target/bench-data/` and reused by later runs (`--reseed` starts over);
//! - effective-permission p50/p99 for random users never seen before (each in 2 groups of the
//!   deepest level, so 10 groups and 11 roles through nesting), after as many other users
//!   warmed up what groups grant, against a primary-key user lookup measured in the same run;
//! - token issuance (effective permissions + RS256 signing of the access token) p50 for users
//!   with 1, 100 and 10,000 effective roles: warm (the permissions computed at the current
//!   authorization generation are kept) and cold (an authorization change just before each
//!   issuance, outside the timed part, so they are computed again).
//!
//! Run: `cargo bench -p castellan --bench authorization_scale`

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use castellan::app;
use castellan::config::{LogFormat, Secret, Settings};
use castellan_core::clock::SystemClock;
use castellan_core::events::RequestContext;
use castellan_core::oauth::password::Services;
use castellan_core::oauth::user_tokens::{self, UserTokenRequest};
use castellan_core::scripts::Protocol;
use sqlx::sqlite::SqlitePoolOptions;
use sqlx::{Pool, Sqlite};

const USERS: usize = 1_000_000;
const GROUPS_PER_LEVEL: usize = 2_000;
const LEVELS: usize = 5;
const ROLES: usize = 10_000;
const APIS: usize = 100;
const SCOPES_PER_API: usize = 1_000;
const PERMISSIONS_PER_ROLE: usize = 10;
const SAMPLES: usize = 5_000;
const TOKEN_SAMPLES: usize = 500;
const ADMIN: &str = "bench-admin";
const DB: &str = "Username-Password-Authentication";

fn api(i: usize) -> String {
    format!("https://api{i}.bench/")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// A deterministic spread of indexes, so every run measures the same users.
fn spread(i: usize, n: usize) -> usize {
    (i.wrapping_mul(2_654_435_761) ^ (i >> 7)) % n
}

struct Progress {
    label: &'static str,
    total: usize,
    started: Instant,
}

impl Progress {
    fn new(label: &'static str, total: usize) -> Self {
        Progress {
            label,
            total,
            started: Instant::now(),
        }
    }

    fn show(&self, done: usize) {
        let filled = done * 30 / self.total.max(1);
        eprint!(
            "\r{:<18} [{}{}] {done}/{} {:.0}s",
            self.label,
            "#".repeat(filled),
            " ".repeat(30 - filled),
            self.total,
            self.started.elapsed().as_secs_f64()
        );
        let _ = std::io::stderr().flush();
        if done == self.total {
            eprintln!();
        }
    }
}

/// Inserts `rows` (each already a parenthesised tuple) in multi-row statements, one
/// transaction per batch.
async fn insert(pool: &Pool<Sqlite>, label: &'static str, head: &str, rows: Vec<String>) {
    let progress = Progress::new(label, rows.len());
    let mut done = 0;
    for chunk in rows.chunks(500) {
        let sql = format!("{head} VALUES {}", chunk.join(","));
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(pool)
            .await
            .unwrap();
        done += chunk.len();
        if done % 50_000 < 500 || done == rows.len() {
            progress.show(done);
        }
    }
}

fn role_id(i: usize) -> String {
    format!("rol_bench{i:011}")
}

fn group_id(i: usize) -> String {
    format!("grp_bench{i:011}")
}

fn user_id(i: usize) -> String {
    format!("auth0|{i:024x}")
}

/// Users 0..USERS are ordinary; three more hold 1, 100 and 10,000 roles.
const ONE_ROLE: usize = USERS;
const HUNDRED_ROLES: usize = USERS + 1;
const ALL_ROLES: usize = USERS + 2;
const SPECIAL_GROUPS: usize = GROUPS_PER_LEVEL * LEVELS;

async fn seed(pool: &Pool<Sqlite>) {
    let scopes: Vec<String> = (0..SCOPES_PER_API)
        .map(|s| format!(r#"{{"value":"perm:{s}","description":""}}"#))
        .collect();
    let scopes = format!("[{}]", scopes.join(","));
    let apis = (0..APIS)
        .map(|a| {
            format!(
                "('api_bench{a:05}', 'API {a}', '{}', '{scopes}', 86400, 'RS256', TRUE, 'access_token_authz', \
                 FALSE, FALSE, FALSE, 0)",
                api(a)
            )
        })
        .collect();
    insert(
        pool,
        "APIs",
        "INSERT INTO resource_servers (id, name, identifier, scopes, token_lifetime, signing_alg, \
         enforce_policies, token_dialect, allow_offline_access, skip_consent, is_system, created_at)",
        apis,
    )
    .await;
    let roles = (0..ROLES)
        .map(|r| {
            format!(
                "('{}', 'guid-{r}', 'role {r}', 'role {r}', '', '', NULL, 0)",
                role_id(r)
            )
        })
        .collect();
    insert(
        pool,
        "roles",
        "INSERT INTO roles (id, guid, name, name_lower, description, application_id, application_type, created_at)",
        roles,
    )
    .await;
    let mut permissions = Vec::with_capacity(ROLES * PERMISSIONS_PER_ROLE);
    for r in 0..ROLES {
        for p in 0..PERMISSIONS_PER_ROLE {
            let scope = spread(r * PERMISSIONS_PER_ROLE + p, SCOPES_PER_API);
            permissions.push(format!(
                "('{}', '{}', 'perm:{scope}')",
                role_id(r),
                api(r % APIS)
            ));
        }
    }
    permissions.sort();
    permissions.dedup();
    insert(
        pool,
        "role permissions",
        "INSERT INTO role_permissions (role_id, resource_server_identifier, permission_name)",
        permissions,
    )
    .await;
    let groups = (0..SPECIAL_GROUPS + 2)
        .map(|g| {
            format!(
                "('{}', 'gguid-{g}', 'group {g}', 'group {g}', '', 0)",
                group_id(g)
            )
        })
        .collect();
    insert(
        pool,
        "groups",
        "INSERT INTO directory_groups (id, guid, name, name_lower, description, created_at)",
        groups,
    )
    .await;
    // Level 0 holds the roots; group g of level l > 0 is nested in group g - 2,000.
    let nesting = (GROUPS_PER_LEVEL..SPECIAL_GROUPS)
        .map(|g| format!("('{}', '{}')", group_id(g - GROUPS_PER_LEVEL), group_id(g)))
        .collect();
    insert(
        pool,
        "nesting",
        "INSERT INTO group_nesting (parent_id, child_id)",
        nesting,
    )
    .await;
    let mut group_roles: Vec<String> = (0..SPECIAL_GROUPS)
        .map(|g| format!("('{}', '{}')", group_id(g), role_id(g % ROLES)))
        .collect();
    // Two groups for the special users: one with 100 roles, one with all of them.
    group_roles
        .extend((0..100).map(|r| format!("('{}', '{}')", group_id(SPECIAL_GROUPS), role_id(r))));
    group_roles.extend(
        (0..ROLES).map(|r| format!("('{}', '{}')", group_id(SPECIAL_GROUPS + 1), role_id(r))),
    );
    insert(
        pool,
        "group roles",
        "INSERT INTO group_roles (group_id, role_id)",
        group_roles,
    )
    .await;
    let users = (0..USERS + 3)
        .map(|u| {
            format!(
                "('{}', '{DB}', 'user{u}@bench.example', FALSE, 'user {u}', '{{}}', '{{}}', 0, 0, 0, FALSE)",
                user_id(u)
            )
        })
        .collect();
    insert(
        pool,
        "users",
        "INSERT INTO users (user_id, connection, email, email_verified, name, app_metadata, user_metadata, \
         created_at, updated_at, logins_count, blocked)",
        users,
    )
    .await;
    let deepest = GROUPS_PER_LEVEL * (LEVELS - 1);
    let mut members = Vec::with_capacity(USERS * 2);
    for u in 0..USERS {
        let a = deepest + spread(u, GROUPS_PER_LEVEL);
        let b = deepest + spread(u + USERS, GROUPS_PER_LEVEL);
        members.push(format!("('{}', '{}')", group_id(a), user_id(u)));
        if b != a {
            members.push(format!("('{}', '{}')", group_id(b), user_id(u)));
        }
    }
    members.push(format!(
        "('{}', '{}')",
        group_id(SPECIAL_GROUPS),
        user_id(HUNDRED_ROLES)
    ));
    members.push(format!(
        "('{}', '{}')",
        group_id(SPECIAL_GROUPS + 1),
        user_id(ALL_ROLES)
    ));
    insert(
        pool,
        "memberships",
        "INSERT INTO group_members (group_id, user_id)",
        members,
    )
    .await;
    let mut direct: Vec<String> = (0..USERS)
        .map(|u| format!("('{}', '{}')", user_id(u), role_id(spread(u, ROLES))))
        .collect();
    direct.push(format!("('{}', '{}')", user_id(ONE_ROLE), role_id(0)));
    insert(
        pool,
        "direct roles",
        "INSERT INTO user_roles (user_id, role_id)",
        direct,
    )
    .await;
    sqlx::query("ANALYZE").execute(pool).await.unwrap();
}

#[tokio::main]
async fn main() {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data/authorization");
    if std::env::args().any(|a| a == "--reseed") {
        let _ = std::fs::remove_dir_all(&dir);
    }
    std::fs::create_dir_all(&dir).unwrap();
    let marker = dir.join("seeded");
    let database_url = format!("sqlite://{}/bench.db", dir.display());
    let settings = Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: database_url.clone(),
        issuer: "http://bench.test/".into(),
        log_format: LogFormat::Text,
        data_dir: dir.clone(),
        secret_key: None,
        secret_key_file: None,
        max_body_bytes: 1 << 20,
        templates_dir: None,
        bootstrap: Some((
            ADMIN.into(),
            Secret("bench-admin-secret-long-enough".into()),
        )),
        log_retention_days: castellan::config::DEFAULT_LOG_RETENTION_DAYS,
        jwks_max_age_secs: castellan::config::DEFAULT_JWKS_MAX_AGE_SECS,
        keep_sessions_on_password_change: false,
        geoip_database: None,
        serve: castellan::http::serve::ServeLimits::default(),
        scripts: castellan_rules::Limits {
            // The worker processes run the server's binary, as `castellan serve` does.
            worker: castellan_rules::WorkerProgram::new(
                env!("CARGO_BIN_EXE_castellan"),
                &[castellan_rules::WORKER_ARG],
            ),
            ..castellan_rules::Limits::default()
        },
        metrics: castellan::config::MetricsSettings::default(),
        trusted_proxies: Default::default(),
        store: Default::default(),
        authentication_per_second: 0,
        password_checks_per_second: Some(0),
        client_credentials_per_second: 0,
        password_hashing: castellan_core::passwords::HashingLimits::default(),
        smtp: None,
    };
    let state = app::prepare(settings, Arc::new(SystemClock)).await.unwrap();
    if !marker.exists() {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect(&database_url)
            .await
            .unwrap();
        let started = Instant::now();
        seed(&pool).await;
        eprintln!("seeded in {:.0}s", started.elapsed().as_secs_f64());
        pool.close().await;
        std::fs::write(&marker, b"").unwrap();
    }
    let store = state.store.as_ref();
    let services = Services {
        store,
        tokens: &state.tokens,
        passwords: &state.passwords,
        clock: state.clock.as_ref(),
        scripts: &state.scripts,
        master_key: &state.master_key,
    };
    let request = RequestContext {
        ip: "127.0.0.1".into(),
        user_agent: None,
    };
    let measured = api(0);

    // A server that has run for a while has computed what most groups grant; users are
    // still new to it. Warm up with other users than the measured ones.
    for i in 0..SAMPLES {
        let user = user_id(spread(i * 7 + 5, USERS));
        store.effective_permissions(&user, &measured).await.unwrap();
    }

    // Baseline: a primary-key lookup of a user, the cheapest query a log-in makes.
    let mut lookups = Vec::with_capacity(SAMPLES);
    let mut effective = Vec::with_capacity(SAMPLES);
    for i in 0..SAMPLES {
        let user = user_id(spread(i * 7 + 3, USERS));
        let started = Instant::now();
        store.find_user(&user).await.unwrap().unwrap();
        lookups.push(started.elapsed());
        let started = Instant::now();
        store.effective_permissions(&user, &measured).await.unwrap();
        effective.push(started.elapsed());
    }
    lookups.sort();
    effective.sort();
    println!(
        "user lookup:            p50 {:?}  p99 {:?}",
        percentile(&lookups, 0.5),
        percentile(&lookups, 0.99)
    );
    println!(
        "effective permissions:  p50 {:?}  p99 {:?}  (p99 = {:.2}× the lookup's p99)",
        percentile(&effective, 0.5),
        percentile(&effective, 0.99),
        percentile(&effective, 0.99).as_secs_f64() / percentile(&lookups, 0.99).as_secs_f64()
    );

    let client = store.find_client(ADMIN).await.unwrap().unwrap();
    let scratch = [castellan_core::model::Permission {
        resource_server_identifier: api(APIS - 1),
        permission_name: "perm:0".into(),
    }];
    let mut p50s = vec![];
    for (label, index) in [
        ("1 role", ONE_ROLE),
        ("100 roles", HUNDRED_ROLES),
        ("10,000 roles", ALL_ROLES),
    ] {
        let user = store.find_user(&user_id(index)).await.unwrap().unwrap();
        let roles = store.effective_roles(&user.user_id).await.unwrap().len();
        let permissions = store
            .effective_permissions(&user.user_id, &measured)
            .await
            .unwrap()
            .len();
        let mut warm = Vec::with_capacity(TOKEN_SAMPLES);
        let mut cold = Vec::with_capacity(TOKEN_SAMPLES);
        for _ in 0..TOKEN_SAMPLES {
            for (cache, times) in [(true, &mut warm), (false, &mut cold)] {
                if !cache {
                    // Any change to what some user holds starts a new generation.
                    store
                        .add_user_permissions(&user_id(0), &scratch)
                        .await
                        .unwrap();
                    store
                        .remove_user_permissions(&user_id(0), &scratch)
                        .await
                        .unwrap();
                }
                let started = Instant::now();
                user_tokens::issue(
                    &services,
                    UserTokenRequest {
                        client: &client,
                        user: &user,
                        audience: Some(&measured),
                        scope: None,
                        nonce: None,
                        grant_type: None,
                        auth_time: None,
                        refresh_family: None,
                        protocol: Protocol::RefreshToken,
                        request: &request,
                        front_channel: None,
                        scripted: None,
                    },
                )
                .await
                .unwrap();
                times.push(started.elapsed());
            }
        }
        warm.sort();
        cold.sort();
        let (warm, cold) = (percentile(&warm, 0.5), percentile(&cold, 0.5));
        p50s.push((warm, cold));
        println!(
            "token issuance, {label:<13} ({roles} effective roles, {permissions} permissions in the token): \
             warm p50 {warm:?} ({:.2}× 1 role), cold p50 {cold:?} ({:.2}× 1 role)",
            warm.as_secs_f64() / p50s[0].0.as_secs_f64(),
            cold.as_secs_f64() / p50s[0].1.as_secs_f64()
        );
    }
}
