//! Conformance of the bulk user import: SQLite always, PostgreSQL when
//! `CASTELLAN_TEST_POSTGRES_URL` names a server. Both backends must find the same taken keys
//! and write all of a batch or nothing of it.

use std::sync::atomic::{AtomicUsize, Ordering};

use castellan_core::model::*;
use castellan_core::paging::PageRequest;
use castellan_core::store::{ImportedUser, Store, StoreError, UserQuery};
use serde_json::json;

#[macro_use]
mod backends;

conformance!(
    imported_users_are_written_whole_with_their_hashes,
    taken_keys_are_found_per_connection,
    a_conflicting_import_writes_nothing,
);

const DB: &str = "db-users";

async fn with_connections(store: &dyn Store) {
    for (id, name) in [("con_a", DB), ("con_b", "other-db")] {
        store
            .create_connection(&Connection {
                id: id.into(),
                name: name.into(),
                strategy: "auth0".into(),
                options: json!({"requires_username": true}),
                enabled_clients: vec![],
                default_assignments: None,
            })
            .await
            .unwrap();
    }
}

fn imported(n: usize, connection: &str) -> ImportedUser {
    ImportedUser {
        user: User {
            user_id: format!("auth0|{n:024x}"),
            connection: connection.into(),
            email: Some(format!("user{n}@example.com")),
            email_verified: n.is_multiple_of(2),
            username: Some(format!("User{n}")),
            name: Some(format!("User {n}")),
            nickname: Some(format!("user{n}")),
            picture: None,
            given_name: Some("Given".into()),
            family_name: None,
            app_metadata: json!({"plan": "gold", "n": n}).as_object().unwrap().clone(),
            user_metadata: json!({"lang": "en"}).as_object().unwrap().clone(),
            created_at: 1_600_000_000 + n as i64,
            updated_at: 1_700_000_000,
            last_login: n.is_multiple_of(3).then_some(1_700_000_100),
            last_ip: n.is_multiple_of(3).then(|| "10.0.0.1".to_string()),
            logins_count: (n % 5) as i64,
            blocked: n == 7,
            last_password_reset: None,
        },
        password_hash: (!n.is_multiple_of(4)).then(|| format!("$2b$04$hash-of-user-{n}")),
    }
}

async fn count(store: &dyn Store) -> u64 {
    store
        .search_users(&UserQuery::default(), PageRequest::ALL)
        .await
        .unwrap()
        .total
}

async fn imported_users_are_written_whole_with_their_hashes(store: &dyn Store) {
    with_connections(store).await;
    // More than one batch, with a partial last one.
    let users: Vec<ImportedUser> = (0..1234).map(|n| imported(n, DB)).collect();
    let reports = std::sync::Mutex::new(Vec::new());
    store
        .insert_users(&users, &|n| reports.lock().unwrap().push(n))
        .await
        .unwrap();
    let reports = reports.into_inner().unwrap();
    assert_eq!(reports.last(), Some(&1234));
    assert!(
        reports.len() > 1 && reports.windows(2).all(|w| w[0] < w[1]),
        "{reports:?}"
    );
    assert_eq!(count(store).await, 1234);
    for n in [0, 7, 9, 500, 1233] {
        let expected = imported(n, DB);
        let found = store
            .find_user(&expected.user.user_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found, expected.user);
        assert_eq!(
            store
                .find_password_hash(&expected.user.user_id)
                .await
                .unwrap(),
            expected.password_hash
        );
    }
    let by_username = store
        .find_user_by_username(DB, "user42")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_username.user_id, imported(42, DB).user.user_id);
    // Nothing to write is not an error.
    store.insert_users(&[], &|_| {}).await.unwrap();
}

async fn taken_keys_are_found_per_connection(store: &dyn Store) {
    with_connections(store).await;
    let users: Vec<ImportedUser> = (0..3).map(|n| imported(n, DB)).collect();
    store.insert_users(&users, &|_| {}).await.unwrap();
    // Enough keys for more than one lookup.
    let mut ids: Vec<String> = (0..2500).map(|n| format!("auth0|nobody-{n}")).collect();
    ids.push(imported(1, DB).user.user_id);
    let emails = vec![
        "user0@example.com".to_string(),
        "user9@example.com".to_string(),
    ];
    let usernames = vec!["USER2".to_string(), "user5".to_string()];
    let taken = store
        .taken_user_keys(DB, &ids, &emails, &usernames)
        .await
        .unwrap();
    assert_eq!(
        taken.user_ids.into_iter().collect::<Vec<_>>(),
        [imported(1, DB).user.user_id]
    );
    assert_eq!(
        taken.emails.into_iter().collect::<Vec<_>>(),
        ["user0@example.com"]
    );
    assert_eq!(taken.usernames.into_iter().collect::<Vec<_>>(), ["user2"]);
    // Emails and usernames are unique per connection; ids across all of them.
    let elsewhere = store
        .taken_user_keys("other-db", &ids, &emails, &usernames)
        .await
        .unwrap();
    assert_eq!(elsewhere.user_ids.len(), 1);
    assert!(elsewhere.emails.is_empty() && elsewhere.usernames.is_empty());
    let none = store.taken_user_keys(DB, &[], &[], &[]).await.unwrap();
    assert_eq!(none, Default::default());
}

async fn a_conflicting_import_writes_nothing(store: &dyn Store) {
    with_connections(store).await;
    store
        .insert_users(&[imported(600, DB)], &|_| {})
        .await
        .unwrap();
    // The clash sits in a later batch: the ones before it must not stay.
    let users: Vec<ImportedUser> = (0..700).map(|n| imported(n, DB)).collect();
    let batches = AtomicUsize::new(0);
    let result = store
        .insert_users(&users, &|_| {
            batches.fetch_add(1, Ordering::Relaxed);
        })
        .await;
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    assert!(
        batches.load(Ordering::Relaxed) > 0,
        "batches went in before the clash"
    );
    assert_eq!(count(store).await, 1, "nothing of the failed import stayed");
    // A user in a connection that does not exist is refused as well.
    let ghost = store.insert_users(&[imported(1, "nowhere")], &|_| {}).await;
    assert!(ghost.is_err());
    assert_eq!(count(store).await, 1);
}
