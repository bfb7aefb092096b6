//! The Authorization Extension's use cases, behind `/authz/api`: groups, roles, permissions,
//! users' groups and roles, the log-in policy, and configuration with import and export.
//! Errors are the extension's own (`ExtensionError`): a missing record names its id and
//! collection, and every refused change is a `ValidationError`. Every change is written in
//! one transaction with its audit entry, which names its actor.

pub mod configuration;
pub mod groups;
pub mod permissions;
pub mod policy;
pub mod roles;
pub mod users;

use crate::error::Error;
use crate::store::StoreError;

pub type Result<T, E = ExtensionError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum ExtensionError {
    /// The extension's wording: "The record <id> in <collection> does not exist."
    #[error("The record {id} in {collection} does not exist.")]
    NotFound {
        collection: &'static str,
        id: String,
    },
    /// The extension's `ValidationError`: bad input, a taken name, a record still in use, a
    /// nesting cycle.
    #[error("{0}")]
    Validation(String),
    /// Unavailable storage or an internal failure.
    #[error(transparent)]
    Core(Error),
}

impl From<Error> for ExtensionError {
    fn from(e: Error) -> Self {
        match e {
            Error::Conflict(message) | Error::Invalid(message) => Self::Validation(message),
            other => Self::Core(other),
        }
    }
}

impl From<StoreError> for ExtensionError {
    fn from(e: StoreError) -> Self {
        Error::from(e).into()
    }
}

pub(crate) fn not_found(collection: &'static str, id: &str) -> ExtensionError {
    ExtensionError::NotFound {
        collection,
        id: id.to_string(),
    }
}

pub use super::editor::Editor;

/// The extension's field checks (Joi in the original): required, at most `max` characters.
pub(crate) fn text(field: &str, value: &str, max: usize) -> Result<()> {
    if value.trim().is_empty() {
        return Err(ExtensionError::Validation(format!(
            "\"{field}\" is not allowed to be empty"
        )));
    }
    if value.chars().count() > max {
        return Err(ExtensionError::Validation(format!(
            "\"{field}\" length must be less than or equal to {max} characters long"
        )));
    }
    Ok(())
}

/// A list body must hold at least one entry.
pub(crate) fn non_empty<T>(field: &str, values: &[T]) -> Result<()> {
    if values.is_empty() {
        return Err(ExtensionError::Validation(format!(
            "\"{field}\" must contain at least 1 items"
        )));
    }
    Ok(())
}

/// Whether a reference is an id (a GUID, or Castellan's `rol_…`/`grp_…`) rather than a name.
pub(crate) fn is_id(reference: &str) -> bool {
    uuid::Uuid::parse_str(reference).is_ok()
        || reference.starts_with("rol_")
        || reference.starts_with("grp_")
}

/// "Unable to touch <field> while used in <collection>: <names>", the extension's message
/// when a record is still referenced.
pub(crate) fn in_use(field: &str, collection: &str, names: &[String]) -> ExtensionError {
    ExtensionError::Validation(format!(
        "Unable to touch {field} while used in {collection}: {}",
        names.join(", ")
    ))
}
