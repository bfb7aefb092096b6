//! Tickets: e-mail verification and password reset links.

use castellan_core::model::{Named, Ticket, TicketKind};
use castellan_core::store::{StoreError, StoreResult, TicketStore};

use super::LOCK_USER;
use super::handle::{Handle, Source};
use super::query::{DbQuery, one_by_key, parse_named};
use crate::errors::map;

#[derive(sqlx::FromRow)]
struct TicketRow {
    ticket_hash: String,
    kind: String,
    user_id: String,
    client_id: Option<String>,
    expires_at: i64,
}

impl TryFrom<TicketRow> for Ticket {
    type Error = StoreError;

    fn try_from(row: TicketRow) -> StoreResult<Ticket> {
        Ok(Ticket {
            ticket_hash: row.ticket_hash,
            kind: parse_named::<TicketKind>("kind", &row.kind)?,
            user_id: row.user_id,
            client_id: row.client_id,
            expires_at: row.expires_at,
        })
    }
}

fn insert_ticket(t: &Ticket) -> DbQuery<'_> {
    sqlx::query("INSERT INTO tickets (ticket_hash, kind, user_id, client_id, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&t.ticket_hash)
        .bind(t.kind.name())
        .bind(&t.user_id)
        .bind(&t.client_id)
        .bind(t.expires_at)
}

#[async_trait::async_trait]
impl<S: Source> TicketStore for Handle<S> {
    async fn create_ticket(&self, t: &Ticket) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        insert_ticket(t).execute(&mut *conn).await.map_err(map)?;
        Ok(())
    }

    async fn find_ticket(&self, ticket_hash: &str) -> StoreResult<Option<Ticket>> {
        one_by_key::<TicketRow, _>(&mut *self.hold().await?, "SELECT ticket_hash, kind, user_id, client_id, expires_at FROM tickets WHERE ticket_hash = $1".into(), ticket_hash)
            .await
    }

    async fn take_ticket(&self, ticket_hash: &str) -> StoreResult<Option<Ticket>> {
        one_by_key::<TicketRow, _>(&mut *self.hold().await?,
            "DELETE FROM tickets WHERE ticket_hash = $1 RETURNING ticket_hash, kind, user_id, client_id, expires_at"
                .into(),
            ticket_hash,
        )
        .await
    }
    async fn create_ticket_within(
        &self,
        t: &Ticket,
        expiring_after: i64,
        max: u64,
    ) -> StoreResult<bool> {
        let mut conn = self.hold().await?;
        let mut tx = conn.write().await?;
        sqlx::query(LOCK_USER)
            .bind(&t.user_id)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        let count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM tickets WHERE user_id = $1 AND kind = $2 AND expires_at > $3",
        )
        .bind(&t.user_id)
        .bind(t.kind.name())
        .bind(expiring_after)
        .fetch_one(&mut *tx)
        .await
        .map_err(map)?;
        if count.max(0) as u64 >= max {
            return Ok(false);
        }
        insert_ticket(t).execute(&mut *tx).await.map_err(map)?;
        tx.commit().await.map_err(map)?;
        Ok(true)
    }
}
