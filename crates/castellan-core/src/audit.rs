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

/// One change: `action` is a stable machine name (`assign_user_roles`), `description` the
/// human sentence, `target` what it touched (`{"user_id": …}`, `{"role_id": …}`), `changes`
/// the values added or removed.
#[derive(Debug, Clone)]
pub struct Change {
    pub action: &'static str,
    pub description: String,
    pub target: Value,
    pub changes: Value,
}

pub fn event(actor: &Actor, change: Change) -> LogEvent {
    let mut e = LogEvent {
        log_id: uuid::Uuid::now_v7().simple().to_string(),
        event_type: "sapi".into(),
        description: change.description,
        details: json!({
            "actor": actor.describe(),
            "action": change.action,
            "target": change.target,
            "changes": change.changes,
        }),
        ..Default::default()
    };
    if let Actor::Client(id) = actor {
        e.client_id = Some(id.clone());
    }
    // A change about one user is found under that user's logs as well.
    e.user_id = change.target["user_id"].as_str().map(String::from);
    e
}

/// Records the change; like every log write it never fails the request.
pub async fn record(store: &dyn Store, clock: &dyn Clock, actor: &Actor, change: Change) {
    events::record(store, clock, event(actor, change)).await;
}
