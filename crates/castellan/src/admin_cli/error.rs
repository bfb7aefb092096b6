//! Everything an administration command can fail with, worded for one line on stderr.

use castellan_core::directory::extension::ExtensionError;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Open(#[from] castellan_store::OpenError),
    #[error(transparent)]
    MasterKey(#[from] crate::master_key::MasterKeyError),
    /// Refused by a use case (validation, conflict, password policy) or the store.
    #[error("{}", core_message(.0))]
    Core(#[from] castellan_core::Error),
    #[error("{0}")]
    Extension(#[from] ExtensionError),
    /// A reference that names nothing (`no user "x"`), or arguments that cannot go together.
    #[error("{0}")]
    Input(String),
    /// Reading a password from the terminal or standard input.
    #[error("cannot read the password: {0}")]
    Io(#[from] std::io::Error),
}

/// The use cases' messages are written for API callers; only the internal one needs a word
/// of context here.
fn core_message(e: &castellan_core::Error) -> String {
    match e {
        castellan_core::Error::Internal(cause) => format!("internal error: {cause}"),
        other => other.to_string(),
    }
}

impl From<castellan_core::store::StoreError> for CliError {
    fn from(e: castellan_core::store::StoreError) -> Self {
        Self::Core(e.into())
    }
}
