//! Conformance of the searches, updates and rule storage added for the Management API:
//! SQLite always, PostgreSQL when `CASTELLAN_TEST_POSTGRES_URL` names a server. The same
//! filter must find the same rows on both backends (metadata values compared as text,
//! NULLs and NOT handled alike).

use castellan_core::model::*;
use castellan_core::paging::PageRequest;
use castellan_core::search::{Condition, Filter, Scalar, Test};
use castellan_core::store::{
    LogField, LogQuery, NewPassword, Store, StoreError, UserField, UserQuery,
};
use serde_json::json;

#[macro_use]
mod backends;

conformance!(
    user_search_reads_metadata_and_columns_alike,
    user_updates_are_whole_and_deletes_cascade,
    log_queries_filter_order_and_see_queued_events,
    rules_are_unique_by_name_and_order,
);

const CONNECTION: &str = "Username-Password-Authentication";

fn user(
    id: &str,
    email: &str,
    name: Option<&str>,
    app: serde_json::Value,
    created_at: i64,
) -> User {
    User {
        user_id: format!("auth0|{id}"),
        connection: CONNECTION.into(),
        email: Some(email.into()),
        email_verified: false,
        username: None,
        name: name.map(str::to_string),
        nickname: None,
        picture: None,
        given_name: None,
        family_name: None,
        app_metadata: app.as_object().unwrap().clone(),
        user_metadata: serde_json::Map::new(),
        created_at,
        updated_at: created_at,
        last_login: None,
        last_ip: None,
        logins_count: created_at,
        blocked: false,
        last_password_reset: None,
    }
}

async fn with_connection(store: &dyn Store) {
    let c = Connection {
        id: "con_db".into(),
        name: CONNECTION.into(),
        strategy: "auth0".into(),
        options: json!({}),
        enabled_clients: vec![],
        default_assignments: None,
    };
    store.create_connection(&c).await.unwrap();
}

fn term(field: UserField, test: Test) -> Filter<Condition<UserField>> {
    Filter::Term(Condition { field, test })
}

fn text(t: &str) -> Test {
    Test::Equals(Scalar::Text(t.into()))
}

async fn ids(store: &dyn Store, filter: Filter<Condition<UserField>>) -> Vec<String> {
    let query = UserQuery {
        filter: Some(filter),
        sort: Some((UserField::UserId, true)),
    };
    let page = store.search_users(&query, PageRequest::ALL).await.unwrap();
    assert_eq!(page.total as usize, page.items.len());
    page.items.into_iter().map(|u| u.user_id).collect()
}

async fn user_search_reads_metadata_and_columns_alike(store: &dyn Store) {
    with_connection(store).await;
    for u in [
        user(
            "a",
            "ada@example.com",
            Some("Ada"),
            json!({"plan": "gold", "n": 3, "vip": true, "deep": {"x": "y"}}),
            1,
        ),
        user(
            "b",
            "bob@example.org",
            None,
            json!({"plan": "silver", "n": 3.5, "vip": false}),
            2,
        ),
        user(
            "c",
            "cy@example.org",
            Some("Cy"),
            json!({"plan": {"nested": "object"}}),
            3,
        ),
    ] {
        store.create_user(&u, None, None).await.unwrap();
    }
    let meta = |path: &[&str]| UserField::AppMetadata(path.iter().map(|s| s.to_string()).collect());
    assert_eq!(
        ids(store, term(meta(&["plan"]), text("gold"))).await,
        ["auth0|a"]
    );
    assert_eq!(ids(store, term(meta(&["n"]), text("3"))).await, ["auth0|a"]);
    assert_eq!(
        ids(store, term(meta(&["n"]), text("3.5"))).await,
        ["auth0|b"]
    );
    assert_eq!(
        ids(store, term(meta(&["vip"]), text("true"))).await,
        ["auth0|a"]
    );
    assert_eq!(
        ids(store, term(meta(&["vip"]), text("false"))).await,
        ["auth0|b"]
    );
    assert_eq!(
        ids(store, term(meta(&["deep", "x"]), text("y"))).await,
        ["auth0|a"]
    );
    assert_eq!(
        ids(store, term(meta(&["plan"]), Test::Exists)).await,
        ["auth0|a", "auth0|b"],
        "an object is no value"
    );
    assert_eq!(
        ids(store, term(meta(&["plan"]), Test::Prefix("gol".into()))).await,
        ["auth0|a"]
    );
    assert_eq!(
        ids(store, term(UserField::Email, Test::Suffix(".org".into()))).await,
        ["auth0|b", "auth0|c"]
    );
    assert_eq!(
        ids(store, term(UserField::Name, text("ada"))).await,
        ["auth0|a"],
        "names compare lower-cased"
    );
    assert_eq!(
        ids(
            store,
            Filter::Not(Box::new(term(UserField::Name, text("ada"))))
        )
        .await,
        ["auth0|b", "auth0|c"],
        "NOT includes users without the field"
    );
    let range = Test::Range {
        from: Some(Scalar::Int(2)),
        to: None,
        inclusive: true,
    };
    assert_eq!(
        ids(store, term(UserField::LoginsCount, range)).await,
        ["auth0|b", "auth0|c"]
    );
    assert_eq!(
        ids(
            store,
            Filter::Or(vec![
                term(UserField::UserId, text("auth0|c")),
                Filter::And(vec![
                    term(meta(&["plan"]), text("silver")),
                    term(UserField::Blocked, Test::Equals(Scalar::Bool(false)))
                ]),
            ])
        )
        .await,
        ["auth0|b", "auth0|c"]
    );
    // Sorting by a column with NULLs puts them last both ways.
    for ascending in [true, false] {
        let query = UserQuery {
            filter: None,
            sort: Some((UserField::Name, ascending)),
        };
        let page = store
            .search_users(
                &query,
                PageRequest {
                    offset: 0,
                    limit: 2,
                },
            )
            .await
            .unwrap();
        assert_eq!(page.total, 3);
        let names: Vec<_> = page.items.iter().map(|u| u.name.clone()).collect();
        let expected = if ascending {
            ["Ada", "Cy"]
        } else {
            ["Cy", "Ada"]
        };
        assert_eq!(names, expected.map(|n| Some(n.to_string())));
    }
}

