//! Input one backend cannot store is refused on both, with the field named: NUL anywhere a
//! request carries text (PostgreSQL refuses it in text and jsonb; SQLite kept it), control
//! characters in names. Also what a malformed path, a deep search or the bootstrap
//! administrator's own deletion gets: a 4xx in the API's shape, never a 500.

use crate::common;

use common::browser::Browser;
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const CALLBACK: &str = "https://app.example/callback";
const PASSWORD: &str = "correct horse battery";

/// A Management API answer refusing `field` for NUL, with `code`.
fn management_refusal(answer: &(StatusCode, Value), field: &str, code: &str) {
    let (status, body) = answer;
    assert_eq!(*status, StatusCode::BAD_REQUEST, "{field}: {body}");
    assert_eq!(body["statusCode"], json!(400), "{body}");
    assert_eq!(body["error"], json!("Bad Request"), "{body}");
    assert_eq!(body["errorCode"], json!(code), "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("{field} must not contain the NUL character")),
        "{message}"
    );
}

/// An OAuth answer refusing `field` for NUL.
fn oauth_refusal(status: StatusCode, body: &Value, field: &str) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {body}");
    assert_eq!(body["error"], json!("invalid_request"), "{body}");
    let description = body["error_description"].as_str().unwrap();
    assert!(
        description.contains(&format!("{field} must not contain the NUL character")),
        "{description}"
    );
}

