//! Import rate of `castellan import users` for an Auth0 export of 100 k users with bcrypt
//! hashes (the file the import test uses), through the real binary into a fresh database:
//! SQLite, and PostgreSQL when `CASTELLAN_TEST_POSTGRES_URL` names a server. Each round
//! first times `--dry-run` (read, check every record, look the keys up in the database),
//! then the import itself; the median of three rounds is reported.
//!
//! Run: `cargo bench -p castellan --bench import_users`

use std::path::Path;
use std::time::{Duration, Instant};

#[path = "../tests/it/import_support/mod.rs"]
mod import_support;

const BIN: &str = env!("CARGO_BIN_EXE_castellan");
const USERS: usize = 100_000;
const ROUNDS: usize = 3;

/// A fresh database with the tenant a first start makes (the database connection).
async fn fresh_database(dir: &Path, backend: &str, round: usize) -> String {
    let url = match backend {
        "postgres" => {
            let admin = std::env::var("CASTELLAN_TEST_POSTGRES_URL").unwrap();
            castellan_store::create_scratch_postgres_database(&admin)
                .await
                .unwrap()
        }
        _ => format!("sqlite://{}/round{round}/castellan.db", dir.display()),
    };
    let store = castellan_store::open(&url).await.unwrap();
    castellan_core::directory::bootstrap::ensure_tenant(store.as_ref(), "http://bench.test/")
        .await
        .unwrap();
    url
}

fn timed(dir: &Path, url: &str, args: &[&str]) -> Duration {
    let started = Instant::now();
    let output = std::process::Command::new(BIN)
        .current_dir(dir)
        .args(["--database", url, "import", "users"])
        .args(args)
        .env_remove("CASTELLAN_DATABASE_URL")
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    elapsed
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn rate(d: Duration) -> f64 {
    USERS as f64 / d.as_secs_f64()
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.json");
    let started = Instant::now();
    import_support::write_users(&file, USERS, &import_support::hashes());
    let size = std::fs::metadata(&file).unwrap().len();
    println!(
        "export: {USERS} users as JSON lines, {:.1} MB, made in {:.1?}",
        size as f64 / 1e6,
        started.elapsed()
    );
    let file = file.display().to_string();
    let mut backends = vec!["sqlite"];
    if std::env::var("CASTELLAN_TEST_POSTGRES_URL").is_ok() {
        backends.push("postgres");
    }
    for backend in backends {
        let (mut checks, mut imports) = (Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            let url = fresh_database(dir.path(), backend, round).await;
            let check = timed(dir.path(), &url, &[&file, "--dry-run"]);
            let import = timed(dir.path(), &url, &[&file]);
            println!(
                "{backend} round {}: check {:.2} s, import {:.2} s ({:.0} users/s)",
                round + 1,
                check.as_secs_f64(),
                import.as_secs_f64(),
                rate(import)
            );
            checks.push(check);
            imports.push(import);
        }
        let (check, import) = (median(checks), median(imports));
        println!(
            "{backend} median of {ROUNDS}: {:.0} users/s imported ({:.2} s for {USERS}, of which {:.2} s reading and checking, {:.0} users/s)",
            rate(import),
            import.as_secs_f64(),
            check.as_secs_f64(),
            rate(check)
        );
    }
}
