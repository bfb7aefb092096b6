//! Storage traits, one per aggregate. `castellan-store` implements them for SQLite and
//! PostgreSQL; multi-row changes are one transaction inside a single method, and a change
//! that must be written together with others (a tenant change and its audit entry) goes
//! through a `Transaction`.

mod actions;
mod authenticators;
mod authorization;
mod client_grants;
mod clients;
mod connections;
mod extension;
mod grants;
mod groups;
mod housekeeping;
mod logs;
mod mail;
mod resource_servers;
mod roles;
mod rules;
mod signing_keys;
mod user_import;
mod user_permissions;
mod users;

pub use actions::{ActionFilter, ActionStore};
pub use authenticators::{AuthenticatorStore, FactorAttempt};
pub use authorization::{AuthorizationStore, DefaultGrant, ScriptChanges};
pub use client_grants::{ClientGrantFilter, ClientGrantStore};
pub use clients::ClientStore;
pub use connections::ConnectionStore;
pub use extension::ExtensionStore;
pub use grants::{
    AuthorizationCodeStore, CodeRedemption, DeviceCodeStore, RefreshTokenStore, SessionStore,
};
pub use groups::GroupStore;
pub use housekeeping::{HousekeepingStore, PurgeBefore, Purged};
pub use logs::{LogField, LogQuery, LogStore};
pub use mail::{OutboxStore, TicketStore};
pub use resource_servers::ResourceServerStore;
pub use roles::RoleStore;
pub use rules::RuleStore;
pub use signing_keys::{Promotion, SigningKeyStore};
pub use user_import::{ImportedUser, TakenUserKeys, UserImportStore};
pub use user_permissions::UserPermissionStore;
pub use users::{LoginFailureStore, NewPassword, UserField, UserQuery, UserStore};

use crate::model::LogEvent;

pub type StoreResult<T> = std::result::Result<T, StoreError>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique or foreign-key constraint refused the change; the text says which.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database cannot be reached right now.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The value cannot be stored by every backend (NUL in text); the text names it.
    #[error("invalid: {0}")]
    Invalid(String),
    #[error("database error: {0}")]
    Other(String),
}

/// Everything the server needs from storage.
#[async_trait::async_trait]
pub trait Store:
    ClientStore
    + ResourceServerStore
    + ClientGrantStore
    + ConnectionStore
    + SigningKeyStore
    + UserStore
    + LoginFailureStore
    + LogStore
    + SessionStore
    + AuthorizationCodeStore
    + DeviceCodeStore
    + RefreshTokenStore
    + TicketStore
    + OutboxStore
    + RoleStore
    + AuthorizationStore
    + GroupStore
    + ExtensionStore
    + RuleStore
    + ActionStore
    + UserPermissionStore
    + UserImportStore
    + HousekeepingStore
    + AuthenticatorStore
{
    /// For `/readyz`: a small write, committed, so that a store that answers reads but
    /// cannot write (a full disk) is not reported ready.
    async fn ping(&self) -> StoreResult<()>;
    /// Opens a transaction that will write. What is done through it is seen by no one else
    /// until `commit`, and undone when the handle is dropped without it.
    async fn transaction(&self) -> StoreResult<Box<dyn Transaction>>;
}

/// The store's aggregates inside one transaction: every method reads what the
/// transaction wrote, and writes nothing that outlives it until `commit`. A method that
/// is one transaction on the store (assigning several roles) is part of this one here.
#[async_trait::async_trait]
pub trait Transaction:
    ClientStore
    + ResourceServerStore
    + ClientGrantStore
    + ConnectionStore
    + SigningKeyStore
    + UserStore
    + LoginFailureStore
    + SessionStore
    + AuthorizationCodeStore
    + DeviceCodeStore
    + RefreshTokenStore
    + TicketStore
    + OutboxStore
    + RoleStore
    + AuthorizationStore
    + GroupStore
    + ExtensionStore
    + RuleStore
    + ActionStore
    + UserPermissionStore
    + UserImportStore
    + AuthenticatorStore
{
    /// Writes a tenant-log event in this transaction, not through the store's batch
    /// queue: it is committed with the change it describes, or not at all.
    async fn record(&self, event: &LogEvent) -> StoreResult<()>;
    async fn commit(self: Box<Self>) -> StoreResult<()>;
}
