//! Management API `/roles`: CRUD, names unique case-insensitively, paging and name filter,
//! and permissions that must exist on their API (all or nothing).

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const API: &str = "https://api.example.com";

async fn server_with_api() -> TestServer {
    let server = TestServer::start().await;
    let api = json!({"identifier": API, "name": "Example", "scopes": [
        {"value": "read:reports", "description": "Read reports"}, {"value": "write:reports"}]});
    assert_eq!(
        server
            .admin(Method::POST, "/resource-servers", Some(api))
            .await
            .0,
        StatusCode::CREATED
    );
    server
}

fn perm(name: &str) -> Value {
    json!({"resource_server_identifier": API, "permission_name": name})
}

#[tokio::test]
async fn roles_crud_with_unique_names_and_paging() {
    let server = server_with_api().await;
    let (status, admin) = server
        .admin(
            Method::POST,
            "/roles",
            Some(json!({"name": "Admin", "description": "All"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{admin}");
    let id = admin["id"].as_str().unwrap();
    assert!(id.starts_with("rol_") && id.len() == 20, "{id}");
    let (status, dup) = server
        .admin(Method::POST, "/roles", Some(json!({"name": "admin"})))
        .await;
    assert_eq!(
        (status, dup["statusCode"].clone()),
        (StatusCode::CONFLICT, json!(409))
    );
    for name in ["member", "manager", "viewer"] {
        server
            .admin(Method::POST, "/roles", Some(json!({"name": name})))
            .await;
    }
    let (_, page) = server
        .admin(
            Method::GET,
            "/roles?per_page=2&page=1&include_totals=true",
            None,
        )
        .await;
    assert_eq!(
        (
            page["total"].clone(),
            page["roles"].as_array().unwrap().len()
        ),
        (json!(4), 2)
    );
    let (_, filtered) = server
        .admin(Method::GET, "/roles?name_filter=MAN", None)
        .await;
    assert_eq!(filtered.as_array().unwrap().len(), 1);
    assert_eq!(filtered[0]["name"], "manager");

    let (status, patched) = server
        .admin(
            Method::PATCH,
            &format!("/roles/{id}"),
            Some(json!({"description": "Everything"})),
        )
        .await;
    assert_eq!(
        (
            status,
            patched["name"].as_str(),
            patched["description"].as_str()
        ),
        (StatusCode::OK, Some("Admin"), Some("Everything"))
    );
    let (status, _) = server
        .admin(
            Method::PATCH,
            &format!("/roles/{id}"),
            Some(json!({"name": "Member"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "renaming onto another role's name"
    );
    assert_eq!(
        server
            .admin(Method::DELETE, &format!("/roles/{id}"), None)
            .await
            .0,
        StatusCode::OK
    );
    let (status, gone) = server
        .admin(Method::GET, &format!("/roles/{id}"), None)
        .await;
    assert_eq!(
        (status, gone["errorCode"].as_str()),
        (StatusCode::NOT_FOUND, Some("inexistent_role"))
    );
    for bad in [
        json!({}),
        json!({"name": ""}),
        json!({"name": "x".repeat(51)}),
    ] {
        assert_eq!(
            server
                .admin(Method::POST, "/roles", Some(bad.clone()))
                .await
                .0,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
}

#[tokio::test]
async fn role_permissions_are_checked_all_or_nothing() {
    let server = server_with_api().await;
    let (_, role) = server
        .admin(Method::POST, "/roles", Some(json!({"name": "reporter"})))
        .await;
    let path = format!("/roles/{}/permissions", role["id"].as_str().unwrap());

    let (status, _) = server
        .admin(
            Method::POST,
            &path,
            Some(json!({"permissions": [perm("read:reports"), perm("fly")]})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a scope the API does not define"
    );
    let unknown_api = json!({"permissions": [{"resource_server_identifier": "urn:nope", "permission_name": "x"}]});
    assert_eq!(
        server.admin(Method::POST, &path, Some(unknown_api)).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        server
            .admin(Method::POST, &path, Some(json!({"permissions": []})))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    let (_, none) = server.admin(Method::GET, &path, None).await;
    assert_eq!(none, json!([]), "nothing was half-written");

    let both =
        json!({"permissions": [perm("read:reports"), perm("write:reports"), perm("read:reports")]});
    assert_eq!(
        server.admin(Method::POST, &path, Some(both)).await.0,
        StatusCode::CREATED
    );
    let (_, listed) = server
        .admin(Method::GET, &format!("{path}?include_totals=true"), None)
        .await;
    assert_eq!(listed["total"], 2);
    assert_eq!(listed["permissions"][0]["permission_name"], "read:reports");
    assert_eq!(listed["permissions"][0]["resource_server_name"], "Example");
    assert_eq!(listed["permissions"][0]["description"], "Read reports");

    let remove = json!({"permissions": [perm("write:reports")]});
    assert_eq!(
        server.admin(Method::DELETE, &path, Some(remove)).await.0,
        StatusCode::OK
    );
    let (_, left) = server.admin(Method::GET, &path, None).await;
    assert_eq!(left.as_array().unwrap().len(), 1);

    // Deleting the API takes its permissions off every role.
    assert_eq!(
        server
            .admin(
                Method::DELETE,
                "/resource-servers/https%3A%2F%2Fapi.example.com",
                None
            )
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    let (_, after) = server.admin(Method::GET, &path, None).await;
    assert_eq!(after, json!([]));
    assert_eq!(
        server
            .admin(Method::GET, "/roles/rol_doesnotexist00/permissions", None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}
