use crate::model::{Mail, Ticket};

use super::StoreResult;

#[async_trait::async_trait]
pub trait TicketStore: Send + Sync {
    async fn create_ticket(&self, ticket: &Ticket) -> StoreResult<()>;
    async fn find_ticket(&self, ticket_hash: &str) -> StoreResult<Option<Ticket>>;
    /// Removes and returns the ticket in one step: a link works once.
    async fn take_ticket(&self, ticket_hash: &str) -> StoreResult<Option<Ticket>>;
    /// Creates the ticket unless its user already has `max` tickets of its kind that
    /// expire after `expiring_after`; counting and creating are one step, whatever runs
    /// beside it. False when it was not created.
    async fn create_ticket_within(
        &self,
        ticket: &Ticket,
        expiring_after: i64,
        max: u64,
    ) -> StoreResult<bool>;
}

#[async_trait::async_trait]
pub trait OutboxStore: Send + Sync {
    async fn push_mail(&self, mail: &Mail) -> StoreResult<()>;
    /// Oldest first.
    async fn list_mail(&self) -> StoreResult<Vec<Mail>>;
}
