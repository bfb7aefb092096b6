//! Management API `/users` and `/users-by-email`: Auth0's user object, creation with the
//! connection's policy and sign-up defaults, search v3, Auth0's PATCH merge rules, and
//! errors that leave nothing half-written.

use crate::common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn create_read_and_delete_with_auth0_shapes() {
    let server = TestServer::start().await;
    let body = json!({"connection": DATABASE, "email": "Ada@Example.com", "password": "correct horse battery",
        "given_name": "Ada", "family_name": "Lovelace", "app_metadata": {"plan": "gold"},
        "user_metadata": {"theme": "dark"}, "email_verified": true});
    let (status, user) = server.admin(Method::POST, "/users", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    let id = user["user_id"].as_str().unwrap().to_string();
    let local = id.strip_prefix("auth0|").unwrap();
    assert_eq!(local.len(), 24, "{id}");
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["email_verified"], true);
    assert_eq!(
        user["identities"],
        json!([{"connection": DATABASE, "user_id": local, "provider": "auth0", "isSocial": false}])
    );
    assert_eq!(user["app_metadata"], json!({"plan": "gold"}));
    assert_eq!(user["user_metadata"], json!({"theme": "dark"}));
    assert_eq!(
        (user["logins_count"].clone(), user["blocked"].clone()),
        (json!(0), json!(false))
    );
    assert_eq!(user["nickname"], "ada");
    let created = user["created_at"].as_str().unwrap();
    assert!(created.ends_with('Z') && created.contains('T'), "{created}");
    assert!(user.get("password").is_none() && user.get("password_hash").is_none());

    for path in [format!("/users/{}", encoded(&id)), format!("/users/{id}")] {
        let (status, read) = server.admin(Method::GET, &path, None).await;
        assert_eq!((status, &read), (StatusCode::OK, &user), "{path}");
    }
    let (_, some) = server
        .admin(
            Method::GET,
            &format!("/users/{}?fields=user_id,email", encoded(&id)),
            None,
        )
        .await;
    assert_eq!(some, json!({"user_id": id, "email": "ada@example.com"}));
    let (_, without) = server
        .admin(
            Method::GET,
            &format!(
                "/users/{}?fields=app_metadata&include_fields=false",
                encoded(&id)
            ),
            None,
        )
        .await;
    assert!(without.get("app_metadata").is_none() && without.get("email").is_some());

    // A custom id keeps the provider prefix.
    let (status, custom) = server
        .admin(
            Method::POST,
            "/users",
            Some(json!({"connection": DATABASE, "email": "b@example.com",
            "password": "correct horse battery", "user_id": "abc123"})),
        )
        .await;
    assert_eq!(
        (status, custom["user_id"].as_str()),
        (StatusCode::CREATED, Some("auth0|abc123"))
    );

    assert_eq!(
        server
            .admin(Method::DELETE, &format!("/users/{}", encoded(&id)), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    let (status, gone) = server
        .admin(Method::GET, &format!("/users/{}", encoded(&id)), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(gone["errorCode"], "inexistent_user");
    assert_eq!(gone["statusCode"], 404);
    assert_eq!(gone["error"], "Not Found");
    // Deleting again, or deleting nobody, is still 204 (Auth0 does the same).
    for path in [
        format!("/users/{}", encoded(&id)),
        "/users/auth0|nobody".to_string(),
    ] {
        assert_eq!(
            server.admin(Method::DELETE, &path, None).await.0,
            StatusCode::NO_CONTENT
        );
    }
}

#[tokio::test]
async fn creation_errors_are_auth0s_and_write_nothing() {
    let server = TestServer::start().await;
    server.create_user("ada@example.com", json!({})).await;
    let (status, dup) = server
        .admin(
            Method::POST,
            "/users",
            Some(json!({"connection": DATABASE, "email": "ADA@example.com",
            "password": "another good password"})),
        )
        .await;
    assert_eq!(
        (status, dup["statusCode"].clone()),
        (StatusCode::CONFLICT, json!(409)),
        "{dup}"
    );
    assert_eq!(dup["message"], "The user already exists.");

    let cases = [
        (
            json!({"email": "x@example.com", "password": "correct horse battery"}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            json!({"connection": DATABASE, "password": "correct horse battery"}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            json!({"connection": DATABASE, "email": "x@example.com"}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            json!({"connection": DATABASE, "email": "not-an-address", "password": "correct horse battery"}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            json!({"connection": DATABASE, "email": "x@example.com", "password": "short"}),
            StatusCode::BAD_REQUEST,
            "invalid_password",
        ),
        (
            json!({"connection": DATABASE, "email": "x@example.com", "password": "correct horse battery", "colour": "red"}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            json!({"connection": DATABASE, "email": "x@example.com", "password": "correct horse battery", "username": "xavier"}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            json!({"connection": DATABASE, "email": "x@example.com", "password": "correct horse battery", "app_metadata": {"a.b": 1}}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            json!({"connection": DATABASE, "email": "x@example.com", "password": "correct horse battery", "user_metadata": {"$x": 1}}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            json!({"connection": "Nope", "email": "x@example.com", "password": "correct horse battery"}),
            StatusCode::NOT_FOUND,
            "inexistent_connection",
        ),
    ];
    for (body, expected, code) in cases {
        let (status, answer) = server
            .admin(Method::POST, "/users", Some(body.clone()))
            .await;
        assert_eq!(
            (status, answer["errorCode"].as_str()),
            (expected, Some(code)),
            "{body}: {answer}"
        );
    }
    let (_, weak) = server
        .admin(
            Method::POST,
            "/users",
            Some(json!({"connection": DATABASE, "email": "x@example.com", "password": "short"})),
        )
        .await;
    assert!(
        weak["message"]
            .as_str()
            .unwrap()
            .starts_with("PasswordStrengthError:"),
        "{weak}"
    );
    let (_, all) = server
        .admin(Method::GET, "/users?include_totals=true", None)
        .await;
    assert_eq!(
        all["total"], 1,
        "nothing was written by the refused requests: {all}"
    );
    let raw = server
        .http
        .post(server.url("/api/v2/users"))
        .bearer_auth(server.admin_token(None).await)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn patch_merges_metadata_one_level_and_refuses_atomically() {
    let server = TestServer::start().await;
    let user = server
        .create_user("ada@example.com", json!({
            "name": "Ada", "app_metadata": {"plan": "gold", "limits": {"a": 1, "b": 2}, "keep": true},
            "user_metadata": {"theme": "dark"}}))
        .await;
    let path = format!("/users/{}", encoded(user["user_id"].as_str().unwrap()));
    let patch = json!({"name": "Ada L.", "nickname": null, "blocked": true,
        "app_metadata": {"plan": "platinum", "limits": {"a": 5}, "keep": null, "new": [1, 2]}});
    let (status, patched) = server.admin(Method::PATCH, &path, Some(patch)).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["name"], "Ada L.");
    assert!(
        patched.get("nickname").is_none(),
        "null removes the attribute"
    );
    assert_eq!(patched["blocked"], true);
    assert_eq!(
        patched["app_metadata"],
        json!({"plan": "platinum", "limits": {"a": 5}, "new": [1, 2]}),
        "merged one level deep; a sub-object replaces the stored one"
    );
    assert_eq!(
        patched["user_metadata"],
        json!({"theme": "dark"}),
        "untouched"
    );
    let (_, read) = server.admin(Method::GET, &path, None).await;
    assert_eq!(read, patched);

    let (_, emptied) = server
        .admin(Method::PATCH, &path, Some(json!({"user_metadata": {}})))
        .await;
    assert_eq!(emptied["user_metadata"], json!({}), "{{}} empties it");

    // Each refusal leaves the user exactly as it was, including the valid parts of the body.
    let big = "x".repeat(16 * 1024);
    for bad in [
        json!({"name": "Changed", "app_metadata": {"a.b": 1}}),
        json!({"name": "Changed", "user_metadata": {"$where": 1}}),
        json!({"name": "Changed", "user_metadata": {"deep": {"x.y": 1}}}),
        json!({"name": "Changed", "user_metadata": {"big": big}}),
        json!({"name": "Changed", "password": "short"}),
        json!({"name": "Changed", "blocked": "yes"}),
        json!({"name": "Changed", "email": "not-an-address"}),
        json!({"name": "Changed", "colour": "red"}),
        json!({"name": "Changed", "connection": "Other"}),
        json!({"name": 42}),
        json!(["not", "an", "object"]),
    ] {
        let (status, answer) = server.admin(Method::PATCH, &path, Some(bad.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {answer}");
        let (_, now) = server.admin(Method::GET, &path, None).await;
        assert_eq!(now, emptied, "{bad} changed nothing");
    }
    let (status, missing) = server
        .admin(
            Method::PATCH,
            "/users/auth0%7Cnobody",
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(
        (status, missing["errorCode"].as_str()),
        (StatusCode::NOT_FOUND, Some("inexistent_user"))
    );

    // A taken address is a conflict; a new address is unverified unless said otherwise.
    server.create_user("grace@example.com", json!({})).await;
    let (status, _) = server
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"email": "Grace@example.com"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, verified) = server
        .admin(Method::PATCH, &path, Some(json!({"email_verified": true})))
        .await;
    assert_eq!(verified["email_verified"], true);
    let (_, moved) = server
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"email": "ada@new.example.com"})),
        )
        .await;
    assert_eq!(
        (moved["email"].as_str(), moved["email_verified"].as_bool()),
        (Some("ada@new.example.com"), Some(false))
    );
}

const REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";

#[tokio::test]
async fn a_new_password_from_patch_is_the_one_that_logs_in() {
    let server = TestServer::start().await;
    let (_, client) = server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "web", "grant_types": [REALM]})),
        )
        .await;
    let user = server.create_user("ada@example.com", json!({})).await;
    let login = |password: &'static str| {
        server.token_request(
            json!({"grant_type": REALM, "client_id": client["client_id"],
            "client_secret": client["client_secret"], "username": "ada@example.com",
            "password": password, "realm": DATABASE}),
        )
    };
    assert_eq!(login("correct horse battery").await.0, StatusCode::OK);
    let path = format!("/users/{}", encoded(user["user_id"].as_str().unwrap()));
    let (status, patched) = server
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"password": "a brand new passphrase"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert!(patched["last_password_reset"].is_string());
    assert_eq!(
        login("correct horse battery").await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(login("a brand new passphrase").await.0, StatusCode::OK);
    let (_, after) = server.admin(Method::GET, &path, None).await;
    assert_eq!(after["logins_count"], 2);
    assert!(
        after["last_login"].is_string() && after["last_ip"].is_string(),
        "{after}"
    );
}

async fn five_users(server: &TestServer) -> Vec<String> {
    let mut ids = Vec::new();
    for (i, (email, name, plan)) in [
        ("ada@example.com", "Ada Lovelace", "gold"),
        ("grace@example.com", "Grace Hopper", "silver"),
        ("alan@example.org", "Alan Turing", "gold"),
        ("edsger@example.org", "Edsger Dijkstra", "bronze"),
        ("barbara@example.net", "Barbara Liskov", "gold"),
    ]
    .into_iter()
    .enumerate()
    {
        let user = server
            .create_user(
                email,
                json!({"name": name, "app_metadata": {"plan": plan, "tier": i, "vip": i == 0}}),
            )
            .await;
        ids.push(user["user_id"].as_str().unwrap().to_string());
        server.clock.advance(1);
    }
    ids
}

async fn emails(server: &TestServer, query: &str) -> Vec<String> {
    let (status, body) = server
        .admin(Method::GET, &format!("/users?{query}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    body.as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_string())
        .collect()
}

fn q(query: &str) -> String {
    let encoded: String = url_encode(query);
    format!("search_engine=v3&q={encoded}")
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn listing_pages_like_auth0_with_totals_and_an_empty_page_past_the_end() {
    let server = TestServer::start().await;
    five_users(&server).await;
    let (_, page) = server
        .admin(
            Method::GET,
            "/users?per_page=2&page=1&include_totals=true",
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
    assert_eq!(
        page["users"][0]["email"], "alan@example.org",
        "oldest first by default"
    );
    let (_, last) = server
        .admin(
            Method::GET,
            "/users?per_page=2&page=2&include_totals=true",
            None,
        )
        .await;
    assert_eq!(
        (
            last["length"].clone(),
            last["users"].as_array().unwrap().len()
        ),
        (json!(1), 1)
    );
    let (_, past) = server
        .admin(
            Method::GET,
            "/users?per_page=2&page=3&include_totals=true",
            None,
        )
        .await;
    assert_eq!(
        (past["users"].clone(), past["total"].clone()),
        (json!([]), json!(5))
    );
    assert_eq!(
        emails(&server, "per_page=2&page=9").await,
        Vec::<String>::new()
    );
    let (status, too_far) = server
        .admin(Method::GET, "/users?per_page=100&page=10", None)
        .await;
    assert_eq!(
        (status, too_far["errorCode"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_paging"))
    );
    assert_eq!(
        server
            .admin(Method::GET, "/users?per_page=100&page=9", None)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        server
            .admin(Method::GET, "/users?per_page=101", None)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        emails(&server, "sort=email:1&per_page=3").await,
        ["ada@example.com", "alan@example.org", "barbara@example.net"]
    );
    assert_eq!(
        emails(&server, "sort=created_at:-1&per_page=1").await,
        ["barbara@example.net"]
    );
    let (_, slim) = server
        .admin(Method::GET, "/users?fields=user_id&per_page=1", None)
        .await;
    assert_eq!(
        slim[0].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["user_id"]
    );
}

#[tokio::test]
async fn search_v3_finds_by_email_id_name_and_metadata() {
    let server = TestServer::start().await;
    let ids = five_users(&server).await;
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(
        emails(&server, &q(r#"email:"Grace@Example.com""#)).await,
        ["grace@example.com"]
    );
    assert_eq!(
        emails(&server, &q("email:grace@example.com")).await,
        ["grace@example.com"]
    );
    assert_eq!(
        emails(&server, &q(&format!("user_id:\"{}\"", ids[2]))).await,
        ["alan@example.org"]
    );
    assert_eq!(
        emails(&server, &q(&format!("user_id:{}", ids[2]))).await,
        ["alan@example.org"]
    );
    assert_eq!(
        emails(&server, &q(r#"name:"grace hopper""#)).await,
        ["grace@example.com"]
    );
    assert_eq!(
        sorted(emails(&server, &q("app_metadata.plan:gold")).await),
        ["ada@example.com", "alan@example.org", "barbara@example.net"]
    );
    assert_eq!(
        emails(&server, &q("app_metadata.tier:3")).await,
        ["edsger@example.org"]
    );
    assert_eq!(
        emails(&server, &q("app_metadata.vip:true")).await,
        ["ada@example.com"]
    );
    assert_eq!(
        sorted(emails(&server, &q("email:*example.org OR email:a*")).await),
        ["ada@example.com", "alan@example.org", "edsger@example.org"],
        "a wildcard at either end"
    );
    assert_eq!(
        sorted(emails(&server, &q("email:a* OR name:grace*")).await),
        ["ada@example.com", "alan@example.org", "grace@example.com"]
    );
    assert_eq!(
        emails(
            &server,
            &q("app_metadata.plan:gold AND (name:alan* OR name:barbara*) AND NOT email:*.net")
        )
        .await,
        ["alan@example.org"]
    );
    assert_eq!(
        emails(&server, &q(r#"email:"nobody@example.com""#)).await,
        Vec::<String>::new()
    );
    assert_eq!(
        emails(&server, &q("logins_count:[0 TO 5] AND email:edsger*")).await,
        ["edsger@example.org"]
    );
    assert_eq!(
        emails(
            &server,
            &format!("{}&connection={DATABASE}", q("email:ada*"))
        )
        .await,
        ["ada@example.com"]
    );
    assert_eq!(
        emails(&server, &format!("{}&connection=Other", q("email:ada*"))).await,
        Vec::<String>::new()
    );
    let (_, with_totals) = server
        .admin(
            Method::GET,
            &format!(
                "/users?{}&include_totals=true&per_page=1",
                q("app_metadata.plan:gold")
            ),
            None,
        )
        .await;
    assert_eq!(
        (with_totals["total"].clone(), with_totals["length"].clone()),
        (json!(3), json!(1))
    );

    for (bad, says) in [
        ("email:\"unclosed", "not closed"),
        ("(email:a", "not closed"),
        ("email:a name:b", "AND or OR"),
        ("colour:red", "not a searchable field"),
        ("logins_count:many", "whole number"),
        ("name:a*b*", "wildcard"),
        ("name:*a*", "wildcard"),
    ] {
        let (status, body) = server
            .admin(Method::GET, &format!("/users?{}", q(bad)), None)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["errorCode"], "invalid_query_string", "{bad}");
        assert!(
            body["message"].as_str().unwrap().contains(says),
            "{bad}: {body}"
        );
    }
    let (status, _) = server
        .admin(Method::GET, "/users?search_engine=v1&q=x", None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = server
        .admin(Method::GET, "/users?sort=colour:1", None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn users_by_email_is_a_bare_array() {
    let server = TestServer::start().await;
    let ada = server.create_user("ada@example.com", json!({})).await;
    let (status, found) = server
        .admin(Method::GET, "/users-by-email?email=Ada%40example.com", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found, json!([ada]));
    let (_, none) = server
        .admin(
            Method::GET,
            "/users-by-email?email=nobody%40example.com",
            None,
        )
        .await;
    assert_eq!(none, json!([]));
    let (status, missing) = server.admin(Method::GET, "/users-by-email", None).await;
    assert_eq!(
        (status, missing["errorCode"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_query_string"))
    );
}

#[tokio::test]
async fn the_connections_signup_defaults_apply_to_users_made_by_an_administrator() {
    let server = TestServer::start().await;
    let (_, role) = server
        .admin(Method::POST, "/roles", Some(json!({"name": "member"})))
        .await;
    let (_, connections) = server.admin(Method::GET, "/connections", None).await;
    let db = connections[0]["id"].as_str().unwrap();
    let (status, body) = server
        .admin(
            Method::PATCH,
            &format!("/connections/{db}"),
            Some(json!({"default_assignments": {"roles": ["member"], "on": "signup"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let user = server.create_user("ada@example.com", json!({})).await;
    let id = user["user_id"].as_str().unwrap();
    let (_, roles) = server
        .admin(Method::GET, &format!("/users/{}/roles", encoded(id)), None)
        .await;
    assert_eq!(roles[0]["id"], role["id"]);
    let (_, events) = server
        .admin(Method::GET, &format!("/logs?q={}", "type:sapi"), None)
        .await;
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["details"]["action"] == "apply_default_assignments" && e["user_id"] == id),
        "{events}"
    );
}

#[tokio::test]
async fn deleting_user_blocks_lifts_the_blocks_of_failed_log_ins_and_leaves_the_flag() {
    let server = TestServer::start().await;
    let (_, client) = server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "web", "grant_types": [REALM]})),
        )
        .await;
    let user = server.create_user("ada@example.com", json!({})).await;
    let user_id = user["user_id"].as_str().unwrap();
    let login = |password: &'static str| {
        server.token_request(
            json!({"grant_type": REALM, "client_id": client["client_id"],
            "client_secret": client["client_secret"], "username": "ada@example.com",
            "password": password, "realm": DATABASE}),
        )
    };
    for _ in 0..10 {
        assert_eq!(login("a wrong guess").await.0, StatusCode::FORBIDDEN);
    }
    assert_eq!(
        login("correct horse battery").await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    let path = format!("/users/{}", encoded(user_id));
    let (status, _) = server
        .admin(Method::PATCH, &path, Some(json!({"blocked": true})))
        .await;
    assert_eq!(status, StatusCode::OK);

    let blocks = format!("/user-blocks/{}", encoded(user_id));
    let (status, listed) = server.admin(Method::GET, &blocks, None).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(
        listed,
        json!({"blocked_for": [{"identifier": "ada@example.com", "ip": "127.0.0.1",
                                "connection": DATABASE}]})
    );
    let (status, body) = server.admin(Method::DELETE, &blocks, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, listed) = server.admin(Method::GET, &blocks, None).await;
    assert_eq!(listed, json!({"blocked_for": []}));
    let (status, _) = server
        .admin(Method::GET, "/user-blocks/auth0%7Cnobody", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, answer) = login("correct horse battery").await;
    assert_eq!(
        (status, answer["error_description"].as_str()),
        (StatusCode::FORBIDDEN, Some("user is blocked")),
        "the failed log-ins no longer block; the flag still does: {answer}"
    );
    let (_, still) = server.admin(Method::GET, &path, None).await;
    assert_eq!(still["blocked"], true);

    let entries = server.user_audit_entries(user_id).await;
    assert_eq!(
        entries.last().unwrap(),
        &json!({"action": "unblock_user_logins",
                "description": "Lift a user's blocks after failed log-ins",
                "target": {"user_id": "USER"}, "changes": {}})
    );
}

#[tokio::test]
async fn a_user_change_whose_audit_entry_cannot_be_stored_is_not_made() {
    let server = TestServer::start().await;
    let user = server.create_user("ada@example.com", json!({})).await;
    let path = format!("/users/{}", encoded(user["user_id"].as_str().unwrap()));
    let (_, before) = server.admin(Method::GET, &path, None).await;
    server.refuse_audit_entries().await;

    let new = json!({"connection": DATABASE, "email": "grace@example.com",
                     "password": "correct horse battery"});
    let blocks = path.replace("/users/", "/user-blocks/");
    let refused = [
        (Method::POST, "/users".to_string(), Some(new)),
        (
            Method::PATCH,
            path.clone(),
            Some(json!({"name": "Changed"})),
        ),
        (Method::DELETE, blocks, None),
        (Method::DELETE, path.clone(), None),
    ];
    for (method, at, body) in refused {
        let (status, answer) = server.admin(method.clone(), &at, body).await;
        assert!(status.is_server_error(), "{method} {at}: {status} {answer}");
    }
    let (status, after) = server.admin(Method::GET, &path, None).await;
    assert_eq!((status, after), (StatusCode::OK, before));
    let (_, all) = server
        .admin(Method::GET, "/users?include_totals=true", None)
        .await;
    assert_eq!(all["total"], 1, "{all}");
}
