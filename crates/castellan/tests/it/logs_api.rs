//! Management API `/logs`, `/logs/{id}`, `/users/{id}/logs`: Auth0's log event shape,
//! searches through `q` or `search`, paging with `length`, checkpoints, and the audit
//! trail of role and permission changes as `sapi` events.

use crate::common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const API: &str = "https://api.example.com";

fn actions(events: &Value) -> Vec<String> {
    events
        .as_array()
        .unwrap_or_else(|| panic!("{events}"))
        .iter()
        .map(|e| {
            e["details"]["action"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn role_and_permission_changes_are_sapi_events() {
    let server = TestServer::start().await;
    let api = json!({"identifier": API, "scopes": [{"value": "read:reports"}]});
    server
        .admin(Method::POST, "/resource-servers", Some(api))
        .await;
    let user = server.create_user("ada@example.com", json!({})).await;
    let user_path = format!("/users/{}", encoded(user["user_id"].as_str().unwrap()));
    let (_, role) = server
        .admin(Method::POST, "/roles", Some(json!({"name": "reader"})))
        .await;
    let role_path = format!("/roles/{}", role["id"].as_str().unwrap());
    let perms = json!({"permissions": [{"resource_server_identifier": API, "permission_name": "read:reports"}]});
    let roles = json!({"roles": [role["id"]]});
    for (method, path, body) in [
        (
            Method::PATCH,
            role_path.clone(),
            Some(json!({"description": "Reads"})),
        ),
        (
            Method::POST,
            format!("{role_path}/permissions"),
            Some(perms.clone()),
        ),
        (
            Method::DELETE,
            format!("{role_path}/permissions"),
            Some(perms.clone()),
        ),
        (
            Method::POST,
            format!("{user_path}/roles"),
            Some(roles.clone()),
        ),
        (
            Method::DELETE,
            format!("{user_path}/roles"),
            Some(roles.clone()),
        ),
        (Method::DELETE, role_path.clone(), None),
    ] {
        let (status, answer) = server.admin(method.clone(), &path, body).await;
        assert!(status.is_success(), "{method} {path}: {answer}");
    }
    // A refused change is not recorded.
    let (status, _) = server
        .admin(Method::POST, "/roles", Some(json!({"name": ""})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, events) = server
        .admin(Method::GET, "/logs?q=type:sapi&sort=date:1", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{events}");
    assert_eq!(
        actions(&events),
        [
            "create_resource_server",
            "create_user",
            "create_role",
            "update_role",
            "add_role_permissions",
            "remove_role_permissions",
            "assign_user_roles",
            "remove_user_roles",
            "delete_role"
        ]
    );
    let added = &events[4];
    assert_eq!(added["type"], "sapi");
    assert_eq!(added["client_id"], ADMIN_ID);
    assert_eq!(
        added["details"]["actor"],
        json!({"type": "client", "id": ADMIN_ID})
    );
    assert_eq!(added["details"]["target"]["role_id"], role["id"]);
    assert_eq!(
        added["details"]["changes"]["added"],
        json!([format!("{API} read:reports")])
    );

    // The Fern SDKs send `search` instead of `q`.
    let (_, same) = server
        .admin(Method::GET, "/logs?search=type:sapi&sort=date:1", None)
        .await;
    assert_eq!(same, events);
    // The user's own log holds the events about them.
    let (_, theirs) = server
        .admin(Method::GET, &format!("{user_path}/logs?sort=date:1"), None)
        .await;
    assert_eq!(
        actions(&theirs),
        ["create_user", "assign_user_roles", "remove_user_roles"]
    );
}

#[tokio::test]
async fn logs_page_search_and_follow_checkpoints() {
    let server = TestServer::start().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let user = server
            .create_user(&format!("user{i}@example.com"), json!({}))
            .await;
        ids.push(user["user_id"].as_str().unwrap().to_string());
        server.clock.advance(86_400);
    }
    // Five `sapi` events (one per user), one day apart, newest first by default.
    let (_, page) = server
        .admin(
            Method::GET,
            "/logs?q=type:sapi&per_page=2&page=1&include_totals=true",
            None,
        )
        .await;
    assert_eq!(
        (
            page["start"].clone(),
            page["limit"].clone(),
            page["length"].clone(),
            page["total"].clone()
        ),
        (json!(2), json!(2), json!(2), json!(5))
    );
    assert_eq!(page["logs"][0]["user_id"], ids[2].as_str());
    let (_, past) = server
        .admin(
            Method::GET,
            "/logs?q=type:sapi&per_page=2&page=3&include_totals=true",
            None,
        )
        .await;
    assert_eq!(
        (
            past["logs"].clone(),
            past["length"].clone(),
            past["total"].clone()
        ),
        (json!([]), json!(0), json!(5))
    );
    let (_, bare) = server
        .admin(Method::GET, "/logs?q=type:sapi&per_page=1", None)
        .await;
    let event = &bare[0];
    assert_eq!(event["user_id"], ids[4].as_str());
    for key in [
        "log_id",
        "date",
        "type",
        "description",
        "details",
        "client_id",
    ] {
        assert!(event.get(key).is_some(), "{key} in {event}");
    }
    let date = event["date"].as_str().unwrap();
    assert!(date.ends_with('Z') && date.contains('T'), "{date}");

    let (status, one) = server
        .admin(
            Method::GET,
            &format!("/logs/{}", event["log_id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!((status, &one), (StatusCode::OK, event));
    let (status, none) = server.admin(Method::GET, "/logs/doesnotexist", None).await;
    assert_eq!(
        (status, none["statusCode"].clone()),
        (StatusCode::NOT_FOUND, json!(404))
    );

    // Searches by user, client and date range, with AND.
    let encoded_id = ids[1].replace('|', "%7C");
    let (_, by_user) = server
        .admin(
            Method::GET,
            &format!("/logs?q=user_id:%22{encoded_id}%22%20AND%20type:sapi"),
            None,
        )
        .await;
    assert_eq!(by_user.as_array().unwrap().len(), 1);
    let (_, by_client) = server
        .admin(
            Method::GET,
            &format!("/logs?q=client_id:{ADMIN_ID}%20AND%20type:sapi"),
            None,
        )
        .await;
    assert_eq!(by_client.as_array().unwrap().len(), 5);
    let first_date = &page["logs"][1]["date"].as_str().unwrap()[..10];
    let (_, on_day) = server
        .admin(
            Method::GET,
            &format!("/logs?q=type:sapi%20AND%20date:{first_date}"),
            None,
        )
        .await;
    assert_eq!(
        on_day.as_array().unwrap().len(),
        1,
        "a bare date is that whole day"
    );
    let (_, since) = server
        .admin(
            Method::GET,
            &format!("/logs?q=type:sapi%20AND%20date:%5B{first_date}%20TO%20*%5D"),
            None,
        )
        .await;
    assert_eq!(since.as_array().unwrap().len(), 4);

    // Checkpoints read forward from an event, oldest first, and ignore the search.
    let (_, oldest) = server
        .admin(
            Method::GET,
            "/logs?q=type:sapi&sort=date:1&per_page=1",
            None,
        )
        .await;
    let mut from = oldest[0]["log_id"].as_str().unwrap().to_string();
    let mut followed = vec![oldest[0]["user_id"].as_str().unwrap().to_string()];
    // One token for the whole walk: each token issued is itself a log event.
    let token = server.admin_token(None).await;
    loop {
        let (status, batch) = server
            .call(
                Method::GET,
                &format!("/api/v2/logs?from={from}&take=2&q=type:nothing"),
                &token,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{batch}");
        let batch = batch.as_array().unwrap().clone();
        if batch.is_empty() {
            break;
        }
        for e in &batch {
            if e["type"] == "sapi" {
                followed.push(e["user_id"].as_str().unwrap().to_string());
            }
        }
        from = batch.last().unwrap()["log_id"]
            .as_str()
            .unwrap()
            .to_string();
    }
    assert_eq!(followed, ids);

    for bad in [
        "/logs?q=type:",
        "/logs?q=colour:red",
        "/logs?q=sapi",
        "/logs?q=date:yesterday",
        "/logs?sort=type:1",
        "/logs?per_page=101",
        "/logs?from=x&take=101",
    ] {
        let (status, body) = server.admin(Method::GET, bad, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["errorCode"], "invalid_query_string", "{bad}");
    }
    let (status, _) = server
        .admin(Method::GET, "/logs?q=type:sapi&per_page=100&page=10", None)
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "searches stop at 1000 results"
    );

    let (_, user_page) = server
        .admin(
            Method::GET,
            &format!(
                "/users/{}/logs?include_totals=true",
                ids[0].replace('|', "%7C")
            ),
            None,
        )
        .await;
    assert_eq!(
        (user_page["total"].clone(), user_page["length"].clone()),
        (json!(1), json!(1))
    );
    let (_, nobody) = server
        .admin(Method::GET, "/users/auth0%7Cnobody/logs", None)
        .await;
    assert_eq!(nobody, json!([]));
}
