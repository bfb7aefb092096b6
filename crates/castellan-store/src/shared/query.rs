//! Small helpers every aggregate's SQL uses: pages, counts, deletes by key, and turning
//! rows into model values. Each takes the connection its method holds.

use castellan_core::model::{Named, Permission};
use castellan_core::paging::{Page, PageRequest};
use castellan_core::store::{StoreError, StoreResult};

use super::Db;
use super::handle::{Conn, Held};
use crate::errors::map;

pub(super) type DbRow = <Db as sqlx::Database>::Row;
pub(super) type DbQuery<'q> = sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments>;

/// Rows of a query as model values: `R` is the row as the columns are, `T` what it means.
pub(super) fn each<R, T>(rows: Vec<R>) -> StoreResult<Vec<T>>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}

/// The row `sql` finds for `key` (bound as `$1`), as a model value.
pub(super) async fn one_by_key<R, T>(
    conn: &mut Conn,
    sql: String,
    key: &str,
) -> StoreResult<Option<T>>
where
    R: for<'r> sqlx::FromRow<'r, DbRow> + Send + Unpin,
    T: TryFrom<R, Error = StoreError>,
{
    sqlx::query_as::<_, R>(sqlx::AssertSqlSafe(sql))
        .bind(key)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map)?
        .map(T::try_from)
        .transpose()
}

/// The rows `sql` finds for `key` (bound as `$1`), as model values.
pub(super) async fn all_by_key<R, T>(conn: &mut Conn, sql: String, key: &str) -> StoreResult<Vec<T>>
where
    R: for<'r> sqlx::FromRow<'r, DbRow> + Send + Unpin,
    T: TryFrom<R, Error = StoreError>,
{
    let rows = sqlx::query_as::<_, R>(sqlx::AssertSqlSafe(sql))
        .bind(key)
        .fetch_all(&mut *conn)
        .await
        .map_err(map)?;
    each(rows)
}

/// Deletes the row whose key `sql` binds as `$1`; false if there was none.
pub(super) async fn delete_one(conn: &mut Conn, sql: &'static str, key: &str) -> StoreResult<bool> {
    let done = sqlx::query(sql)
        .bind(key)
        .execute(&mut *conn)
        .await
        .map_err(map)?;
    Ok(done.rows_affected() > 0)
}

/// One page of `sql` (which takes `LIMIT $1 OFFSET $2`) and the total `count_sql` gives.
pub(super) async fn page_of<R, T>(
    conn: &mut Conn,
    sql: String,
    count_sql: &'static str,
    page: PageRequest,
) -> StoreResult<Page<T>>
where
    R: for<'r> sqlx::FromRow<'r, DbRow> + Send + Unpin,
    T: TryFrom<R, Error = StoreError>,
{
    let (lim, off) = limit(page);
    let rows = sqlx::query_as::<_, R>(sqlx::AssertSqlSafe(sql))
        .bind(lim)
        .bind(off)
        .fetch_all(&mut *conn)
        .await
        .map_err(map)?;
    Ok(Page {
        items: each(rows)?,
        total: total(conn, count_sql).await?,
    })
}

pub(super) async fn total(conn: &mut Conn, sql: &'static str) -> StoreResult<u64> {
    let n: i64 = sqlx::query_scalar(sql)
        .fetch_one(&mut *conn)
        .await
        .map_err(map)?;
    Ok(n as u64)
}

/// One page of `sql` (which takes the key as `$1` and `LIMIT $2 OFFSET $3`) and the
/// total `count_sql` gives for that key.
pub(super) async fn page_by_key<R, T>(
    conn: &mut Conn,
    sql: String,
    count_sql: &'static str,
    key: &str,
    page: PageRequest,
) -> StoreResult<Page<T>>
where
    R: for<'r> sqlx::FromRow<'r, DbRow> + Send + Unpin,
    T: TryFrom<R, Error = StoreError>,
{
    let (lim, off) = limit(page);
    let rows = sqlx::query_as::<_, R>(sqlx::AssertSqlSafe(sql))
        .bind(key)
        .bind(lim)
        .bind(off)
        .fetch_all(&mut *conn)
        .await
        .map_err(map)?;
    Ok(Page {
        items: each(rows)?,
        total: count(conn, count_sql, key).await?,
    })
}

pub(super) async fn count(conn: &mut Conn, sql: &'static str, key: &str) -> StoreResult<u64> {
    let n: i64 = sqlx::query_scalar(sql)
        .bind(key)
        .fetch_one(&mut *conn)
        .await
        .map_err(map)?;
    Ok(n as u64)
}

/// Runs `sql` (binding `$1` = `key`, `$2` = each of `values`) once per value, all or none.
pub(super) async fn for_each_in_tx(
    conn: &mut Held<'_>,
    sql: &'static str,
    key: &str,
    values: &[String],
) -> StoreResult<()> {
    let mut tx = conn.write().await?;
    for value in values {
        sqlx::query(sql)
            .bind(key)
            .bind(value)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
    }
    tx.commit().await.map_err(map)
}

/// Runs `sql` (binding `$1` = `key`, `$2` and `$3` = each permission's API and name) once
/// per permission, all or none.
pub(super) async fn for_each_permission(
    conn: &mut Held<'_>,
    sql: &'static str,
    key: &str,
    permissions: &[Permission],
) -> StoreResult<()> {
    let mut tx = conn.write().await?;
    for p in permissions {
        sqlx::query(sql)
            .bind(key)
            .bind(&p.resource_server_identifier)
            .bind(&p.permission_name)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
    }
    tx.commit().await.map_err(map)
}

/// An update that touched no row names a record that does not exist.
pub(super) fn found(rows_affected: u64) -> StoreResult<()> {
    if rows_affected == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

pub(super) fn limit(page: PageRequest) -> (i64, i64) {
    (
        page.limit.min(i64::MAX as u64) as i64,
        page.offset.min(i64::MAX as u64) as i64,
    )
}

pub(super) fn parse_named<T: Named>(column: &str, text: &str) -> StoreResult<T> {
    T::parse(text)
        .ok_or_else(|| StoreError::Other(format!("column {column}: unknown value {text}")))
}

/// Creation time for ordering lists; not an expiry decision, so not the injected clock.
pub(super) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Rows fetched untyped (a query whose placeholders are numbered at run time), as model
/// values.
pub(super) fn each_row<R, T>(rows: &[DbRow]) -> StoreResult<Vec<T>>
where
    R: for<'r> sqlx::FromRow<'r, DbRow>,
    T: TryFrom<R, Error = StoreError>,
{
    rows.iter()
        .map(|row| T::try_from(R::from_row(row).map_err(map)?))
        .collect()
}
