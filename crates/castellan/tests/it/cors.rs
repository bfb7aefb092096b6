//! Calls from browser apps on other origins: preflights answered for an origin a client
//! lists, answers readable by that origin only, requests refused when their own client does
//! not list the origin, and the public documents readable by any origin.

use reqwest::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD, ORIGIN,
};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

const APP: &str = "https://app.example.com";
const ELSEWHERE: &str = "https://elsewhere.example.com";

/// A single-page app listing `APP`, and another application listing nothing.
async fn two_clients(server: &TestServer) -> (String, String) {
    let mut ids = Vec::new();
    for (name, origins) in [("Single page", vec![APP]), ("Other", vec![])] {
        let spa = json!({"name": name, "app_type": "spa", "token_endpoint_auth_method": "none",
                         "grant_types": ["authorization_code", "refresh_token"],
                         "web_origins": origins});
        let (status, client) = server.admin(Method::POST, "/clients", Some(spa)).await;
        assert_eq!(status, StatusCode::CREATED, "{client}");
        ids.push(client["client_id"].as_str().unwrap().to_string());
    }
    (ids.remove(0), ids.remove(0))
}

async fn preflight(server: &TestServer, path: &str, origin: &str) -> reqwest::Response {
    server
        .http
        .request(Method::OPTIONS, server.url(path))
        .header(ORIGIN, origin)
        .header(ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(ACCESS_CONTROL_REQUEST_HEADERS, "content-type,auth0-client")
        .send()
        .await
        .unwrap()
}

fn allowed_origin(response: &reqwest::Response) -> Option<&str> {
    response
        .headers()
        .get(ACCESS_CONTROL_ALLOW_ORIGIN)
        .map(|v| v.to_str().unwrap())
}

/// A refresh with a made-up token, from `origin` for `client_id`: past the origin check it
/// is `invalid_grant`. Gives the origin the answer is readable by, and the answer.
async fn refresh_from(
    server: &TestServer,
    origin: &str,
    client_id: &str,
) -> (Option<String>, Value) {
    let response = server
        .http
        .post(server.url("/oauth/token"))
        .header(ORIGIN, origin)
        .json(
            &json!({"grant_type": "refresh_token", "client_id": client_id,
                      "refresh_token": "made-up"}),
        )
        .send()
        .await
        .unwrap();
    let readable_by = allowed_origin(&response).map(str::to_string);
    (readable_by, response.json().await.unwrap())
}

#[tokio::test]
async fn a_listed_origin_is_answered_and_an_unlisted_one_is_not() {
    let server = TestServer::start().await;
    let (spa, other) = two_clients(&server).await;

    for path in [
        "/oauth/token",
        "/oauth/revoke",
        "/userinfo",
        "/dbconnections/signup",
    ] {
        let answer = preflight(&server, path, APP).await;
        assert!(answer.status().is_success(), "{path}: {}", answer.status());
        assert_eq!(allowed_origin(&answer), Some(APP), "{path}");
        let methods = answer.headers()[ACCESS_CONTROL_ALLOW_METHODS]
            .to_str()
            .unwrap()
            .to_string();
        assert!(methods.contains("POST"), "{path}: {methods}");
        let headers = answer.headers()[ACCESS_CONTROL_ALLOW_HEADERS]
            .to_str()
            .unwrap()
            .to_ascii_lowercase();
        assert!(headers.contains("auth0-client"), "{path}: {headers}");

        let refused = preflight(&server, path, ELSEWHERE).await;
        assert_eq!(allowed_origin(&refused), None, "{path}: no client lists it");
    }

    let (readable_by, body) = refresh_from(&server, APP, &spa).await;
    assert_eq!(body["error"], "invalid_grant", "past the origin check");
    assert_eq!(readable_by.as_deref(), Some(APP));

    // The origin is listed, but not by the client the request is for.
    let (_, body) = refresh_from(&server, APP, &other).await;
    assert_eq!(body["error"], "access_denied", "{body}");
    assert!(
        body["error_description"].as_str().unwrap().contains(APP),
        "{body}"
    );
    let (_, logs) = server.admin(Method::GET, "/logs?q=type:fco", None).await;
    assert_eq!(logs.as_array().unwrap().len(), 1, "{logs}");

    let signup = server
        .http
        .post(server.url("/dbconnections/signup"))
        .header(ORIGIN, APP)
        .json(&json!({"client_id": other, "email": "ada@example.com",
                      "password": "correct horse battery staple", "connection": DATABASE}))
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), StatusCode::FORBIDDEN);
    let (_, users) = server.admin(Method::GET, "/users", None).await;
    assert_eq!(users, json!([]), "the refused sign-up made no user");

    // Callers that are not browsers send no origin, and the server's own pages send its own.
    let (_, body) = refresh_from(&server, "http://castellan.test", &other).await;
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn discovery_and_keys_are_readable_from_any_origin() {
    let server = TestServer::start().await;
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/jwks.json",
    ] {
        let answer = server
            .http
            .get(server.url(path))
            .header(ORIGIN, ELSEWHERE)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
        assert_eq!(allowed_origin(&answer), Some("*"), "{path}");
    }
}

/// `allowed_origins` alone opens the endpoints to an origin, as Auth0's "Allowed Origins
/// (CORS)" does; so does the origin of a callback.
#[tokio::test]
async fn allowed_origins_and_callbacks_open_the_endpoints_too() {
    let server = TestServer::start().await;
    let listed = "https://listed.example.com";
    let app = json!({"name": "Listed", "app_type": "spa", "token_endpoint_auth_method": "none",
                     "grant_types": ["refresh_token"], "allowed_origins": [listed],
                     "callbacks": ["https://callback.example.com/done"]});
    let (status, client) = server.admin(Method::POST, "/clients", Some(app)).await;
    assert_eq!(status, StatusCode::CREATED, "{client}");
    let client_id = client["client_id"].as_str().unwrap();
    for origin in [listed, "https://callback.example.com"] {
        let answer = preflight(&server, "/oauth/token", origin).await;
        assert_eq!(allowed_origin(&answer), Some(origin));
        let (readable_by, body) = refresh_from(&server, origin, client_id).await;
        assert_eq!(body["error"], "invalid_grant", "{origin}: {body}");
        assert_eq!(readable_by.as_deref(), Some(origin));
    }
}
