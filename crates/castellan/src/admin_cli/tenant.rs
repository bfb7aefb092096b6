//! What every administration command works on: the store opened from the normal settings,
//! the clock, password hashing, and the audit trail under the actor `cli`. Also how the
//! command line names things: users by id or email, roles and groups by id or name.

use std::sync::Arc;

use castellan_core::clock::{Clock, SystemClock};
use castellan_core::directory::{bootstrap, users};
use castellan_core::model::{Group, Role, User};
use castellan_core::paging::PageRequest;
use castellan_core::passwords::PasswordService;
use castellan_core::store::Store;
use castellan_core::system_apis;

use super::error::CliError;
use crate::app::AppState;
use crate::config::Settings;

pub struct Tenant {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub passwords: Arc<PasswordService>,
    pub issuer: String,
}

impl Tenant {
    /// Opens (and migrates) the store. A store no server has prepared yet gets what a start
    /// makes (the system APIs, the database connection), so commands work on a fresh
    /// database; a prepared one is left alone, so a command run with another issuer than
    /// the server's cannot leave a second Management API behind.
    pub async fn open(settings: &Settings) -> Result<Self, CliError> {
        let store = castellan_store::open_with(&settings.database_url, &settings.store).await?;
        if store
            .find_resource_server_by_identifier(system_apis::AUTHZ_API_IDENTIFIER)
            .await?
            .is_none()
        {
            bootstrap::ensure_tenant(store.as_ref(), &settings.issuer).await?;
        }
        Ok(Self {
            store,
            clock: Arc::new(SystemClock),
            // One command hashes at most one password at a time.
            passwords: Arc::new(
                PasswordService::new(1).keeping_sessions(settings.keep_sessions_on_password_change),
            ),
            issuer: settings.issuer.clone(),
        })
    }

    /// The same tenant as a prepared server's (for `serve --demo`).
    pub fn of_server(state: &AppState) -> Self {
        Self {
            store: state.store.clone(),
            clock: state.clock.clone(),
            passwords: state.passwords.clone(),
            issuer: state.settings.issuer.clone(),
        }
    }

    /// The identifier of the Management API for this issuer, which must be the server's.
    pub async fn management_api(&self) -> Result<String, CliError> {
        let identifier = system_apis::management_api_identifier(&self.issuer);
        if self
            .store
            .find_resource_server_by_identifier(&identifier)
            .await?
            .is_some()
        {
            return Ok(identifier);
        }
        let known: Vec<String> = self
            .store
            .list_resource_servers(PageRequest::ALL)
            .await?
            .items
            .into_iter()
            .filter(|api| api.is_system && api.identifier != system_apis::AUTHZ_API_IDENTIFIER)
            .map(|api| api.identifier)
            .collect();
        Err(CliError::Input(format!(
            "this database has no Management API {identifier} (it has {}): give the server's --issuer or configuration",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        )))
    }

    /// Changes made from the command line, which has no token to name anyone by.
    pub fn editor(&self) -> castellan_core::directory::Editor<'_> {
        castellan_core::directory::Editor::cli(self.store.as_ref(), self.clock.as_ref())
    }

    /// A user by id (`auth0|…`) or by email; an address held in several connections needs
    /// `connection` to say which.
    pub async fn user(&self, reference: &str, connection: Option<&str>) -> Result<User, CliError> {
        if let Some(user) = self.store.find_user(reference).await? {
            return Ok(user);
        }
        let unknown = || CliError::Input(format!("no user \"{reference}\""));
        if !reference.contains('@') {
            return Err(unknown());
        }
        let mut found = users::by_email(self.store.as_ref(), reference).await?;
        if let Some(connection) = connection {
            found.retain(|u| u.connection == connection);
        }
        match found.len() {
            0 => Err(unknown()),
            1 => Ok(found.remove(0)),
            _ => Err(CliError::Input(format!(
                "\"{reference}\" is in several connections ({}); give --connection or the user id",
                found
                    .iter()
                    .map(|u| u.connection.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// A role by `rol_…` id, GUID or name, if there is one.
    pub async fn find_role(&self, reference: &str) -> Result<Option<Role>, CliError> {
        let id = self
            .store
            .resolve_role_refs(&[reference.to_string()])
            .await?
            .pop()
            .flatten();
        Ok(match id {
            Some(id) => self.store.find_role(&id).await?,
            None => None,
        })
    }

    pub async fn role(&self, reference: &str) -> Result<Role, CliError> {
        self.find_role(reference)
            .await?
            .ok_or_else(|| CliError::Input(format!("no role \"{reference}\"")))
    }

    /// A group by `grp_…` id, GUID or name, if there is one.
    pub async fn find_group(&self, reference: &str) -> Result<Option<Group>, CliError> {
        let id = self
            .store
            .resolve_group_refs(&[reference.to_string()])
            .await?
            .pop()
            .flatten();
        Ok(match id {
            Some(id) => self.store.find_group(&id).await?,
            None => None,
        })
    }

    pub async fn group(&self, reference: &str) -> Result<Group, CliError> {
        self.find_group(reference)
            .await?
            .ok_or_else(|| CliError::Input(format!("no group \"{reference}\"")))
    }
}
