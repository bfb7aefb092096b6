//! Administration from the command line, on the store and without a running server:
//! users, roles, groups and console administrators. Changes go through the use cases the
//! Management API uses, with the same checks, and are audited with the actor `cli`.
//! Results are tables for people, or JSON with `--json` for scripts; a failure is one line
//! on stderr and a non-zero exit.

pub(crate) mod console_admin;
mod error;
mod groups;
mod output;
mod password;
pub(crate) mod roles;
mod tenant;
mod users;

pub use console_admin::AdminAction;
pub use error::CliError;
pub use groups::GroupsAction;
pub use roles::RolesAction;
pub(crate) use tenant::Tenant;
pub use users::UsersAction;

use crate::config::Settings;

/// Subcommands of one kind plus `--json`, which may come anywhere after the command.
#[derive(Debug, clap::Args)]
pub struct Admin<A: clap::Subcommand> {
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    action: A,
}

pub async fn users(settings: Settings, command: Admin<UsersAction>) -> Result<(), String> {
    let tenant = open(&settings).await?;
    let result = users::run(&tenant, command.action, command.json).await;
    finish(&tenant, result).await
}

pub async fn roles(settings: Settings, command: Admin<RolesAction>) -> Result<(), String> {
    let tenant = open(&settings).await?;
    let result = roles::run(&tenant, command.action, command.json).await;
    finish(&tenant, result).await
}

pub async fn groups(settings: Settings, command: Admin<GroupsAction>) -> Result<(), String> {
    let tenant = open(&settings).await?;
    let result = groups::run(&tenant, command.action, command.json).await;
    finish(&tenant, result).await
}

pub async fn admin(settings: Settings, command: Admin<AdminAction>) -> Result<(), String> {
    let tenant = open(&settings).await?;
    let result = console_admin::run(&tenant, command.action, command.json).await;
    finish(&tenant, result).await
}

async fn open(settings: &Settings) -> Result<Tenant, String> {
    Tenant::open(settings).await.map_err(|e| e.to_string())
}

/// The audit events are queued; they must be written before the process ends, also after
/// a failure that came after some change.
async fn finish(tenant: &Tenant, result: Result<(), CliError>) -> Result<(), String> {
    tenant.store.flush_log_queue().await;
    result.map_err(|e| e.to_string())
}
