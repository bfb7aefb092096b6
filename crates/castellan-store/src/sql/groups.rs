// Included by `sqlite.rs` and `postgres.rs` after `common.rs`.

use castellan_core::store::GroupStore;

#[async_trait::async_trait]
impl GroupStore for SqlStore {}
