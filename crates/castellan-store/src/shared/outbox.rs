//! Mail waiting to be sent (or read, without SMTP).

use super::*;

#[async_trait::async_trait]
impl OutboxStore for SqlStore {
    async fn push_mail(&self, m: &Mail) -> StoreResult<()> {
        sqlx::query("INSERT INTO outbox (id, recipient, subject, body, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&m.id)
            .bind(&m.recipient)
            .bind(&m.subject)
            .bind(&m.body)
            .bind(m.created_at)
            .execute(&self.pool)
            .await
            .map_err(map)?;
        Ok(())
    }

    async fn list_mail(&self) -> StoreResult<Vec<Mail>> {
        let rows =
            sqlx::query("SELECT id, recipient, subject, body, created_at FROM outbox ORDER BY id")
                .fetch_all(&self.pool)
                .await
                .map_err(map)?;
        rows.iter()
            .map(|row| {
                Ok(Mail {
                    id: row.try_get("id").map_err(map)?,
                    recipient: row.try_get("recipient").map_err(map)?,
                    subject: row.try_get("subject").map_err(map)?,
                    body: row.try_get("body").map_err(map)?,
                    created_at: row.try_get("created_at").map_err(map)?,
                })
            })
            .collect()
    }
}
