//! `castellan import authz FILE [--dry-run]`: the Authorization Extension's export document,
//! read as `POST /authz/api/configuration/import` reads it and imported by the same use case
//! (one transaction, replacing the extension's groups, roles, permissions and settings).

use std::path::PathBuf;

use castellan_core::clock::{Clock, SystemClock};
use castellan_core::directory::extension::{Editor, configuration};
use castellan_core::model::ExtensionData;
use castellan_core::store::Store;

use super::{flush_log, read_file};
use crate::config::Settings;
use crate::http::authz::document;

#[derive(Debug, clap::Args)]
pub struct AuthzArgs {
    /// The document the extension exports (its dashboard's Import/Export, or
    /// `GET {extension}/api/configuration/export`). `-` reads standard input.
    file: PathBuf,
    /// Check the document and write nothing.
    #[arg(long)]
    dry_run: bool,
}

/// Members and role users named in the document who are not users here: the import skips
/// them, and the operator should know how many.
async fn unknown_users(store: &dyn Store, data: &ExtensionData) -> Result<usize, String> {
    let mut named: Vec<String> = data
        .groups
        .iter()
        .flat_map(|g| g.members.iter())
        .chain(data.roles.iter().flat_map(|r| r.users.iter()))
        .cloned()
        .collect();
    named.sort();
    named.dedup();
    let known = store
        .taken_user_keys("", &named, &[], &[])
        .await
        .map_err(|e| e.to_string())?;
    Ok(named.len() - known.user_ids.len())
}

pub async fn run(settings: Settings, args: AuthzArgs) -> Result<(), String> {
    let file = args.file.display().to_string();
    let text = read_file(&args.file)?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{file}: {e}"))?;
    let store = castellan_store::open_with(&settings.database_url, &settings.store)
        .await
        .map_err(|e| e.to_string())?;
    let clock = SystemClock;
    let data = document::import(&doc, clock.now()).map_err(|e| format!("{file}: {}", e.message))?;
    let unknown = unknown_users(store.as_ref(), &data).await?;
    let counts = format!(
        "{} groups, {} roles, {} permissions{}",
        data.groups.len(),
        data.roles.len(),
        data.permissions.len(),
        if data.settings.is_some() {
            " and the settings"
        } else {
            ""
        }
    );
    if unknown > 0 {
        eprintln!(
            "castellan: {unknown} member(s) or role user(s) are not users of this tenant and are skipped (import the users first)"
        );
    }
    if args.dry_run {
        println!("{counts} can be imported; nothing was written (--dry-run)");
        return Ok(());
    }
    let editor = Editor::cli(store.as_ref(), &clock);
    configuration::import(&editor, &data)
        .await
        .map_err(|e| format!("{file}: {e}; nothing was imported"))?;
    flush_log(store.as_ref()).await;
    println!("imported the Authorization Extension data: {counts}");
    Ok(())
}
