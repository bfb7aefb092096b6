//! Token signing keys and their rotation.

use super::*;

pub(super) fn signing_key_from_row(row: &DbRow) -> StoreResult<SigningKeyRecord> {
    let get = |c: &str| row.try_get::<String, _>(c).map_err(map);
    let at = |c: &str| row.try_get::<Option<i64>, _>(c).map_err(map);
    Ok(SigningKeyRecord {
        kid: get("kid")?,
        alg: parse_named::<SigningAlg>("alg", &get("alg")?)?,
        public_jwk: from_json("public_jwk", &get("public_jwk")?)?,
        sealed_private_key: get("sealed_private_key")?,
        created_at: row.try_get("created_at").map_err(map)?,
        current_since: at("current_since")?,
        retired_at: at("retired_at")?,
        revoked_at: at("revoked_at")?,
    })
}

impl SqlStore {
    async fn insert_signing_key<'e, E>(
        executor: E,
        k: &SigningKeyRecord,
        on_conflict: &'static str,
    ) -> StoreResult<u64>
    where
        E: sqlx::Executor<'e, Database = Db>,
    {
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
            .execute(executor)
            .await
            .map_err(map)?;
        Ok(done.rows_affected())
    }
}

#[async_trait::async_trait]
impl SigningKeyStore for SqlStore {
    async fn list_signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>> {
        let rows = sqlx::query(
            "SELECT kid, alg, public_jwk, sealed_private_key, created_at, current_since, retired_at, revoked_at \
             FROM signing_keys ORDER BY created_at DESC, kid",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(map)?;
        rows.iter().map(signing_key_from_row).collect()
    }

    async fn add_signing_key_if_vacant(&self, k: &SigningKeyRecord) -> StoreResult<bool> {
        Ok(Self::insert_signing_key(&self.pool, k, "ON CONFLICT DO NOTHING").await? > 0)
    }

    async fn rotate_signing_key(
        &self,
        new_next: &SigningKeyRecord,
        now: i64,
        lead: i64,
    ) -> StoreResult<Promotion> {
        let alg = new_next.alg.name();
        let mut tx = self.write_tx().await?;
        let next = sqlx::query(
            "SELECT kid, created_at FROM signing_keys WHERE alg = $1 AND current_since IS NULL",
        )
        .bind(alg)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map)?
        .ok_or(StoreError::NotFound)?;
        let kid: String = next.try_get("kid").map_err(map)?;
        let published_at: i64 = next.try_get("created_at").map_err(map)?;
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
        Self::insert_signing_key(&mut *tx, new_next, "").await?;
        tx.commit().await.map_err(map)?;
        Ok(Promotion {
            kid,
            current_since: switch_at,
        })
    }

    async fn revoke_signing_key(&self, kid: &str, now: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE signing_keys SET revoked_at = $1 \
             WHERE kid = $2 AND retired_at IS NOT NULL AND retired_at <= $1 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(kid)
        .execute(&self.pool)
        .await
        .map_err(map)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_signing_keys_retired_before(
        &self,
        alg: SigningAlg,
        cutoff: i64,
    ) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM signing_keys WHERE alg = $1 AND retired_at IS NOT NULL AND retired_at < $2")
            .bind(alg.name())
            .bind(cutoff)
            .execute(&self.pool)
            .await
            .map_err(map)?;
        Ok(done.rows_affected())
    }
}
