use crate::model::{Action, ActionBinding, ActionVersion, DeployedAction, Trigger};
use crate::paging::{Page, PageRequest};

use super::StoreResult;

/// Which actions a listing keeps; `None` keeps all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionFilter {
    pub trigger: Option<Trigger>,
    /// The exact name.
    pub name: Option<String>,
    /// True: deployed at least once; false: never deployed.
    pub deployed: Option<bool>,
}

/// Actions, their deployed versions, and the ordered bindings of each trigger.
#[async_trait::async_trait]
pub trait ActionStore: Send + Sync {
    /// `Conflict` when the name is taken. `deployed` is ignored: a new action has none.
    async fn create_action(&self, action: &Action) -> StoreResult<()>;
    /// With its latest deployed version.
    async fn find_action(&self, id: &str) -> StoreResult<Option<Action>>;
    async fn find_action_by_name(&self, name: &str) -> StoreResult<Option<Action>>;
    /// Sorted by name.
    async fn list_actions(
        &self,
        filter: &ActionFilter,
        page: PageRequest,
    ) -> StoreResult<Page<Action>>;
    /// Writes the draft (name, trigger, code, runtime, secrets, `all_changes_deployed`,
    /// `updated_at`). `NotFound` if gone, `Conflict` when the name is taken.
    async fn update_action(&self, action: &Action) -> StoreResult<()>;
    /// Removes the action with its versions. Without `force`, `Conflict` while it is bound
    /// to a trigger; with it, its bindings go too, in the same transaction. False if there
    /// was no such action.
    async fn delete_action(&self, id: &str, force: bool) -> StoreResult<bool>;
    /// Stores `version` under the next number of its action (1 for the first) and answers
    /// it with that number. The action's `all_changes_deployed` becomes true if its draft
    /// still equals the snapshot (false otherwise: it changed meanwhile). `NotFound` if the
    /// action is gone.
    async fn deploy_action(&self, version: &ActionVersion) -> StoreResult<ActionVersion>;
    /// The triggers the action is bound to.
    async fn action_triggers_bound(&self, action_id: &str) -> StoreResult<Vec<Trigger>>;
    /// The trigger's bindings in execution order.
    async fn list_action_bindings(&self, trigger: Trigger) -> StoreResult<Vec<ActionBinding>>;
    /// Replaces the trigger's whole list, in the given order, in one transaction.
    /// `Conflict` (and nothing changed) when an action is gone, was never deployed, does not
    /// support the trigger, or appears twice.
    async fn replace_action_bindings(
        &self,
        trigger: Trigger,
        bindings: &[ActionBinding],
    ) -> StoreResult<()>;
    /// What the log-in pipeline runs for `trigger`: the deployed snapshot of each bound
    /// action, in binding order, secrets still sealed.
    async fn bound_actions(&self, trigger: Trigger) -> StoreResult<Vec<DeployedAction>>;
}
