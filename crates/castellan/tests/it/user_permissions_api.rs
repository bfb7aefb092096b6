//! Management API `/users/{id}/permissions`: direct permissions, checked against the API's
//! scopes all or nothing, listed in Auth0's shape, and honoured in tokens under RBAC.

use crate::common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const API: &str = "https://api.example.com";
const REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";

fn perm(name: &str) -> Value {
    json!({"resource_server_identifier": API, "permission_name": name})
}

async fn server_with_api() -> TestServer {
    let server = TestServer::start().await;
    let api = json!({"identifier": API, "name": "Example", "enforce_policies": true,
        "token_dialect": "access_token_authz",
        "scopes": [{"value": "read:reports", "description": "Read reports"}, {"value": "write:reports"}]});
    assert_eq!(
        server
            .admin(Method::POST, "/resource-servers", Some(api))
            .await
            .0,
        StatusCode::CREATED
    );
    server
}

#[tokio::test]
async fn direct_permissions_are_checked_listed_and_removed() {
    let server = server_with_api().await;
    let user = server.create_user("ada@example.com", json!({})).await;
    let id = user["user_id"].as_str().unwrap();
    let path = format!("/users/{}/permissions", encoded(id));

    for (body, expected) in [
        (
            json!({"permissions": [perm("read:reports"), perm("fly")]}),
            StatusCode::BAD_REQUEST,
        ),
        (json!({"permissions": []}), StatusCode::BAD_REQUEST),
        (
            json!({"permissions": [{"resource_server_identifier": "urn:nope", "permission_name": "x"}]}),
            StatusCode::NOT_FOUND,
        ),
        (json!({"nothing": true}), StatusCode::BAD_REQUEST),
    ] {
        let (status, answer) = server.admin(Method::POST, &path, Some(body.clone())).await;
        assert_eq!(status, expected, "{body}: {answer}");
    }
    let (_, none) = server.admin(Method::GET, &path, None).await;
    assert_eq!(none, json!([]), "nothing was half-written");

    let both =
        json!({"permissions": [perm("write:reports"), perm("read:reports"), perm("read:reports")]});
    assert_eq!(
        server.admin(Method::POST, &path, Some(both)).await.0,
        StatusCode::CREATED
    );
    let (_, listed) = server
        .admin(Method::GET, &format!("{path}?include_totals=true"), None)
        .await;
    assert_eq!(listed["total"], 2);
    assert_eq!(
        listed["permissions"][0],
        json!({"permission_name": "read:reports", "resource_server_identifier": API,
               "resource_server_name": "Example", "description": "Read reports",
               "sources": [{"source_id": "", "source_name": "", "source_type": "DIRECT"}]})
    );
    let (_, second) = server
        .admin(Method::GET, &format!("{path}?per_page=1&page=1"), None)
        .await;
    assert_eq!(second[0]["permission_name"], "write:reports");
    let (_, past) = server
        .admin(
            Method::GET,
            &format!("{path}?per_page=1&page=2&include_totals=true"),
            None,
        )
        .await;
    assert_eq!(
        (past["permissions"].clone(), past["total"].clone()),
        (json!([]), json!(2))
    );
    let (_, raw) = server
        .admin(Method::GET, &format!("/users/{id}/permissions"), None)
        .await;
    assert_eq!(
        raw.as_array().unwrap().len(),
        2,
        "a raw | in the path works too"
    );

    let remove = json!({"permissions": [perm("write:reports")]});
    assert_eq!(
        server.admin(Method::DELETE, &path, Some(remove)).await.0,
        StatusCode::NO_CONTENT
    );
    let (_, left) = server.admin(Method::GET, &path, None).await;
    assert_eq!(left.as_array().unwrap().len(), 1);

    for method in [Method::GET, Method::POST, Method::DELETE] {
        let body = (method != Method::GET).then(|| json!({"permissions": [perm("read:reports")]}));
        let (status, answer) = server
            .admin(method.clone(), "/users/auth0%7Cnobody/permissions", body)
            .await;
        assert_eq!(
            (status, answer["errorCode"].as_str()),
            (StatusCode::NOT_FOUND, Some("inexistent_user")),
            "{method}"
        );
    }

    // Each change is in the audit trail, under the user.
    let (_, events) = server
        .admin(Method::GET, &format!("/users/{}/logs", encoded(id)), None)
        .await;
    let actions: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["details"]["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"add_user_permissions") && actions.contains(&"remove_user_permissions"),
        "{actions:?}"
    );
}

#[tokio::test]
async fn a_direct_permission_is_in_the_users_token_under_rbac() {
    let server = server_with_api().await;
    let (_, client) = server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "web", "grant_types": [REALM]})),
        )
        .await;
    let user = server.create_user("ada@example.com", json!({})).await;
    let login = || {
        server.token_request(
            json!({"grant_type": REALM, "client_id": client["client_id"],
            "client_secret": client["client_secret"], "username": "ada@example.com",
            "password": "correct horse battery", "realm": DATABASE, "audience": API,
            "scope": "read:reports write:reports"}),
        )
    };
    let (_, before) = login().await;
    assert_eq!(before["scope"], "");

    let path = format!(
        "/users/{}/permissions",
        encoded(user["user_id"].as_str().unwrap())
    );
    let grant = json!({"permissions": [perm("write:reports")]});
    assert_eq!(
        server
            .admin(Method::POST, &path, Some(grant.clone()))
            .await
            .0,
        StatusCode::CREATED
    );
    let (status, after) = login().await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert_eq!(after["scope"], "write:reports");
    let token = verify_with_jwks(&server, after["access_token"].as_str().unwrap(), API).await;
    assert_eq!(token["permissions"], json!(["write:reports"]));

    assert_eq!(
        server.admin(Method::DELETE, &path, Some(grant)).await.0,
        StatusCode::NO_CONTENT
    );
    let (_, removed) = login().await;
    assert_eq!(removed["scope"], "");
}
