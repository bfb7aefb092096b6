// Included by `sqlite.rs` and `postgres.rs` after `common.rs`.

use castellan_core::store::RuleStore;

#[async_trait::async_trait]
impl RuleStore for SqlStore {}
