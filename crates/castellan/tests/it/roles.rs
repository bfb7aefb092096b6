//! Management API `/roles`: CRUD, names unique case-insensitively, paging and name filter,
//! and permissions that must exist on their API (all or nothing).

use crate::common;

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

const REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";
const DB: &str = "Username-Password-Authentication";

#[tokio::test]
async fn a_users_roles_put_permissions_in_the_token_under_rbac() {
    let server = TestServer::start().await;
    let api = json!({"identifier": API, "enforce_policies": true, "token_dialect": "access_token_authz",
                     "scopes": [{"value": "read:reports"}, {"value": "write:reports"}]});
    assert_eq!(
        server
            .admin(Method::POST, "/resource-servers", Some(api))
            .await
            .0,
        StatusCode::CREATED
    );
    let (_, client) = server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "web", "grant_types": [REALM]})),
        )
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
    let encoded = user_id.replace('|', "%7C");
    let login = || {
        server.token_request(json!({"grant_type": REALM, "client_id": client["client_id"], "client_secret": client["client_secret"],
            "username": "ada@example.com", "password": "correct horse battery", "realm": DB, "audience": API,
            "scope": "read:reports write:reports"}))
    };

    let (_, before) = login().await;
    assert_eq!(before["scope"], "", "no role, no API scope under RBAC");
    assert_eq!(
        claims(before["access_token"].as_str().unwrap())["permissions"],
        json!([])
    );

    let (_, role) = server
        .admin(Method::POST, "/roles", Some(json!({"name": "reader"})))
        .await;
    let role_id = role["id"].as_str().unwrap();
    let grant = json!({"permissions": [perm("read:reports")]});
    server
        .admin(
            Method::POST,
            &format!("/roles/{role_id}/permissions"),
            Some(grant),
        )
        .await;
    let (status, _) = server
        .admin(
            Method::POST,
            &format!("/users/{encoded}/roles"),
            Some(json!({"roles": [role_id]})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, raw_pipe) = server
        .admin(Method::GET, &format!("/users/{user_id}/roles"), None)
        .await;
    assert_eq!(
        raw_pipe[0]["name"], "reader",
        "a raw | in the path works too"
    );

    let (_, after) = login().await;
    assert_eq!(after["scope"], "read:reports");
    let token_claims =
        verify_with_jwks(&server, after["access_token"].as_str().unwrap(), API).await;
    assert_eq!(token_claims["permissions"], json!(["read:reports"]));

    let (status, _) = server
        .admin(
            Method::DELETE,
            &format!("/users/{encoded}/roles"),
            Some(json!({"roles": [role_id]})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, removed) = login().await;
    assert_eq!(removed["scope"], "", "removed, and not re-added");

    let ghost = json!({"roles": [role_id, "rol_doesnotexist00"]});
    let (status, body) = server
        .admin(
            Method::POST,
            &format!("/users/{encoded}/roles"),
            Some(ghost),
        )
        .await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (StatusCode::NOT_FOUND, Some("inexistent_role"))
    );
    let (_, none) = server
        .admin(Method::GET, &format!("/users/{encoded}/roles"), None)
        .await;
    assert_eq!(none, json!([]), "nothing half-assigned");
    let (status, body) = server
        .admin(Method::GET, "/users/auth0%7Cnobody/roles", None)
        .await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (StatusCode::NOT_FOUND, Some("inexistent_user"))
    );
}
