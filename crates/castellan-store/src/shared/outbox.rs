//! Mail waiting to be sent (or read, without SMTP).

use castellan_core::model::Mail;
use castellan_core::store::{OutboxStore, StoreError, StoreResult};

use super::handle::{Handle, Source};
use super::query::each;
use crate::errors::map;

#[derive(sqlx::FromRow)]
struct MailRow {
    id: String,
    recipient: String,
    subject: String,
    body: String,
    created_at: i64,
}

impl TryFrom<MailRow> for Mail {
    type Error = StoreError;

    fn try_from(row: MailRow) -> StoreResult<Mail> {
        Ok(Mail {
            id: row.id,
            recipient: row.recipient,
            subject: row.subject,
            body: row.body,
            created_at: row.created_at,
        })
    }
}

#[async_trait::async_trait]
impl<S: Source> OutboxStore for Handle<S> {
    async fn push_mail(&self, m: &Mail) -> StoreResult<()> {
        let mut conn = self.hold().await?;
        sqlx::query("INSERT INTO outbox (id, recipient, subject, body, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&m.id)
            .bind(&m.recipient)
            .bind(&m.subject)
            .bind(&m.body)
            .bind(m.created_at)
            .execute(&mut *conn)
            .await
            .map_err(map)?;
        Ok(())
    }

    async fn list_mail(&self) -> StoreResult<Vec<Mail>> {
        let mut conn = self.hold().await?;
        let rows = sqlx::query_as::<_, MailRow>(
            "SELECT id, recipient, subject, body, created_at FROM outbox ORDER BY id",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(map)?;
        each(rows)
    }
}
