//! `Store::transaction` on every backend: what is written through a transaction is read
//! back through it, seen by nobody else until `commit`, and gone when it is dropped.

use std::time::Duration;

use castellan_core::model::{
    Connection, LogEvent, Permission, ResourceServer, Role, Scope, SigningAlg, TokenDialect, User,
};
use castellan_core::paging::PageRequest;
use castellan_core::store::{LogQuery, Store, StoreError};

#[macro_use]
mod backends;

conformance!(
    a_transaction_sees_its_writes_and_nobody_else_until_commit,
    a_dropped_transaction_leaves_nothing,
    recorded_events_appear_with_the_commit,
    a_failed_method_leaves_the_caller_to_drop_the_transaction,
    concurrent_transactions_take_turns,
    permissions_inside_a_transaction_follow_its_uncommitted_roles,
);

fn role(id: &str, name: &str) -> Role {
    Role {
        id: id.into(),
        guid: format!("guid-{id}"),
        name: name.into(),
        description: String::new(),
        application_id: None,
        application_type: None,
        created_at: 1,
    }
}

fn user(id: &str) -> User {
    User {
        user_id: format!("auth0|{id}"),
        connection: "db-users".into(),
        email: Some(format!("{id}@example.com")),
        email_verified: false,
        username: None,
        name: None,
        nickname: None,
        picture: None,
        given_name: None,
        family_name: None,
        app_metadata: serde_json::Map::new(),
        user_metadata: serde_json::Map::new(),
        created_at: 1,
        updated_at: 1,
        last_login: None,
        last_ip: None,
        logins_count: 0,
        blocked: false,
        last_password_reset: None,
    }
}

fn sapi_event(log_id: &str) -> LogEvent {
    LogEvent {
        log_id: log_id.into(),
        date: 10,
        event_type: "sapi".into(),
        description: "Create a role".into(),
        client_id: None,
        client_name: None,
        connection: None,
        user_id: None,
        user_name: None,
        ip: None,
        user_agent: None,
        details: serde_json::json!({"request": {"path": "/api/v2/roles"}}),
    }
}

/// A user on a database connection, both in the store.
async fn a_user(store: &dyn Store) -> User {
    let connection = Connection {
        id: "con_1".into(),
        name: "db-users".into(),
        strategy: "auth0".into(),
        options: serde_json::json!({}),
        enabled_clients: vec![],
        default_assignments: None,
    };
    store.create_connection(&connection).await.unwrap();
    let ada = user("ada");
    store.create_user(&ada, None, None).await.unwrap();
    ada
}

async fn roles_of(store: &dyn Store, user_id: &str) -> Vec<String> {
    let page = store
        .list_user_roles(user_id, PageRequest::ALL)
        .await
        .unwrap();
    page.items.into_iter().map(|r| r.id).collect()
}

async fn log_ids(store: &dyn Store) -> Vec<String> {
    let page = store
        .query_logs(&LogQuery::default(), PageRequest::ALL)
        .await
        .unwrap();
    page.items.into_iter().map(|e| e.log_id).collect()
}

async fn a_transaction_sees_its_writes_and_nobody_else_until_commit(store: &dyn Store) {
    let ada = a_user(store).await;

    let tx = store.transaction().await.unwrap();
    tx.create_role(&role("rol_1", "Editors")).await.unwrap();
    tx.assign_user_roles(&ada.user_id, &["rol_1".into()])
        .await
        .unwrap();
    assert!(tx.find_role("rol_1").await.unwrap().is_some());
    let inside = tx
        .list_user_roles(&ada.user_id, PageRequest::ALL)
        .await
        .unwrap();
    assert_eq!(inside.total, 1);
    assert!(store.find_role("rol_1").await.unwrap().is_none());
    assert!(roles_of(store, &ada.user_id).await.is_empty());

    tx.commit().await.unwrap();
    assert!(store.find_role("rol_1").await.unwrap().is_some());
    assert_eq!(roles_of(store, &ada.user_id).await, vec!["rol_1"]);
}

async fn a_dropped_transaction_leaves_nothing(store: &dyn Store) {
    let ada = a_user(store).await;

    let tx = store.transaction().await.unwrap();
    tx.create_role(&role("rol_1", "Editors")).await.unwrap();
    tx.assign_user_roles(&ada.user_id, &["rol_1".into()])
        .await
        .unwrap();
    tx.record(&sapi_event("log_1")).await.unwrap();
    drop(tx);

    assert!(store.find_role("rol_1").await.unwrap().is_none());
    assert!(roles_of(store, &ada.user_id).await.is_empty());
    assert!(log_ids(store).await.is_empty());
    // The connection that held it went back to the pool rolled back: the store writes on.
    store.create_role(&role("rol_2", "Viewers")).await.unwrap();
    store.ping().await.unwrap();
}

