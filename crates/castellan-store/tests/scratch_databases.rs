//! Scratch PostgreSQL databases for tests clean up after earlier runs: one over an hour old
//! that nobody uses is dropped when the next one is made; a recent one stays.

use sqlx::Connection;

async fn exists(admin: &str, name: &str) -> bool {
    let mut conn = sqlx::PgConnection::connect(admin).await.unwrap();
    sqlx::query_scalar::<_, i64>("SELECT count(*) FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_one(&mut conn)
        .await
        .unwrap()
        == 1
}

#[tokio::test]
async fn stale_scratch_databases_are_dropped_when_a_new_one_is_made() {
    let Ok(admin) = std::env::var("CASTELLAN_TEST_POSTGRES_URL") else {
        eprintln!("CASTELLAN_TEST_POSTGRES_URL unset: PostgreSQL run left to CI");
        return;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let suffix = castellan_core::ids::alphanumeric(8).to_lowercase();
    let stale = format!("castellan_test_{}_{suffix}", now - 7200);
    let recent = format!("castellan_test_{}_{suffix}", now - 60);
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    for name in [&stale, &recent] {
        let create = format!("CREATE DATABASE {name}");
        sqlx::raw_sql(sqlx::AssertSqlSafe(create))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let fresh = castellan_store::create_scratch_postgres_database(&admin)
        .await
        .unwrap();
    assert!(!exists(&admin, &stale).await, "the stale one is dropped");
    assert!(exists(&admin, &recent).await, "a recent one stays");
    let fresh_name = fresh.rsplit('/').next().unwrap();
    assert!(exists(&admin, fresh_name).await);
    for name in [recent.as_str(), fresh_name] {
        let drop = format!("DROP DATABASE {name}");
        sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
            .execute(&mut conn)
            .await
            .unwrap();
    }
}
