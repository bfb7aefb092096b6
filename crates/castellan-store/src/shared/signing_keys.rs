//! Token signing keys and their rotation.

use castellan_core::model::{Named, SigningAlg, SigningKeyRecord};
use castellan_core::store::{Promotion, SigningKeyStore, StoreError, StoreResult};

use super::handle::{Conn, Handle, Source};
use super::query::{each, parse_named};
use crate::errors::{from_json, json_text, map};

/// A `signing_keys` row as stored; the public key is JSON text.
#[derive(sqlx::FromRow)]
struct SigningKeyRow {
    kid: String,
    alg: String,
    public_jwk: String,
    sealed_private_key: String,
    created_at: i64,
    current_since: Option<i64>,
    retired_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl TryFrom<SigningKeyRow> for SigningKeyRecord {
    type Error = StoreError;

    fn try_from(row: SigningKeyRow) -> StoreResult<SigningKeyRecord> {
        Ok(SigningKeyRecord {
            kid: row.kid,
            alg: parse_named::<SigningAlg>("alg", &row.alg)?,
            public_jwk: from_json("public_jwk", &row.public_jwk)?,
            sealed_private_key: row.sealed_private_key,
            created_at: row.created_at,
            current_since: row.current_since,
            retired_at: row.retired_at,
            revoked_at: row.revoked_at,
        })
    }
}

async fn insert_signing_key(
    conn: &mut Conn,
    k: &SigningKeyRecord,
    on_conflict: &'static str,
) -> StoreResult<u64> {
    let sql = format!(
        "INSERT INTO signing_keys (kid, alg, public_jwk, sealed_private_key, created_at, current_since, retired_at, revoked_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) {on_conflict}"
    );
    let done = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&k.kid)
        .bind(k.alg.name())
        .bind(json_text(&k.public_jwk))
        .bind(&k.sealed_private_key)
        .bind(k.created_at)
        .bind(k.current_since)
        .bind(k.retired_at)
        .bind(k.revoked_at)
        .execute(&mut *conn)
        .await
        .map_err(map)?;
    Ok(done.rows_affected())
}

#[async_trait::async_trait]
impl<S: Source> SigningKeyStore for Handle<S> {
    async fn list_signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>> {
        let mut conn = self.hold().await?;
        let rows = sqlx::query_as::<_, SigningKeyRow>(
            "SELECT kid, alg, public_jwk, sealed_private_key, created_at, current_since, retired_at, revoked_at \
             FROM signing_keys ORDER BY created_at DESC, kid",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(map)?;
        each(rows)
    }

    async fn add_signing_key_if_vacant(&self, k: &SigningKeyRecord) -> StoreResult<bool> {
        let mut conn = self.hold().await?;
        Ok(insert_signing_key(&mut conn, k, "ON CONFLICT DO NOTHING").await? > 0)
    }

    async fn rotate_signing_key(
        &self,
        new_next: &SigningKeyRecord,
        now: i64,
        lead: i64,
    ) -> StoreResult<Promotion> {
        let mut conn = self.hold().await?;
        let alg = new_next.alg.name();
        let mut tx = conn.write().await?;
        let (kid, published_at): (String, i64) = sqlx::query_as(
            "SELECT kid, created_at FROM signing_keys WHERE alg = $1 AND current_since IS NULL",
        )
        .bind(alg)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map)?
        .ok_or(StoreError::NotFound)?;
        let current_since: Option<i64> = sqlx::query_scalar(
            "SELECT current_since FROM signing_keys WHERE alg = $1 AND retired_at IS NULL AND current_since IS NOT NULL",
        )
        .bind(alg)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map)?;
        let switch_at = now
            .max(published_at + lead)
            .max(current_since.unwrap_or(i64::MIN));
        sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE alg = $2 AND retired_at IS NULL AND current_since IS NOT NULL")
            .bind(switch_at)
            .bind(alg)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        // Guarded: under PostgreSQL's read committed, a rotation that committed meanwhile
        // has already scheduled this key, and this one must not move it.
        let promoted = sqlx::query(
            "UPDATE signing_keys SET current_since = $1 WHERE kid = $2 AND current_since IS NULL",
        )
        .bind(switch_at)
        .bind(&kid)
        .execute(&mut *tx)
        .await
        .map_err(map)?;
        if promoted.rows_affected() != 1 {
            return Err(StoreError::Conflict(
                "another rotation of this algorithm came first".into(),
            ));
        }
        insert_signing_key(&mut tx, new_next, "").await?;
        tx.commit().await.map_err(map)?;
        Ok(Promotion {
            kid,
            current_since: switch_at,
        })
    }

    async fn revoke_signing_key(&self, kid: &str, now: i64) -> StoreResult<bool> {
        let mut conn = self.hold().await?;
        let done = sqlx::query(
            "UPDATE signing_keys SET revoked_at = $1 \
             WHERE kid = $2 AND retired_at IS NOT NULL AND retired_at <= $1 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(kid)
        .execute(&mut *conn)
        .await
        .map_err(map)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_signing_keys_retired_before(
        &self,
        alg: SigningAlg,
        cutoff: i64,
    ) -> StoreResult<u64> {
        let mut conn = self.hold().await?;
        let done = sqlx::query("DELETE FROM signing_keys WHERE alg = $1 AND retired_at IS NOT NULL AND retired_at < $2")
            .bind(alg.name())
            .bind(cutoff)
            .execute(&mut *conn)
            .await
            .map_err(map)?;
        Ok(done.rows_affected())
    }
}
