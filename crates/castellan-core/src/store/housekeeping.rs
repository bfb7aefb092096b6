/// What housekeeping removes: every row whose time is over, in one call per round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurgeBefore {
    /// Sessions, authorization and device codes, refresh tokens and tickets that expired before this.
    pub expired: i64,
    /// Outbox mail written before this: its links have expired.
    pub outbox: i64,
    /// Failed-log-in counters (and the blocks they hold) whose last failure was before this.
    pub login_failures: i64,
    /// Tenant-log events dated before this; `None` keeps them all.
    pub logs: Option<i64>,
}

/// How many rows of each kind one purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub sessions: u64,
    pub authorization_codes: u64,
    pub device_codes: u64,
    pub refresh_tokens: u64,
    pub tickets: u64,
    pub outbox: u64,
    pub login_failures: u64,
    pub logs: u64,
}

#[async_trait::async_trait]
pub trait HousekeepingStore: Send + Sync {
    async fn purge(&self, before: PurgeBefore) -> super::StoreResult<Purged>;
}
