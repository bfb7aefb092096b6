//! Audit entries of changes to applications (clients), APIs (resource servers), client grants, connections and their default assignments, signing keys.

use super::{Change, Entry};

#[derive(Debug, Clone, PartialEq)]
pub enum ApplicationChange {}

impl ApplicationChange {
    pub(super) fn entry(self) -> Entry {
        match self {}
    }
}

impl From<ApplicationChange> for Change {
    fn from(change: ApplicationChange) -> Self {
        Change::Application(change)
    }
}
