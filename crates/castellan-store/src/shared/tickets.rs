//! Tickets: e-mail verification and password reset links.

use super::*;

impl SqlStore {
    async fn ticket_query(
        &self,
        sql: &'static str,
        ticket_hash: &str,
    ) -> StoreResult<Option<Ticket>> {
        let row = sqlx::query(sql)
            .bind(ticket_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?;
        row.map(|row| {
            Ok(Ticket {
                ticket_hash: row.try_get("ticket_hash").map_err(map)?,
                kind: parse_named::<TicketKind>(
                    "kind",
                    &row.try_get::<String, _>("kind").map_err(map)?,
                )?,
                user_id: row.try_get("user_id").map_err(map)?,
                client_id: row.try_get("client_id").map_err(map)?,
                expires_at: row.try_get("expires_at").map_err(map)?,
            })
        })
        .transpose()
    }
}

pub(super) fn insert_ticket(
    t: &Ticket,
) -> sqlx::query::Query<'_, Db, <Db as sqlx::Database>::Arguments> {
    sqlx::query("INSERT INTO tickets (ticket_hash, kind, user_id, client_id, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&t.ticket_hash)
        .bind(t.kind.name())
        .bind(&t.user_id)
        .bind(&t.client_id)
        .bind(t.expires_at)
}

#[async_trait::async_trait]
impl TicketStore for SqlStore {
    async fn create_ticket(&self, t: &Ticket) -> StoreResult<()> {
        insert_ticket(t).execute(&self.pool).await.map_err(map)?;
        Ok(())
    }

    async fn find_ticket(&self, ticket_hash: &str) -> StoreResult<Option<Ticket>> {
        self.ticket_query("SELECT ticket_hash, kind, user_id, client_id, expires_at FROM tickets WHERE ticket_hash = $1", ticket_hash)
            .await
    }

    async fn take_ticket(&self, ticket_hash: &str) -> StoreResult<Option<Ticket>> {
        self.ticket_query(
            "DELETE FROM tickets WHERE ticket_hash = $1 RETURNING ticket_hash, kind, user_id, client_id, expires_at",
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
        let mut tx = self.write_tx().await?;
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