async fn totals(server: &TestServer) -> Value {
    let mut totals = json!({});
    for path in ["/users", "/roles", "/clients", "/resource-servers"] {
        let (status, list) = server.admin(Method::GET, path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {list}");
        totals[path] = json!(list.as_array().unwrap().len());
    }
    totals
}

#[tokio::test]
async fn nul_is_refused_everywhere_with_the_field_named_and_nothing_written() {
    let server = TestServer::start().await;
    let (_, app) = server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "App", "callbacks": [CALLBACK],
                        "grant_types": ["authorization_code", "http://auth0.com/oauth/grant-type/password-realm"]})),
        )
        .await;
    let client_id = app["client_id"].as_str().unwrap();
    let user = server.create_user("kept@example.com", json!({})).await;
    let user_id = user["user_id"].as_str().unwrap();
    let before = totals(&server).await;

    // Anonymous sign-up: metadata, and a name.
    for (body, field) in [
        (
            json!({"user_metadata": {"note": "a\u{0}b"}}),
            "user_metadata.note",
        ),
        (json!({"name": "Eve\u{0}"}), "name"),
    ] {
        let mut signup = json!({"client_id": client_id, "email": "eve@example.com",
                                "password": PASSWORD, "connection": DATABASE});
        signup
            .as_object_mut()
            .unwrap()
            .extend(body.as_object().unwrap().clone());
        let response = server
            .http
            .post(server.url("/dbconnections/signup"))
            .json(&signup)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["code"], json!("invalid_signup"), "{body}");
        let said = body["description"].as_str().unwrap();
        assert!(
            said.contains(&format!("{field} must not contain the NUL")),
            "{said}"
        );
    }
    // Searching metadata keeps working.
    let (status, found) = server
        .admin(
            Method::GET,
            "/users?q=user_metadata.note:x&search_engine=v3",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");

    // Management API bodies: a role's name, a client's fields, an API's scopes, a user's
    // metadata; keys too.
    for (method, path, body, field) in [
        (
            Method::POST,
            "/roles".to_string(),
            json!({"name": "r\u{0}"}),
            "name",
        ),
        (
            Method::POST,
            "/clients".into(),
            json!({"name": "c", "description": "d\u{0}"}),
            "description",
        ),
        (
            Method::POST,
            "/clients".into(),
            json!({"name": "c", "client_metadata": {"k": "\u{0}"}}),
            "client_metadata.k",
        ),
        (
            Method::POST,
            "/resource-servers".into(),
            json!({"identifier": "https://nul.example", "name": "n",
                   "scopes": [{"value": "read:x", "description": "x\u{0}"}]}),
            "scopes[0].description",
        ),
        (
            Method::PATCH,
            format!("/users/{}", encoded(user_id)),
            json!({"user_metadata": {"a\u{0}": 1}}),
            "user_metadata.a\\0",
        ),
    ] {
        let answer = server.admin(method, &path, Some(body)).await;
        management_refusal(&answer, field, "invalid_body");
    }

    // Path ids and query strings.
    for path in ["/users/auth0%7C%00", "/roles/rol_%00", "/clients/%00"] {
        let answer = server.admin(Method::GET, path, None).await;
        management_refusal(&answer, "id", "invalid_uri");
    }
    let answer = server.admin(Method::DELETE, "/clients/a%00", None).await;
    management_refusal(&answer, "id", "invalid_uri");
    let answer = server
        .admin(Method::GET, "/users-by-email?email=a%00@example.com", None)
        .await;
    management_refusal(&answer, "email", "invalid_query_string");
    let answer = server.admin(Method::GET, "/logs?q=type:%00", None).await;
    management_refusal(&answer, "q", "invalid_query_string");

    // The token endpoint: a log-in's username, an unauthenticated client_id (JSON, form and
    // Basic).
    let (status, body) = server
        .token_request(
            json!({"grant_type": "http://auth0.com/oauth/grant-type/password-realm",
                              "realm": DATABASE, "client_id": client_id,
                              "client_secret": app["client_secret"],
                              "username": "kept\u{0}@example.com", "password": PASSWORD}),
        )
        .await;
    oauth_refusal(status, &body, "username");
    let (status, body) = server
        .token_request(
            json!({"grant_type": "client_credentials", "client_id": "x\u{0}",
                              "client_secret": "s", "audience": MANAGEMENT_AUDIENCE}),
        )
        .await;
    oauth_refusal(status, &body, "client_id");
    let response = server
        .http
        .post(server.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "x\u{0}"),
            ("client_secret", "s"),
        ])
        .send()
        .await
        .unwrap();
    let status = response.status();
    oauth_refusal(status, &response.json().await.unwrap(), "client_id");
    let response = server
        .http
        .post(server.url("/oauth/token"))
        .basic_auth("x\u{0}", Some("s"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let status = response.status();
    oauth_refusal(status, &response.json().await.unwrap(), "client_id");

    // `/authorize` with NUL in client_id, and the log-in page's form.
    let mut browser = Browser::new(&server);
    let page = browser
        .get("/authorize?response_type=code&client_id=%00&redirect_uri=x&scope=openid")
        .await;
    let body: Value = serde_json::from_str(&page.body).unwrap();
    oauth_refusal(page.status, &body, "client_id");
    let authorize = format!(
        "/authorize?{}",
        serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", CALLBACK),
            ("scope", "openid"),
        ])
        .unwrap()
    );
    let page = browser
        .submit_credentials(&authorize, "kept\u{0}@example.com", PASSWORD)
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert!(
        page.body
            .contains("username must not contain the NUL character"),
        "{}",
        page.body
    );

    assert_eq!(totals(&server).await, before);
    let (_, kept) = server
        .admin(Method::GET, &format!("/users/{}", encoded(user_id)), None)
        .await;
    assert_eq!(kept["user_metadata"], json!({}), "{kept}");
}

