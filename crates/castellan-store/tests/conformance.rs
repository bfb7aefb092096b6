//! One conformance suite for every backend: SQLite always, PostgreSQL when
//! `CASTELLAN_TEST_POSTGRES_URL` names a server (CI sets it).

use std::collections::BTreeMap;

use castellan_core::model::*;
use castellan_core::paging::PageRequest;
use castellan_core::store::{
    ActionFilter, ClientGrantFilter, CodeRedemption, FactorAttempt, NewPassword, PurgeBefore,
    Purged, Store, StoreError,
};

#[macro_use]
mod backends;

conformance!(
    clients_round_trip_and_page,
    client_creation_enables_every_connection,
    resource_server_identifiers_are_unique,
    client_grants_are_unique_per_audience_and_cascade,
    connection_with_unknown_client_writes_nothing,
    signing_keys_rotate_with_one_current_per_alg,
    users_are_unique_per_connection_by_email_and_username,
    login_failures_block_at_the_threshold_until_unblocked,
    logs_come_back_newest_first,
    codes_are_taken_once_and_refresh_tokens_used_once,
    redirected_log_ins_are_taken_once_by_their_browser_before_they_expire,
    a_users_sessions_and_refresh_tokens_are_listed_and_ended,
    consents_are_kept_per_user_client_and_api_and_go_with_the_user,
    a_new_password_ends_what_the_old_one_opened,
    roles_are_found_by_either_id_and_named_once_per_application,
    groups_nest_without_cycles_and_restrict_deleting_what_is_used,
    policy_follows_groups_mappings_and_the_application,
    import_replaces_extension_data_in_one_transaction,
    effective_permissions_follow_every_kind_of_change,
    what_a_group_grants_follows_its_roles,
    actions_round_trip_filter_and_deploy,
    action_bindings_replace_in_order_and_hold_bound_actions,
    script_generation_moves_with_what_log_ins_run,
    expired_rows_are_purged_and_live_ones_kept,
    text_a_backend_cannot_hold_is_refused_as_invalid,
    device_codes_are_decided_polled_and_exchanged_once,
    refresh_tokens_end_at_either_end_and_renew_their_idle_one,
    authenticators_count_attempts_take_codes_once_and_go_with_the_user,
    authenticators_of_several_users_come_back_together,
);

fn client(id: &str) -> Client {
    Client {
        client_id: id.into(),
        name: format!("app {id}"),
        description: String::new(),
        app_type: AppType::NonInteractive,
        is_first_party: true,
        grant_types: vec!["client_credentials".into()],
        callbacks: vec!["https://app.example/cb".into()],
        allowed_logout_urls: vec![],
        web_origins: vec![],
        allowed_origins: vec!["https://app.example".into(), "https://*.app.example".into()],
        token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretPost,
        refresh_token: RefreshTokenSettings {
            rotation_type: RotationType::Rotating,
            expiration_type: ExpirationType::Expiring,
            leeway: 15,
            token_lifetime: 86_400,
            infinite_token_lifetime: false,
            idle_token_lifetime: 3_600,
            infinite_idle_token_lifetime: true,
        },
        client_metadata: BTreeMap::from([("tier".into(), "gold".into())]),
        secret_hash: Some("hmac-sha256$x$y".into()),
        created_at: 1,
        updated_at: 2,
    }
}

fn api(id: &str, identifier: &str) -> ResourceServer {
    ResourceServer {
        id: id.into(),
        name: identifier.into(),
        identifier: identifier.into(),
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
    }
}

fn connection(id: &str, name: &str, enabled: Vec<String>) -> Connection {
    Connection {
        id: id.into(),
        name: name.into(),
        strategy: "auth0".into(),
        options: serde_json::json!({"requires_username": false}),
        enabled_clients: enabled,
        default_assignments: None,
    }
}

async fn clients_round_trip_and_page(store: &dyn Store) {
    for i in 0..5 {
        store
            .create_client(&client(&format!("c{i}")))
            .await
            .unwrap();
    }
    let found = store.find_client("c3").await.unwrap().unwrap();
    assert_eq!(found, client("c3"));
    assert!(store.find_client("nope").await.unwrap().is_none());
    assert!(matches!(
        store.create_client(&client("c3")).await,
        Err(StoreError::Conflict(_))
    ));

    let page = store
        .list_clients(PageRequest {
            offset: 4,
            limit: 2,
        })
        .await
        .unwrap();
    assert_eq!((page.items.len(), page.total), (1, 5));
    let past_end = store
        .list_clients(PageRequest {
            offset: 10,
            limit: 2,
        })
        .await
        .unwrap();
    assert_eq!((past_end.items.len(), past_end.total), (0, 5));

    let mut changed = found.clone();
    changed.grant_types = vec![];
    changed.allowed_origins = vec!["http://localhost:3000".into()];
    changed.refresh_token.rotation_type = RotationType::NonRotating;
    changed.refresh_token.infinite_token_lifetime = true;
    changed.secret_hash = None;
    store.update_client(&changed).await.unwrap();
    assert_eq!(store.find_client("c3").await.unwrap().unwrap(), changed);
    assert!(matches!(
        store.update_client(&client("ghost")).await,
        Err(StoreError::NotFound)
    ));
    assert!(store.delete_client("c3").await.unwrap());
    assert!(!store.delete_client("c3").await.unwrap());
    assert_eq!(store.count_clients().await.unwrap(), 4);
}

async fn client_creation_enables_every_connection(store: &dyn Store) {
    store
        .create_connection(&connection("con_1", "db-one", vec![]))
        .await
        .unwrap();
    store.create_client(&client("a")).await.unwrap();
    let con = store
        .find_connection_by_name("db-one")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(con.enabled_clients, vec!["a".to_string()]);
    assert_eq!(con.options["requires_username"], false);
    store.delete_client("a").await.unwrap();
    let con = store.find_connection("con_1").await.unwrap().unwrap();
    assert!(con.enabled_clients.is_empty());
}

async fn resource_server_identifiers_are_unique(store: &dyn Store) {
    store
        .create_resource_server(&api("rs1", "https://api.example"))
        .await
        .unwrap();
    let dup = store
        .create_resource_server(&api("rs2", "https://api.example"))
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))));
    let by_identifier = store
        .find_resource_server_by_identifier("https://api.example")
        .await
        .unwrap();
    assert_eq!(by_identifier, Some(api("rs1", "https://api.example")));
    let mut changed = api("rs1", "https://api.example");
    changed.token_lifetime = 60;
    changed.token_dialect = TokenDialect::Rfc9068Profile;
    store.update_resource_server(&changed).await.unwrap();
    assert_eq!(
        store.find_resource_server("rs1").await.unwrap(),
        Some(changed)
    );
    assert_eq!(
        store
            .list_resource_servers(PageRequest::ALL)
            .await
            .unwrap()
            .total,
        1
    );
    assert_eq!(
        store.signing_algs_in_use().await.unwrap(),
        vec![SigningAlg::Es256]
    );
}

async fn client_grants_are_unique_per_audience_and_cascade(store: &dyn Store) {
    store.create_client(&client("a")).await.unwrap();
    store
        .create_resource_server(&api("rs1", "urn:one"))
        .await
        .unwrap();
    store
        .create_resource_server(&api("rs2", "urn:two"))
        .await
        .unwrap();
    let grant = |id: &str, aud: &str| ClientGrant {
        id: id.into(),
        client_id: "a".into(),
        audience: aud.into(),
        scope: vec!["read:x".into()],
    };
    store
        .create_client_grant(&grant("g1", "urn:one"))
        .await
        .unwrap();
    store
        .create_client_grant(&grant("g2", "urn:two"))
        .await
        .unwrap();
    assert!(matches!(
        store.create_client_grant(&grant("g3", "urn:one")).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.create_client_grant(&grant("g4", "urn:none")).await,
        Err(StoreError::Conflict(_))
    ));
    let filter = ClientGrantFilter {
        audience: Some("urn:two".into()),
        ..Default::default()
    };
    let listed = store
        .list_client_grants(&filter, PageRequest::ALL)
        .await
        .unwrap();
    assert_eq!(
        (listed.items, listed.total),
        (vec![grant("g2", "urn:two")], 1)
    );
    assert_eq!(
        store.find_client_grant_for("a", "urn:one").await.unwrap(),
        Some(grant("g1", "urn:one"))
    );

    store.delete_resource_server("rs1").await.unwrap();
    assert!(store.find_client_grant("g1").await.unwrap().is_none());
    store.delete_client("a").await.unwrap();
    assert!(store.find_client_grant("g2").await.unwrap().is_none());
}

async fn connection_with_unknown_client_writes_nothing(store: &dyn Store) {
    let bad = connection("con_x", "db-x", vec!["ghost".into()]);
    assert!(matches!(
        store.create_connection(&bad).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(store.find_connection("con_x").await.unwrap().is_none());

    store
        .create_connection(&connection("con_y", "db-y", vec![]))
        .await
        .unwrap();
    let dup = store
        .create_connection(&connection("con_z", "db-y", vec![]))
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))));
    let mut update = connection("con_y", "db-y", vec!["ghost".into()]);
    update.options = serde_json::json!({"changed": true});
    assert!(store.update_connection(&update).await.is_err());
    let unchanged = store.find_connection("con_y").await.unwrap().unwrap();
    assert_eq!(
        unchanged.options["requires_username"], false,
        "the failed update rolled back"
    );
}

