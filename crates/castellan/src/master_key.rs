//! The master key that seals private signing keys: `CASTELLAN_SECRET_KEY` (or `_FILE`), or
//! `secret.key` in the data folder, made with mode 0600 the first time.

use std::io::Write;
use std::path::Path;

use castellan_core::secrets::MasterKey;

use crate::config::{Settings, read_trimmed};

#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error("secret key: {0}")]
    Invalid(String),
    #[error("cannot create the secret key file {path}: {cause}")]
    Create { path: String, cause: std::io::Error },
}

pub fn load(settings: &Settings) -> Result<MasterKey, MasterKeyError> {
    if let Some(secret) = &settings.secret_key {
        return MasterKey::parse(&secret.0).map_err(|e| MasterKeyError::Invalid(e.to_string()));
    }
    let path = settings
        .secret_key_file
        .clone()
        .unwrap_or_else(|| settings.data_dir.join("secret.key"));
    if path.exists() {
        return read_existing(&path);
    }
    let key = MasterKey::generate();
    match write_new(&path, &key) {
        Ok(()) => {}
        // Another process starting on the same data folder made it first: use that one.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return read_existing(&path),
        Err(cause) => {
            return Err(MasterKeyError::Create {
                path: path.display().to_string(),
                cause,
            });
        }
    }
    tracing::info!(path = %path.display(), "generated a new secret key; back it up with the database");
    Ok(key)
}

fn read_existing(path: &Path) -> Result<MasterKey, MasterKeyError> {
    let text = read_trimmed(path).map_err(|e| MasterKeyError::Invalid(e.to_string()))?;
    MasterKey::parse(&text).map_err(|e| MasterKeyError::Invalid(format!("{}: {e}", path.display())))
}

/// Writes the key to a file of its own, then links it into place: of processes starting
/// together on an empty data folder one wins (the others get `AlreadyExists`), and nobody
/// reads a key that is half written.
fn write_new(path: &Path, key: &MasterKey) -> std::io::Result<()> {
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(parent) = parent {
        castellan_store::create_private_folder(parent)?;
    }
    // Made readable by this user only (0600), as the key file must be.
    let draft = tempfile::NamedTempFile::new_in(parent.unwrap_or(Path::new(".")))?;
    writeln!(draft.as_file(), "{}", key.to_hex())?;
    draft.as_file().sync_all()?;
    std::fs::hard_link(draft.path(), path)
}
