//! PostgreSQL ends a statement at `[store] statement_timeout_secs`, on every pooled
//! connection, the one that ran the migrations (with no timeout) included.

use std::time::Duration;

use castellan_store::StoreOptions;

#[tokio::test]
async fn statements_end_at_the_statement_timeout() {
    let Ok(admin) = std::env::var("CASTELLAN_TEST_POSTGRES_URL") else {
        eprintln!("CASTELLAN_TEST_POSTGRES_URL unset: PostgreSQL run left to CI");
        return;
    };
    let url = castellan_store::create_scratch_postgres_database(&admin)
        .await
        .unwrap();
    let options = StoreOptions {
        statement_timeout: Duration::from_secs(1),
        ..StoreOptions::default()
    };
    let store = castellan_store::postgres::SqlStore::open(&url, &options)
        .await
        .unwrap();
    let err = sqlx::query("SELECT pg_sleep(30)")
        .execute(store.pool())
        .await
        .unwrap_err();
    let code = err.as_database_error().and_then(|db| db.code());
    assert_eq!(code.as_deref(), Some("57014"), "{err}");
}
