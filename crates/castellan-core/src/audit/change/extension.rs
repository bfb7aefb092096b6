//! Audit entries of changes to the Authorization Extension: its groups, roles, permissions, memberships and configuration.

use super::{Change, Entry};

#[derive(Debug, Clone, PartialEq)]
pub enum ExtensionChange {}

impl ExtensionChange {
    pub(super) fn entry(self) -> Entry {
        match self {}
    }
}

impl From<ExtensionChange> for Change {
    fn from(change: ExtensionChange) -> Self {
        Change::Extension(change)
    }
}
