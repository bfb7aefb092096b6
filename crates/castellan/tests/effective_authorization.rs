//! `/users/{id}/effective-roles` and `/users/{id}/effective-permissions`: what the token
//! endpoint computes for a user, readable through the Management API with both paging forms.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const API: &str = "https://api.example.com";
const DB: &str = "Username-Password-Authentication";

async fn user_with_roles(server: &TestServer, roles: &[(&str, &[&str])]) -> String {
    let api = json!({"identifier": API, "name": "Reports", "enforce_policies": true,
        "scopes": [{"value": "read:reports", "description": "Read them"}, {"value": "write:reports"}, {"value": "delete:reports"}]});
    server
        .admin(Method::POST, "/resource-servers", Some(api))
        .await;
    let (_, client) = server
        .admin(Method::POST, "/clients", Some(json!({"name": "web"})))
        .await;
    let signup = json!({"client_id": client["client_id"], "email": "ada@example.com", "password": "correct horse battery", "connection": DB});
    let user: Value = server
        .http
        .post(server.url("/dbconnections/signup"))
        .json(&signup)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let user_id = format!("auth0|{}", user["_id"].as_str().unwrap());
    for (name, permissions) in roles {
        let (_, role) = server
            .admin(Method::POST, "/roles", Some(json!({"name": name})))
            .await;
        let id = role["id"].as_str().unwrap();
        let permissions: Vec<Value> = permissions
            .iter()
            .map(|p| json!({"resource_server_identifier": API, "permission_name": p}))
            .collect();
        server
            .admin(
                Method::POST,
                &format!("/roles/{id}/permissions"),
                Some(json!({"permissions": permissions})),
            )
            .await;
        let (status, _) = server
            .admin(
                Method::POST,
                &format!("/users/{}/roles", user_id.replace('|', "%7C")),
                Some(json!({"roles": [id]})),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    user_id
}

#[tokio::test]
async fn effective_roles_and_permissions_merge_every_role() {
    let server = TestServer::start().await;
    let user_id = user_with_roles(
        &server,
        &[
            ("reader", &["read:reports"]),
            ("writer", &["read:reports", "write:reports"]),
        ],
    )
    .await;
    let encoded = user_id.replace('|', "%7C");

    let (status, roles) = server
        .admin(
            Method::GET,
            &format!("/users/{encoded}/effective-roles"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{roles}");
    let names: Vec<&str> = roles
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["reader", "writer"]);

    let (_, permissions) = server
        .admin(
            Method::GET,
            &format!("/users/{user_id}/effective-permissions"),
            None,
        )
        .await;
    assert_eq!(
        permissions,
        json!([
            {"resource_server_identifier": API, "permission_name": "read:reports", "resource_server_name": "Reports", "description": "Read them"},
            {"resource_server_identifier": API, "permission_name": "write:reports", "resource_server_name": "Reports", "description": ""},
        ]),
        "read:reports comes from two roles and is listed once"
    );

    let (_, first) = server
        .admin(
            Method::GET,
            &format!("/users/{encoded}/effective-permissions?take=1"),
            None,
        )
        .await;
    assert_eq!(first["permissions"].as_array().unwrap().len(), 1);
    let next = first["next"].as_str().unwrap();
    let (_, second) = server
        .admin(
            Method::GET,
            &format!("/users/{encoded}/effective-permissions?take=1&from={next}"),
            None,
        )
        .await;
    assert_eq!(second["permissions"][0]["permission_name"], "write:reports");
    assert!(second.get("next").is_none(), "{second}");

    let (_, past_end) = server
        .admin(
            Method::GET,
            &format!("/users/{encoded}/effective-roles?page=5&per_page=10&include_totals=true"),
            None,
        )
        .await;
    assert_eq!(
        (past_end["total"].clone(), past_end["roles"].clone()),
        (json!(2), json!([]))
    );
    for path in ["effective-roles", "effective-permissions"] {
        let (status, body) = server
            .admin(Method::GET, &format!("/users/auth0%7Cnobody/{path}"), None)
            .await;
        assert_eq!(
            (status, body["errorCode"].as_str()),
            (StatusCode::NOT_FOUND, Some("inexistent_user"))
        );
    }
}
