//! Walks every route that declares a scope: refused without it (403 naming it, with the
//! `WWW-Authenticate` challenge), allowed with it, and listed with the same scopes in the
//! OpenAPI document.

use crate::common;

use castellan::http::endpoint::Scopes;
use castellan::http::{authz, management};
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            if seg.starts_with('{') {
                "does-not-exist"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn body_for(method: &Method) -> Option<Value> {
    (*method == Method::POST || *method == Method::PATCH || *method == Method::PUT)
        .then(|| json!({}))
}

#[tokio::test]
async fn every_management_route_enforces_its_declared_scopes() {
    let server = TestServer::start().await;
    let api = management::api();
    let unrelated = server.admin_token(Some("read:stats")).await;
    let openapi: Value = server.get_json("/api/v2/openapi.json").await;
    assert!(!api.endpoints.is_empty());
    for e in &api.endpoints {
        let path = format!("/api/v2{}", concrete(e.path));
        let method = Method::from_bytes(e.method.as_str().as_bytes()).unwrap();

        let no_token = server
            .http
            .request(method.clone(), server.url(&path))
            .send()
            .await
            .unwrap();
        assert_eq!(
            no_token.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path} without a token"
        );

        let response = server
            .http
            .request(method.clone(), server.url(&path))
            .bearer_auth(&unrelated)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "{method} {path} without its scope"
        );
        let challenge = response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            challenge.contains("error=\"insufficient_scope\""),
            "{challenge}"
        );
        assert!(
            challenge.contains(&format!("scope=\"{}\"", e.scopes.list().join(" "))),
            "{challenge}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["statusCode"], 403);
        assert_eq!(body["error"], "Forbidden");
        assert_eq!(body["errorCode"], "insufficient_scope");
        assert_eq!(body["message"], e.scopes.message());

        let sufficient: Vec<String> = match e.scopes {
            Scopes::AnyOf(list) => list.iter().map(|s| s.to_string()).collect(),
            Scopes::AllOf(list) => vec![list.join(" ")],
        };
        // A client's token with a current-user scope acts on no user: those scopes are
        // walked with end users' tokens in system_api_user_tokens.rs.
        let sufficient = sufficient
            .into_iter()
            .filter(|s| !castellan_core::system_apis::CURRENT_USER_SCOPES.contains(&s.as_str()));
        for scope in sufficient {
            let token = server.admin_token(Some(&scope)).await;
            let (status, body) = server
                .call(method.clone(), &path, &token, body_for(&method))
                .await;
            assert!(
                status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
                "{method} {path} with {scope}: {status} {body}"
            );
        }

        let operation = &openapi["paths"][e.path][e.method.as_str().to_ascii_lowercase()];
        let documented: Vec<String> = operation["security"]
            .as_array()
            .unwrap_or_else(|| panic!("{method} {} is not in the OpenAPI document", e.path))
            .iter()
            .flat_map(|req| {
                req["oauth2"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap().to_string())
            })
            .collect();
        assert_eq!(documented, e.scopes.list(), "{method} {}", e.path);
        assert_eq!(
            operation["responses"]["403"]["description"],
            e.scopes.message()
        );
    }
    let documented_operations: usize = openapi["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_object().unwrap().len())
        .sum();
    assert_eq!(
        documented_operations,
        api.endpoints.len(),
        "the document lists exactly the declared routes"
    );
}

