// Included by `sqlite.rs` and `postgres.rs` after `common.rs`.

use castellan_core::store::ExtensionStore;

#[async_trait::async_trait]
impl ExtensionStore for SqlStore {}