async fn user_updates_are_whole_and_deletes_cascade(store: &dyn Store) {
    with_connection(store).await;
    let mut ada = user("a", "ada@example.com", Some("Ada"), json!({}), 1);
    store
        .create_user(&ada, Some("old-hash"), None)
        .await
        .unwrap();
    store
        .create_user(
            &user("b", "bob@example.com", None, json!({}), 2),
            None,
            None,
        )
        .await
        .unwrap();
    ada.name = None;
    ada.blocked = true;
    ada.app_metadata = json!({"plan": "gold"}).as_object().unwrap().clone();
    store.update_user(&ada, None).await.unwrap();
    assert_eq!(store.find_user("auth0|a").await.unwrap().unwrap(), ada);
    assert_eq!(
        store
            .find_password_hash("auth0|a")
            .await
            .unwrap()
            .as_deref(),
        Some("old-hash"),
        "kept"
    );
    let password = NewPassword {
        hash: "new-hash".into(),
        end_sessions: true,
    };
    store.update_user(&ada, Some(&password)).await.unwrap();
    assert_eq!(
        store
            .find_password_hash("auth0|a")
            .await
            .unwrap()
            .as_deref(),
        Some("new-hash")
    );

    let mut taken = ada.clone();
    taken.email = Some("bob@example.com".into());
    assert!(matches!(
        store.update_user(&taken, None).await,
        Err(StoreError::Conflict(_))
    ));
    let mut ghost = ada.clone();
    ghost.user_id = "auth0|ghost".into();
    assert!(matches!(
        store.update_user(&ghost, None).await,
        Err(StoreError::NotFound)
    ));

    let role = Role {
        id: "rol_a".into(),
        guid: "g-a".into(),
        name: "r".into(),
        description: String::new(),
        application_id: None,
        application_type: None,
        created_at: 1,
    };
    store.create_role(&role).await.unwrap();
    store
        .add_role_users(
            "rol_a",
            &["auth0|a".into(), "auth0|b".into(), "auth0|a".into()],
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .list_role_users("rol_a", PageRequest::ALL)
            .await
            .unwrap()
            .total,
        2
    );
    assert!(
        store
            .add_role_users("rol_a", &["auth0|b".into(), "auth0|ghost".into()])
            .await
            .is_err()
    );
    assert!(store.delete_user("auth0|a").await.unwrap());
    assert!(!store.delete_user("auth0|a").await.unwrap());
    let left = store
        .list_role_users("rol_a", PageRequest::ALL)
        .await
        .unwrap();
    assert_eq!(
        left.items
            .iter()
            .map(|u| u.user_id.as_str())
            .collect::<Vec<_>>(),
        ["auth0|b"]
    );
}