/// The Authorization Extension API: the same walk, with its error shape (no `errorCode`),
/// machine-to-machine tokens for `urn:auth0-authz-api`, and the one route without a scope
/// (the policy) allowed with any scope.
#[tokio::test]
async fn every_authz_route_enforces_its_declared_scopes() {
    const AUTHZ: &str = "urn:auth0-authz-api";
    let server = TestServer::start().await;
    let api = authz::api();
    let openapi: Value = server.get_json("/authz/api/openapi.json").await;
    assert!(!api.endpoints.is_empty());
    for e in &api.endpoints {
        let path = format!("/authz/api{}", concrete(e.path));
        let method = Method::from_bytes(e.method.as_str().as_bytes()).unwrap();

        let no_token = server
            .http
            .request(method.clone(), server.url(&path))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            no_token.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path} without a token"
        );

        // A token holding some other scope of this API.
        let other = castellan_core::system_apis::AUTHZ_SCOPES
            .iter()
            .find(|s| !e.scopes.list().contains(s))
            .unwrap();
        let unrelated = server
            .token(ADMIN_ID, ADMIN_SECRET, AUTHZ, Some(other))
            .await;
        if e.scopes.list().is_empty() {
            let (status, body) = server
                .call(method.clone(), &path, &unrelated, body_for(&method))
                .await;
            assert!(
                status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
                "{method} {path} needs no scope: {status} {body}"
            );
        } else {
            let response = server
                .http
                .request(method.clone(), server.url(&path))
                .bearer_auth(&unrelated)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.status(),
                StatusCode::FORBIDDEN,
                "{method} {path} without its scope"
            );
            let challenge = response.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .to_string();
            assert!(
                challenge.contains(&format!("scope=\"{}\"", e.scopes.list().join(" "))),
                "{challenge}"
            );
            let body: Value = response.json().await.unwrap();
            assert_eq!(
                body,
                json!({"statusCode": 403, "error": "Forbidden", "message": e.scopes.message()}),
                "{method} {path}"
            );
            for scope in e.scopes.list() {
                let token = server
                    .token(ADMIN_ID, ADMIN_SECRET, AUTHZ, Some(scope))
                    .await;
                let (status, body) = server
                    .call(method.clone(), &path, &token, body_for(&method))
                    .await;
                assert!(
                    status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
                    "{method} {path} with {scope}: {status} {body}"
                );
            }
        }

        let operation = &openapi["paths"][e.path][e.method.as_str().to_ascii_lowercase()];
        let documented: Vec<String> = operation["security"]
            .as_array()
            .unwrap_or_else(|| panic!("{method} {} is not in the OpenAPI document", e.path))
            .iter()
            .flat_map(|req| {
                req["oauth2"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap().to_string())
            })
            .collect();
        assert_eq!(documented, e.scopes.list(), "{method} {}", e.path);
    }
    let documented_operations: usize = openapi["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_object().unwrap().len())
        .sum();
    assert_eq!(documented_operations, api.endpoints.len());
    assert_eq!(
        openapi["servers"][0]["url"],
        "http://castellan.test/authz/api"
    );
}

#[tokio::test]
async fn tokens_for_another_api_or_forged_or_expired_are_refused() {
    let server = TestServer::start().await;
    let path = "/api/v2/clients";
    let authz_token = server
        .token(ADMIN_ID, ADMIN_SECRET, "urn:auth0-authz-api", None)
        .await;
    let good = server.admin_token(None).await;

    let mut forged_parts: Vec<String> = good.split('.').map(str::to_string).collect();
    let mut forged_claims = claims(&good);
    forged_claims["scope"] = json!("read:clients delete:clients");
    use base64::Engine;
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    forged_parts[1] = b64(&forged_claims);
    let forged = forged_parts.join(".");

    let mut none_header = header(&good);
    none_header["alg"] = json!("none");
    let alg_none = format!("{}.{}.", b64(&none_header), b64(&claims(&good)));

    let mut hs_header = header(&good);
    hs_header["alg"] = json!("HS256");
    let alg_confusion = format!(
        "{}.{}.{}",
        b64(&hs_header),
        b64(&claims(&good)),
        forged_parts[2]
    );

    for (name, token) in [
        ("other audience", authz_token.as_str()),
        ("forged claims", forged.as_str()),
        ("alg none", alg_none.as_str()),
        ("alg switched to HS256", alg_confusion.as_str()),
        ("garbage", "not-a-jwt"),
    ] {
        let (status, body) = server.call(Method::GET, path, token, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}: {body}");
        assert_eq!(body["statusCode"], 401, "{name}");
    }
    let bad_scheme = server
        .http
        .get(server.url(path))
        .header("authorization", format!("Token {good}"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_scheme.status(), StatusCode::UNAUTHORIZED);

    let (status, _) = server.call(Method::GET, path, &good, None).await;
    assert_eq!(status, StatusCode::OK);
    server.clock.advance(86_400);
    let (status, body) = server.call(Method::GET, path, &good, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["message"], "Expired token");
}