async fn signing_keys_rotate_with_one_current_per_alg(store: &dyn Store) {
    let key = |kid: &str, at: i64, current_since: Option<i64>| SigningKeyRecord {
        kid: kid.into(),
        alg: SigningAlg::Rs256,
        public_jwk: serde_json::json!({"kid": kid}),
        sealed_private_key: "sealed".into(),
        created_at: at,
        current_since,
        retired_at: None,
        revoked_at: None,
    };
    let schedule = |keys: Vec<SigningKeyRecord>| -> Vec<(String, Option<i64>, Option<i64>)> {
        keys.into_iter()
            .map(|k| (k.kid, k.current_since, k.retired_at))
            .collect()
    };
    let s = |kid: &str, since: Option<i64>, until: Option<i64>| (kid.to_string(), since, until);
    assert!(
        matches!(
            store.rotate_signing_key(&key("k0", 1, None), 1, 100).await,
            Err(StoreError::NotFound)
        ),
        "no next key to promote"
    );
    assert!(
        store
            .add_signing_key_if_vacant(&key("k1", 1, Some(1)))
            .await
            .unwrap()
    );
    assert!(
        !store
            .add_signing_key_if_vacant(&key("k2", 2, Some(2)))
            .await
            .unwrap()
    );
    assert!(
        store
            .add_signing_key_if_vacant(&key("n1", 10, None))
            .await
            .unwrap()
    );
    assert!(
        !store
            .add_signing_key_if_vacant(&key("n2", 11, None))
            .await
            .unwrap()
    );

    // n1 was published at 10: with a lead of 100 it may sign from 110, not at 20.
    let promoted = store
        .rotate_signing_key(&key("n3", 20, None), 20, 100)
        .await
        .unwrap();
    assert_eq!((promoted.kid.as_str(), promoted.current_since), ("n1", 110));
    assert_eq!(
        schedule(store.list_signing_keys().await.unwrap()),
        vec![
            s("n3", None, None),
            s("n1", Some(110), None),
            s("k1", Some(1), Some(110))
        ]
    );
    // The new next key was published at 20, long enough ago by 500: the switch is at once.
    let promoted = store
        .rotate_signing_key(&key("n4", 500, None), 500, 100)
        .await
        .unwrap();
    assert_eq!((promoted.kid.as_str(), promoted.current_since), ("n3", 500));
    // Rotating twice in a row never schedules a key before the one it replaces.
    let promoted = store
        .rotate_signing_key(&key("n5", 501, None), 0, 0)
        .await
        .unwrap();
    assert_eq!((promoted.kid.as_str(), promoted.current_since), ("n4", 500));

    assert!(
        !store.revoke_signing_key("n4", 600).await.unwrap(),
        "the current key"
    );
    assert!(
        !store.revoke_signing_key("n5", 600).await.unwrap(),
        "the next key"
    );
    assert!(
        !store.revoke_signing_key("n1", 499).await.unwrap(),
        "not yet retired"
    );
    assert!(!store.revoke_signing_key("missing", 600).await.unwrap());
    assert!(store.revoke_signing_key("n1", 600).await.unwrap());
    assert!(
        !store.revoke_signing_key("n1", 601).await.unwrap(),
        "already revoked"
    );
    let keys = store.list_signing_keys().await.unwrap();
    let n1 = keys.iter().find(|k| k.kid == "n1").unwrap();
    assert_eq!((n1.revoked_at, n1.role(600)), (Some(600), KeyRole::Revoked));
    let roles: Vec<(&str, KeyRole)> = keys.iter().map(|k| (k.kid.as_str(), k.role(600))).collect();
    assert_eq!(
        roles,
        vec![
            ("n5", KeyRole::Next),
            ("n4", KeyRole::Current),
            ("n3", KeyRole::Previous),
            ("n1", KeyRole::Revoked),
            ("k1", KeyRole::Previous),
        ]
    );
    assert_eq!(
        store
            .delete_signing_keys_retired_before(SigningAlg::Rs256, 120)
            .await
            .unwrap(),
        1,
        "k1, retired at 110; n1 and n3 retired at 500"
    );
    assert_eq!(store.list_signing_keys().await.unwrap().len(), 4);
}

#[tokio::test]
async fn unreachable_postgres_is_an_error_not_a_panic() {
    let result = castellan_store::open("postgres://postgres@127.0.0.1:1/none").await;
    assert!(matches!(
        result,
        Err(castellan_store::OpenError::Unreachable(_))
    ));
    assert!(matches!(
        castellan_store::open("mysql://x").await,
        Err(castellan_store::OpenError::UnsupportedUrl(_))
    ));
}

fn user(id: &str, email: &str, username: Option<&str>) -> User {
    User {
        user_id: format!("auth0|{id}"),
        connection: "db-users".into(),
        email: Some(email.into()),
        email_verified: false,
        username: username.map(str::to_string),
        name: Some("Ada".into()),
        nickname: None,
        picture: None,
        given_name: None,
        family_name: None,
        app_metadata: serde_json::Map::new(),
        user_metadata: serde_json::json!({"lang": "en"})
            .as_object()
            .unwrap()
            .clone(),
        created_at: 1,
        updated_at: 2,
        last_login: None,
        last_ip: None,
        logins_count: 0,
        blocked: false,
        last_password_reset: None,
    }
}

