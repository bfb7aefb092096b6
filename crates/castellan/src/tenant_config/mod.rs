//! Configuration as code: `castellan export` writes the tenant's applications, APIs,
//! grants, connections, roles, rules, actions, groups, default assignments and the
//! Authorization Extension's records and settings (no users, no secrets) to a folder in
//! auth0-deploy-cli's `tenant.yaml` layout; `castellan apply` makes a tenant match such a
//! folder.
//!
//! `apply` reads the folder (every problem located by file and line), checks every name it
//! refers to, compares it with the tenant and prints the plan. Unless it is a dry run, the
//! plan runs first on a scratch copy of the tenant's configuration, through the same use
//! cases as the APIs; only when all of it succeeds there does it run on the tenant itself,
//! each change audited with the command line as the actor.

mod check;
mod current;
mod execute;
mod guardian;
mod plan;
mod read;
mod rehearse;
mod spec;
mod write;
mod yaml;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use castellan_core::clock::{Clock, SystemClock};
use castellan_core::scripts::Scripts;
use castellan_core::secrets::MasterKey;
use castellan_core::store::{Store, StoreError};
use castellan_core::system_apis;

use crate::config::Settings;
use crate::master_key;

pub use plan::Plan;
pub use yaml::Pos;

pub const TENANT_FILE: &str = "tenant.yaml";

/// The tenant a command works on, and what its use cases need.
pub struct Tenant<'a> {
    pub store: &'a dyn Store,
    pub clock: &'a dyn Clock,
    pub master: &'a MasterKey,
    pub scripts: &'a Scripts,
    pub issuer: &'a str,
    /// The configured bootstrap administrator: never exported, changed or deleted (nor the
    /// generated one, known by its name).
    pub bootstrap_client_id: Option<&'a str>,
}

/// Something wrong in a folder, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub pos: Option<Pos>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pos {
            Some(p) => write!(f, "{}:{}:{}: {}", self.file, p.line, p.column, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

fn lines(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The folder cannot be applied; nothing was changed.
    #[error("{}\nnothing was changed", lines(.0))]
    Refused(Vec<Problem>),
    #[error(transparent)]
    Core(#[from] castellan_core::Error),
    /// The tenant holds something the folder format cannot say, or cannot be read.
    #[error("{0}")]
    Tenant(String),
    #[error("{0}")]
    Usage(String),
    #[error("{path}: {cause}")]
    Io { path: String, cause: std::io::Error },
    /// The tenant changed between the rehearsal and the run, and a step failed there.
    #[error(
        "{step} failed: {cause}\n{applied} earlier change(s) were applied; run apply again once the cause is fixed"
    )]
    Failed {
        step: String,
        applied: usize,
        cause: String,
    },
}

impl From<StoreError> for ConfigError {
    fn from(e: StoreError) -> Self {
        ConfigError::Core(e.into())
    }
}

impl From<castellan_core::directory::extension::ExtensionError> for ConfigError {
    fn from(e: castellan_core::directory::extension::ExtensionError) -> Self {
        ConfigError::Tenant(e.to_string())
    }
}

/// What an export wrote, and what it could not say.
#[derive(Debug)]
pub struct Exported {
    pub files: Vec<PathBuf>,
    pub notes: Vec<String>,
}

