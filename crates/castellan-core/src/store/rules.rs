use crate::model::Rule;
use crate::paging::{Page, PageRequest};

use super::StoreResult;

/// Rules and their configuration values.
#[async_trait::async_trait]
pub trait RuleStore: Send + Sync {
    /// `Conflict` when the name or the order is taken.
    async fn create_rule(&self, rule: &Rule) -> StoreResult<()>;
    /// One more than the highest order in use (1 for the first rule).
    async fn next_rule_order(&self) -> StoreResult<i64>;
    async fn find_rule(&self, id: &str) -> StoreResult<Option<Rule>>;
    /// In execution order; `enabled` keeps only rules with that flag.
    async fn list_rules(&self, enabled: Option<bool>, page: PageRequest)
    -> StoreResult<Page<Rule>>;
    /// `NotFound` if gone, `Conflict` when the name or the order is taken.
    async fn update_rule(&self, rule: &Rule) -> StoreResult<()>;
    async fn delete_rule(&self, id: &str) -> StoreResult<bool>;
    /// Sets a configuration value, already sealed; creates or replaces.
    async fn set_rules_config(&self, key: &str, sealed_value: &str, now: i64) -> StoreResult<()>;
    /// Keys only, sorted.
    async fn list_rules_config_keys(&self) -> StoreResult<Vec<String>>;
    /// Every key with its sealed value, for the rules runtime.
    async fn sealed_rules_configs(&self) -> StoreResult<Vec<(String, String)>>;
    async fn delete_rules_config(&self, key: &str) -> StoreResult<bool>;
    /// Moves forward with every change to rules, their configuration, actions, their
    /// versions and bindings, the Authorization Extension's settings and connections.
    async fn script_generation(&self) -> StoreResult<i64>;
}
