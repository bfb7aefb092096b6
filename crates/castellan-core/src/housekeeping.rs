//! Housekeeping: what has expired is deleted, so that a long-lived tenant's store does not
//! grow with dead sessions, codes, refresh tokens and links, and so that mail kept in the
//! outbox (when no SMTP server is configured) does not keep reset links longer than they
//! work. Tenant-log events are kept for the configured number of days.

use crate::clock::Clock;
use crate::login::password::FAILURES_FORGOTTEN_AFTER;
use crate::login::recovery::{RESET_LINK_LIFETIME, VERIFY_LINK_LIFETIME};
use crate::store::{PurgeBefore, Purged, Store, StoreResult};

const DAY: i64 = 86_400;

/// Outbox mail is kept as long as the longest-lived link it can carry.
pub const OUTBOX_RETENTION: i64 = if RESET_LINK_LIFETIME > VERIFY_LINK_LIFETIME {
    RESET_LINK_LIFETIME
} else {
    VERIFY_LINK_LIFETIME
};

/// One round; `log_retention_days` of 0 keeps every log event.
pub async fn purge(
    store: &dyn Store,
    clock: &dyn Clock,
    log_retention_days: u32,
) -> StoreResult<Purged> {
    let now = clock.now();
    store
        .purge(PurgeBefore {
            expired: now,
            outbox: now - OUTBOX_RETENTION,
            login_failures: now - FAILURES_FORGOTTEN_AFTER,
            logs: (log_retention_days > 0).then(|| now - i64::from(log_retention_days) * DAY),
        })
        .await
}
