//! Audit entries of changes to rules and actions: their code, order, deployment and bindings.

use super::{Change, Entry};

#[derive(Debug, Clone, PartialEq)]
pub enum ScriptChange {}

impl ScriptChange {
    pub(super) fn entry(self) -> Entry {
        match self {}
    }
}

impl From<ScriptChange> for Change {
    fn from(change: ScriptChange) -> Self {
        Change::Script(change)
    }
}