pub async fn export(t: &Tenant<'_>, dir: &Path) -> Result<Exported, ConfigError> {
    let current = current::read(t).await?;
    let files = write::folder(dir, &current)?;
    Ok(Exported {
        files,
        notes: current.notes,
    })
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ApplyOptions {
    pub dry_run: bool,
    pub delete_missing: bool,
}

/// The plan, what was set aside while reading, and whether it ran.
#[derive(Debug)]
pub struct Applied {
    pub notes: Vec<String>,
    pub plan: Plan,
    pub applied: bool,
}

/// A folder read, checked and compared with the tenant: ready to print and to run.
pub struct Prepared {
    folder: read::Folder,
    current: current::Current,
    pub notes: Vec<String>,
    pub plan: Plan,
}

/// Reads the folder at `path` (a folder holding `tenant.yaml`, or the file itself), checks
/// it against the tenant and plans the changes; changes nothing. `env` answers
/// `##KEYWORD##`s.
pub async fn prepare(
    t: &Tenant<'_>,
    path: &Path,
    delete_missing: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Prepared, ConfigError> {
    let folder = read::folder(path, env)?;
    let current = current::read(t).await?;
    let mut audiences = vec![system_apis::management_api_identifier(t.issuer)];
    audiences.extend(system_apis::management_api_https_alias(t.issuer));
    let problems = check::check(&folder, &current, delete_missing, &audiences);
    if !problems.is_empty() {
        return Err(ConfigError::Refused(problems));
    }
    let plan = plan::Planner::new(&folder, &current, delete_missing, audiences).build();
    let mut notes = folder.notes.clone();
    for entry in folder.spec.resource_servers.iter().flatten() {
        if current.system_apis.contains_key(&entry.identifier) {
            notes.push(format!(
                "resourceServers: {} is a system API of Castellan, left as it is",
                entry.identifier
            ));
        }
    }
    Ok(Prepared {
        folder,
        current,
        notes,
        plan,
    })
}

/// Runs a prepared plan: on a scratch copy first, then on the tenant.
pub async fn run(t: &Tenant<'_>, prepared: &Prepared) -> Result<(), ConfigError> {
    if prepared.plan.is_empty() {
        return Ok(());
    }
    rehearse(t, &prepared.folder, &prepared.current, &prepared.plan).await?;
    let mut executor = execute::Executor::new(t, &prepared.current);
    for (applied, step) in prepared.plan.steps.iter().enumerate() {
        executor
            .run(step)
            .await
            .map_err(|cause| ConfigError::Failed {
                step: step_name(step),
                applied,
                cause,
            })?;
    }
    Ok(())
}

/// Makes the tenant match the folder at `path`: `prepare`, then `run` unless it is a dry
/// run.
pub async fn apply(
    t: &Tenant<'_>,
    path: &Path,
    options: ApplyOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Applied, ConfigError> {
    let prepared = prepare(t, path, options.delete_missing, env).await?;
    let applied = !options.dry_run && !prepared.plan.is_empty();
    if applied {
        run(t, &prepared).await?;
    }
    Ok(Applied {
        notes: prepared.notes,
        plan: prepared.plan,
        applied,
    })
}

fn step_name(step: &plan::Step) -> String {
    if step.text.is_empty() {
        "moving a rule out of the way".into()
    } else {
        step.text.clone()
    }
}

/// Runs the plan on a copy; the first refusal is reported at the place in the file the
/// step comes from.
async fn rehearse(
    t: &Tenant<'_>,
    folder: &read::Folder,
    current: &current::Current,
    plan: &Plan,
) -> Result<(), ConfigError> {
    let scratch = rehearse::copy(t.store, t.clock.now()).await?;
    let copy = Tenant {
        store: scratch.store.as_ref(),
        ..*t
    };
    let mut executor = execute::Executor::new(&copy, current);
    for step in &plan.steps {
        if let Err(cause) = executor.run(step).await {
            let message = format!("{}: {cause}", step_name(step));
            return Err(ConfigError::Refused(vec![
                folder.problem(&step.at, message),
            ]));
        }
    }
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The folder to write: created if missing; an earlier export is replaced.
    dir: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// A folder holding tenant.yaml, or the YAML file itself.
    path: PathBuf,
    /// Print the plan and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Delete what the folder does not name, for the kinds the folder has (deploy-cli's
    /// AUTH0_ALLOW_DELETE).
    #[arg(long)]
    delete_missing: bool,
}

struct Opened {
    store: Arc<dyn Store>,
    master: MasterKey,
    scripts: Scripts,
}

async fn open(settings: &Settings) -> Result<Opened, String> {
    let store = castellan_store::open_with(&settings.database_url, &settings.store)
        .await
        .map_err(|e| e.to_string())?;
    let master = master_key::load(settings).map_err(|e| e.to_string())?;
    let scripts = crate::script_engine::scripts(settings, master.clone());
    Ok(Opened {
        store,
        master,
        scripts,
    })
}

fn tenant<'a>(settings: &'a Settings, o: &'a Opened) -> Tenant<'a> {
    Tenant {
        store: o.store.as_ref(),
        clock: &SystemClock,
        master: &o.master,
        scripts: &o.scripts,
        issuer: &settings.issuer,
        bootstrap_client_id: settings.bootstrap.as_ref().map(|(id, _)| id.as_str()),
    }
}

pub async fn run_export(settings: Settings, args: ExportArgs) -> Result<(), String> {
    let opened = open(&settings).await?;
    let exported = export(&tenant(&settings, &opened), &args.dir)
        .await
        .map_err(|e| e.to_string())?;
    for note in &exported.notes {
        eprintln!("note: {note}");
    }
    println!(
        "wrote {} file(s) to {}",
        exported.files.len(),
        args.dir.display()
    );
    Ok(())
}

pub async fn run_apply(settings: Settings, args: ApplyArgs) -> Result<(), String> {
    let opened = open(&settings).await?;
    // A database that never served has no system APIs yet; grants may name them.
    castellan_core::directory::bootstrap::ensure_tenant(opened.store.as_ref(), &settings.issuer)
        .await
        .map_err(|e| e.to_string())?;
    let env = |name: &str| std::env::var(name).ok();
    let t = tenant(&settings, &opened);
    let prepared = prepare(&t, &args.path, args.delete_missing, &env)
        .await
        .map_err(|e| e.to_string())?;
    for note in &prepared.notes {
        eprintln!("note: {note}");
    }
    print!("{}", prepared.plan);
    if args.dry_run {
        println!("Dry run: nothing was changed.");
    } else if !prepared.plan.is_empty() {
        run(&t, &prepared).await.map_err(|e| e.to_string())?;
        println!("Applied.");
    }
    Ok(())
}
