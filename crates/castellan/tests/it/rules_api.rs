//! Management API `/rules` and `/rules-configs`: rules stored with their order and flag
//! (unique names and orders), and configuration values sealed at rest and never shown.

use crate::common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

const SCRIPT: &str = "function (user, context, callback) { callback(null, user, context); }";

#[tokio::test]
async fn rules_crud_with_order_uniqueness_and_paging() {
    let server = TestServer::start().await;
    let (status, first) = server
        .admin(
            Method::POST,
            "/rules",
            Some(json!({"name": "add roles", "script": SCRIPT})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let id = first["id"].as_str().unwrap();
    assert!(
        id.starts_with("rul_")
            && id.len() == 20
            && id[4..].chars().all(|c| c.is_ascii_alphanumeric()),
        "{id}"
    );
    assert_eq!(
        (
            first["order"].clone(),
            first["enabled"].clone(),
            first["stage"].clone(),
            first["script"].clone()
        ),
        (json!(1), json!(true), json!("login_success"), json!(SCRIPT))
    );
    let (_, second) = server
        .admin(
            Method::POST,
            "/rules",
            Some(json!({"name": "Second-rule", "script": SCRIPT, "enabled": false})),
        )
        .await;
    assert_eq!(second["order"], 2, "after the last one");
    let (_, tenth) = server
        .admin(
            Method::POST,
            "/rules",
            Some(json!({"name": "tenth", "script": SCRIPT, "order": 10})),
        )
        .await;
    assert_eq!(tenth["order"], 10);
    let (_, next) = server
        .admin(
            Method::POST,
            "/rules",
            Some(json!({"name": "eleventh", "script": SCRIPT})),
        )
        .await;
    assert_eq!(next["order"], 11);

    for (body, expected) in [
        (
            json!({"name": "add roles", "script": SCRIPT}),
            StatusCode::CONFLICT,
        ),
        (
            json!({"name": "other", "script": SCRIPT, "order": 10}),
            StatusCode::CONFLICT,
        ),
        (
            json!({"name": "empty", "script": "  "}),
            StatusCode::BAD_REQUEST,
        ),
        (json!({"name": "no script"}), StatusCode::BAD_REQUEST),
        (json!({"script": SCRIPT}), StatusCode::BAD_REQUEST),
        (
            json!({"name": "-bad", "script": SCRIPT}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"name": "ok", "script": SCRIPT, "order": 1.5}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"name": "ok", "script": SCRIPT, "order": -1}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"name": "ok", "script": SCRIPT, "stage": "pre_authorize"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"name": "ok", "script": SCRIPT, "colour": "red"}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (status, answer) = server
            .admin(Method::POST, "/rules", Some(body.clone()))
            .await;
        assert_eq!(status, expected, "{body}: {answer}");
        assert_eq!(answer["statusCode"], expected.as_u16(), "{answer}");
    }

    let (_, page) = server
        .admin(
            Method::GET,
            "/rules?per_page=2&page=1&include_totals=true",
            None,
        )
        .await;
    assert_eq!(
        (
            page["total"].clone(),
            page["start"].clone(),
            page["limit"].clone()
        ),
        (json!(4), json!(2), json!(2))
    );
    assert_eq!(page["rules"][0]["name"], "tenth", "in execution order");
    let (_, past) = server
        .admin(
            Method::GET,
            "/rules?per_page=2&page=2&include_totals=true",
            None,
        )
        .await;
    assert_eq!(past["rules"], json!([]));
    let (_, disabled) = server
        .admin(Method::GET, "/rules?enabled=false", None)
        .await;
    assert_eq!(disabled.as_array().unwrap().len(), 1);
    assert_eq!(disabled[0]["name"], "Second-rule");
    let (_, enabled) = server
        .admin(Method::GET, "/rules?enabled=true&fields=name,order", None)
        .await;
    assert_eq!(enabled[0], json!({"name": "add roles", "order": 1}));

    let path = format!("/rules/{id}");
    let (status, read) = server.admin(Method::GET, &path, None).await;
    assert_eq!((status, &read), (StatusCode::OK, &first));
    let (status, patched) = server
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"enabled": false, "order": 5, "name": "add roles v2"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(
        (
            patched["enabled"].clone(),
            patched["order"].clone(),
            patched["script"].clone()
        ),
        (json!(false), json!(5), json!(SCRIPT))
    );
    for bad in [
        json!({"order": 10}),
        json!({"name": "tenth"}),
        json!({"script": ""}),
        json!({"stage": "login_success"}),
    ] {
        let (status, _) = server.admin(Method::PATCH, &path, Some(bad.clone())).await;
        assert!(
            status == StatusCode::CONFLICT || status == StatusCode::BAD_REQUEST,
            "{bad}: {status}"
        );
        let (_, now) = server.admin(Method::GET, &path, None).await;
        assert_eq!(now, patched, "{bad} changed nothing");
    }
    let (status, missing) = server
        .admin(Method::GET, "/rules/rul_doesnotexist0000", None)
        .await;
    assert_eq!(
        (status, missing["errorCode"].as_str()),
        (StatusCode::NOT_FOUND, Some("inexistent_rule"))
    );
    assert_eq!(
        server
            .admin(
                Method::PATCH,
                "/rules/rul_x",
                Some(json!({"enabled": true}))
            )
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        server.admin(Method::DELETE, &path, None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        server.admin(Method::DELETE, &path, None).await.0,
        StatusCode::NOT_FOUND
    );
    let (_, events) = server
        .admin(Method::GET, "/logs?q=type:sapi&sort=date:1", None)
        .await;
    let actions: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["details"]["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "create_rule",
            "create_rule",
            "create_rule",
            "create_rule",
            "update_rule",
            "delete_rule"
        ]
    );
    assert!(
        !events.to_string().contains("callback(null"),
        "scripts stay out of the log"
    );
}

#[tokio::test]
async fn rules_configs_are_sealed_and_never_listed_with_values() {
    let server = TestServer::start().await;
    let (status, set) = server
        .admin(
            Method::PUT,
            "/rules-configs/SLACK_URL",
            Some(json!({"value": "https://hooks.example.com/secret"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!(
        set,
        json!({"key": "SLACK_URL", "value": "https://hooks.example.com/secret"})
    );
    server
        .admin(
            Method::PUT,
            "/rules-configs/api:key@v1",
            Some(json!({"value": "first"})),
        )
        .await;
    let (status, replaced) = server
        .admin(
            Method::PUT,
            "/rules-configs/api:key@v1",
            Some(json!({"value": "second"})),
        )
        .await;
    assert_eq!(
        (status, replaced["value"].as_str()),
        (StatusCode::OK, Some("second"))
    );
    let (_, keys) = server.admin(Method::GET, "/rules-configs", None).await;
    assert_eq!(keys, json!([{"key": "SLACK_URL"}, {"key": "api:key@v1"}]));

    // At rest the values are sealed with the master key, each bound to its key.
    let store = server.running().state.store.clone();
    let sealed = store.sealed_rules_configs().await.unwrap();
    assert_eq!(sealed.len(), 2);
    assert!(
        sealed
            .iter()
            .all(|(_, v)| !v.contains("secret") && !v.contains("second"))
    );
    let opened = castellan_core::directory::rules_configs::open_all(
        store.as_ref(),
        &server.running().state.master_key,
    )
    .await
    .unwrap();
    assert_eq!(opened[1], ("api:key@v1".to_string(), "second".to_string()));

    for (path, body) in [
        ("/rules-configs/bad%20key", json!({"value": "x"})),
        ("/rules-configs/bad!", json!({"value": "x"})),
        (
            &*format!("/rules-configs/{}", "k".repeat(128)),
            json!({"value": "x"}),
        ),
        ("/rules-configs/OK", json!({"value": 5})),
        ("/rules-configs/OK", json!({})),
    ] {
        let (status, answer) = server.admin(Method::PUT, path, Some(body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {body}: {answer}");
    }
    let (_, bad_key) = server
        .admin(
            Method::PUT,
            "/rules-configs/bad!",
            Some(json!({"value": "x"})),
        )
        .await;
    assert_eq!(bad_key["errorCode"], "invalid_uri");
    assert_eq!(
        server
            .admin(Method::DELETE, "/rules-configs/SLACK_URL", None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        server
            .admin(Method::DELETE, "/rules-configs/SLACK_URL", None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    let (_, left) = server.admin(Method::GET, "/rules-configs", None).await;
    assert_eq!(left, json!([{"key": "api:key@v1"}]));
    let (_, events) = server.admin(Method::GET, "/logs?q=type:sapi", None).await;
    assert!(
        !events.to_string().contains("second"),
        "values stay out of the log"
    );
}

#[tokio::test]
async fn scripts_that_do_not_compile_are_refused_with_line_and_column() {
    let server = TestServer::start().await;
    for (script, expected) in [
        (
            "function (user, context, callback) {\n  callback(null, user, context;\n}",
            "script has a syntax error at line 2, column",
        ),
        (
            "({ not: 'a function' })",
            "script has a syntax error at line 1, column 1: the script is not a function",
        ),
        // Code outside the function, which runs when the script is evaluated, is bad
        // input like any other, not a server error.
        (
            "function (u, c, cb) {}); throw new Error('outside'); (function () {}",
            "the script failed when evaluated: 'broken' threw: outside",
        ),
    ] {
        let (status, answer) = server
            .admin(
                Method::POST,
                "/rules",
                Some(json!({"name": "broken", "script": script})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains(expected), "{message}");
    }
    let (_, rules) = server.admin(Method::GET, "/rules", None).await;
    assert_eq!(rules, json!([]), "nothing was saved");

    let (_, rule) = server
        .admin(
            Method::POST,
            "/rules",
            Some(json!({"name": "fine", "script": SCRIPT})),
        )
        .await;
    let path = format!("/rules/{}", rule["id"].as_str().unwrap());
    let (status, answer) = server
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"script": "function (u, c, cb) { cb(null, u, c) "})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let (_, stored) = server.admin(Method::GET, &path, None).await;
    assert_eq!(stored["script"], SCRIPT, "the old script stays");
}

/// The actions of the `sapi` entries, oldest first.
async fn audited(server: &TestServer) -> Vec<String> {
    let (status, events) = server
        .admin(Method::GET, "/logs?q=type:sapi&sort=date:1", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{events}");
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["details"]["action"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_refused_rule_change_leaves_neither_the_change_nor_an_audit_entry() {
    let server = TestServer::start().await;
    let mut paths = Vec::new();
    for name in ["first", "second"] {
        let (status, rule) = server
            .admin(
                Method::POST,
                "/rules",
                Some(json!({"name": name, "script": SCRIPT})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{rule}");
        paths.push(format!("/rules/{}", rule["id"].as_str().unwrap()));
    }
    let (_, before) = server.admin(Method::GET, "/rules", None).await;
    let broken = "function (u, c, cb) { cb(null, u, c) ";
    let refused = [
        (
            Method::POST,
            "/rules".to_string(),
            json!({"name": "broken", "script": broken}),
        ),
        (
            Method::POST,
            "/rules".to_string(),
            json!({"name": "third", "script": SCRIPT, "order": 2}),
        ),
        (Method::PATCH, paths[0].clone(), json!({"script": broken})),
        // Refused by the store part-way, after the rule was read in the transaction.
        (Method::PATCH, paths[0].clone(), json!({"order": 2})),
        (Method::PATCH, paths[0].clone(), json!({"name": "second"})),
        (
            Method::PATCH,
            "/rules/rul_doesnotexist0000".to_string(),
            json!({"enabled": false}),
        ),
    ];
    for (method, path, body) in &refused {
        let (status, answer) = server.admin(method.clone(), path, Some(body.clone())).await;
        assert!(status.is_client_error(), "{method} {path} {body}: {answer}");
    }
    let (status, _) = server
        .admin(Method::DELETE, "/rules/rul_doesnotexist0000", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, after) = server.admin(Method::GET, "/rules", None).await;
    assert_eq!(after, before);
    assert_eq!(audited(&server).await, ["create_rule", "create_rule"]);

    // A change whose entry cannot be written is not made either.
    server.refuse_audit_entries().await;
    let unrecorded = [
        (
            Method::POST,
            "/rules".to_string(),
            Some(json!({"name": "third", "script": SCRIPT})),
        ),
        (
            Method::PATCH,
            paths[0].clone(),
            Some(json!({"enabled": false})),
        ),
        (Method::DELETE, paths[1].clone(), None),
    ];
    for (method, path, body) in unrecorded {
        let (status, answer) = server.admin(method.clone(), &path, body).await;
        assert!(status.is_server_error(), "{method} {path}: {answer}");
    }
    let (_, after) = server.admin(Method::GET, "/rules", None).await;
    assert_eq!(after, before);
}