async fn users_are_unique_per_connection_by_email_and_username(store: &dyn Store) {
    store
        .create_connection(&connection("con_u", "db-users", vec![]))
        .await
        .unwrap();
    store
        .create_user(
            &user("1", "ada@example.com", Some("Ada")),
            Some("hash1"),
            None,
        )
        .await
        .unwrap();
    let dup_email = store
        .create_user(&user("2", "ada@example.com", None), None, None)
        .await;
    assert!(matches!(dup_email, Err(StoreError::Conflict(_))));
    let dup_username = store
        .create_user(&user("3", "other@example.com", Some("ADA")), None, None)
        .await;
    assert!(matches!(dup_username, Err(StoreError::Conflict(_))));
    let ghost_connection = User {
        connection: "nowhere".into(),
        ..user("4", "x@example.com", None)
    };
    assert!(
        store
            .create_user(&ghost_connection, None, None)
            .await
            .is_err()
    );

    let found = store
        .find_user_by_email("db-users", "ada@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, user("1", "ada@example.com", Some("Ada")));
    assert_eq!(
        store
            .find_user_by_username("db-users", "aDa")
            .await
            .unwrap()
            .unwrap()
            .user_id,
        "auth0|1"
    );
    assert_eq!(
        store
            .find_password_hash("auth0|1")
            .await
            .unwrap()
            .as_deref(),
        Some("hash1")
    );
    store
        .set_password_hash("auth0|1", "hash2", 5)
        .await
        .unwrap();
    assert_eq!(
        store
            .find_password_hash("auth0|1")
            .await
            .unwrap()
            .as_deref(),
        Some("hash2")
    );
    let (after, _) = store
        .record_login("auth0|1", "10.0.0.1", 9, None)
        .await
        .unwrap();
    assert_eq!(
        (
            after.logins_count,
            after.last_login,
            after.last_ip.as_deref()
        ),
        (1, Some(9), Some("10.0.0.1"))
    );
    assert!(matches!(
        store
            .record_login("auth0|nobody", "ip", 1, None)
            .await
            .map(|(u, _)| u),
        Err(StoreError::NotFound)
    ));
}

/// NUL: refused in metadata on both backends (PostgreSQL would keep the `\u0000` escape in
/// text and fail every later jsonb search); in plain text PostgreSQL refuses it and SQLite
/// keeps it, and neither is an internal error.
async fn text_a_backend_cannot_hold_is_refused_as_invalid(store: &dyn Store) {
    store
        .create_connection(&connection("con_n", "db-users", vec![]))
        .await
        .unwrap();
    let mut with_metadata = user("n", "nul@example.com", None);
    with_metadata
        .user_metadata
        .insert("note".into(), serde_json::json!("a\u{0}b"));
    match store.create_user(&with_metadata, None, None).await {
        Err(StoreError::Invalid(message)) => assert!(message.contains("user_metadata.note")),
        other => panic!("{other:?}"),
    }
    assert!(store.find_user("auth0|n").await.unwrap().is_none());
    let named = User {
        name: Some("a\u{0}".into()),
        ..user("m", "m@example.com", None)
    };
    let made = store.create_user(&named, None, None).await;
    assert!(
        matches!(made, Ok(()) | Err(StoreError::Invalid(_))),
        "{made:?}"
    );
}

async fn login_failures_block_at_the_threshold_until_unblocked(store: &dyn Store) {
    store
        .create_connection(&connection("con_u", "db-users", vec![]))
        .await
        .unwrap();
    store
        .create_user(&user("1", "ada@example.com", None), None, None)
        .await
        .unwrap();
    for _ in 0..2 {
        assert!(
            !store
                .record_login_failure("auth0|1", "1.1.1.1", 3, 10, 0)
                .await
                .unwrap()
        );
    }
    store
        .clear_login_failures("auth0|1", "1.1.1.1")
        .await
        .unwrap();
    for _ in 0..2 {
        assert!(
            !store
                .record_login_failure("auth0|1", "1.1.1.1", 3, 10, 0)
                .await
                .unwrap()
        );
    }
    assert!(
        store
            .record_login_failure("auth0|1", "1.1.1.1", 3, 10, 0)
            .await
            .unwrap()
    );
    assert!(
        store
            .is_login_blocked("auth0|1", "1.1.1.1", 0)
            .await
            .unwrap()
    );
    assert!(
        !store
            .is_login_blocked("auth0|1", "2.2.2.2", 0)
            .await
            .unwrap(),
        "only that address"
    );
    store
        .clear_login_failures("auth0|1", "1.1.1.1")
        .await
        .unwrap();
    assert!(
        store
            .is_login_blocked("auth0|1", "1.1.1.1", 0)
            .await
            .unwrap(),
        "a block outlives a success elsewhere"
    );
    assert_eq!(store.count_login_blocks("auth0|1", 0).await.unwrap(), 1);
    // The block was imposed at 10: it holds for a window starting at 10, not one at 11.
    assert!(
        !store
            .is_login_blocked("auth0|1", "1.1.1.1", 11)
            .await
            .unwrap()
    );
    assert_eq!(store.count_login_blocks("auth0|1", 11).await.unwrap(), 0);
    // A failure after it ran out starts a new run instead of blocking again at once.
    assert!(
        !store
            .record_login_failure("auth0|1", "1.1.1.1", 3, 20, 11)
            .await
            .unwrap()
    );
    assert!(
        !store
            .is_login_blocked("auth0|1", "1.1.1.1", 0)
            .await
            .unwrap()
    );
    for (i, expected) in [(21, false), (22, true)] {
        assert_eq!(
            store
                .record_login_failure("auth0|1", "1.1.1.1", 3, i, 11)
                .await
                .unwrap(),
            expected
        );
    }
    assert!(
        store
            .is_login_blocked("auth0|1", "1.1.1.1", 11)
            .await
            .unwrap()
    );
    store.unblock_user_logins("auth0|1").await.unwrap();
    assert!(
        !store
            .is_login_blocked("auth0|1", "1.1.1.1", 0)
            .await
            .unwrap()
    );
    assert_eq!(store.count_login_blocks("auth0|1", 0).await.unwrap(), 0);
}

async fn logs_come_back_newest_first(store: &dyn Store) {
    for (i, user) in ["auth0|a", "auth0|b", "auth0|a"].iter().enumerate() {
        let event = LogEvent {
            log_id: format!("log{i}"),
            date: i as i64,
            event_type: "s".into(),
            user_id: Some(user.to_string()),
            details: serde_json::json!({"n": i}),
            ..Default::default()
        };
        store.append_log(&event).await.unwrap();
    }
    let all = store.list_logs(None, 10).await.unwrap();
    assert_eq!(
        all.iter().map(|e| e.log_id.as_str()).collect::<Vec<_>>(),
        ["log2", "log1", "log0"]
    );
    let mine = store.list_logs(Some("auth0|a"), 1).await.unwrap();
    assert_eq!(
        (mine.len(), mine[0].details["n"].clone()),
        (1, serde_json::json!(2))
    );
}

/// A code of user `auth0|1` for client `app`.
fn code(hash: &str, expires_at: i64) -> AuthorizationCode {
    AuthorizationCode {
        code_hash: hash.into(),
        client_id: "app".into(),
        user_id: "auth0|1".into(),
        redirect_uri: "https://app.example/cb".into(),
        scope: vec!["openid".into()],
        audience: None,
        nonce: Some("n".into()),
        code_challenge: Some("c".into()),
        auth_time: 5,
        expires_at,
        scripted: Some(r#"{"id_claims":{"https://x/a":1}}"#.into()),
    }
}

async fn redirected_log_ins_are_taken_once_by_their_browser_before_they_expire(store: &dyn Store) {
    store
        .create_connection(&connection("con_u", "db-users", vec![]))
        .await
        .unwrap();
    store
        .create_user(&user("1", "ada@example.com", None), None, None)
        .await
        .unwrap();
    let waiting = |state: &str, expires_at: i64| LoginRedirect {
        state_hash: state.into(),
        browser_hash: "browser".into(),
        user_id: "auth0|1".into(),
        transaction: r#"{"q":"client_id=app"}"#.into(),
        expires_at,
    };
    store
        .create_login_redirect(&waiting("s1", 100), 10)
        .await
        .unwrap();
    store
        .create_login_redirect(&waiting("s2", 20), 10)
        .await
        .unwrap();
    assert_eq!(
        store.take_login_redirect("s1", "other", 11).await.unwrap(),
        None,
        "another browser's"
    );
    assert_eq!(
        store
            .take_login_redirect("s1", "browser", 11)
            .await
            .unwrap(),
        Some(waiting("s1", 100)),
        "left for its own browser"
    );
    assert_eq!(
        store
            .take_login_redirect("s1", "browser", 11)
            .await
            .unwrap(),
        None,
        "single use"
    );
    assert_eq!(
        store
            .take_login_redirect("s2", "browser", 20)
            .await
            .unwrap(),
        None,
        "expired"
    );
    // The expired go as new ones come.
    store
        .create_login_redirect(&waiting("s3", 200), 30)
        .await
        .unwrap();
    store.delete_user("auth0|1").await.unwrap();
    assert_eq!(
        store
            .take_login_redirect("s3", "browser", 31)
            .await
            .unwrap(),
        None,
        "gone with the user"
    );
}

async fn codes_are_taken_once_and_refresh_tokens_used_once(store: &dyn Store) {
    store
        .create_connection(&connection("con_u", "db-users", vec![]))
        .await
        .unwrap();
    store
        .create_user(&user("1", "ada@example.com", None), None, None)
        .await
        .unwrap();
    store.create_client(&client("app")).await.unwrap();
    let code = code("h1", 65);
    store.create_authorization_code(&code).await.unwrap();
    assert_eq!(
        store.take_authorization_code("h1").await.unwrap(),
        Some(code.clone())
    );
    assert_eq!(
        store.take_authorization_code("h1").await.unwrap(),
        None,
        "single use"
    );

    // Redemption keeps the code, marked, with the family of the tokens issued from it.
    let second = AuthorizationCode {
        code_hash: "h2".into(),
        ..code.clone()
    };
    store.create_authorization_code(&second).await.unwrap();
    assert_eq!(
        store
            .redeem_authorization_code("h2", "fam-h2", 10)
            .await
            .unwrap(),
        CodeRedemption::Redeemed(second.clone())
    );
    assert!(!store.authorization_code_replayed("h2").await.unwrap());
    assert_eq!(
        store
            .redeem_authorization_code("h2", "other", 11)
            .await
            .unwrap(),
        CodeRedemption::Replayed {
            refresh_family: Some("fam-h2".into())
        }
    );
    assert!(store.authorization_code_replayed("h2").await.unwrap());
    assert!(!store.authorization_code_replayed("nope").await.unwrap());
    assert_eq!(
        store.take_authorization_code("h2").await.unwrap(),
        None,
        "a redeemed code cannot be taken either"
    );
    assert_eq!(
        store
            .redeem_authorization_code("nope", "f", 12)
            .await
            .unwrap(),
        CodeRedemption::Unknown
    );
    // Once expired, redeemed codes are cleared.
    assert_eq!(
        store
            .redeem_authorization_code("h2", "f", 65)
            .await
            .unwrap(),
        CodeRedemption::Unknown
    );

    let token = |hash: &str| RefreshToken {
        token_hash: hash.into(),
        family_id: "fam".into(),
        client_id: "app".into(),
        user_id: "auth0|1".into(),
        audience: Some("urn:api".into()),
        scope: vec!["offline_access".into()],
        auth_time: 5,
        created_at: 5,
        family_expires_at: Some(100),
        idle_expires_at: None,
        rotating: true,
        used_at: None,
        revoked: false,
        mfa: false,
    };
    store.create_refresh_token(&token("r1")).await.unwrap();
    store.create_refresh_token(&token("r2")).await.unwrap();
    assert!(store.use_refresh_token("r1", 7).await.unwrap());
    assert!(
        !store.use_refresh_token("r1", 8).await.unwrap(),
        "used once"
    );
    assert_eq!(
        store
            .find_refresh_token("r1")
            .await
            .unwrap()
            .unwrap()
            .used_at,
        Some(7)
    );
    store.revoke_refresh_family("fam").await.unwrap();
    assert!(
        !store.use_refresh_token("r2", 9).await.unwrap(),
        "the family is revoked"
    );
    assert!(
        store
            .find_refresh_token("r2")
            .await
            .unwrap()
            .unwrap()
            .revoked
    );

    let mut session = Session {
        id_hash: "s1".into(),
        user_id: "auth0|1".into(),
        auth_time: 5,
        expires_at: 50,
        methods: vec![AuthMethod {
            name: "pwd".into(),
            timestamp: 5,
        }],
    };
    store.create_session(&session).await.unwrap();
    assert_eq!(
        store.find_session("s1").await.unwrap(),
        Some(session.clone())
    );
    // A second factor is added once; a later pass replaces its time.
    for at in [7, 9] {
        let mfa = AuthMethod {
            name: "mfa".into(),
            timestamp: at,
        };
        store.add_session_method("s1", &mfa).await.unwrap();
    }
    session.methods.push(AuthMethod {
        name: "mfa".into(),
        timestamp: 9,
    });
    assert_eq!(store.find_session("s1").await.unwrap(), Some(session));
    let unknown = AuthMethod {
        name: "mfa".into(),
        timestamp: 9,
    };
    assert!(matches!(
        store.add_session_method("nope", &unknown).await,
        Err(StoreError::NotFound)
    ));
    store.delete_session("s1").await.unwrap();
    assert_eq!(store.find_session("s1").await.unwrap(), None);
}

fn refresh(hash: &str, family: &str, user_id: &str, created_at: i64) -> RefreshToken {
    RefreshToken {
        token_hash: hash.into(),
        family_id: family.into(),
        client_id: "app".into(),
        user_id: user_id.into(),
        audience: Some("urn:api".into()),
        scope: vec!["offline_access".into()],
        auth_time: 5,
        created_at,
        family_expires_at: Some(100),
        idle_expires_at: None,
        rotating: true,
        used_at: None,
        revoked: false,
        mfa: false,
    }
}

fn session(id_hash: &str, user_id: &str, auth_time: i64, expires_at: i64) -> Session {
    Session {
        id_hash: id_hash.into(),
        user_id: user_id.into(),
        auth_time,
        expires_at,
        methods: vec![],
    }
}

/// Two users, each with sessions, refresh-token families and a reset link.
async fn two_users_signed_in(store: &dyn Store) {
    store
        .create_connection(&connection("con_u", "db-users", vec![]))
        .await
        .unwrap();
    store.create_client(&client("app")).await.unwrap();
    for (id, email) in [("1", "ada@example.com"), ("2", "bob@example.com")] {
        store
            .create_user(&user(id, email, None), Some("old-hash"), None)
            .await
            .unwrap();
        let user_id = format!("auth0|{id}");
        store
            .create_session(&session(&format!("s{id}a"), &user_id, 5, 50))
            .await
            .unwrap();
        store
            .create_session(&session(&format!("s{id}b"), &user_id, 6, 50))
            .await
            .unwrap();
        store
            .create_refresh_token(&refresh(
                &format!("r{id}a"),
                &format!("fam{id}a"),
                &user_id,
                5,
            ))
            .await
            .unwrap();
        store
            .create_refresh_token(&refresh(
                &format!("r{id}b"),
                &format!("fam{id}b"),
                &user_id,
                5,
            ))
            .await
            .unwrap();
        store
            .create_ticket(&Ticket {
                ticket_hash: format!("t{id}"),
                kind: TicketKind::ResetPassword,
                user_id: user_id.clone(),
                client_id: None,
                expires_at: 100,
            })
            .await
            .unwrap();
    }
}

async fn a_users_sessions_and_refresh_tokens_are_listed_and_ended(store: &dyn Store) {
    two_users_signed_in(store).await;
    // One family rotated once: only its newest member counts; an expired session does not.
    assert!(store.use_refresh_token("r1a", 7).await.unwrap());
    store
        .create_refresh_token(&refresh("r1a2", "fam1a", "auth0|1", 7))
        .await
        .unwrap();
    store
        .create_session(&session("s1old", "auth0|1", 1, 4))
        .await
        .unwrap();

    let sessions = store
        .list_user_sessions("auth0|1", 10, PageRequest::ALL)
        .await
        .unwrap();
    assert_eq!(sessions.total, 2);
    let ids: Vec<&str> = sessions.items.iter().map(|s| s.id_hash.as_str()).collect();
    assert_eq!(ids, ["s1a", "s1b"], "oldest first");
    let second = store
        .list_user_sessions(
            "auth0|1",
            10,
            PageRequest {
                offset: 1,
                limit: 1,
            },
        )
        .await
        .unwrap();
    assert_eq!((second.total, second.items[0].id_hash.as_str()), (2, "s1b"));

    let tokens = store
        .list_user_refresh_tokens("auth0|1", 10, PageRequest::ALL)
        .await
        .unwrap();
    let live: Vec<(&str, &str)> = tokens
        .items
        .iter()
        .map(|t| (t.family_id.as_str(), t.token_hash.as_str()))
        .collect();
    assert_eq!(live, [("fam1a", "r1a2"), ("fam1b", "r1b")]);
    assert_eq!(tokens.total, 2);
    assert_eq!(
        store
            .list_user_refresh_tokens("auth0|1", 100, PageRequest::ALL)
            .await
            .unwrap()
            .total,
        0,
        "expired"
    );

    assert_eq!(
        store
            .revoke_user_refresh_tokens("auth0|1", 10)
            .await
            .unwrap(),
        2
    );
    assert!(!store.use_refresh_token("r1a2", 11).await.unwrap());
    assert!(!store.use_refresh_token("r1b", 11).await.unwrap());
    assert_eq!(store.delete_user_sessions("auth0|1").await.unwrap(), 3);
    assert_eq!(store.find_session("s1a").await.unwrap(), None);

    // The other user keeps everything.
    assert!(store.find_session("s2a").await.unwrap().is_some());
    assert!(store.use_refresh_token("r2a", 11).await.unwrap());
}

async fn a_new_password_ends_what_the_old_one_opened(store: &dyn Store) {
    two_users_signed_in(store).await;
    store
        .create_ticket(&Ticket {
            ticket_hash: "v1".into(),
            kind: TicketKind::VerifyEmail,
            user_id: "auth0|1".into(),
            client_id: None,
            expires_at: 100,
        })
        .await
        .unwrap();
    store
        .create_authorization_code(&AuthorizationCode {
            code_hash: "c1".into(),
            client_id: "app".into(),
            user_id: "auth0|1".into(),
            redirect_uri: "https://app.example/cb".into(),
            scope: vec!["openid".into()],
            audience: None,
            nonce: None,
            code_challenge: None,
            auth_time: 5,
            expires_at: 65,
            scripted: None,
        })
        .await
        .unwrap();
    let new = NewPassword {
        hash: "new-hash".into(),
        end_sessions: true,
    };
    store.reset_password("auth0|1", &new, 9).await.unwrap();
    assert_eq!(
        store
            .find_password_hash("auth0|1")
            .await
            .unwrap()
            .as_deref(),
        Some("new-hash")
    );
    assert_eq!(store.find_session("s1a").await.unwrap(), None);
    assert_eq!(store.find_session("s1b").await.unwrap(), None);
    assert!(!store.use_refresh_token("r1a", 10).await.unwrap());
    assert!(
        store
            .find_refresh_token("r1b")
            .await
            .unwrap()
            .unwrap()
            .revoked
    );
    assert_eq!(
        store.find_ticket("t1").await.unwrap(),
        None,
        "reset links go"
    );
    assert!(
        store.find_ticket("v1").await.unwrap().is_some(),
        "verification links stay"
    );
    assert_eq!(store.take_authorization_code("c1").await.unwrap(), None);
    // Nothing of the other user's.
    assert!(store.find_session("s2a").await.unwrap().is_some());
    assert!(store.find_ticket("t2").await.unwrap().is_some());

    // An administrator's change (update_user) does the same; a server that keeps sessions
    // still loses the reset links.
    let mut bob = store.find_user("auth0|2").await.unwrap().unwrap();
    bob.name = Some("Bob".into());
    let kept = NewPassword {
        hash: "bob-new".into(),
        end_sessions: false,
    };
    store.update_user(&bob, Some(&kept)).await.unwrap();
    assert!(store.find_session("s2a").await.unwrap().is_some());
    assert!(store.use_refresh_token("r2a", 10).await.unwrap());
    assert_eq!(store.find_ticket("t2").await.unwrap(), None);
    let ended = NewPassword {
        hash: "bob-newer".into(),
        end_sessions: true,
    };
    store.update_user(&bob, Some(&ended)).await.unwrap();
    assert_eq!(store.find_session("s2a").await.unwrap(), None);
    assert!(!store.use_refresh_token("r2b", 10).await.unwrap());
    // No password, nothing ended: a session made now survives an edit of the name.
    store
        .create_session(&session("s2c", "auth0|2", 9, 50))
        .await
        .unwrap();
    store.update_user(&bob, None).await.unwrap();
    assert!(store.find_session("s2c").await.unwrap().is_some());
}

async fn roles_are_found_by_either_id_and_named_once_per_application(store: &dyn Store) {
    let role = |id: &str, name: &str, app: Option<&str>| Role {
        id: id.into(),
        guid: format!("guid-{id}"),
        name: name.into(),
        description: String::new(),
        application_id: app.map(str::to_string),
        application_type: app.map(|_| "client".to_string()),
        created_at: 1,
    };
    store
        .create_role(&role("rol_1", "Admin", None))
        .await
        .unwrap();
    assert!(matches!(
        store.create_role(&role("rol_2", "ADMIN", None)).await,
        Err(StoreError::Conflict(_))
    ));
    store
        .create_role(&role("rol_3", "admin", Some("app")))
        .await
        .unwrap();
    assert_eq!(
        store.find_role("guid-rol_3").await.unwrap(),
        Some(role("rol_3", "admin", Some("app")))
    );
    assert_eq!(
        store
            .list_roles(Some("adm"), PageRequest::ALL)
            .await
            .unwrap()
            .total,
        2
    );

    store
        .create_resource_server(&api("rs1", "urn:api"))
        .await
        .unwrap();
    let read = Permission {
        resource_server_identifier: "urn:api".into(),
        permission_name: "read:x".into(),
    };
    store
        .add_role_permissions("rol_1", &[read.clone(), read.clone()])
        .await
        .unwrap();
    assert_eq!(
        store
            .list_role_permissions("rol_1", PageRequest::ALL)
            .await
            .unwrap()
            .items,
        vec![read.clone()]
    );
    let ghost = Permission {
        resource_server_identifier: "urn:ghost".into(),
        permission_name: "x".into(),
    };
    assert!(
        store
            .add_role_permissions("rol_3", &[read.clone(), ghost])
            .await
            .is_err()
    );
    assert_eq!(
        store
            .list_role_permissions("rol_3", PageRequest::ALL)
            .await
            .unwrap()
            .total,
        0,
        "all or nothing"
    );
    assert!(store.delete_role("rol_1").await.unwrap());
    assert_eq!(
        store
            .list_role_permissions("rol_1", PageRequest::ALL)
            .await
            .unwrap()
            .total,
        0
    );
}

fn group(id: &str, name: &str) -> Group {
    Group {
        id: id.into(),
        guid: format!("guid-{id}"),
        name: name.into(),
        description: format!("{name} group"),
        created_at: 1,
    }
}

fn bound_role(id: &str, name: &str, app: &str) -> Role {
    Role {
        id: id.into(),
        guid: format!("guid-{id}"),
        name: name.into(),
        description: String::new(),
        application_id: Some(app.into()),
        application_type: Some("client".into()),
        created_at: 1,
    }
}

fn permission(guid: &str, name: &str, app: &str) -> ExtensionPermission {
    ExtensionPermission {
        guid: guid.into(),
        name: name.into(),
        description: String::new(),
        application_type: "client".into(),
        application_id: app.into(),
        created_at: 1,
    }
}

fn names_of(groups: &[Group]) -> Vec<&str> {
    groups.iter().map(|g| g.name.as_str()).collect()
}

async fn groups_nest_without_cycles_and_restrict_deleting_what_is_used(store: &dyn Store) {
    for (id, name) in [("grp_a", "A"), ("grp_b", "B"), ("grp_c", "C")] {
        store.create_group(&group(id, name)).await.unwrap();
    }
    assert!(matches!(
        store.create_group(&group("grp_x", "a")).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.find_group("guid-grp_b").await.unwrap().unwrap().id,
        "grp_b"
    );

    store
        .add_nested_groups("grp_a", &["grp_b".into()])
        .await
        .unwrap();
    store
        .add_nested_groups("grp_b", &["grp_c".into()])
        .await
        .unwrap();
    match store.add_nested_groups("grp_c", &["grp_a".into()]).await {
        Err(StoreError::Conflict(message)) => assert!(
            message.contains("\"A\"") && message.contains("\"C\""),
            "{message}"
        ),
        other => panic!("a cycle must be refused: {other:?}"),
    }
    assert_eq!(
        names_of(&store.list_nested_groups("grp_c").await.unwrap()),
        Vec::<&str>::new(),
        "nothing written"
    );
    let nested_in_a = store.delete_group("grp_b").await;
    assert!(
        matches!(nested_in_a, Err(StoreError::Conflict(_))),
        "nested in A: {nested_in_a:?}"
    );
    assert_eq!(
        names_of(&store.group_parents("grp_b").await.unwrap()),
        ["A"]
    );

    store
        .create_connection(&connection("con_u", "db-users", vec![]))
        .await
        .unwrap();
    store
        .create_user(&user("u1", "u1@example.com", None), None, None)
        .await
        .unwrap();
    let added = store
        .add_group_members("grp_c", &["auth0|u1".into(), "auth0|ghost".into()])
        .await
        .unwrap();
    assert_eq!(added, ["auth0|u1"], "unknown users are skipped");
    assert_eq!(
        names_of(&store.user_groups_with_ancestors("auth0|u1").await.unwrap()),
        ["A", "B", "C"]
    );
    let nested = store
        .list_nested_group_members("grp_a", PageRequest::ALL)
        .await
        .unwrap();
    assert_eq!(
        (nested.total, nested.items[0].group.name.as_str()),
        (1, "C")
    );

    store
        .create_role(&bound_role("rol_r", "Reader", "app"))
        .await
        .unwrap();
    store
        .add_group_roles("grp_a", &["rol_r".into()])
        .await
        .unwrap();
    assert!(matches!(
        store.delete_role("rol_r").await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        names_of(&store.groups_using_role("rol_r").await.unwrap()),
        ["A"]
    );
    let granted = store.roles_of_group_and_ancestors("grp_c").await.unwrap();
    assert_eq!(
        (
            granted[0].role.name.as_str(),
            granted[0].group.name.as_str()
        ),
        ("Reader", "A")
    );
    assert_eq!(
        store.calculated_user_roles("auth0|u1").await.unwrap()[0].name,
        "Reader"
    );

    store
        .create_permission(&permission("p1", "read", "app"))
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_permission(&permission("p2", "READ", "app"))
            .await,
        Err(StoreError::Conflict(_))
    ));
    store
        .update_extension_role(&bound_role("rol_r", "Reader", "app"), &["p1".into()])
        .await
        .unwrap();
    assert!(matches!(
        store.delete_permission("p1").await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .update_permission(&permission("p1", "write", "app"))
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.roles_using_permission("p1").await.unwrap()[0].name,
        "Reader"
    );

    store
        .remove_nested_groups("grp_a", &["grp_b".into()])
        .await
        .unwrap();
    assert!(store.delete_group("grp_b").await.unwrap());
    assert_eq!(store.list_groups(PageRequest::ALL).await.unwrap().total, 2);
}

async fn policy_follows_groups_mappings_and_the_application(store: &dyn Store) {
    store
        .create_connection(&connection("con_u", "db-users", vec![]))
        .await
        .unwrap();
    store
        .create_user(&user("u1", "u1@example.com", None), None, None)
        .await
        .unwrap();
    for (id, name) in [
        ("grp_p", "Parent"),
        ("grp_c", "Child"),
        ("grp_m", "Mapped"),
        ("grp_i", "Idp"),
    ] {
        store.create_group(&group(id, name)).await.unwrap();
    }
    store
        .add_nested_groups("grp_p", &["grp_c".into()])
        .await
        .unwrap();
    store
        .add_group_members("grp_c", &["auth0|u1".into()])
        .await
        .unwrap();
    let mapping = |id: &str, name: &str| GroupMapping {
        id: id.into(),
        group_name: name.into(),
        connection_name: "db-users".into(),
    };
    store
        .add_group_mappings("grp_m", &[mapping("m1", "Child")])
        .await
        .unwrap();
    store
        .add_group_mappings("grp_i", &[mapping("m2", "ad-group")])
        .await
        .unwrap();
    store
        .create_permission(&permission("p1", "approve", "app"))
        .await
        .unwrap();
    store
        .create_permission(&permission("p2", "other", "app2"))
        .await
        .unwrap();
    store
        .create_extension_role(&bound_role("rol_a", "Approver", "app"), &["p1".into()])
        .await
        .unwrap();
    store
        .create_extension_role(&bound_role("rol_o", "Other", "app2"), &["p2".into()])
        .await
        .unwrap();
    store
        .add_group_roles("grp_p", &["rol_a".into(), "rol_o".into()])
        .await
        .unwrap();

    let policy = store
        .policy("auth0|u1", "app", "db-users", &["ad-group".into()])
        .await
        .unwrap();
    assert_eq!(policy.groups, ["Child", "Idp", "Mapped", "Parent"]);
    assert_eq!(
        (policy.roles, policy.permissions),
        (vec!["Approver".to_string()], vec!["approve".to_string()])
    );
    let other = store
        .policy("auth0|u1", "app2", "elsewhere", &[])
        .await
        .unwrap();
    assert_eq!(other.groups, ["Child", "Parent"]);
    assert_eq!(
        (other.roles, other.permissions),
        (vec!["Other".to_string()], vec!["other".to_string()])
    );
    assert_eq!(
        store
            .policy("auth0|nobody", "app", "db-users", &[])
            .await
            .unwrap(),
        Policy::default()
    );
}

async fn import_replaces_extension_data_in_one_transaction(store: &dyn Store) {
    store
        .create_connection(&connection("con_u", "db-users", vec![]))
        .await
        .unwrap();
    store
        .create_user(&user("u1", "u1@example.com", None), None, None)
        .await
        .unwrap();
    store.create_group(&group("grp_old", "Old")).await.unwrap();
    store
        .create_role(&bound_role("rol_old", "Old role", "app"))
        .await
        .unwrap();
    store
        .create_role(&Role {
            application_id: None,
            application_type: None,
            ..bound_role("rol_mgmt", "Management role", "")
        })
        .await
        .unwrap();
    let record = |g: Group, members: &[&str], nested: &[&str]| GroupRecord {
        group: g,
        members: members.iter().map(|s| s.to_string()).collect(),
        roles: vec!["guid-rol_new".into()],
        nested: nested.iter().map(|s| s.to_string()).collect(),
        mappings: vec![],
    };
    let data = ExtensionData {
        settings: Some(
            serde_json::json!({"groupsInToken": true})
                .as_object()
                .unwrap()
                .clone(),
        ),
        groups: vec![
            record(
                group("grp_1", "One"),
                &["auth0|u1", "auth0|ghost"],
                &["guid-grp_2"],
            ),
            record(group("grp_2", "Two"), &[], &[]),
        ],
        roles: vec![RoleRecord {
            role: bound_role("rol_new", "New role", "app"),
            permissions: vec!["p1".into()],
            users: vec!["auth0|u1".into(), "auth0|ghost".into()],
        }],
        permissions: vec![permission("p1", "approve", "app")],
    };
    store.replace_extension_data(&data, 5).await.unwrap();
    let groups = store.group_records().await.unwrap();
    assert_eq!(
        groups
            .iter()
            .map(|r| r.group.name.as_str())
            .collect::<Vec<_>>(),
        ["One", "Two"]
    );
    assert_eq!(
        (groups[0].members.clone(), groups[0].nested.clone()),
        (vec!["auth0|u1".to_string()], vec!["guid-grp_2".to_string()])
    );
    let roles = store.role_records().await.unwrap();
    let names: Vec<&str> = roles.iter().map(|r| r.role.name.as_str()).collect();
    assert_eq!(
        names,
        ["Management role", "New role"],
        "bound roles replaced, unbound kept"
    );
    assert_eq!(
        (roles[1].permissions.clone(), roles[1].users.clone()),
        (vec!["p1".to_string()], vec!["auth0|u1".to_string()])
    );
    assert_eq!(
        store.configuration().await.unwrap().unwrap().settings["groupsInToken"],
        true
    );

    let mut cyclic = data.clone();
    cyclic.groups[1].nested = vec!["guid-grp_1".into()];
    cyclic.permissions.clear();
    assert!(matches!(
        store.replace_extension_data(&cyclic, 6).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.list_permissions().await.unwrap().len(),
        1,
        "the failed import changed nothing"
    );
}

/// Effective permissions are kept between calls; every kind of change must show at once.
async fn effective_permissions_follow_every_kind_of_change(store: &dyn Store) {
    const API: &str = "https://effective.example/";
    store
        .create_resource_server(&api("api_eff", API))
        .await
        .unwrap();
    store
        .create_connection(&connection("con_e", "db-effective", vec![]))
        .await
        .unwrap();
    let mut u = user("e1", "e1@example.com", None);
    u.connection = "db-effective".into();
    store.create_user(&u, None, None).await.unwrap();
    let reader = bound_role("rol_effreader0000", "reader", "");
    let reader = Role {
        application_id: None,
        application_type: None,
        ..reader
    };
    store.create_role(&reader).await.unwrap();
    let read = Permission {
        resource_server_identifier: API.into(),
        permission_name: "read:x".into(),
    };
    store
        .add_role_permissions(&reader.id, std::slice::from_ref(&read))
        .await
        .unwrap();
    for (id, name) in [
        ("grp_eparent", "Parent"),
        ("grp_echild", "Child"),
        ("grp_emapped", "Mapped"),
    ] {
        store.create_group(&group(id, name)).await.unwrap();
    }
    let held = || async {
        let first = store.effective_permissions("auth0|e1", API).await.unwrap();
        let again = store.effective_permissions("auth0|e1", API).await.unwrap();
        assert_eq!(first, again, "a second read gives the same answer");
        first
    };
    let ids = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    assert!(held().await.is_empty());
    store
        .add_group_roles("grp_eparent", &ids(&[&reader.id]))
        .await
        .unwrap();
    store
        .add_group_members("grp_echild", &ids(&["auth0|e1"]))
        .await
        .unwrap();
    assert!(held().await.is_empty(), "Child is not nested yet");
    store
        .add_nested_groups("grp_eparent", &ids(&["grp_echild"]))
        .await
        .unwrap();
    assert_eq!(held().await, ["read:x"], "through nesting");
    store
        .remove_nested_groups("grp_eparent", &ids(&["grp_echild"]))
        .await
        .unwrap();
    assert!(held().await.is_empty(), "nesting removed");
    store
        .add_nested_groups("grp_eparent", &ids(&["grp_emapped"]))
        .await
        .unwrap();
    store
        .remove_group_roles("grp_eparent", &ids(&[&reader.id]))
        .await
        .unwrap();
    store
        .assign_user_roles("auth0|e1", &ids(&[&reader.id]))
        .await
        .unwrap();
    assert_eq!(held().await, ["read:x"], "directly");
    store
        .remove_role_permissions(&reader.id, std::slice::from_ref(&read))
        .await
        .unwrap();
    assert!(held().await.is_empty(), "permission taken from the role");
    store
        .add_role_permissions(&reader.id, std::slice::from_ref(&read))
        .await
        .unwrap();
    assert_eq!(held().await, ["read:x"]);
    store
        .remove_user_roles("auth0|e1", &ids(&[&reader.id]))
        .await
        .unwrap();
    assert!(held().await.is_empty(), "role removed");
    store
        .add_user_permissions("auth0|e1", std::slice::from_ref(&read))
        .await
        .unwrap();
    assert_eq!(held().await, ["read:x"], "given directly");
    assert!(store.delete_resource_server("api_eff").await.unwrap());
    assert!(held().await.is_empty(), "the API is gone");
}

/// What a group's roles grant is kept apart from each user's permissions; both must follow
/// changes to the group's roles, and another user's changes must not disturb them.
async fn what_a_group_grants_follows_its_roles(store: &dyn Store) {
    const API: &str = "https://grants.example/";
    store
        .create_resource_server(&api("api_grants", API))
        .await
        .unwrap();
    store
        .create_connection(&connection("con_g", "db-grants", vec![]))
        .await
        .unwrap();
    for id in ["g1", "g2"] {
        let mut u = user(id, &format!("{id}@example.com"), None);
        u.connection = "db-grants".into();
        store.create_user(&u, None, None).await.unwrap();
    }
    let role = Role {
        application_id: None,
        application_type: None,
        ..bound_role("rol_grantsrole000", "granting", "")
    };
    store.create_role(&role).await.unwrap();
    let perm = |name: &str| Permission {
        resource_server_identifier: API.into(),
        permission_name: name.into(),
    };
    store
        .add_role_permissions(&role.id, &[perm("read:x")])
        .await
        .unwrap();
    store
        .create_group(&group("grp_grants", "Grants"))
        .await
        .unwrap();
    store
        .add_group_roles("grp_grants", std::slice::from_ref(&role.id))
        .await
        .unwrap();
    store
        .add_group_members("grp_grants", &["auth0|g1".into()])
        .await
        .unwrap();
    let held =
        |user: &'static str| async move { store.effective_permissions(user, API).await.unwrap() };

    assert_eq!(held("auth0|g1").await, ["read:x"]);
    store
        .add_group_members("grp_grants", &["auth0|g2".into()])
        .await
        .unwrap();
    assert_eq!(
        held("auth0|g2").await,
        ["read:x"],
        "a second member, from the kept group grant"
    );
    assert_eq!(held("auth0|g1").await, ["read:x"]);
    store
        .remove_role_permissions(&role.id, &[perm("read:x")])
        .await
        .unwrap();
    store
        .add_role_permissions(&role.id, &[perm("write:x")])
        .await
        .unwrap();
    assert_eq!(held("auth0|g1").await, ["write:x"], "the role changed");
    assert_eq!(held("auth0|g2").await, ["write:x"]);
    store
        .remove_group_members("grp_grants", &["auth0|g1".into()])
        .await
        .unwrap();
    assert!(held("auth0|g1").await.is_empty(), "no longer a member");
    assert_eq!(held("auth0|g2").await, ["write:x"]);
    store
        .remove_group_roles("grp_grants", std::slice::from_ref(&role.id))
        .await
        .unwrap();
    assert!(held("auth0|g2").await.is_empty(), "the group lost the role");
}

fn action(id: &str, name: &str, trigger: Trigger) -> Action {
    Action {
        id: id.into(),
        name: name.into(),
        trigger,
        code: format!("exports.run = () => '{name}';"),
        runtime: "node22".into(),
        secrets: vec![ActionSecret {
            name: "API_KEY".into(),
            sealed_value: format!("sealed-{id}"),
            updated_at: 5,
        }],
        all_changes_deployed: false,
        deployed: None,
        created_at: 10,
        updated_at: 10,
    }
}

fn version_of(a: &Action, id: &str) -> ActionVersion {
    ActionVersion {
        id: id.into(),
        action_id: a.id.clone(),
        number: 0,
        code: a.code.clone(),
        runtime: a.runtime.clone(),
        secrets: a.secrets.clone(),
        created_at: 20,
    }
}

async fn actions_round_trip_filter_and_deploy(store: &dyn Store) {
    let login = action("act-1", "b login", Trigger::PostLogin);
    let signup = action("act-2", "a signup", Trigger::PostUserRegistration);
    store.create_action(&login).await.unwrap();
    store.create_action(&signup).await.unwrap();
    assert!(matches!(
        store
            .create_action(&action("act-3", "b login", Trigger::PostLogin))
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.find_action("act-1").await.unwrap().unwrap(), login);
    assert_eq!(
        store
            .find_action_by_name("a signup")
            .await
            .unwrap()
            .unwrap(),
        signup
    );
    assert!(store.find_action("act-3").await.unwrap().is_none());

    let names = |filter: ActionFilter| async move {
        let page = store.list_actions(&filter, PageRequest::ALL).await.unwrap();
        let names: Vec<String> = page.items.into_iter().map(|a| a.name).collect();
        (names, page.total)
    };
    assert_eq!(
        names(ActionFilter::default()).await,
        (vec!["a signup".to_string(), "b login".to_string()], 2),
        "sorted by name"
    );
    let login_only = ActionFilter {
        trigger: Some(Trigger::PostLogin),
        ..Default::default()
    };
    assert_eq!(names(login_only).await, (vec!["b login".to_string()], 1));
    let by_name = ActionFilter {
        name: Some("a signup".into()),
        ..Default::default()
    };
    assert_eq!(names(by_name).await.1, 1);
    let deployed = ActionFilter {
        deployed: Some(true),
        ..Default::default()
    };
    assert_eq!(names(deployed.clone()).await.1, 0);
    let page = store
        .list_actions(
            &ActionFilter::default(),
            PageRequest {
                offset: 1,
                limit: 1,
            },
        )
        .await
        .unwrap();
    assert_eq!((page.items[0].name.as_str(), page.total), ("b login", 2));

    let first = store
        .deploy_action(&version_of(&login, "ver-1"))
        .await
        .unwrap();
    assert_eq!(first.number, 1);
    let found = store.find_action("act-1").await.unwrap().unwrap();
    assert!(found.all_changes_deployed);
    assert_eq!(found.deployed, Some(first.clone()));
    assert_eq!(names(deployed).await, (vec!["b login".to_string()], 1));
    let never = ActionFilter {
        deployed: Some(false),
        ..Default::default()
    };
    assert_eq!(names(never).await, (vec!["a signup".to_string()], 1));

    // The draft changes; the deployed version stays until the next deployment.
    let mut edited = found.clone();
    edited.code = "exports.run = () => 'v2';".into();
    edited.all_changes_deployed = false;
    edited.updated_at = 30;
    store.update_action(&edited).await.unwrap();
    let found = store.find_action("act-1").await.unwrap().unwrap();
    assert_eq!(
        (found.code.as_str(), found.all_changes_deployed),
        ("exports.run = () => 'v2';", false)
    );
    assert_eq!(found.deployed.as_ref().unwrap().code, login.code);

    // A snapshot that is not the draft any more (edited meanwhile) leaves changes undeployed.
    let stale = store
        .deploy_action(&version_of(&login, "ver-2"))
        .await
        .unwrap();
    assert_eq!(stale.number, 2);
    assert!(
        !store
            .find_action("act-1")
            .await
            .unwrap()
            .unwrap()
            .all_changes_deployed
    );
    let second = store
        .deploy_action(&version_of(&edited, "ver-3"))
        .await
        .unwrap();
    assert_eq!(second.number, 3);
    let found = store.find_action("act-1").await.unwrap().unwrap();
    assert!(found.all_changes_deployed);
    assert_eq!(found.deployed, Some(second));
    assert!(matches!(
        store
            .deploy_action(&version_of(
                &action("gone", "gone", Trigger::PostLogin),
                "ver-4"
            ))
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(
        matches!(
            store.deploy_action(&version_of(&login, "ver-1")).await,
            Err(StoreError::Conflict(_))
        ),
        "version ids are unique"
    );

    let mut renamed = signup.clone();
    renamed.name = "b login".into();
    assert!(matches!(
        store.update_action(&renamed).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .update_action(&action("gone", "gone", Trigger::PostLogin))
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(store.delete_action("act-1", false).await.unwrap());
    assert!(!store.delete_action("act-1", false).await.unwrap());
    assert!(store.find_action("act-1").await.unwrap().is_none());
    assert_eq!(names(ActionFilter::default()).await.1, 1);
}

async fn action_bindings_replace_in_order_and_hold_bound_actions(store: &dyn Store) {
    let one = action("bind-1", "one", Trigger::PostLogin);
    let two = action("bind-2", "two", Trigger::PostLogin);
    let draft = action("bind-3", "draft only", Trigger::PostLogin);
    let signup = action("bind-4", "signup", Trigger::PostUserRegistration);
    for a in [&one, &two, &draft, &signup] {
        store.create_action(a).await.unwrap();
    }
    for (a, v) in [(&one, "bv-1"), (&two, "bv-2"), (&signup, "bv-4")] {
        store.deploy_action(&version_of(a, v)).await.unwrap();
    }
    let binding = |id: &str, a: &Action| ActionBinding {
        id: id.into(),
        trigger: Trigger::PostLogin,
        action_id: a.id.clone(),
        display_name: format!("{} shown", a.name),
        created_at: 40,
        updated_at: 40,
    };
    store
        .replace_action_bindings(
            Trigger::PostLogin,
            &[binding("b-1", &two), binding("b-2", &one)],
        )
        .await
        .unwrap();
    let listed = store
        .list_action_bindings(Trigger::PostLogin)
        .await
        .unwrap();
    assert_eq!(listed, [binding("b-1", &two), binding("b-2", &one)]);
    assert!(
        store
            .list_action_bindings(Trigger::PostUserRegistration)
            .await
            .unwrap()
            .is_empty()
    );

    // Each refusal changes nothing.
    for (why, list) in [
        (
            "never deployed",
            vec![binding("b-3", &one), binding("b-4", &draft)],
        ),
        ("another trigger", vec![binding("b-3", &signup)]),
        ("twice", vec![binding("b-3", &one), binding("b-4", &one)]),
        (
            "unknown",
            vec![binding("b-3", &action("nope", "nope", Trigger::PostLogin))],
        ),
    ] {
        let refused = store
            .replace_action_bindings(Trigger::PostLogin, &list)
            .await;
        assert!(
            matches!(refused, Err(StoreError::Conflict(_))),
            "{why}: {refused:?}"
        );
        assert_eq!(
            store
                .list_action_bindings(Trigger::PostLogin)
                .await
                .unwrap(),
            listed,
            "{why}"
        );
    }

    // What runs is the deployed snapshot, never the draft.
    let mut edited = one.clone();
    edited.code = "exports.run = () => 'draft';".into();
    edited.secrets = vec![];
    store.update_action(&edited).await.unwrap();
    let bound = store.bound_actions(Trigger::PostLogin).await.unwrap();
    assert_eq!(
        bound,
        [
            DeployedAction {
                id: two.id.clone(),
                name: two.name.clone(),
                code: two.code.clone(),
                secrets: vec![("API_KEY".into(), "sealed-bind-2".into())],
            },
            DeployedAction {
                id: one.id.clone(),
                name: one.name.clone(),
                code: one.code.clone(),
                secrets: vec![("API_KEY".into(), "sealed-bind-1".into())],
            },
        ]
    );
    assert!(
        store
            .bound_actions(Trigger::PostUserRegistration)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.action_triggers_bound(&one.id).await.unwrap(),
        [Trigger::PostLogin]
    );
    assert!(
        store
            .action_triggers_bound(&draft.id)
            .await
            .unwrap()
            .is_empty()
    );

    // A bound action is kept unless forced; forcing unbinds it.
    assert!(matches!(
        store.delete_action(&one.id, false).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(store.find_action(&one.id).await.unwrap().is_some());
    assert!(store.delete_action(&one.id, true).await.unwrap());
    assert_eq!(
        store
            .list_action_bindings(Trigger::PostLogin)
            .await
            .unwrap(),
        [binding("b-1", &two)]
    );
    assert!(store.delete_action(&draft.id, false).await.unwrap());

    // An empty list unbinds everything.
    store
        .replace_action_bindings(Trigger::PostLogin, &[])
        .await
        .unwrap();
    assert!(
        store
            .bound_actions(Trigger::PostLogin)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.delete_action(&two.id, false).await.unwrap());
}

async fn script_generation_moves_with_what_log_ins_run(store: &dyn Store) {
    let mut seen = store.script_generation().await.unwrap();
    let mut moved = |now: i64, what: &str| {
        assert!(now > seen, "{what} did not move the script generation");
        seen = now;
    };
    let mut rule = Rule {
        id: "rul_generation0001".into(),
        name: "r".into(),
        script: "function (u, c, cb) { cb(null, u, c); }".into(),
        order: 1,
        enabled: true,
        stage: "login_success".into(),
        created_at: 1,
        updated_at: 1,
    };
    store.create_rule(&rule).await.unwrap();
    moved(store.script_generation().await.unwrap(), "creating a rule");
    rule.enabled = false;
    store.update_rule(&rule).await.unwrap();
    moved(store.script_generation().await.unwrap(), "disabling a rule");
    store.set_rules_config("K", "sealed", 2).await.unwrap();
    moved(
        store.script_generation().await.unwrap(),
        "setting a rules config",
    );
    store.delete_rules_config("K").await.unwrap();
    moved(
        store.script_generation().await.unwrap(),
        "deleting a rules config",
    );
    store.delete_rule(&rule.id).await.unwrap();
    moved(store.script_generation().await.unwrap(), "deleting a rule");
    store
        .create_connection(&connection("con_generation01", "scripted", vec![]))
        .await
        .unwrap();
    moved(
        store.script_generation().await.unwrap(),
        "creating a connection",
    );
    let unchanged = store.script_generation().await.unwrap();
    store.list_rules(None, PageRequest::ALL).await.unwrap();
    assert_eq!(
        store.script_generation().await.unwrap(),
        unchanged,
        "reads do not move it"
    );
}

async fn expired_rows_are_purged_and_live_ones_kept(store: &dyn Store) {
    store
        .create_connection(&connection("con_u", "db-users", vec![]))
        .await
        .unwrap();
    store
        .create_user(&user("1", "ada@example.com", None), None, None)
        .await
        .unwrap();
    store.create_client(&client("app")).await.unwrap();
    // Each kind once expired (at 10) and once alive (until 1000); the purge is at 100.
    for (n, expires_at) in [("old", 10), ("live", 1000)] {
        store
            .create_session(&Session {
                id_hash: format!("s-{n}"),
                user_id: "auth0|1".into(),
                auth_time: 5,
                expires_at,
                methods: vec![],
            })
            .await
            .unwrap();
        store
            .create_authorization_code(&code(&format!("c-{n}"), expires_at))
            .await
            .unwrap();
        store
            .create_ticket(&Ticket {
                ticket_hash: format!("t-{n}"),
                kind: TicketKind::ResetPassword,
                user_id: "auth0|1".into(),
                client_id: None,
                expires_at,
            })
            .await
            .unwrap();
        store
            .push_mail(&Mail {
                id: format!("m-{n}"),
                recipient: "ada@example.com".into(),
                subject: "Reset".into(),
                body: "a link".into(),
                created_at: expires_at,
            })
            .await
            .unwrap();
        store
            .append_log(&LogEvent {
                log_id: format!("l-{n}"),
                date: expires_at,
                event_type: "s".into(),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    // A family whose newest token lives on keeps its expired, used token: reusing it must
    // still revoke the family.
    let token = |hash: &str, family: &str, expires_at: i64| RefreshToken {
        token_hash: hash.into(),
        family_id: family.into(),
        client_id: "app".into(),
        user_id: "auth0|1".into(),
        audience: None,
        scope: vec!["offline_access".into()],
        auth_time: 5,
        created_at: 5,
        family_expires_at: None,
        idle_expires_at: Some(expires_at),
        rotating: true,
        used_at: None,
        revoked: false,
        mfa: false,
    };
    for t in [
        token("r-dead", "dead", 10),
        token("r-used", "alive", 10),
        token("r-new", "alive", 1000),
    ] {
        store.create_refresh_token(&t).await.unwrap();
    }

    // Threshold 1: each failure blocks, so the survivor is visible as a block.
    for (ip, at) in [("192.0.2.1", 10), ("192.0.2.2", 1000)] {
        assert!(
            store
                .record_login_failure("auth0|1", ip, 1, at, 0)
                .await
                .unwrap()
        );
    }

    // Log events are queued; the old one must be written before it can be purged.
    store.flush_log_queue().await;
    let before = PurgeBefore {
        expired: 100,
        outbox: 100,
        login_failures: 100,
        logs: Some(100),
    };
    let purged = store.purge(before).await.unwrap();
    assert_eq!(
        purged,
        Purged {
            sessions: 1,
            authorization_codes: 1,
            device_codes: 0,
            refresh_tokens: 1,
            tickets: 1,
            outbox: 1,
            login_failures: 1,
            logs: 1,
        }
    );
    assert!(
        !store
            .is_login_blocked("auth0|1", "192.0.2.1", 0)
            .await
            .unwrap()
    );
    assert!(
        store
            .is_login_blocked("auth0|1", "192.0.2.2", 0)
            .await
            .unwrap()
    );
    assert!(store.find_session("s-old").await.unwrap().is_none());
    assert!(store.find_session("s-live").await.unwrap().is_some());
    assert!(
        store
            .take_authorization_code("c-live")
            .await
            .unwrap()
            .is_some()
    );
    assert!(store.find_ticket("t-old").await.unwrap().is_none());
    assert!(store.find_ticket("t-live").await.unwrap().is_some());
    let mail: Vec<String> = store
        .list_mail()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(mail, ["m-live"]);
    let logs = store.list_logs(None, 10).await.unwrap();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].log_id, "l-live");
    assert!(store.find_refresh_token("r-dead").await.unwrap().is_none());
    assert!(store.find_refresh_token("r-used").await.unwrap().is_some());

    // Keeping logs forever leaves them.
    let kept = store
        .purge(PurgeBefore {
            logs: None,
            expired: 2000,
            outbox: 2000,
            login_failures: 0,
        })
        .await
        .unwrap();
    assert_eq!(kept.logs, 0);
    assert_eq!(store.list_logs(None, 10).await.unwrap().len(), 1);
}

fn device_code(hash: &str, user_code_hash: &str, expires_at: i64) -> DeviceCode {
    DeviceCode {
        device_code_hash: hash.into(),
        user_code_hash: user_code_hash.into(),
        client_id: "app".into(),
        scope: vec!["openid".into(), "offline_access".into()],
        audience: Some("urn:api".into()),
        interval: 5,
        created_at: 100,
        expires_at,
        last_polled_at: None,
        polled_too_fast: false,
        decision: DeviceDecision::Pending,
    }
}

async fn device_codes_are_decided_polled_and_exchanged_once(store: &dyn Store) {
    store
        .create_connection(&connection("con_u", "db-users", vec![]))
        .await
        .unwrap();
    store
        .create_user(&user("1", "ada@example.com", None), None, None)
        .await
        .unwrap();
    store.create_client(&client("app")).await.unwrap();
    let pending = device_code("d1", "u1", 1000);
    store.create_device_code(&pending).await.unwrap();
    assert_eq!(
        store.find_device_code_by_user_code("u1").await.unwrap(),
        Some(pending.clone())
    );
    assert_eq!(
        store.find_device_code_by_user_code("d1").await.unwrap(),
        None
    );
    // A live user code is not drawn twice; an expired one may be.
    assert!(matches!(
        store
            .create_device_code(&device_code("d2", "u1", 1000))
            .await,
        Err(StoreError::Conflict(_))
    ));
    store
        .create_device_code(&device_code("d-old", "u-old", 150))
        .await
        .unwrap();
    store
        .create_device_code(&DeviceCode {
            created_at: 200,
            ..device_code("d-new", "u-old", 1000)
        })
        .await
        .unwrap();

    // Polls: the first is in time, one sooner than the interval slows the device down.
    let first = store.poll_device_code("d1", 110, 5).await.unwrap().unwrap();
    assert_eq!(
        (first.last_polled_at, first.polled_too_fast, first.interval),
        (Some(110), false, 5)
    );
    let hasty = store.poll_device_code("d1", 112, 5).await.unwrap().unwrap();
    assert_eq!(
        (hasty.last_polled_at, hasty.polled_too_fast, hasty.interval),
        (Some(112), true, 10)
    );
    let patient = store.poll_device_code("d1", 122, 5).await.unwrap().unwrap();
    assert_eq!((patient.polled_too_fast, patient.interval), (false, 10));
    assert_eq!(store.poll_device_code("nope", 122, 5).await.unwrap(), None);
    assert_eq!(
        store.take_approved_device_code("d1").await.unwrap(),
        None,
        "pending codes are not exchanged"
    );

    // Decided once, and not after expiry.
    let approved = DeviceDecision::Approved {
        user_id: "auth0|1".into(),
        auth_time: 120,
    };
    assert!(
        !store
            .decide_device_code("u1", &approved, 1000)
            .await
            .unwrap(),
        "expired"
    );
    assert!(
        store
            .decide_device_code("u1", &approved, 130)
            .await
            .unwrap()
    );
    assert!(
        !store
            .decide_device_code("u1", &DeviceDecision::Denied, 131)
            .await
            .unwrap(),
        "decided already"
    );
    assert_eq!(
        store
            .find_device_code_by_user_code("u1")
            .await
            .unwrap()
            .unwrap()
            .decision,
        approved
    );

    // Two polls at the same moment: one gets the code.
    let (a, b) = tokio::join!(
        store.take_approved_device_code("d1"),
        store.take_approved_device_code("d1")
    );
    let taken: Vec<DeviceCode> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
    assert_eq!(taken.len(), 1, "single use under concurrency");
    assert_eq!(taken[0].decision, approved);
    assert_eq!(store.poll_device_code("d1", 140, 5).await.unwrap(), None);

    store
        .create_device_code(&device_code("d3", "u3", 1000))
        .await
        .unwrap();
    assert!(
        store
            .decide_device_code("u3", &DeviceDecision::Denied, 130)
            .await
            .unwrap()
    );
    let denied = store.poll_device_code("d3", 140, 5).await.unwrap().unwrap();
    assert_eq!(denied.decision, DeviceDecision::Denied);
    assert_eq!(store.take_approved_device_code("d3").await.unwrap(), None);

    // Expired codes go with the other expired grants.
    store
        .create_device_code(&device_code("d4", "u4", 300))
        .await
        .unwrap();
    let purged = store
        .purge(PurgeBefore {
            expired: 500,
            outbox: 0,
            login_failures: 0,
            logs: None,
        })
        .await
        .unwrap();
    assert_eq!(purged.device_codes, 1);
    assert!(
        store
            .poll_device_code("d4", 501, 5)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .poll_device_code("d3", 501, 5)
            .await
            .unwrap()
            .is_some()
    );

    // A new password that ends sessions takes back the devices the old one approved.
    store
        .create_device_code(&device_code("d5", "u5", 1000))
        .await
        .unwrap();
    assert!(
        store
            .decide_device_code("u5", &approved, 502)
            .await
            .unwrap()
    );
    let new = NewPassword {
        hash: "new-hash".into(),
        end_sessions: true,
    };
    store.reset_password("auth0|1", &new, 503).await.unwrap();
    assert_eq!(store.take_approved_device_code("d5").await.unwrap(), None);
    assert!(
        store
            .poll_device_code("d3", 504, 5)
            .await
            .unwrap()
            .is_some()
    );
}

async fn consents_are_kept_per_user_client_and_api_and_go_with_the_user(store: &dyn Store) {
    two_users_signed_in(store).await;
    let scopes = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        store.find_consent("auth0|1", "app", "").await.unwrap(),
        None
    );
    store
        .save_consent("auth0|1", "app", "", &scopes(&["openid"]), 1)
        .await
        .unwrap();
    store
        .save_consent("auth0|1", "app", "https://api", &scopes(&["read:x"]), 1)
        .await
        .unwrap();
    store
        .save_consent("auth0|1", "app", "", &scopes(&["openid", "email"]), 2)
        .await
        .unwrap();
    assert_eq!(
        store.find_consent("auth0|1", "app", "").await.unwrap(),
        Some(scopes(&["openid", "email"])),
        "replaced"
    );
    assert_eq!(
        store
            .find_consent("auth0|1", "app", "https://api")
            .await
            .unwrap(),
        Some(scopes(&["read:x"])),
        "per API"
    );
    assert_eq!(
        store.find_consent("auth0|2", "app", "").await.unwrap(),
        None,
        "per user"
    );
    assert!(store.delete_user("auth0|1").await.unwrap());
    assert_eq!(
        store.find_consent("auth0|1", "app", "").await.unwrap(),
        None
    );
}

async fn refresh_tokens_end_at_either_end_and_renew_their_idle_one(store: &dyn Store) {
    two_users_signed_in(store).await;
    // Beside two families ending at 100: one without end whose token idles out at 20.
    let endless = RefreshToken {
        family_expires_at: None,
        idle_expires_at: Some(20),
        rotating: false,
        // Read back as written, with the mark of a family that began with a second factor.
        mfa: true,
        ..refresh("r1c", "fam1c", "auth0|1", 5)
    };
    store.create_refresh_token(&endless).await.unwrap();
    assert_eq!(
        store.find_refresh_token("r1c").await.unwrap(),
        Some(endless)
    );
    let live = |now: i64| async move {
        let page = store
            .list_user_refresh_tokens("auth0|1", now, PageRequest::ALL)
            .await
            .unwrap();
        assert_eq!(page.total as usize, page.items.len());
        page.items
            .into_iter()
            .map(|t| t.token_hash)
            .collect::<Vec<_>>()
    };
    assert_eq!(live(10).await, ["r1a", "r1b", "r1c"]);
    assert_eq!(live(30).await, ["r1a", "r1b"], "r1c idled out");

    assert!(store.renew_refresh_token("r1c", Some(500)).await.unwrap());
    assert_eq!(live(300).await, ["r1c"], "renewed past the others' end");
    assert!(store.renew_refresh_token("r1c", None).await.unwrap());
    let renewed = store.find_refresh_token("r1c").await.unwrap().unwrap();
    assert_eq!(
        (renewed.family_expires_at, renewed.idle_expires_at),
        (None, None)
    );
    assert_eq!(live(1_000_000).await, ["r1c"]);

    assert!(store.use_refresh_token("r1a", 7).await.unwrap());
    assert!(
        !store.renew_refresh_token("r1a", Some(500)).await.unwrap(),
        "a used token is not renewed"
    );
    assert_eq!(
        store
            .revoke_user_refresh_tokens("auth0|1", 300)
            .await
            .unwrap(),
        1,
        "only the endless family could still be exchanged"
    );
    assert!(
        !store.renew_refresh_token("r1c", Some(600)).await.unwrap(),
        "a revoked token is not renewed"
    );

    // Families whose every token is past an end go; one without end stays.
    store
        .purge(PurgeBefore {
            logs: None,
            expired: 10_000,
            outbox: 0,
            login_failures: 0,
        })
        .await
        .unwrap();
    assert!(store.find_refresh_token("r1b").await.unwrap().is_none());
    assert!(store.find_refresh_token("r1c").await.unwrap().is_some());
}

async fn authenticators_count_attempts_take_codes_once_and_go_with_the_user(store: &dyn Store) {
    two_users_signed_in(store).await;
    let mut totp = Authenticator::new("auth0|1", AuthenticatorKind::Totp, 10);
    totp.secret = Some("sealed".into());
    store.create_authenticator(&totp).await.unwrap();
    assert!(totp.id.starts_with("totp|dev_"));
    let recovery = Authenticator::new("auth0|1", AuthenticatorKind::RecoveryCode, 11);
    store.create_authenticator(&recovery).await.unwrap();
    assert!(matches!(
        store.create_authenticator(&recovery).await,
        Err(StoreError::Conflict(_))
    ));
    let listed = store.list_authenticators("auth0|1").await.unwrap();
    assert_eq!(listed, vec![totp.clone(), recovery.clone()]);
    // Another user's id is not found through this user.
    assert_eq!(
        store.find_authenticator("auth0|2", &totp.id).await.unwrap(),
        None
    );

    totp.confirmed = true;
    totp.name = Some("phone".into());
    totp.challenge = Some("pending".into());
    totp.challenge_expires_at = Some(100);
    store.update_authenticator(&totp).await.unwrap();
    let mut stranger = totp.clone();
    stranger.user_id = "auth0|2".into();
    assert!(matches!(
        store.update_authenticator(&stranger).await,
        Err(StoreError::NotFound)
    ));
    // A challenge is taken once, and not after it expired.
    assert_eq!(
        store
            .take_factor_challenge("auth0|1", &totp.id, 50)
            .await
            .unwrap(),
        Some("pending".into())
    );
    assert_eq!(
        store
            .take_factor_challenge("auth0|1", &totp.id, 50)
            .await
            .unwrap(),
        None
    );
    totp.challenge = Some("late".into());
    store.update_authenticator(&totp).await.unwrap();
    assert_eq!(
        store
            .take_factor_challenge("auth0|1", &totp.id, 100)
            .await
            .unwrap(),
        None
    );

    // Three failures lock at the threshold; a pass forgets them.
    let failed = FactorAttempt::Failed {
        threshold: 3,
        lock_until: 500,
    };
    for _ in 0..2 {
        assert!(
            store
                .record_factor_attempt("auth0|1", &totp.id, failed, 20)
                .await
                .unwrap()
        );
    }
    let found = store
        .find_authenticator("auth0|1", &totp.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found.failures, found.locked_until), (2, None));
    store
        .record_factor_attempt("auth0|1", &totp.id, failed, 21)
        .await
        .unwrap();
    let found = store
        .find_authenticator("auth0|1", &totp.id)
        .await
        .unwrap()
        .unwrap();
    assert!(found.is_locked(499) && !found.is_locked(500));
    // A step is taken once: the same or an earlier one is a replay.
    let passed = |step| FactorAttempt::Passed { step: Some(step) };
    assert!(
        store
            .record_factor_attempt("auth0|1", &totp.id, passed(7), 30)
            .await
            .unwrap()
    );
    assert!(
        !store
            .record_factor_attempt("auth0|1", &totp.id, passed(7), 31)
            .await
            .unwrap()
    );
    assert!(
        !store
            .record_factor_attempt("auth0|1", &totp.id, passed(6), 31)
            .await
            .unwrap()
    );
    let found = store
        .find_authenticator("auth0|1", &totp.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            found.failures,
            found.locked_until,
            found.last_step,
            found.last_auth_at
        ),
        (0, None, Some(7), Some(30))
    );
    assert!(
        store
            .record_factor_attempt(
                "auth0|1",
                &recovery.id,
                FactorAttempt::Passed { step: None },
                32
            )
            .await
            .unwrap()
    );
    assert!(
        !store
            .record_factor_attempt("auth0|2", &totp.id, passed(9), 33)
            .await
            .unwrap()
    );

    assert_eq!(store.remember_not_before("auth0|1").await.unwrap(), None);
    store
        .forget_remembered_browsers("auth0|1", 40)
        .await
        .unwrap();
    store
        .forget_remembered_browsers("auth0|1", 41)
        .await
        .unwrap();
    assert_eq!(
        store.remember_not_before("auth0|1").await.unwrap(),
        Some(41)
    );

    assert_eq!(store.find_tenant_setting("mfa").await.unwrap(), None);
    let policy = serde_json::json!(["all-applications"]);
    store
        .save_tenant_setting("mfa", &serde_json::json!([]))
        .await
        .unwrap();
    store.save_tenant_setting("mfa", &policy).await.unwrap();
    assert_eq!(
        store.find_tenant_setting("mfa").await.unwrap(),
        Some(policy)
    );

    assert!(
        store
            .delete_authenticator("auth0|1", &recovery.id)
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_authenticator("auth0|1", &recovery.id)
            .await
            .unwrap()
    );
    store
        .create_authenticator(&Authenticator::new("auth0|2", AuthenticatorKind::Email, 12))
        .await
        .unwrap();
    assert_eq!(store.delete_authenticators("auth0|1").await.unwrap(), 1);
    assert_eq!(store.list_authenticators("auth0|2").await.unwrap().len(), 1);
    store.delete_user("auth0|2").await.unwrap();
    assert!(
        store
            .list_authenticators("auth0|2")
            .await
            .unwrap()
            .is_empty()
    );
}

async fn authenticators_of_several_users_come_back_together(store: &dyn Store) {
    two_users_signed_in(store).await;
    let first = Authenticator::new("auth0|1", AuthenticatorKind::Totp, 10);
    let second = Authenticator::new("auth0|1", AuthenticatorKind::Email, 11);
    let theirs = Authenticator::new("auth0|2", AuthenticatorKind::RecoveryCode, 5);
    for a in [&second, &first, &theirs] {
        store.create_authenticator(a).await.unwrap();
    }
    let ids = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let both = store
        .list_users_authenticators(&ids(&["auth0|2", "auth0|1", "auth0|nobody"]))
        .await
        .unwrap();
    assert_eq!(both, vec![first.clone(), second.clone(), theirs.clone()]);
    let one = store
        .list_users_authenticators(&ids(&["auth0|2"]))
        .await
        .unwrap();
    assert_eq!(one, vec![theirs]);
    assert!(
        store
            .list_users_authenticators(&[])
            .await
            .unwrap()
            .is_empty()
    );
    // More ids than one statement takes.
    let many: Vec<String> = (0..250)
        .map(|n| format!("auth0|x{n}"))
        .chain(["auth0|1".to_string()])
        .collect();
    assert_eq!(
        store.list_users_authenticators(&many).await.unwrap(),
        vec![first, second]
    );
}
