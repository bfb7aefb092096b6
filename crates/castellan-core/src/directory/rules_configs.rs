//! Rules configuration (`/api/v2/rules-configs`): secrets that rules read as
//! `configuration.KEY`. Values are sealed with the master key, bound to their key, and
//! never shown again through the API.

use super::Editor;
use crate::audit::Change;
use crate::error::{Error, Result};
use crate::secrets::MasterKey;
use crate::store::Store;

const MAX_KEY: usize = 127;

/// Auth0's key format: `^[A-Za-z0-9_\-@*+:]*$`, 1 to 127 characters.
pub fn check_key(key: &str) -> Result<()> {
    let ok = (1..=MAX_KEY).contains(&key.len())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-@*+:".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "key must be 1 to {MAX_KEY} of A-Z a-z 0-9 _ - @ * + :"
        )))
    }
}

/// The associated data a value is sealed with: a value cannot be moved to another key.
fn context(key: &str) -> String {
    format!("rules-config:{key}")
}

pub async fn set(ed: &Editor<'_>, master: &MasterKey, key: &str, value: &str) -> Result<()> {
    check_key(key)?;
    let sealed = master.seal(value.as_bytes(), &context(key));
    let tx = ed.begin().await?;
    tx.set_rules_config(key, &sealed, ed.clock.now()).await?;
    let change = Change::SetRulesConfig {
        key: key.to_string(),
    };
    Ok(ed.commit(tx, [change]).await?)
}

pub async fn keys(store: &dyn Store) -> Result<Vec<String>> {
    Ok(store.list_rules_config_keys().await?)
}

/// Removing a key that is not there succeeds: the end state is the same.
pub async fn delete(ed: &Editor<'_>, key: &str) -> Result<()> {
    check_key(key)?;
    let tx = ed.begin().await?;
    tx.delete_rules_config(key).await?;
    let change = Change::DeleteRulesConfig {
        key: key.to_string(),
    };
    Ok(ed.commit(tx, [change]).await?)
}

/// Every key with its value in clear, for the rules runtime.
pub async fn open_all(store: &dyn Store, master: &MasterKey) -> Result<Vec<(String, String)>> {
    store
        .sealed_rules_configs()
        .await?
        .into_iter()
        .map(|(key, sealed)| {
            let plain = master
                .open(&sealed, &context(&key))
                .map_err(|e| Error::Internal(format!("rules config {key}: {e}")))?;
            let value = String::from_utf8(plain)
                .map_err(|_| Error::Internal(format!("rules config {key}: not UTF-8")))?;
            Ok((key, value))
        })
        .collect()
}
