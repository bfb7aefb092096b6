//! `/users/{id}/effective-roles` and `/users/{id}/effective-permissions`: what the token
//! endpoint computes for a user, readable through the Management API with both paging forms.

use crate::authz_support;
use crate::common;

use authz_support::Authz;
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
    let listed: Vec<(&str, &str, &str, Vec<&str>)> = permissions
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let sources = p["sources"].as_array().unwrap();
            assert!(sources.iter().all(|s| s["source_type"] == "ROLE"), "{p}");
            (
                p["permission_name"].as_str().unwrap(),
                p["resource_server_name"].as_str().unwrap(),
                p["description"].as_str().unwrap(),
                sources
                    .iter()
                    .map(|s| s["source_name"].as_str().unwrap())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            (
                "read:reports",
                "Reports",
                "Read them",
                vec!["reader", "writer"]
            ),
            ("write:reports", "Reports", "", vec!["writer"]),
        ],
        "read:reports comes from two roles and is listed once, with both"
    );
    let (_, same) = server
        .admin(Method::GET, &format!("/users/{encoded}/permissions"), None)
        .await;
    assert_eq!(same, permissions, "Auth0's list of a user's permissions");

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

/// A Management API role, with permissions on `API`; its `rol_…` id.
async fn mgmt_role(server: &TestServer, name: &str, permissions: &[&str]) -> String {
    let (_, role) = server
        .admin(Method::POST, "/roles", Some(json!({"name": name})))
        .await;
    let id = role["id"].as_str().unwrap().to_string();
    let permissions: Vec<Value> = permissions
        .iter()
        .map(|p| json!({"resource_server_identifier": API, "permission_name": p}))
        .collect();
    let (status, _) = server
        .admin(
            Method::POST,
            &format!("/roles/{id}/permissions"),
            Some(json!({"permissions": permissions})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    id
}

#[tokio::test]
async fn roles_flow_through_nested_and_mapped_groups_into_the_first_token() {
    let a = Authz::start().await;
    let api = json!({"identifier": API, "name": "Reports", "enforce_policies": true, "token_dialect": "access_token_authz",
        "scopes": [{"value": "read:reports"}, {"value": "write:reports"}, {"value": "delete:reports"}]});
    a.server
        .admin(Method::POST, "/resource-servers", Some(api))
        .await;
    let analyst = mgmt_role(&a.server, "analyst", &["read:reports"]).await;
    let contractor = mgmt_role(&a.server, "contractor", &["write:reports"]).await;
    mgmt_role(&a.server, "admin", &["delete:reports"]).await;

    // Company > Engineering > Backend; Company grants `analyst`. Contractors is mapped to
    // Backend for the database connection and grants `contractor`.
    let company = a.group("Company").await;
    let engineering = a.group("Engineering").await;
    let backend = a.group("Backend").await;
    let contractors = a.group("Contractors").await;
    for (parent, child) in [(&company, &engineering), (&engineering, &backend)] {
        let (status, body) = a
            .call(
                Method::PATCH,
                &format!("/groups/{parent}/nested"),
                Some(json!([child])),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
    for (group, role) in [(&company, &analyst), (&contractors, &contractor)] {
        let (status, body) = a
            .call(
                Method::PATCH,
                &format!("/groups/{group}/roles"),
                Some(json!([role])),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
    let mapping = json!([{"groupName": "Backend", "connectionName": DB}]);
    let (status, body) = a
        .call(
            Method::PATCH,
            &format!("/groups/{contractors}/mappings"),
            Some(mapping),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, cycle) = a
        .call(
            Method::PATCH,
            &format!("/groups/{backend}/nested"),
            Some(json!([company])),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a cycle is refused: {cycle}"
    );

    // New users of the database connection land in Backend.
    let (_, connections) = a.server.admin(Method::GET, "/connections", None).await;
    let connection = connections
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == DB)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = a
        .server
        .admin(
            Method::PATCH,
            &format!("/connections/{connection}"),
            Some(json!({"default_assignments": {"groups": ["backend"]}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let user_id = a.signup("ada@example.com").await;
    let (status, tokens) = a.server.token_request(json!({"grant_type": authz_support::REALM, "client_id": a.web_id,
        "client_secret": a.web_secret, "username": "ada@example.com", "password": authz_support::PASSWORD,
        "realm": DB, "audience": API, "scope": "read:reports write:reports delete:reports"})).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["scope"], "read:reports write:reports");
    let token = verify_with_jwks(&a.server, tokens["access_token"].as_str().unwrap(), API).await;
    assert_eq!(
        token["permissions"],
        json!(["read:reports", "write:reports"]),
        "the first token: analyst through nesting, contractor through the mapping"
    );

    let encoded = user_id.replace('|', "%7C");
    let (_, roles) = a
        .server
        .admin(
            Method::GET,
            &format!("/users/{encoded}/effective-roles"),
            None,
        )
        .await;
    let names: Vec<&str> = roles
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["analyst", "contractor"]);
    let (_, direct) = a
        .server
        .admin(Method::GET, &format!("/users/{encoded}/roles"), None)
        .await;
    assert_eq!(direct, json!([]), "nothing was assigned directly");

    let (status, body) = a
        .server
        .admin(Method::DELETE, &format!("/roles/{analyst}"), None)
        .await;
    assert_eq!(
        (status, body["statusCode"].clone()),
        (StatusCode::CONFLICT, json!(409)),
        "a role a group holds cannot be deleted: {body}"
    );
    let (status, _) = a
        .server
        .admin(Method::GET, &format!("/roles/{analyst}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "and it is still there");
}
