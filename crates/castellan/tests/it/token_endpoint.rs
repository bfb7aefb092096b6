//! `POST /oauth/token` with client credentials: both body formats, both client
//! authentication methods, every error case, scope narrowing, and the token's claims
//! checked with an independent JWT library against the published keys.

use crate::common;

use base64::Engine;
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const API: &str = "https://api.example.com";

async fn server_with_m2m(api: Value) -> (TestServer, String, String) {
    let server = TestServer::start().await;
    let (id, secret) = server
        .m2m_client_for(api, &["read:reports", "write:reports"])
        .await;
    (server, id, secret)
}

fn reports_api() -> Value {
    json!({
        "identifier": API,
        "name": "Reports",
        "scopes": [{"value": "read:reports"}, {"value": "write:reports"}, {"value": "delete:reports"}],
    })
}

#[tokio::test]
async fn json_body_with_client_secret_post() {
    let (server, id, secret) = server_with_m2m(reports_api()).await;
    let response = server
        .http
        .post(server.url("/oauth/token"))
        .json(&json!({
            "grant_type": "client_credentials", "client_id": id, "client_secret": secret,
            "audience": API, "organization": null,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 86400);
    assert_eq!(body["scope"], "read:reports write:reports");
    let token = body["access_token"].as_str().unwrap();
    let claims = verify_with_jwks(&server, token, API).await;
    assert_eq!(claims["sub"], format!("{id}@clients"));
    assert_eq!(claims["azp"], id.as_str());
    assert_eq!(claims["gty"], "client-credentials");
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["scope"], "read:reports write:reports");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        86400
    );
    assert!(
        claims.get("permissions").is_none(),
        "dialect access_token has no permissions"
    );
    let head = header(token);
    assert_eq!(head["alg"], "RS256");
    assert_eq!(head["typ"], "JWT");
}