async fn recorded_events_appear_with_the_commit(store: &dyn Store) {
    let tx = store.transaction().await.unwrap();
    tx.create_role(&role("rol_1", "Editors")).await.unwrap();
    tx.record(&sapi_event("log_1")).await.unwrap();
    assert!(log_ids(store).await.is_empty());

    tx.commit().await.unwrap();
    assert_eq!(log_ids(store).await, vec!["log_1"]);
    let event = store.find_log("log_1").await.unwrap().unwrap();
    assert_eq!(event, sapi_event("log_1"));
}

async fn a_failed_method_leaves_the_caller_to_drop_the_transaction(store: &dyn Store) {
    store.create_role(&role("rol_1", "Editors")).await.unwrap();

    let tx = store.transaction().await.unwrap();
    tx.create_role(&role("rol_2", "Viewers")).await.unwrap();
    let refused = tx.create_role(&role("rol_3", "editors")).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    drop(tx);

    assert!(store.find_role("rol_2").await.unwrap().is_none());
    assert!(store.find_role("rol_3").await.unwrap().is_none());
    let all = store.list_roles(None, PageRequest::ALL).await.unwrap();
    assert_eq!(all.total, 1);
}

async fn concurrent_transactions_take_turns(store: &dyn Store) {
    let first = async {
        let tx = store.transaction().await.unwrap();
        tx.create_role(&role("rol_1", "Editors")).await.unwrap();
        // Long enough for the second to be waiting for the first (on SQLite), well within
        // the busy timeout.
        tokio::time::sleep(Duration::from_millis(300)).await;
        tx.commit().await.unwrap();
    };
    let second = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let tx = store.transaction().await.unwrap();
        tx.create_role(&role("rol_2", "Viewers")).await.unwrap();
        tx.commit().await.unwrap();
    };
    tokio::time::timeout(Duration::from_secs(4), async {
        tokio::join!(first, second)
    })
    .await
    .expect("the two transactions deadlocked");

    assert!(store.find_role("rol_1").await.unwrap().is_some());
    assert!(store.find_role("rol_2").await.unwrap().is_some());
}

async fn permissions_inside_a_transaction_follow_its_uncommitted_roles(store: &dyn Store) {
    let api = "https://api.example";
    let ada = a_user(store).await;
    store
        .create_resource_server(&ResourceServer {
            id: "api_1".into(),
            name: "API".into(),
            identifier: api.into(),
            scopes: vec![Scope {
                value: "read:x".into(),
                description: "read".into(),
            }],
            token_lifetime: 600,
            signing_alg: SigningAlg::Es256,
            enforce_policies: true,
            token_dialect: TokenDialect::AccessTokenAuthz,
            allow_offline_access: false,
            skip_consent_for_verifiable_first_party_clients: false,
            is_system: false,
        })
        .await
        .unwrap();
    store.create_role(&role("rol_1", "Readers")).await.unwrap();
    let read = Permission {
        resource_server_identifier: api.into(),
        permission_name: "read:x".into(),
    };
    store
        .add_role_permissions("rol_1", std::slice::from_ref(&read))
        .await
        .unwrap();
    // Read once so the store keeps the (empty) answer.
    assert!(
        store
            .effective_permissions(&ada.user_id, api)
            .await
            .unwrap()
            .is_empty()
    );

    let tx = store.transaction().await.unwrap();
    tx.assign_user_roles(&ada.user_id, &["rol_1".into()])
        .await
        .unwrap();
    assert_eq!(
        tx.effective_permissions(&ada.user_id, api).await.unwrap(),
        vec!["read:x"]
    );
    let roles = tx.effective_roles(&ada.user_id).await.unwrap();
    assert_eq!(roles.len(), 1);
    assert!(
        store
            .effective_permissions(&ada.user_id, api)
            .await
            .unwrap()
            .is_empty()
    );

    tx.commit().await.unwrap();
    assert_eq!(
        store
            .effective_permissions(&ada.user_id, api)
            .await
            .unwrap(),
        vec!["read:x"]
    );
}
