//! Management API `/roles/{id}/users`: who holds a role, with offset and checkpoint paging,
//! and giving a role to several users at once, all or nothing, with an audit entry each.

use crate::common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn a_roles_users_page_both_ways_and_are_added_all_or_nothing() {
    let server = TestServer::start().await;
    let (_, role) = server
        .admin(Method::POST, "/roles", Some(json!({"name": "reader"})))
        .await;
    let role_id = role["id"].as_str().unwrap();
    let path = format!("/roles/{role_id}/users");
    let mut ids = Vec::new();
    for email in ["a@example.com", "b@example.com", "c@example.com"] {
        let user = server
            .create_user(email, json!({"picture": "https://example.com/p.png"}))
            .await;
        ids.push(user["user_id"].as_str().unwrap().to_string());
    }
    ids.sort();

    let (_, empty) = server.admin(Method::GET, &path, None).await;
    assert_eq!(empty, json!([]));
    let with_ghost = json!({"users": [ids[0], "auth0|nobody"]});
    let (status, answer) = server.admin(Method::POST, &path, Some(with_ghost)).await;
    assert_eq!(
        (status, answer["errorCode"].as_str()),
        (StatusCode::NOT_FOUND, Some("inexistent_user"))
    );
    let (_, still_empty) = server.admin(Method::GET, &path, None).await;
    assert_eq!(still_empty, json!([]), "nobody got the role");
    assert_eq!(
        server
            .admin(Method::POST, &path, Some(json!({"users": []})))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    let (status, missing) = server
        .admin(
            Method::POST,
            "/roles/rol_doesnotexist00/users",
            Some(json!({"users": [ids[0]]})),
        )
        .await;
    assert_eq!(
        (status, missing["errorCode"].as_str()),
        (StatusCode::NOT_FOUND, Some("inexistent_role"))
    );

    let (status, _) = server
        .admin(Method::POST, &path, Some(json!({"users": ids})))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = server
        .admin(Method::POST, &path, Some(json!({"users": [ids[1]]})))
        .await;
    assert_eq!(status, StatusCode::OK, "giving it again keeps it once");

    let (_, page) = server
        .admin(
            Method::GET,
            &format!("{path}?per_page=2&include_totals=true"),
            None,
        )
        .await;
    assert_eq!(
        (
            page["total"].clone(),
            page["start"].clone(),
            page["limit"].clone()
        ),
        (json!(3), json!(0), json!(2))
    );
    let first = &page["users"][0];
    assert_eq!(first["user_id"], ids[0].as_str(), "ordered by user id");
    let mut keys: Vec<&String> = first.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["email", "name", "picture", "user_id"]);
    assert_eq!(first["picture"], "https://example.com/p.png");
    let (_, past) = server
        .admin(
            Method::GET,
            &format!("{path}?per_page=2&page=2&include_totals=true"),
            None,
        )
        .await;
    assert_eq!(past["users"], json!([]));

    // Checkpoints: follow `next` until it is absent.
    let mut seen = Vec::new();
    let mut from: Option<String> = None;
    loop {
        let query = match &from {
            Some(f) => format!("{path}?take=2&from={f}"),
            None => format!("{path}?take=2"),
        };
        let (status, body) = server.admin(Method::GET, &query, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        for u in body["users"].as_array().unwrap() {
            seen.push(u["user_id"].as_str().unwrap().to_string());
        }
        match body.get("next").and_then(|n| n.as_str()) {
            Some(next) => from = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, ids);

    // Both roles and users come back through the other side too.
    let (_, roles) = server
        .admin(
            Method::GET,
            &format!("/users/{}/roles", encoded(&ids[2])),
            None,
        )
        .await;
    assert_eq!(roles[0]["id"], role_id);
    // Deleting a user takes them off the role.
    server
        .admin(
            Method::DELETE,
            &format!("/users/{}", encoded(&ids[2])),
            None,
        )
        .await;
    let (_, after) = server
        .admin(Method::GET, &format!("{path}?include_totals=true"), None)
        .await;
    assert_eq!(after["total"], 2);

    // One audit entry per user, readable under each user's logs.
    let (_, events) = server
        .admin(
            Method::GET,
            &format!("/users/{}/logs", encoded(&ids[0])),
            None,
        )
        .await;
    let entry = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["details"]["action"] == "assign_user_roles")
        .unwrap_or_else(|| panic!("{events}"));
    assert_eq!(entry["type"], "sapi");
    assert_eq!(entry["details"]["target"]["role_id"], role_id);
    assert_eq!(
        entry["details"]["actor"],
        json!({"type": "client", "id": ADMIN_ID})
    );
    assert_eq!(entry["client_id"], ADMIN_ID);
}
