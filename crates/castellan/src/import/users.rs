//! `castellan import users FILE [--connection NAME] [--dry-run]`.

use std::path::PathBuf;
use std::time::Instant;

use castellan_core::clock::{Clock, SystemClock};
use castellan_core::directory::Editor;
use castellan_core::directory::user_import::{ImportError, LineError, Problem, UserImport};
use castellan_core::model::DATABASE_CONNECTION;

use super::progress::Progress;
use super::{flush_log, read_file, records};
use crate::config::Settings;

/// Refused records listed before the rest are only counted.
const SHOWN_ERRORS: usize = 100;

#[derive(Debug, clap::Args)]
pub struct UsersArgs {
    /// The export: JSON lines (one user per line, as Auth0's export job and password-hash
    /// export write them) or a JSON array (Auth0's bulk-import schema). `-` reads standard
    /// input, e.g. `gunzip -c export.json.gz | castellan import users -`.
    file: PathBuf,
    /// The database connection the users go to.
    #[arg(long, default_value = DATABASE_CONNECTION)]
    connection: String,
    /// Check the file against the database and write nothing.
    #[arg(long)]
    dry_run: bool,
}

fn refused(file: &str, errors: &[LineError]) -> String {
    for e in errors.iter().take(SHOWN_ERRORS) {
        eprintln!("{file}:{e}");
    }
    if errors.len() > SHOWN_ERRORS {
        eprintln!("… and {} more", errors.len() - SHOWN_ERRORS);
    }
    format!(
        "{} record(s) of {file} refused; nothing was imported",
        errors.len()
    )
}

pub async fn run(settings: Settings, args: UsersArgs) -> Result<(), String> {
    let started = Instant::now();
    let file = args.file.display().to_string();
    let text = read_file(&args.file)?;
    let store = castellan_store::open_with(&settings.database_url, &settings.store)
        .await
        .map_err(|e| e.to_string())?;
    let clock = SystemClock;
    let mut import = UserImport::begin(store.as_ref(), &args.connection, clock.now())
        .await
        .map_err(|e| e.to_string())?;

    let checking = Progress::new(text.len() as u64, "checking", None);
    records::for_each(&text, |record| {
        match record.value {
            Ok(value) => import.add(record.line, &value),
            Err(why) => import.refuse(record.line, Problem::Json(why)),
        }
        checking.set(record.end as u64);
    });
    checking.finish();
    drop(text);
    if import.records() == 0 {
        return Err(format!("{file} holds no users; nothing was imported"));
    }
    let checked = match import.check(store.as_ref()).await {
        Ok(checked) => checked,
        Err(ImportError::Refused(errors)) => return Err(refused(&file, &errors)),
        Err(e) => return Err(e.to_string()),
    };
    let planned = checked.summary();
    if args.dry_run {
        println!(
            "{} users ({} with password hashes) can be imported into {}; nothing was written (--dry-run)",
            planned.users, planned.with_password, planned.connection
        );
        return Ok(());
    }

    let writing = Progress::new(planned.users as u64, "importing", Some("users"));
    let summary = checked
        .write(&Editor::cli(store.as_ref(), &clock), &|n| {
            writing.set(n as u64)
        })
        .await
        .map_err(|e| e.to_string())?;
    writing.finish();
    flush_log(store.as_ref()).await;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "imported {} users ({} with password hashes) into {} in {seconds:.1} s ({:.0} users/s)",
        summary.users,
        summary.with_password,
        summary.connection,
        summary.users as f64 / seconds.max(0.001)
    );
    Ok(())
}