/// Registers how the client authenticates at the token endpoint.
async fn authenticates_with(server: &TestServer, client_id: &str, method: &str) {
    let (status, body) = server
        .admin(
            Method::PATCH,
            &format!("/clients/{client_id}"),
            Some(json!({"token_endpoint_auth_method": method})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn form_body_with_client_secret_basic() {
    let (server, id, secret) = server_with_m2m(reports_api()).await;
    authenticates_with(&server, &id, "client_secret_basic").await;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    let response = server
        .http
        .post(server.url("/oauth/token"))
        .header("authorization", format!("Basic {basic}"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("audience", API),
            ("scope", "write:reports"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["scope"], "write:reports");
    let claims = verify_with_jwks(&server, body["access_token"].as_str().unwrap(), API).await;
    assert_eq!(claims["scope"], "write:reports");
}

/// The registered `token_endpoint_auth_method` is the only one accepted: a secret sent
/// the other way is refused (once it is known to be right, so the answer tells a stranger
/// nothing), at `/oauth/token` and `/oauth/revoke`.
#[tokio::test]
async fn the_registered_authentication_method_is_enforced() {
    let (server, id, secret) = server_with_m2m(reports_api()).await;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    let with_basic = || {
        server
            .http
            .post(server.url("/oauth/token"))
            .header("authorization", format!("Basic {basic}"))
            .form(&[("grant_type", "client_credentials"), ("audience", API)])
    };
    let with_post = json!({"grant_type": "client_credentials", "client_id": id,
                           "client_secret": secret, "audience": API});

    // Registered client_secret_post (the default): Basic is refused.
    let response = with_basic().send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(
        body["error_description"],
        "The client must authenticate with client_secret_post"
    );
    assert_eq!(
        server.token_request(with_post.clone()).await.0,
        StatusCode::OK
    );
    let revoke = server
        .http
        .post(server.url("/oauth/revoke"))
        .header("authorization", format!("Basic {basic}"))
        .form(&[("token", "whatever")])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), StatusCode::UNAUTHORIZED);

    // A wrong secret sent the wrong way says only that the client is unauthorized.
    let wrong = base64::engine::general_purpose::STANDARD.encode(format!("{id}:wrong"));
    let response = server
        .http
        .post(server.url("/oauth/token"))
        .header("authorization", format!("Basic {wrong}"))
        .form(&[("grant_type", "client_credentials"), ("audience", API)])
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error_description"], "Unauthorized");

    // Registered client_secret_basic: the body secret is refused, Basic works.
    authenticates_with(&server, &id, "client_secret_basic").await;
    let (status, body) = server.token_request(with_post).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(
        body["error_description"],
        "The client must authenticate with client_secret_basic"
    );
    assert_eq!(with_basic().send().await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn es256_eddsa_and_rfc9068_tokens_verify_with_the_published_keys() {
    let server = TestServer::start().await;
    for (alg, identifier, dialect) in [
        ("ES256", "urn:es", "access_token_authz"),
        ("EdDSA", "urn:ed", "rfc9068_profile_authz"),
    ] {
        let api = json!({"identifier": identifier, "signing_alg": alg, "token_dialect": dialect,
                         "scopes": [{"value": "read:reports"}, {"value": "write:reports"}]});
        let (id, secret) = server.m2m_client_for(api, &["read:reports"]).await;
        let token = server.token(&id, &secret, identifier, None).await;
        let head = header(&token);
        assert_eq!(head["alg"], alg);
        let claims = verify_with_jwks(&server, &token, identifier).await;
        assert_eq!(claims["permissions"], json!(["read:reports"]), "{dialect}");
        if dialect.starts_with("rfc9068") {
            assert_eq!(head["typ"], "at+jwt");
            assert_eq!(claims["client_id"], id.as_str());
            assert!(claims["jti"].is_string());
        }
    }
}

#[tokio::test]
async fn management_audience_has_an_https_alias() {
    let server = TestServer::start().await;
    let token = server
        .token(
            ADMIN_ID,
            ADMIN_SECRET,
            "https://castellan.test/api/v2/",
            None,
        )
        .await;
    assert_eq!(claims(&token)["aud"], MANAGEMENT_AUDIENCE);
    let (status, _) = server
        .call(Method::GET, "/api/v2/clients", &token, None)
        .await;
    assert_eq!(status, StatusCode::OK);
}

async fn error_of(server: &TestServer, body: Value) -> (StatusCode, String, String) {
    let (status, body) = server.token_request(body).await;
    (
        status,
        body["error"].as_str().unwrap_or_default().to_string(),
        body["error_description"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

#[tokio::test]
async fn every_error_case_has_its_code_and_status() {
    let (server, id, secret) = server_with_m2m(reports_api()).await;
    let (spa_status, spa) = server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "spa", "app_type": "spa"})),
        )
        .await;
    assert_eq!(spa_status, StatusCode::CREATED);
    let (_, web) = server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "web", "grant_types": ["authorization_code"]})),
        )
        .await;
    let base = json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret, "audience": API});
    let with = |patch: Value| {
        let mut body = base.clone();
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body
    };
    let cases = [
        (
            with(json!({"grant_type": null})),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            with(json!({"grant_type": "urn:nope"})),
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
        ),
        (
            with(json!({"client_id": null})),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            with(json!({"client_id": "unknown"})),
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            with(json!({"client_secret": "wrong"})),
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            with(json!({"client_secret": null})),
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            with(json!({"audience": null})),
            StatusCode::FORBIDDEN,
            "access_denied",
        ),
        (
            with(json!({"audience": "https://unknown.example"})),
            StatusCode::FORBIDDEN,
            "access_denied",
        ),
        (
            with(json!({"audience": MANAGEMENT_AUDIENCE})),
            StatusCode::FORBIDDEN,
            "access_denied",
        ),
        (
            with(json!({"scope": "read:reports delete:reports"})),
            StatusCode::FORBIDDEN,
            "access_denied",
        ),
        (
            with(json!({"scope": "read:reports", "client_secret": 7})),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            with(json!({"client_id": spa["client_id"], "client_secret": null})),
            StatusCode::FORBIDDEN,
            "unauthorized_client",
        ),
        (
            with(json!({"client_id": web["client_id"], "client_secret": web["client_secret"]})),
            StatusCode::FORBIDDEN,
            "unauthorized_client",
        ),
    ];
    for (body, status, code) in cases {
        let (got_status, got_code, description) = error_of(&server, body.clone()).await;
        assert_eq!(
            (got_status, got_code.as_str()),
            (status, code),
            "{body}: {description}"
        );
        assert!(!description.is_empty());
    }
    let (_, _, description) = error_of(
        &server,
        with(json!({"scope": "read:reports delete:reports"})),
    )
    .await;
    assert!(description.contains("delete:reports"), "{description}");
    let (_, _, unknown) = error_of(&server, with(json!({"client_id": "unknown"}))).await;
    let (_, _, wrong) = error_of(&server, with(json!({"client_secret": "wrong"}))).await;
    assert_eq!(unknown, wrong, "unknown client and wrong secret look alike");
    let logs = server
        .running()
        .state
        .store
        .list_logs(None, 500)
        .await
        .unwrap();
    let types: Vec<&str> = logs.iter().map(|e| e.event_type.as_str()).collect();
    assert!(
        types.contains(&"seccft") && types.contains(&"feccft"),
        "{types:?}"
    );
}

