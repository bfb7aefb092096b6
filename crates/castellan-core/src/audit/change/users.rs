//! Audit entries of changes to users: create, update, delete, block and unblock, passwords, imports.

use super::{Change, Entry};

#[derive(Debug, Clone, PartialEq)]
pub enum UserChange {}

impl UserChange {
    pub(super) fn entry(self) -> Entry {
        match self {}
    }
}

impl From<UserChange> for Change {
    fn from(change: UserChange) -> Self {
        Change::User(change)
    }
}
