use crate::model::{Mail, Ticket};

use super::StoreResult;

#[async_trait::async_trait]
pub trait TicketStore: Send + Sync {
    async fn create_ticket(&self, ticket: &Ticket) -> StoreResult<()>;
    async fn find_ticket(&self, ticket_hash: &str) -> StoreResult<Option<Ticket>>;
    /// Removes and returns the ticket in one step: a link works once.
    async fn take_ticket(&self, ticket_hash: &str) -> StoreResult<Option<Ticket>>;
}

#[async_trait::async_trait]
pub trait OutboxStore: Send + Sync {
    async fn push_mail(&self, mail: &Mail) -> StoreResult<()>;
    /// Oldest first.
    async fn list_mail(&self) -> StoreResult<Vec<Mail>>;
}
