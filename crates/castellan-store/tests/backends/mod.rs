//! The backends every store conformance suite runs on: SQLite always, PostgreSQL when
//! `CASTELLAN_TEST_POSTGRES_URL` names a server (CI sets it), each test on a database of
//! its own.

use std::sync::Arc;

use castellan_core::store::Store;

pub struct Backend {
    pub store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
}

pub async fn sqlite() -> Backend {
    let dir = tempfile::tempdir().unwrap();
    // A folder that does not exist yet: opening creates it.
    let url = format!("sqlite://{}/nested/castellan.db", dir.path().display());
    Backend {
        store: castellan_store::open(&url).await.unwrap(),
        _dir: Some(dir),
    }
}

pub async fn postgres() -> Option<Backend> {
    let admin = std::env::var("CASTELLAN_TEST_POSTGRES_URL").ok()?;
    let url = castellan_store::create_scratch_postgres_database(&admin)
        .await
        .unwrap();
    Some(Backend {
        store: castellan_store::open(&url).await.unwrap(),
        _dir: None,
    })
}

/// Runs each named `async fn(&dyn Store)` once on each backend.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(#[tokio::test] async fn $name() {
                super::$name($crate::backends::sqlite().await.store.as_ref()).await;
            })*
        }
        mod on_postgres {
            $(#[tokio::test] async fn $name() {
                match $crate::backends::postgres().await {
                    Some(b) => super::$name(b.store.as_ref()).await,
                    None => eprintln!("CASTELLAN_TEST_POSTGRES_URL unset: PostgreSQL run left to CI"),
                }
            })*
        }
    };
}