#[tokio::test]
async fn names_refuse_control_characters() {
    let server = TestServer::start().await;
    let before = totals(&server).await;
    for (path, body) in [
        ("/roles", json!({"name": "admin\u{7}"})),
        ("/roles", json!({"name": "line\nbreak"})),
        ("/clients", json!({"name": "tab\there"})),
        (
            "/resource-servers",
            json!({"identifier": "https://ctl.example", "name": "esc\u{1b}[31m"}),
        ),
        (
            "/users",
            json!({"connection": DATABASE, "email": "ctl@example.com",
                   "password": PASSWORD, "nickname": "bell\u{7}"}),
        ),
    ] {
        let (status, answer) = server.admin(Method::POST, path, Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {answer}");
        assert_eq!(answer["errorCode"], json!("invalid_body"), "{answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(
            message.contains("must not contain control characters"),
            "{message}"
        );
    }
    let (_, role) = server
        .admin(Method::POST, "/roles", Some(json!({"name": "plain"})))
        .await;
    let (status, answer) = server
        .admin(
            Method::PATCH,
            &format!("/roles/{}", role["id"].as_str().unwrap()),
            Some(json!({"name": "bad\u{0}name"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let mut after = totals(&server).await;
    after["/roles"] = json!(after["/roles"].as_u64().unwrap() - 1);
    assert_eq!(after, before);
}

#[tokio::test]
async fn a_path_that_is_not_utf8_gets_the_management_api_error() {
    let server = TestServer::start().await;
    let (status, body) = server.admin(Method::GET, "/users/%FF", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["statusCode"], json!(400), "{body}");
    assert_eq!(body["errorCode"], json!("invalid_uri"), "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Path validation error"),
        "{body}"
    );
}

#[tokio::test]
async fn a_long_chain_of_not_is_a_query_error() {
    let server = TestServer::start().await;
    let q = format!("{}email:a@example.com", "NOT ".repeat(500));
    let path = format!(
        "/users?search_engine=v3&q={}",
        serde_urlencoded::to_string([("q", &q)])
            .unwrap()
            .trim_start_matches("q=")
    );
    let (status, body) = server.admin(Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["errorCode"], json!("invalid_query_string"), "{body}");
    // A few are still a search.
    let (status, body) = server
        .admin(
            Method::GET,
            "/users?search_engine=v3&q=NOT%20NOT%20email:a@example.com",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn the_bootstrap_administrator_cannot_lock_itself_out() {
    let server = TestServer::start().await;
    let admin = format!("/clients/{ADMIN_ID}");
    let refused = |answer: (StatusCode, Value)| {
        assert_eq!(answer.0, StatusCode::FORBIDDEN, "{}", answer.1);
        assert_eq!(answer.1["errorCode"], json!("operation_not_allowed"));
        let message = answer.1["message"].as_str().unwrap().to_string();
        assert!(message.contains("CASTELLAN_ADMIN_CLIENT_ID"), "{message}");
    };
    refused(server.admin(Method::DELETE, &admin, None).await);
    refused(
        server
            .admin(
                Method::PATCH,
                &admin,
                Some(json!({"grant_types": ["authorization_code"]})),
            )
            .await,
    );
    refused(
        server
            .admin(
                Method::PATCH,
                &admin,
                Some(json!({"token_endpoint_auth_method": "none"})),
            )
            .await,
    );
    let (_, grants) = server
        .admin(
            Method::GET,
            &format!("/client-grants?client_id={ADMIN_ID}"),
            None,
        )
        .await;
    let grant = grants
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["audience"] == json!(MANAGEMENT_AUDIENCE))
        .unwrap()
        .clone();
    let grant_path = format!("/client-grants/{}", grant["id"].as_str().unwrap());
    refused(server.admin(Method::DELETE, &grant_path, None).await);
    refused(
        server
            .admin(
                Method::PATCH,
                &grant_path,
                Some(json!({"scope": ["read:users"]})),
            )
            .await,
    );
    // What keeps its access is allowed, and the administrator still works.
    let (status, renamed) = server
        .admin(Method::PATCH, &admin, Some(json!({"description": "ours"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    let (status, _) = server.admin(Method::GET, &grant_path, None).await;
    assert_eq!(status, StatusCode::OK);
    // Another client can be deleted as before.
    let (_, other) = server
        .admin(Method::POST, "/clients", Some(json!({"name": "other"})))
        .await;
    let (status, _) = server
        .admin(
            Method::DELETE,
            &format!("/clients/{}", other["client_id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}