#[tokio::test]
async fn malformed_bodies_and_headers_are_invalid_requests() {
    let (server, id, secret) = server_with_m2m(reports_api()).await;
    let post = |content_type: &'static str, body: Vec<u8>| {
        server
            .http
            .post(server.url("/oauth/token"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    for (content_type, body) in [
        ("application/json", b"{not json".to_vec()),
        ("application/json", b"[1,2]".to_vec()),
        ("text/plain", b"grant_type=client_credentials".to_vec()),
        (
            "application/x-www-form-urlencoded",
            b"grant_type=client_credentials&grant_type=password".to_vec(),
        ),
        ("application/x-www-form-urlencoded", vec![b'a'; 64 * 1024]),
    ] {
        let response = post(content_type, body).await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{content_type}");
        assert_eq!(response.headers()["cache-control"], "no-store");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request");
    }
    // Basic and a body secret at once; and a Basic header that does not decode.
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    let both = server
        .http
        .post(server.url("/oauth/token"))
        .header("authorization", format!("Basic {basic}"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("audience", API),
            ("client_secret", secret.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(both.status(), StatusCode::BAD_REQUEST);
    let garbled = server
        .http
        .post(server.url("/oauth/token"))
        .header("authorization", "Basic !!!")
        .form(&[("grant_type", "client_credentials"), ("audience", API)])
        .send()
        .await
        .unwrap();
    assert_eq!(garbled.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        garbled.headers()["www-authenticate"],
        "Basic realm=\"castellan\""
    );
}

#[tokio::test]
async fn scope_removed_from_the_api_is_no_longer_granted() {
    let (server, id, secret) = server_with_m2m(reports_api()).await;
    let (status, _) = server
        .admin(
            Method::PATCH,
            &format!("/resource-servers/{}", urlencode(API)),
            Some(json!({"scopes": [{"value": "read:reports"}]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let token = server.token(&id, &secret, API, None).await;
    assert_eq!(claims(&token)["scope"], "read:reports");
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Each route answers a body over its limit in its own shape: the token endpoint and
/// `/dbconnections` take 16 KiB, the Management API `max_body_bytes`.
#[tokio::test]
async fn bodies_over_the_route_limit_are_refused_in_the_route_shape() {
    let server = TestServer::start().await;
    let padding = "x".repeat(17 * 1024);
    let post = |path: &'static str, content_type: &'static str, body: String| {
        server
            .http
            .post(server.url(path))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let token = post(
        "/oauth/token",
        "application/x-www-form-urlencoded",
        format!("grant_type=client_credentials&padding={padding}"),
    )
    .await
    .unwrap();
    assert_eq!(token.status(), StatusCode::BAD_REQUEST);
    let error: Value = token.json().await.unwrap();
    assert_eq!(
        (error["error"].as_str(), error["error_description"].as_str()),
        (
            Some("invalid_request"),
            Some("The request body is too large")
        )
    );

    let signup = post(
        "/dbconnections/signup",
        "application/json",
        json!({"client_id": "x", "email": "a@example.com", "password": padding}).to_string(),
    )
    .await
    .unwrap();
    assert_eq!(signup.status(), StatusCode::BAD_REQUEST);
    let error: Value = signup.json().await.unwrap();
    assert_eq!(error["code"], "invalid_body", "{error}");

    // The small limits stay on their routes: the API reads the same body and judges it.
    let admin = server.admin_token(None).await;
    let api = server
        .http
        .post(server.url("/api/v2/roles"))
        .bearer_auth(&admin)
        .json(&json!({"name": "big", "description": padding}))
        .send()
        .await
        .unwrap();
    assert_ne!(api.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let answer: Value = api.json().await.unwrap();
    assert_ne!(answer["errorCode"], "payload_too_large", "{answer}");
}