async fn log_queries_filter_order_and_see_queued_events(store: &dyn Store) {
    for (i, kind) in ["s", "sapi", "fp", "sapi"].iter().enumerate() {
        let event = LogEvent {
            log_id: format!("log{i}"),
            date: 100 * i as i64,
            event_type: kind.to_string(),
            description: format!("Event {i}"),
            client_id: Some("cli".into()),
            details: json!({}),
            ..Default::default()
        };
        // Queued for the batched writer; a query right after must still see it.
        store.append_log(&event).await.unwrap();
    }
    let by_type = LogQuery {
        filter: Some(Filter::Term(Condition {
            field: LogField::Type,
            test: Test::Equals(Scalar::Text("sapi".into())),
        })),
        oldest_first: false,
    };
    let page = store.query_logs(&by_type, PageRequest::ALL).await.unwrap();
    assert_eq!((page.total, page.items[0].log_id.as_str()), (2, "log3"));
    let after = LogQuery {
        filter: Some(Filter::Term(Condition {
            field: LogField::LogId,
            test: Test::Range {
                from: Some(Scalar::Text("log1".into())),
                to: None,
                inclusive: false,
            },
        })),
        oldest_first: true,
    };
    let page = store
        .query_logs(
            &after,
            PageRequest {
                offset: 0,
                limit: 1,
            },
        )
        .await
        .unwrap();
    assert_eq!((page.total, page.items[0].log_id.as_str()), (2, "log2"));
    let dated = LogQuery {
        filter: Some(Filter::Term(Condition {
            field: LogField::Date,
            test: Test::Range {
                from: Some(Scalar::Int(100)),
                to: Some(Scalar::Int(200)),
                inclusive: true,
            },
        })),
        oldest_first: true,
    };
    let page = store.query_logs(&dated, PageRequest::ALL).await.unwrap();
    assert_eq!(
        page.items
            .iter()
            .map(|e| e.log_id.as_str())
            .collect::<Vec<_>>(),
        ["log1", "log2"]
    );
    let described = LogQuery {
        filter: Some(Filter::Term(Condition {
            field: LogField::Description,
            test: Test::Prefix("event".into()),
        })),
        oldest_first: false,
    };
    assert_eq!(
        store
            .query_logs(&described, PageRequest::ALL)
            .await
            .unwrap()
            .total,
        4
    );
    assert_eq!(
        store.find_log("log2").await.unwrap().unwrap().event_type,
        "fp"
    );
    assert!(store.find_log("nope").await.unwrap().is_none());
}

async fn rules_are_unique_by_name_and_order(store: &dyn Store) {
    assert_eq!(store.next_rule_order().await.unwrap(), 1);
    let rule = |id: &str, name: &str, order: i64, enabled: bool| Rule {
        id: id.into(),
        name: name.into(),
        script: "function (u, c, cb) { cb(null, u, c); }".into(),
        order,
        enabled,
        stage: "login_success".into(),
        created_at: 1,
        updated_at: 1,
    };
    store
        .create_rule(&rule("rul_1", "one", 1, true))
        .await
        .unwrap();
    store
        .create_rule(&rule("rul_7", "seven", 7, false))
        .await
        .unwrap();
    assert_eq!(store.next_rule_order().await.unwrap(), 8);
    assert!(matches!(
        store.create_rule(&rule("rul_x", "one", 3, true)).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.create_rule(&rule("rul_x", "other", 7, true)).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.update_rule(&rule("rul_1", "one", 7, true)).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.update_rule(&rule("rul_none", "x", 9, true)).await,
        Err(StoreError::NotFound)
    ));
    store
        .update_rule(&rule("rul_1", "first", 2, false))
        .await
        .unwrap();
    let disabled = store
        .list_rules(Some(false), PageRequest::ALL)
        .await
        .unwrap();
    assert_eq!(
        disabled
            .items
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        ["first", "seven"]
    );
    assert_eq!(
        store
            .list_rules(Some(true), PageRequest::ALL)
            .await
            .unwrap()
            .total,
        0
    );
    assert!(store.delete_rule("rul_7").await.unwrap());
    assert!(!store.delete_rule("rul_7").await.unwrap());

    store.set_rules_config("K", "sealed-1", 1).await.unwrap();
    store.set_rules_config("K", "sealed-2", 2).await.unwrap();
    store.set_rules_config("A", "sealed-a", 2).await.unwrap();
    assert_eq!(store.list_rules_config_keys().await.unwrap(), ["A", "K"]);
    assert_eq!(
        store.sealed_rules_configs().await.unwrap()[1],
        ("K".to_string(), "sealed-2".to_string())
    );
    assert!(store.delete_rules_config("K").await.unwrap());
    assert!(!store.delete_rules_config("K").await.unwrap());
}
