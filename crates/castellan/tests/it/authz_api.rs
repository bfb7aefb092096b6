//! The Authorization Extension API at `/authz/api`: every endpoint over HTTP, the
//! extension's status codes, envelopes and errors, M2M-only access, the policy endpoint with
//! both ways in, and the audit trail.

use crate::authz_support;
use crate::common;

use authz_support::*;
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn groups_crud_with_extension_status_codes_and_errors() {
    let a = Authz::start().await;
    let (status, hr) = a
        .call(
            Method::POST,
            "/groups",
            Some(json!({"name": "HR", "description": "Human Resources"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "POST answers 200: {hr}");
    let id = hr["_id"].as_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "GUID ids: {id}");
    assert_eq!(hr["name"], "HR");

    let (status, dup) = a
        .call(
            Method::POST,
            "/groups",
            Some(json!({"name": "hr", "description": "again"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&dup, 400, "ValidationError", "already exists");
    for bad in [
        json!({"name": "x"}),
        json!({"name": "", "description": "d"}),
        json!({"name": "x".repeat(51), "description": "d"}),
        json!({"name": "x", "description": "d", "extra": 1}),
    ] {
        let (status, body) = a.call(Method::POST, "/groups", Some(bad.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["statusCode"], 400);
    }

    let (status, got) = a.call(Method::GET, &format!("/groups/{id}"), None).await;
    assert_eq!(
        (status, got),
        (
            StatusCode::OK,
            json!({"_id": id, "name": "HR", "description": "Human Resources"})
        )
    );
    let missing = "00000000-0000-4000-8000-000000000000";
    let (status, body) = a
        .call(Method::GET, &format!("/groups/{missing}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"statusCode": 404, "error": "NotFoundError",
                            "message": format!("The record {missing} in groups does not exist.")})
    );

    let (status, updated) = a
        .call(
            Method::PUT,
            &format!("/groups/{id}"),
            Some(json!({"name": "People", "description": "People team"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (updated["name"].as_str(), updated["members"].clone()),
        (Some("People"), json!([]))
    );

    a.group("Sales").await;
    let (status, list) = a.call(Method::GET, "/groups", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["total"], 2);
    assert_eq!(names(&list["groups"]), ["People", "Sales"]);
    let full = &list["groups"][0];
    for key in [
        "_id",
        "name",
        "description",
        "members",
        "roles",
        "nested",
        "mappings",
    ] {
        assert!(full.get(key).is_some(), "{key} in {full}");
    }
    let (_, filtered) = a.call(Method::GET, "/groups?q=SAL&field=name", None).await;
    assert_eq!(
        (names(&filtered["groups"]), filtered["total"].clone()),
        (vec!["Sales".to_string()], json!(2))
    );

    let (status, body) = a.call(Method::DELETE, &format!("/groups/{id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, _) = a.call(Method::GET, &format!("/groups/{id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn nesting_members_and_cycles() {
    let a = Authz::start().await;
    let company = a.group("Company").await;
    let eng = a.group("Engineering").await;
    let backend = a.group("Backend").await;
    let ada = a.signup("ada@example.com").await;
    let bob = a.signup("bob@example.com").await;

    for (parent, child) in [(&company, &eng), (&eng, &backend)] {
        let (status, body) = a
            .call(
                Method::PATCH,
                &format!("/groups/{parent}/nested"),
                Some(json!([child, parent, child])),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::NO_CONTENT,
            "own id and duplicates ignored: {body}"
        );
    }
    let (_, nested) = a
        .call(Method::GET, &format!("/groups/{company}/nested"), None)
        .await;
    assert_eq!(names(&nested), ["Engineering"]);
    assert_eq!(nested[0]["nested"], json!([backend]), "full child records");

    let (status, cycle) = a
        .call(
            Method::PATCH,
            &format!("/groups/{backend}/nested"),
            Some(json!([company])),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&cycle, 400, "ValidationError", "cycle");
    assert!(
        cycle["message"].as_str().unwrap().contains("Company")
            && cycle["message"].as_str().unwrap().contains("Backend")
    );

    let (status, in_use) = a
        .call(Method::DELETE, &format!("/groups/{eng}"), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        in_use["message"],
        "Unable to touch nested while used in groups: Company"
    );

    // Members: raw user ids in the body; unknown users are skipped (they must exist here).
    let (status, _) = a
        .call(
            Method::PATCH,
            &format!("/groups/{backend}/members"),
            Some(json!([ada, "auth0|nobody"])),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    a.call(
        Method::PATCH,
        &format!("/groups/{company}/members"),
        Some(json!([bob])),
    )
    .await;
    a.call(
        Method::PATCH,
        &format!("/groups/{eng}/members"),
        Some(json!([bob])),
    )
    .await;
    let (_, members) = a
        .call(Method::GET, &format!("/groups/{backend}/members"), None)
        .await;
    assert_eq!(members["total"], 1);
    assert_eq!(members["users"][0]["user_id"], ada.as_str());
    assert_eq!(members["users"][0]["email"], "ada@example.com");

    let (_, nested_members) = a
        .call(
            Method::GET,
            &format!("/groups/{company}/members/nested"),
            None,
        )
        .await;
    assert_eq!(nested_members["total"], 3, "{nested_members}");
    let pairs: Vec<(String, String)> = nested_members["nested"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["user"]["email"].as_str().unwrap().to_string(),
                n["group"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        pairs.contains(&("ada@example.com".into(), "Backend".into())),
        "{pairs:?}"
    );
    assert!(
        pairs.contains(&("bob@example.com".into(), "Company".into())),
        "{pairs:?}"
    );

    // Paging is 1-based: 0 and 1 give the first page.
    let first = a
        .call(
            Method::GET,
            &format!("/groups/{company}/members/nested?per_page=2&page=0"),
            None,
        )
        .await
        .1;
    let one = a
        .call(
            Method::GET,
            &format!("/groups/{company}/members/nested?per_page=2&page=1"),
            None,
        )
        .await
        .1;
    let two = a
        .call(
            Method::GET,
            &format!("/groups/{company}/members/nested?per_page=2&page=2"),
            None,
        )
        .await
        .1;
    assert_eq!(first, one);
    assert_eq!(
        (
            one["nested"].as_array().unwrap().len(),
            two["nested"].as_array().unwrap().len()
        ),
        (2, 1)
    );
    let (status, _) = a
        .call(
            Method::GET,
            &format!("/groups/{company}/members?per_page=26"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A user's groups: direct, and calculated with ancestors; raw and encoded ids.
    let encoded = ada.replace('|', "%7C");
    let (_, direct) = a
        .call(Method::GET, &format!("/users/{encoded}/groups"), None)
        .await;
    assert_eq!(names(&direct), ["Backend"]);
    let (_, calculated) = a
        .call(Method::GET, &format!("/users/{ada}/groups/calculate"), None)
        .await;
    assert_eq!(names(&calculated), ["Backend", "Company", "Engineering"]);

    let (status, _) = a
        .call(
            Method::DELETE,
            &format!("/groups/{backend}/members"),
            Some(json!([ada])),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, none) = a
        .call(Method::GET, &format!("/users/{encoded}/groups"), None)
        .await;
    assert_eq!(none, json!([]));
    // By name, as the extension allows when the first entry is not a GUID; unknown skipped.
    let (status, _) = a
        .call(
            Method::PATCH,
            &format!("/users/{encoded}/groups"),
            Some(json!(["backend", "No such group"])),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, again) = a
        .call(Method::GET, &format!("/users/{ada}/groups"), None)
        .await;
    assert_eq!(names(&again), ["Backend"]);

    let (status, _) = a
        .call(
            Method::DELETE,
            &format!("/groups/{eng}/nested"),
            Some(json!([backend])),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, after) = a
        .call(Method::GET, &format!("/users/{ada}/groups/calculate"), None)
        .await;
    assert_eq!(names(&after), ["Backend"]);
}

#[tokio::test]
async fn group_roles_mappings_and_references_in_use() {
    let a = Authz::start().await;
    let app = a.web_id.clone();
    let approve = a.permission("approve:expenses", "client", &app).await;
    let manager = a.role("Manager", &app, &[&approve]).await;
    let parent = a.group("Finance").await;
    let child = a.group("Accounting").await;
    let (status, body) = a
        .call(
            Method::PATCH,
            &format!("/groups/{parent}/nested"),
            Some(json!([child])),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    let (status, _) = a
        .call(
            Method::PATCH,
            &format!("/groups/{parent}/roles"),
            Some(json!([manager])),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let ghost = "00000000-0000-4000-8000-000000000001";
    let (status, body) = a
        .call(
            Method::PATCH,
            &format!("/groups/{parent}/roles"),
            Some(json!([ghost])),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body["message"],
        format!("The record {ghost} in roles does not exist.")
    );

    let (_, roles) = a
        .call(Method::GET, &format!("/groups/{parent}/roles"), None)
        .await;
    assert_eq!(names(&roles), ["Manager"]);
    assert_eq!(roles[0]["permissions"], json!([approve]));
    assert_eq!(roles[0]["applicationId"], app.as_str());
    let (_, inherited) = a
        .call(Method::GET, &format!("/groups/{child}/roles/nested"), None)
        .await;
    assert_eq!(inherited[0]["role"]["name"], "Manager");
    assert_eq!(inherited[0]["group"]["name"], "Finance");
    let (_, expanded) = a
        .call(Method::GET, &format!("/groups/{child}?expand=true"), None)
        .await;
    assert_eq!(expanded["roles"][0]["name"], "Manager");
    assert_eq!(
        expanded["roles"][0]["permissions"][0]["name"],
        "approve:expenses"
    );

    let (status, in_use) = a
        .call(Method::DELETE, &format!("/roles/{manager}"), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(
        &in_use,
        400,
        "ValidationError",
        "Unable to touch roles while used in groups: Finance",
    );
    let (status, in_use) = a
        .call(Method::DELETE, &format!("/permissions/{approve}"), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        in_use["message"],
        "Unable to touch permissions while used in roles: Manager"
    );

    let (status, _) = a
        .call(
            Method::DELETE,
            &format!("/groups/{parent}/roles"),
            Some(json!([manager])),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = a
        .call(Method::DELETE, &format!("/roles/{manager}"), None)
        .await;
    assert_eq!(
        status,
        StatusCode::NO_CONTENT,
        "free to go once no group uses it"
    );

    // Mappings: only those whose connection exists come back, as "name (strategy)".
    let entries = json!([{"groupName": "ad-finance", "connectionName": DB}, {"groupName": "x", "connectionName": "gone"}]);
    let (status, _) = a
        .call(
            Method::PATCH,
            &format!("/groups/{parent}/mappings"),
            Some(entries),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, mappings) = a
        .call(Method::GET, &format!("/groups/{parent}/mappings"), None)
        .await;
    assert_eq!(mappings.as_array().unwrap().len(), 1, "{mappings}");
    assert_eq!(mappings[0]["groupName"], "ad-finance");
    assert_eq!(mappings[0]["connectionName"], format!("{DB} (auth0)"));
    let mapping_id = mappings[0]["_id"].as_str().unwrap();
    let (status, _) = a
        .call(
            Method::DELETE,
            &format!("/groups/{parent}/mappings"),
            Some(json!([mapping_id])),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, left) = a.call(Method::GET, "/groups", None).await;
    let finance = left["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "Finance")
        .unwrap();
    assert_eq!(
        finance["mappings"].as_array().unwrap().len(),
        1,
        "the unlisted one is still stored"
    );
}

#[tokio::test]
async fn roles_and_permissions_crud_shared_with_the_management_api() {
    let a = Authz::start().await;
    let app = a.web_id.clone();
    let read = a.permission("read:reports", "client", &app).await;
    let (status, dup) = a
        .call(Method::POST, "/permissions", Some(json!({"name": "READ:reports", "description": "d", "applicationType": "client", "applicationId": app})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&dup, 400, "ValidationError", "already exists");
    let (status, _) = a
        .call(Method::POST, "/permissions", Some(json!({"name": "read:reports", "description": "d", "applicationType": "client", "applicationId": "other-app"})))
        .await;
    assert_eq!(status, StatusCode::OK, "unique per application only");
    let (status, bad) = a
        .call(Method::POST, "/permissions", Some(json!({"name": "x", "description": "d", "applicationType": "api", "applicationId": app})))
        .await;
    assert_eq!(
        (status, bad["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("ValidationError"))
    );

    let (_, permission) = a
        .call(Method::GET, &format!("/permissions/{read}"), None)
        .await;
    assert_eq!(
        permission,
        json!({"_id": read, "name": "read:reports", "description": "read:reports permission"})
    );
    let (_, all) = a.call(Method::GET, "/permissions", None).await;
    assert_eq!(all["total"], 2);
    assert_eq!(all["permissions"][0]["applicationType"], "client");

    let (status, role) = a
        .call(
            Method::POST,
            "/roles",
            Some(
                json!({"name": "Reader", "description": "Reads", "applicationType": "client",
                                                   "applicationId": app, "permissions": [read]}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let role_id = role["_id"].as_str().unwrap().to_string();
    assert_eq!(role["permissions"], json!([read]));
    let (_, compact) = a
        .call(Method::GET, &format!("/roles/{role_id}"), None)
        .await;
    assert_eq!(
        compact,
        json!({"_id": role_id, "name": "Reader", "description": "Reads"})
    );
    let (status, cross) = a
        .call(Method::POST, "/roles", Some(json!({"name": "Cross", "description": "d", "applicationType": "client",
                                                   "applicationId": "other-app", "permissions": [read]})))
        .await;
    assert_eq!(
        (status, cross["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("ValidationError"))
    );

    let (status, used) = a
        .call(Method::PUT, &format!("/permissions/{read}"), Some(json!({"name": "read:all", "description": "d", "applicationType": "client", "applicationId": app})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        used["message"],
        "Unable to touch permissions while used in roles: Reader"
    );

    let (status, put) = a
        .call(Method::PUT, &format!("/roles/{role_id}"), Some(json!({"name": "Reader", "description": "Reads more", "applicationType": "client",
                                                                   "applicationId": app, "permissions": []})))
        .await;
    assert_eq!(
        (
            status,
            put["description"].as_str(),
            put["permissions"].clone()
        ),
        (StatusCode::OK, Some("Reads more"), json!([]))
    );
    let (status, moved) = a
        .call(Method::PUT, &format!("/roles/{role_id}"), Some(json!({"name": "Reader", "description": "d", "applicationType": "client", "applicationId": "other-app"})))
        .await;
    assert_eq!(
        (status, moved["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("ValidationError"))
    );
    let (status, _) = a
        .call(Method::PUT, &format!("/permissions/{read}"), Some(json!({"name": "read:all", "description": "All", "applicationType": "client", "applicationId": app})))
        .await;
    assert_eq!(status, StatusCode::OK, "no role uses it any more");

    // One roles table: this role is in the Management API, and one made there is here.
    let (_, mgmt_roles) = a.server.admin(Method::GET, "/roles", None).await;
    assert_eq!(names(&mgmt_roles), ["Reader"]);
    let (status, by_guid) = a
        .server
        .admin(Method::GET, &format!("/roles/{role_id}"), None)
        .await;
    assert_eq!(
        (status, by_guid["name"].as_str()),
        (StatusCode::OK, Some("Reader"))
    );
    let (_, made_there) = a
        .server
        .admin(Method::POST, "/roles", Some(json!({"name": "Auditor"})))
        .await;
    let (_, roles) = a.call(Method::GET, "/roles", None).await;
    assert_eq!(names(&roles["roles"]), ["Auditor", "Reader"]);
    let (status, _) = a
        .call(
            Method::GET,
            &format!("/roles/{}", made_there["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "rol_ ids work here too");
    let (_, filtered) = a.call(Method::GET, "/roles?q=aud", None).await;
    assert_eq!(names(&filtered["roles"]), ["Auditor"]);

    let (status, _) = a
        .call(Method::DELETE, &format!("/roles/{role_id}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = a
        .call(Method::DELETE, &format!("/permissions/{read}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, gone) = a
        .call(Method::DELETE, &format!("/permissions/{read}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        gone["message"],
        format!("The record {read} in permissions does not exist.")
    );
}

#[tokio::test]
async fn update_roles_scope_is_what_patching_a_users_roles_needs() {
    let a = Authz::start().await;
    let user = a.signup("ada@example.com").await;
    let encoded = user.replace('|', "%7C");
    let editor = a.role("Editor", &a.web_id, &[]).await;
    let path = format!("/users/{encoded}/roles");

    let readers = a
        .m2m_token(&[
            "read:users",
            "read:groups",
            "read:roles",
            "read:permissions",
        ])
        .await;
    let response = a
        .server
        .http
        .patch(a.server.url(&format!("/authz/api{path}")))
        .bearer_auth(&readers)
        .json(&json!([editor]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(challenge.contains("scope=\"update:roles\""), "{challenge}");
    let body: Value = response.json().await.unwrap();
    assert_error(&body, 403, "Forbidden", "update:roles");

    let writer = a.m2m_token(&["update:roles"]).await;
    let (status, body) = a
        .call_with(&writer, Method::PATCH, &path, Some(json!([editor])))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, mgmt) = a
        .server
        .admin(Method::GET, &format!("/users/{encoded}/roles"), None)
        .await;
    assert_eq!(
        names(&mgmt),
        ["Editor"],
        "visible through the Management API"
    );

    // Names work when the first entry is not a GUID; a name matches in every application.
    a.role("Viewer", &a.web_id, &[]).await;
    a.role("Viewer", "another-app", &[]).await;
    let (status, _) = a
        .call_with(
            &writer,
            Method::PATCH,
            &format!("/users/{user}/roles"),
            Some(json!(["viewer", "nope"])),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, direct) = a.call_with(&readers, Method::GET, &path, None).await;
    assert_eq!(names(&direct), ["Editor", "Viewer", "Viewer"]);
    assert!(direct[0].get("applicationId").is_some());

    let ghost = "00000000-0000-4000-8000-000000000002";
    let (status, body) = a
        .call_with(&writer, Method::DELETE, &path, Some(json!([editor, ghost])))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body["message"],
        format!("The record {ghost} in roles does not exist.")
    );
    let (status, _) = a
        .call_with(&writer, Method::DELETE, &path, Some(json!([editor])))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, left) = a.call(Method::GET, &path, None).await;
    assert_eq!(names(&left), ["Viewer", "Viewer"]);

    let (status, body) = a
        .call(
            Method::PATCH,
            "/users/auth0%7Cnobody/roles",
            Some(json!([editor])),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body["message"],
        "The record auth0|nobody in users does not exist."
    );
    let (status, _) = a.call(Method::PATCH, &path, Some(json!([]))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "at least one role");
}

#[tokio::test]
async fn calculated_roles_users_list_and_user() {
    let a = Authz::start().await;
    let ada = a.signup("ada@example.com").await;
    a.signup("bob@example.com").await;
    let direct = a.role("Direct", &a.web_id, &[]).await;
    let inherited = a.role("Inherited", "another-app", &[]).await;
    let parent = a.group("Parent").await;
    let child = a.group("Child").await;
    a.call(
        Method::PATCH,
        &format!("/groups/{parent}/nested"),
        Some(json!([child])),
    )
    .await;
    a.call(
        Method::PATCH,
        &format!("/groups/{parent}/roles"),
        Some(json!([inherited])),
    )
    .await;
    a.call(
        Method::PATCH,
        &format!("/groups/{child}/members"),
        Some(json!([ada])),
    )
    .await;
    a.call(
        Method::PATCH,
        &format!("/users/{ada}/roles"),
        Some(json!([direct])),
    )
    .await;

    let (_, calculated) = a
        .call(Method::GET, &format!("/users/{ada}/roles/calculate"), None)
        .await;
    assert_eq!(
        names(&calculated),
        ["Direct", "Inherited"],
        "not filtered by application"
    );
    let (_, expanded) = a
        .call(
            Method::GET,
            &format!("/users/{ada}/groups?expand=true"),
            None,
        )
        .await;
    assert_eq!(names(&expanded["groups"]), ["Child", "Parent"]);
    assert_eq!(names(&expanded["roles"]), ["Inherited"]);

    let (status, list) = a.call(Method::GET, "/users", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            list["total"].clone(),
            list["length"].clone(),
            list["limit"].clone()
        ),
        (json!(2), json!(2), json!(100))
    );
    let (_, found) = a.call(Method::GET, "/users?q=bob&field=email", None).await;
    assert_eq!(found["users"][0]["email"], "bob@example.com");
    assert_eq!(found["total"], 1);
    let (_, paged) = a.call(Method::GET, "/users?per_page=1&page=2", None).await;
    assert_eq!(
        (
            paged["start"].clone(),
            paged["users"].as_array().unwrap().len()
        ),
        (json!(1), 1)
    );
    let (status, one) = a
        .call(
            Method::GET,
            &format!("/users/{}", ada.replace('|', "%7C")),
            None,
        )
        .await;
    assert_eq!(
        (status, one["user_id"].as_str()),
        (StatusCode::OK, Some(ada.as_str()))
    );
    assert_eq!(one["identities"][0]["connection"], DB);
    let (status, body) = a.call(Method::GET, "/users/auth0|nobody", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, 404, "NotFoundError", "in users does not exist");
}

#[tokio::test]
async fn policy_with_a_token_or_the_api_key_filtered_to_the_application() {
    let a = Authz::start().await;
    let user = a.signup("ada@example.com").await;
    let app = a.web_id.clone();
    let approve = a.permission("approve", "client", &app).await;
    let other = a.permission("other", "client", "other-app").await;
    let approver = a.role("Approver", &app, &[&approve]).await;
    let elsewhere = a.role("Elsewhere", "other-app", &[&other]).await;
    let direct = a.role("Direct", &app, &[]).await;
    let parent = a.group("Parent").await;
    let child = a.group("Child").await;
    let mapped = a.group("Mapped").await;
    let idp_mapped = a.group("FromIdp").await;
    a.call(
        Method::PATCH,
        &format!("/groups/{parent}/nested"),
        Some(json!([child])),
    )
    .await;
    a.call(
        Method::PATCH,
        &format!("/groups/{parent}/roles"),
        Some(json!([approver, elsewhere])),
    )
    .await;
    a.call(
        Method::PATCH,
        &format!("/groups/{child}/members"),
        Some(json!([user])),
    )
    .await;
    a.call(
        Method::PATCH,
        &format!("/users/{user}/roles"),
        Some(json!([direct])),
    )
    .await;
    // A mapping from a direct group's name, and one from a name the identity provider sends.
    a.call(
        Method::PATCH,
        &format!("/groups/{mapped}/mappings"),
        Some(json!([{"groupName": "Child", "connectionName": DB}])),
    )
    .await;
    a.call(
        Method::PATCH,
        &format!("/groups/{idp_mapped}/mappings"),
        Some(json!([{"groupName": "ad-admins", "connectionName": DB}])),
    )
    .await;

    let path = format!("/authz/api/users/{user}/policy/{app}");
    let body = json!({"connectionName": DB, "groups": ["ad-admins"]});
    let expected = json!({"groups": ["Child", "FromIdp", "Mapped", "Parent"], "roles": ["Approver", "Direct"], "permissions": ["approve"]});

    // Any M2M token for the API, whatever its scopes.
    let token = a.m2m_token(&["read:users"]).await;
    let (status, policy) = a
        .server
        .call(Method::POST, &path, &token, Some(body.clone()))
        .await;
    assert_eq!((status, policy), (StatusCode::OK, expected.clone()));

    // The API key, raw user id in the path as the rule sends it.
    let (status, rotated) = a
        .call(Method::PATCH, "/configuration/rotate-apikey", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let key = rotated["hash"].as_str().unwrap().to_string();
    let with_key = |key: String, body: Value| {
        a.server
            .http
            .post(a.server.url(&path))
            .header("x-api-key", key)
            .json(&body)
            .send()
    };
    let response = with_key(key.clone(), body.clone()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap(), expected);
    let response = with_key("wrong".into(), body.clone()).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let (status, again) = a
        .call(Method::PATCH, "/configuration/rotate-apikey", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(again["hash"], rotated["hash"]);
    let response = with_key(key, body.clone()).await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "the old key no longer works"
    );
    let stored = a
        .server
        .running()
        .state
        .store
        .configuration()
        .await
        .unwrap()
        .unwrap();
    assert_ne!(
        stored.api_key_digest.as_deref(),
        again["hash"].as_str(),
        "only a digest at rest"
    );

    // Another application sees only its roles; without IdP groups the IdP mapping is gone.
    let (_, for_other) = a
        .server
        .call(
            Method::POST,
            &format!(
                "/authz/api/users/{}/policy/other-app",
                user.replace('|', "%7C")
            ),
            &token,
            Some(json!({"connectionName": DB})),
        )
        .await;
    assert_eq!(
        for_other,
        json!({"groups": ["Child", "Mapped", "Parent"], "roles": ["Elsewhere"], "permissions": ["other"]})
    );
    let (_, other_connection) = a
        .server
        .call(
            Method::POST,
            &path,
            &token,
            Some(json!({"connectionName": "elsewhere", "groups": ["ad-admins"]})),
        )
        .await;
    assert_eq!(other_connection["groups"], json!(["Child", "Parent"]));
    let (status, _) = a
        .server
        .call(Method::POST, &path, &token, Some(json!({})))
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "connectionName is required"
    );
    let response = a
        .server
        .http
        .post(a.server.url(&path))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "neither token nor key"
    );
}

#[tokio::test]
async fn user_tokens_and_other_audiences_are_refused() {
    let a = Authz::start().await;
    a.signup("ada@example.com").await;
    let (status, login) = a
        .server
        .token_request(json!({"grant_type": REALM, "client_id": a.web_id, "client_secret": a.web_secret,
                              "username": "ada@example.com", "password": PASSWORD, "realm": DB, "audience": AUTHZ}))
        .await;
    assert_eq!(status, StatusCode::OK, "{login}");
    let user_token = login["access_token"].as_str().unwrap();
    assert!(
        !claims(user_token)["sub"]
            .as_str()
            .unwrap()
            .ends_with("@clients")
    );
    let (status, body) = a.call_with(user_token, Method::GET, "/groups", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, 401, "Unauthorized", "machine-to-machine");
    let user_id = claims(user_token)["sub"].as_str().unwrap().to_string();
    let (status, _) = a
        .call_with(
            user_token,
            Method::POST,
            &format!("/users/{user_id}/policy/{}", a.web_id),
            Some(json!({"connectionName": DB})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "not even the policy");

    let management = a.server.admin_token(None).await;
    let (status, body) = a.call_with(&management, Method::GET, "/groups", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, 401, "Unauthorized", "Invalid token");
    let response = a
        .server
        .http
        .get(a.server.url("/authz/api/groups"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_error(&body, 401, "Unauthorized", "Missing authentication");
}

#[tokio::test]
async fn configuration_api_access_applications_and_connections() {
    let a = Authz::start().await;
    let (status, config) = a.call(Method::GET, "/configuration", None).await;
    assert_eq!((status, config), (StatusCode::OK, Value::Null));
    let (status, saved) = a
        .call(
            Method::PATCH,
            "/configuration",
            Some(json!({"groupsInToken": true, "rolesInToken": "no"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        saved,
        json!({"_id": "v1", "groupsInToken": true, "rolesInToken": false})
    );
    a.call(
        Method::PATCH,
        "/configuration",
        Some(json!({"persistRoles": true})),
    )
    .await;
    let (_, config) = a.call(Method::GET, "/configuration", None).await;
    assert_eq!(
        config,
        json!({"_id": "v1", "groupsInToken": true, "rolesInToken": false, "persistRoles": true})
    );
    let (status, bad) = a
        .call(
            Method::PATCH,
            "/configuration",
            Some(json!({"unknown": true})),
        )
        .await;
    assert_eq!(
        (status, bad["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("ValidationError"))
    );

    let (_, state) = a.call(Method::GET, "/configuration/status", None).await;
    assert_eq!(state["rule"], json!({"exists": false, "enabled": false}));
    assert!(state["database"]["size"].as_u64().unwrap() > 0);

    let (_, access) = a
        .call(Method::GET, "/configuration/resource-server", None)
        .await;
    assert_eq!(access, json!({"apiAccess": true, "token_lifetime": 86400}));
    let (status, api) = a
        .call(Method::POST, "/configuration/resource-server", None)
        .await;
    assert_eq!(
        (status, api["identifier"].as_str()),
        (StatusCode::OK, Some(AUTHZ))
    );
    let (status, _) = a
        .call(
            Method::PATCH,
            "/configuration/resource-server",
            Some(json!({"apiAccess": true, "token_lifetime": 3600})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, access) = a
        .call(Method::GET, "/configuration/resource-server", None)
        .await;
    assert_eq!(access["token_lifetime"], 3600);
    for (method, body) in [
        (Method::PATCH, Some(json!({"apiAccess": false}))),
        (Method::DELETE, None),
    ] {
        let (status, refused) = a.call(method, "/configuration/resource-server", body).await;
        assert_eq!(
            (status, refused["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("ValidationError"))
        );
    }

    let (_, apps) = a.call(Method::GET, "/applications", None).await;
    // The admin console's built-in client is an application like any other.
    let apps: Vec<&Value> = apps
        .as_array()
        .unwrap()
        .iter()
        .filter(|app| app["client_id"] != "castellan-admin-console")
        .collect();
    assert_eq!(
        apps.len(),
        1,
        "machine-to-machine clients are not listed: {apps:?}"
    );
    assert_eq!(apps[0]["client_id"], a.web_id.as_str());
    assert_eq!(apps[0]["app_type"], "regular_web");
    let (status, app) = a
        .call(Method::GET, &format!("/applications/{}", a.web_id), None)
        .await;
    assert_eq!(
        (status, app["name"].as_str()),
        (StatusCode::OK, Some("web"))
    );
    let (status, missing) = a.call(Method::GET, "/applications/nope", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing["message"],
        "The record nope in applications does not exist."
    );
    let (_, connections) = a.call(Method::GET, "/connections", None).await;
    assert_eq!(connections[0]["name"], DB);
    assert_eq!(connections[0]["strategy"], "auth0");
}

#[tokio::test]
async fn changes_are_audited_with_the_client_that_made_them() {
    let a = Authz::start().await;
    let user = a.signup("ada@example.com").await;
    let group = a.group("Audited").await;
    let role = a.role("Audited role", &a.web_id, &[]).await;
    a.call(
        Method::PATCH,
        &format!("/groups/{group}/members"),
        Some(json!([user])),
    )
    .await;
    a.call(
        Method::PATCH,
        &format!("/groups/{group}/roles"),
        Some(json!([role])),
    )
    .await;
    a.call(
        Method::PATCH,
        &format!("/users/{user}/roles"),
        Some(json!([role])),
    )
    .await;
    let logs = a
        .server
        .running()
        .state
        .store
        .list_logs(None, 100)
        .await
        .unwrap();
    let audited: Vec<&str> = logs
        .iter()
        .filter(|e| e.event_type == "sapi")
        .map(|e| e.details["action"].as_str().unwrap())
        .collect();
    for action in [
        "create_group",
        "create_role",
        "add_group_members",
        "add_group_roles",
        "assign_user_roles",
    ] {
        assert!(audited.contains(&action), "{action} in {audited:?}");
    }
    let assigned = logs
        .iter()
        .find(|e| e.details["action"] == "assign_user_roles")
        .unwrap();
    assert_eq!(
        assigned.details["actor"],
        json!({"type": "client", "id": ADMIN_ID})
    );
    assert_eq!(assigned.user_id.as_deref(), Some(user.as_str()));
    assert_eq!(assigned.details["changes"]["added"], json!([role]));
}

#[tokio::test]
async fn a_change_whose_audit_entry_cannot_be_stored_is_not_made() {
    let a = Authz::start().await;
    let user = a.signup("ada@example.com").await;
    let group = a.group("Kept").await;
    let role = a.role("Kept role", &a.web_id, &[]).await;
    a.server.refuse_audit_entries().await;

    let refused = [
        (
            Method::POST,
            "/groups".to_string(),
            json!({"name": "Lost", "description": "never stored"}),
        ),
        (
            Method::PUT,
            format!("/groups/{group}"),
            json!({"name": "Renamed", "description": "never stored"}),
        ),
        (
            Method::PATCH,
            format!("/groups/{group}/members"),
            json!([user]),
        ),
        (
            Method::PATCH,
            format!("/groups/{group}/roles"),
            json!([role]),
        ),
        (Method::PATCH, format!("/users/{user}/roles"), json!([role])),
    ];
    for (method, path, body) in refused {
        let (status, answer) = a.call(method.clone(), &path, Some(body)).await;
        assert!(
            status.is_server_error(),
            "{method} {path}: {status} {answer}"
        );
    }
    let (_, groups) = a.call(Method::GET, "/groups", None).await;
    let names: Vec<&str> = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Kept"]);
    let (_, members) = a
        .call(Method::GET, &format!("/groups/{group}/members"), None)
        .await;
    assert_eq!(members["total"], 0, "{members}");
    let (_, roles) = a
        .call(Method::GET, &format!("/groups/{group}/roles"), None)
        .await;
    assert_eq!(roles, json!([]));
    let (_, roles) = a
        .call(Method::GET, &format!("/users/{user}/roles"), None)
        .await;
    assert_eq!(roles, json!([]));
}

#[tokio::test]
async fn extension_permissions_on_an_api_reach_rbac_access_tokens_through_groups() {
    let a = Authz::start().await;
    const API: &str = "https://reports.example.com";
    let api = json!({"identifier": API, "enforce_policies": true, "token_dialect": "access_token_authz",
                     "scopes": [{"value": "read:reports"}]});
    assert_eq!(
        a.server
            .admin(Method::POST, "/resource-servers", Some(api))
            .await
            .0,
        StatusCode::CREATED
    );
    let user = a.signup("ada@example.com").await;
    let permission = a.permission("read:reports", "resource_server", API).await;
    let body = json!({"name": "Report readers", "description": "d", "applicationType": "resource_server",
                      "applicationId": API, "permissions": [permission]});
    let (_, role) = a.call(Method::POST, "/roles", Some(body)).await;
    let group = a.group("Analysts").await;
    a.call(
        Method::PATCH,
        &format!("/groups/{group}/roles"),
        Some(json!([role["_id"]])),
    )
    .await;

    let login = || {
        a.server.token_request(json!({"grant_type": REALM, "client_id": a.web_id, "client_secret": a.web_secret,
            "username": "ada@example.com", "password": PASSWORD, "realm": DB, "audience": API, "scope": "read:reports"}))
    };
    let (_, before) = login().await;
    assert_eq!(
        claims(before["access_token"].as_str().unwrap())["permissions"],
        json!([])
    );
    a.call(
        Method::PATCH,
        &format!("/groups/{group}/members"),
        Some(json!([user])),
    )
    .await;
    let (status, after) = login().await;
    assert_eq!(status, StatusCode::OK, "{after}");
    let token = verify_with_jwks(&a.server, after["access_token"].as_str().unwrap(), API).await;
    assert_eq!(token["permissions"], json!(["read:reports"]));
}

#[tokio::test]
async fn management_api_group_views() {
    let a = Authz::start().await;
    let user = a.signup("ada@example.com").await;
    let encoded = user.replace('|', "%7C");
    let guid = a.group("Alpha").await;
    a.group("Beta").await;
    a.group("Gamma").await;
    let role = a.role("Viewer", &a.web_id, &[]).await;
    a.call(
        Method::PATCH,
        &format!("/groups/{guid}/members"),
        Some(json!([user])),
    )
    .await;
    a.call(
        Method::PATCH,
        &format!("/groups/{guid}/roles"),
        Some(json!([role])),
    )
    .await;

    let (status, page) = a
        .server
        .admin(
            Method::GET,
            "/groups?per_page=2&page=1&include_totals=true",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (page["total"].clone(), page["start"].clone()),
        (json!(3), json!(2))
    );
    assert_eq!(names(&page["groups"]), ["Gamma"]);
    let (_, past_end) = a
        .server
        .admin(Method::GET, "/groups?per_page=2&page=5", None)
        .await;
    assert_eq!(past_end, json!([]));
    let (_, all) = a.server.admin(Method::GET, "/groups", None).await;
    let id = all[0]["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("grp_"), "{id}");
    let (status, one) = a
        .server
        .admin(Method::GET, &format!("/groups/{id}"), None)
        .await;
    assert_eq!(
        (status, one["name"].as_str()),
        (StatusCode::OK, Some("Alpha"))
    );
    let (status, by_guid) = a
        .server
        .admin(Method::GET, &format!("/groups/{guid}"), None)
        .await;
    assert_eq!(
        (status, by_guid["id"].as_str()),
        (StatusCode::OK, Some(id.as_str()))
    );
    let (_, members) = a
        .server
        .admin(
            Method::GET,
            &format!("/groups/{id}/members?include_totals=true"),
            None,
        )
        .await;
    assert_eq!(
        (
            members["total"].clone(),
            members["members"][0]["user_id"].clone()
        ),
        (json!(1), json!(user))
    );
    let (_, cursor) = a
        .server
        .admin(Method::GET, &format!("/groups/{id}/members?take=1"), None)
        .await;
    assert_eq!(cursor["members"].as_array().unwrap().len(), 1);
    let (_, roles) = a
        .server
        .admin(Method::GET, &format!("/groups/{id}/roles"), None)
        .await;
    assert_eq!(names(&roles), ["Viewer"]);
    let (_, mine) = a
        .server
        .admin(Method::GET, &format!("/users/{encoded}/groups"), None)
        .await;
    assert_eq!(names(&mine), ["Alpha"]);
    let (status, missing) = a
        .server
        .admin(Method::GET, "/groups/grp_doesnotexist000", None)
        .await;
    assert_eq!(
        (status, missing["statusCode"].clone()),
        (StatusCode::NOT_FOUND, json!(404))
    );
    let (status, _) = a
        .server
        .admin(Method::GET, "/users/auth0%7Cnobody/groups", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let members_only = a.server.admin_token(Some("read:group_members")).await;
    let (status, _) = a
        .server
        .call(
            Method::GET,
            &format!("/api/v2/groups/{id}/members"),
            &members_only,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}
