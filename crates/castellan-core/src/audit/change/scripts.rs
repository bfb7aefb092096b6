//! Audit entries of changes to rules and actions: their code, order, deployment and bindings.
//! Code and secret values never go into an entry: only whether the code changed, and the
//! secrets' names.

use serde_json::{Value, json};

use super::{Change, Entry};
use crate::model::{Named, Trigger};

#[derive(Debug, Clone, PartialEq)]
pub enum ScriptChange {
    CreateRule {
        rule_id: String,
        name: String,
        order: i64,
        enabled: bool,
    },
    /// The rule as the update left it; `script_changed` when its script is not the one it
    /// had, whether or not a script was sent.
    UpdateRule {
        rule_id: String,
        name: String,
        order: i64,
        enabled: bool,
        script_changed: bool,
    },
    DeleteRule {
        rule_id: String,
        name: String,
    },
    /// An action's draft: its secrets by name only.
    CreateAction {
        action_id: String,
        name: String,
        trigger: Trigger,
        runtime: String,
        secret_names: Vec<String>,
    },
    /// The draft as the update left it; `code_changed` when its code is not the one it had.
    UpdateAction {
        action_id: String,
        name: String,
        trigger: Trigger,
        runtime: String,
        secret_names: Vec<String>,
        code_changed: bool,
    },
    DeleteAction {
        action_id: String,
        name: String,
        force: bool,
    },
    DeployAction {
        action_id: String,
        name: String,
        version_id: String,
        number: i64,
    },
    /// A trigger's whole list, by action id in execution order.
    ReplaceBindings {
        trigger: Trigger,
        action_ids: Vec<String>,
    },
}

fn action_changes(name: &str, trigger: Trigger, runtime: &str, secret_names: &[String]) -> Value {
    json!({
        "name": name,
        "trigger": trigger.name(),
        "runtime": runtime,
        "secrets": secret_names,
    })
}

impl ScriptChange {
    pub(super) fn entry(self) -> Entry {
        match self {
            ScriptChange::CreateRule {
                rule_id,
                name,
                order,
                enabled,
            } => Entry::new(
                "create_rule",
                format!("Create the rule {name}"),
                json!({"rule_id": rule_id}),
                json!({"name": name, "order": order, "enabled": enabled}),
            ),
            ScriptChange::UpdateRule {
                rule_id,
                name,
                order,
                enabled,
                script_changed,
            } => Entry::new(
                "update_rule",
                format!("Update the rule {name}"),
                json!({"rule_id": rule_id}),
                json!({"name": name, "order": order, "enabled": enabled, "script_changed": script_changed}),
            ),
            ScriptChange::DeleteRule { rule_id, name } => Entry::new(
                "delete_rule",
                format!("Delete the rule {name}"),
                json!({"rule_id": rule_id}),
                json!({}),
            ),
            ScriptChange::CreateAction {
                action_id,
                name,
                trigger,
                runtime,
                secret_names,
            } => Entry::new(
                "create_action",
                format!("Create the action {name}"),
                json!({"action_id": action_id}),
                action_changes(&name, trigger, &runtime, &secret_names),
            ),
            ScriptChange::UpdateAction {
                action_id,
                name,
                trigger,
                runtime,
                secret_names,
                code_changed,
            } => {
                let mut changes = action_changes(&name, trigger, &runtime, &secret_names);
                changes["code_changed"] = json!(code_changed);
                Entry::new(
                    "update_action",
                    format!("Update the action {name}"),
                    json!({"action_id": action_id}),
                    changes,
                )
            }
            ScriptChange::DeleteAction {
                action_id,
                name,
                force,
            } => Entry::new(
                "delete_action",
                format!("Delete the action {name}"),
                json!({"action_id": action_id}),
                json!({"force": force}),
            ),
            ScriptChange::DeployAction {
                action_id,
                name,
                version_id,
                number,
            } => Entry::new(
                "deploy_action",
                format!("Deploy version {number} of the action {name}"),
                json!({"action_id": action_id}),
                json!({"version_id": version_id, "number": number}),
            ),
            ScriptChange::ReplaceBindings {
                trigger,
                action_ids,
            } => Entry::new(
                "update_trigger_bindings",
                format!("Replace the actions bound to {}", trigger.name()),
                json!({"trigger_id": trigger.name()}),
                json!({"actions": action_ids}),
            ),
        }
    }
}

impl From<ScriptChange> for Change {
    fn from(change: ScriptChange) -> Self {
        Change::Script(change)
    }
}
