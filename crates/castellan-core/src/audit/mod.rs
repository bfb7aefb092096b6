//! The audit trail of authorization changes: who changed roles, groups, memberships,
//! permissions or default assignments, what changed, and when. Entries are tenant-log events
//! of type `sapi` (readable through `/api/v2/logs`), with the actor and the change in
//! `details`.

use serde_json::{Value, json};

use crate::clock::Clock;
use crate::events;
use crate::model::LogEvent;
use crate::store::Store;

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A machine-to-machine client, by client id.
    Client(String),
    /// A person, by user id (an administrator in the console, or a user token).
    User(String),
    /// A rule or action, by name.
    Rule(String),
    /// A connection's default assignments.
    Default,
    /// The command line (`castellan users …`, `apply`, `import`, `serve --demo`), run by
    /// whoever can open the store; there is no token to name anyone more precisely.
    Cli,
}

impl Actor {
    fn describe(&self) -> Value {
        match self {
            Actor::Client(id) => json!({"type": "client", "id": id}),
            Actor::User(id) => json!({"type": "user", "id": id}),
            Actor::Rule(name) => json!({"type": "rule", "name": name}),
            Actor::Default => json!({"type": "default"}),
            Actor::Cli => json!({"type": "cli"}),
        }
    }
}

mod change;

pub use change::{
    ApplicationChange, Change, Entry, ExtensionChange, GroupRef, MfaChange, RoleRef, ScriptChange,
    UserChange,
};

/// The audit event of `change`, made by `actor` for the request `request_id` (when a
/// request asked for it). Its date is set when it is written.
pub fn event(actor: &Actor, request_id: Option<&str>, change: impl Into<Change>) -> LogEvent {
    let entry = change.into().entry();
    let mut details = json!({
        "actor": actor.describe(),
        "action": entry.action,
        "target": entry.target,
        "changes": entry.changes,
    });
    if let Some(id) = request_id {
        details["request_id"] = json!(id);
    }
    let mut e = LogEvent {
        log_id: uuid::Uuid::now_v7().simple().to_string(),
        event_type: "sapi".into(),
        description: entry.description,
        details,
        ..Default::default()
    };
    if let Actor::Client(id) = actor {
        e.client_id = Some(id.clone());
    }
    // A change about one user is found under that user's logs as well.
    e.user_id = e.details["target"]["user_id"].as_str().map(String::from);
    e
}

/// Records the change; like every log write it never fails the request.
pub async fn record(
    store: &dyn Store,
    clock: &dyn Clock,
    actor: &Actor,
    change: impl Into<Change>,
) {
    events::record(store, clock, event(actor, None, change)).await;
}
