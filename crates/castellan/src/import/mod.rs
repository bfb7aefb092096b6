//! `castellan import users FILE` and `castellan import authz FILE`: a tenant's users and its
//! Authorization Extension data moved over from Auth0, straight into the database (no server
//! needed; a running one sees the result at once). Both check everything before writing
//! anything, and write in one transaction.

mod authz;
mod progress;
mod records;
mod users;

use crate::config::Settings;

pub use authz::AuthzArgs;
pub use users::UsersArgs;

#[derive(Debug, clap::Subcommand)]
pub enum ImportAction {
    /// Users from Auth0's bulk user export (JSON lines or a JSON array), with their bcrypt
    /// password hashes when the file has them. Bad records are listed by line and nothing is
    /// written.
    Users(UsersArgs),
    /// The Authorization Extension's export document: its groups, roles, permissions and
    /// settings replace the extension data here. Import the users first: members and role
    /// users who are not users here are skipped.
    Authz(AuthzArgs),
}

pub async fn run(settings: Settings, action: ImportAction) -> Result<(), String> {
    match action {
        ImportAction::Users(args) => users::run(settings, args).await,
        ImportAction::Authz(args) => authz::run(settings, args).await,
    }
}

/// The whole file (`-` is standard input), without a byte-order mark.
fn read_file(path: &std::path::Path) -> Result<String, String> {
    let text = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).map_err(|e| format!("standard input: {e}"))?
    } else {
        std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?
    };
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

/// Events are written by a background task; reading the log waits for it, so the import's
/// audit event is in the database before the process exits.
async fn flush_log(store: &dyn castellan_core::store::Store) {
    if let Err(e) = store.list_logs(None, 1).await {
        eprintln!("castellan: warning: the tenant log may lack the import event: {e}");
    }
}
