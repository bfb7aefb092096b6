//! `POST /authz/api/configuration/import` takes the extension's own export document as it is
//! and replaces the data in one transaction; `GET /configuration/export` gives the same shape
//! back.

use crate::authz_support;

use authz_support::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Arrays of records sorted by `_id`, and arrays of strings sorted, so documents compare
/// equal up to ordering.
fn normalized(mut v: Value) -> Value {
    match &mut v {
        Value::Array(items) => {
            let mut items: Vec<Value> = items.drain(..).map(normalized).collect();
            items.sort_by_key(|i| {
                i.get("_id")
                    .map_or_else(|| i.to_string(), |id| id.to_string())
            });
            Value::Array(items)
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), normalized(v.clone())))
                .collect(),
        ),
        _ => v,
    }
}

#[tokio::test]
async fn an_extension_export_imports_as_it_is_and_exports_back_the_same() {
    let a = Authz::start().await;
    let ada = a.signup("ada@example.com").await;
    let app = a.web_id.clone();
    let doc = json!({
        "configuration": [{"_id": "v1", "groupsInToken": true, "rolesInToken": true, "permissionsInToken": false,
                           "persistGroups": false, "persistRoles": false, "persistPermissions": false,
                           "groupsPassthrough": false, "rolesPassthrough": false, "permissionsPassthrough": false}],
        "groups": [
            {"_id": "7d3a7c53-4a1c-4e5d-9b0e-1f6f1f0c0001", "name": "HR", "description": "Human Resources",
             "members": [ada], "roles": ["7d3a7c53-4a1c-4e5d-9b0e-1f6f1f0c0101"],
             "nested": ["7d3a7c53-4a1c-4e5d-9b0e-1f6f1f0c0002"],
             "mappings": [{"_id": "7d3a7c53-4a1c-4e5d-9b0e-1f6f1f0c0301", "groupName": "ad-hr", "connectionName": DB}]},
            {"_id": "7d3a7c53-4a1c-4e5d-9b0e-1f6f1f0c0002", "name": "Payroll", "description": "Payroll team",
             "members": [], "roles": [], "nested": [], "mappings": []}
        ],
        "roles": [
            {"_id": "7d3a7c53-4a1c-4e5d-9b0e-1f6f1f0c0101", "name": "HR Manager", "description": "Manages HR",
             "applicationType": "client", "applicationId": app,
             "permissions": ["7d3a7c53-4a1c-4e5d-9b0e-1f6f1f0c0201"], "users": [ada]}
        ],
        "permissions": [
            {"_id": "7d3a7c53-4a1c-4e5d-9b0e-1f6f1f0c0201", "name": "Approve Expenses", "description": "Approve",
             "applicationType": "client", "applicationId": app}
        ],
        "applications": [],
        "rules": []
    });
    let (status, body) = a
        .call(Method::POST, "/configuration/import", Some(doc.clone()))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, exported) = a.call(Method::GET, "/configuration/export", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(normalized(exported.clone()), normalized(doc.clone()));

    // The imported data is live: the policy and the Management API see it.
    let (_, policy) = a
        .server
        .call(
            Method::POST,
            &format!("/authz/api/users/{ada}/policy/{app}"),
            &a.token,
            Some(json!({"connectionName": DB})),
        )
        .await;
    assert_eq!(
        policy,
        json!({"groups": ["HR"], "roles": ["HR Manager"], "permissions": ["Approve Expenses"]})
    );
    let (_, roles) = a
        .server
        .admin(
            Method::GET,
            &format!("/users/{}/roles", ada.replace('|', "%7C")),
            None,
        )
        .await;
    assert_eq!(names(&roles), ["HR Manager"]);

    // Importing the export again changes nothing (roles keep their ids by GUID).
    let (status, _) = a
        .call(
            Method::POST,
            "/configuration/import",
            Some(exported.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, again) = a.call(Method::GET, "/configuration/export", None).await;
    assert_eq!(normalized(again), normalized(exported));
}

#[tokio::test]
async fn import_replaces_everything_skips_unknown_users_and_is_all_or_nothing() {
    let a = Authz::start().await;
    let ada = a.signup("ada@example.com").await;
    let old = a.group("Old group").await;
    a.role("Old role", &a.web_id, &[]).await;
    let g1 = "11111111-1111-4111-8111-111111111111";
    let g2 = "22222222-2222-4222-8222-222222222222";
    let doc = json!({"groups": [
        {"_id": g1, "name": "One", "description": "1", "members": [ada, "auth0|not-here"], "nested": [g2]},
        {"_id": g2, "name": "Two", "description": "2"}
    ]});
    let (status, body) = a
        .call(Method::POST, "/configuration/import", Some(doc))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, groups) = a.call(Method::GET, "/groups", None).await;
    assert_eq!(names(&groups["groups"]), ["One", "Two"]);
    let one = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "One")
        .unwrap();
    assert_eq!(
        one["members"],
        json!([ada]),
        "users Castellan does not know are skipped"
    );
    let (status, _) = a.call(Method::GET, &format!("/groups/{old}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "replaced");
    let (_, roles) = a.call(Method::GET, "/roles", None).await;
    assert_eq!(
        roles["total"], 0,
        "extension roles not in the document are gone"
    );

    let cyclic = json!({"groups": [
        {"_id": g1, "name": "One", "description": "1", "nested": [g2]},
        {"_id": g2, "name": "Two", "description": "2", "nested": [g1]}
    ], "permissions": [{"_id": g1, "name": "p", "description": "d", "applicationType": "client", "applicationId": "x"}]});
    let (status, body) = a
        .call(Method::POST, "/configuration/import", Some(cyclic))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, 400, "ValidationError", "cycle");
    let (_, permissions) = a.call(Method::GET, "/permissions", None).await;
    assert_eq!(
        permissions["total"], 0,
        "nothing of the failed import stayed"
    );
    let (_, groups) = a.call(Method::GET, "/groups", None).await;
    assert_eq!(names(&groups["groups"]), ["One", "Two"]);

    let (status, body) = a
        .call(
            Method::POST,
            "/configuration/import",
            Some(json!({"groups": [{"_id": g1}]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, 400, "ValidationError", "name");
    let (status, _) = a
        .call(Method::POST, "/configuration/import", Some(json!([])))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
