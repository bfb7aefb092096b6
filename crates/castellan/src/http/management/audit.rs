//! The audit trail of Management API changes: each successful change is a `sapi` event
//! naming the caller (see `castellan_core::audit`).

use castellan_core::audit::{self, Entry};
use serde_json::Value;

use crate::app::AppState;
use crate::http::guard::Caller;

pub async fn record(
    s: &AppState,
    caller: &Caller,
    action: &'static str,
    description: impl Into<String>,
    target: Value,
    changes: Value,
) {
    let change = Entry {
        action,
        description: description.into(),
        target,
        changes,
    };
    audit::record(s.store.as_ref(), s.clock.as_ref(), &caller.actor(), change).await;
}
