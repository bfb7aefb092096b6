//! The master key that seals private signing keys: `CASTELLAN_SECRET_KEY` (or `_FILE`), or
//! `secret.key` in the data folder, made with mode 0600 the first time.

use std::io::Write;
use std::path::PathBuf;

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
        let text = read_trimmed(&path).map_err(|e| MasterKeyError::Invalid(e.to_string()))?;
        return MasterKey::parse(&text)
            .map_err(|e| MasterKeyError::Invalid(format!("{}: {e}", path.display())));
    }
    let key = MasterKey::generate();
    write_new(&path, &key).map_err(|cause| MasterKeyError::Create {
        path: path.display().to_string(),
        cause,
    })?;
    tracing::info!(path = %path.display(), "generated a new secret key; back it up with the database");
    Ok(key)
}

fn write_new(path: &PathBuf, key: &MasterKey) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        castellan_store::create_private_folder(parent)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    writeln!(file, "{}", key.to_hex())
}
