//! Management API v2, first part: clients, resource servers, client grants and
//! connections through HTTP, with Auth0's paging and error shapes, and bad input that
//! changes nothing.

use crate::common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn first_start_has_the_system_apis_and_the_database_connection() {
    let server = TestServer::start().await;
    let (_, apis) = server.admin(Method::GET, "/resource-servers", None).await;
    let identifiers: Vec<&str> = apis
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["identifier"].as_str().unwrap())
        .collect();
    assert!(identifiers.contains(&MANAGEMENT_AUDIENCE));
    assert!(identifiers.contains(&"urn:auth0-authz-api"));
    let (status, authz) = server
        .admin(Method::GET, "/resource-servers/urn%3Aauth0-authz-api", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let scopes: Vec<&str> = authz["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["value"].as_str().unwrap())
        .collect();
    assert_eq!(scopes.len(), 21);
    assert!(scopes.contains(&"update:resource-server") && scopes.contains(&"read:configuration"));
    assert_eq!(authz["is_system"], true);

    let (_, connections) = server.admin(Method::GET, "/connections", None).await;
    let db = &connections[0];
    assert_eq!(db["name"], "Username-Password-Authentication");
    assert_eq!(db["strategy"], "auth0");
    let (_, client) = server
        .admin(Method::POST, "/clients", Some(json!({"name": "web"})))
        .await;
    let (_, db) = server
        .admin(
            Method::GET,
            &format!("/connections/{}", db["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert!(
        db["enabled_clients"]
            .as_array()
            .unwrap()
            .contains(&client["client_id"]),
        "enabled for every client"
    );
}

#[tokio::test]
async fn clients_lifecycle_with_secret_shown_once_and_rotation() {
    let server = TestServer::start().await;
    let (status, created) = server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({
                "name": "Web app", "app_type": "regular_web", "callbacks": ["https://app.example/cb"],
                "allowed_logout_urls": ["https://app.example"], "client_metadata": {"team": "blue"},
                "token_endpoint_auth_method": "client_secret_post", "jwt_configuration": {"alg": "RS256"},
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["client_id"].as_str().unwrap();
    let secret = created["client_secret"].as_str().unwrap().to_string();
    assert_eq!(
        created["grant_types"],
        json!([
            "authorization_code",
            "implicit",
            "refresh_token",
            "client_credentials"
        ])
    );
    assert_eq!(created["client_metadata"]["team"], "blue");

    let (_, fetched) = server
        .admin(Method::GET, &format!("/clients/{id}"), None)
        .await;
    assert!(
        fetched.get("client_secret").is_none(),
        "only the hash is kept"
    );
    assert_eq!(fetched["callbacks"], json!(["https://app.example/cb"]));

    let (status, patched) = server
        .admin(
            Method::PATCH,
            &format!("/clients/{id}"),
            Some(json!({"name": "Renamed", "grant_types": ["client_credentials"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (patched["name"].as_str(), patched["callbacks"].clone()),
        (Some("Renamed"), json!(["https://app.example/cb"]))
    );

    let grant =
        json!({"client_id": id, "audience": MANAGEMENT_AUDIENCE, "scope": ["read:clients"]});
    assert_eq!(
        server
            .admin(Method::POST, "/client-grants", Some(grant))
            .await
            .0,
        StatusCode::CREATED
    );
    let old = server.token(id, &secret, MANAGEMENT_AUDIENCE, None).await;
    let (status, rotated) = server
        .admin(Method::POST, &format!("/clients/{id}/rotate-secret"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let new_secret = rotated["client_secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    let (status, _) = server
        .token_request(json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret, "audience": MANAGEMENT_AUDIENCE}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old secret is gone");
    server
        .token(id, new_secret, MANAGEMENT_AUDIENCE, None)
        .await;
    let (status, _) = server
        .call(Method::GET, "/api/v2/clients", &old, None)
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "tokens already issued stay valid until they expire"
    );

    assert_eq!(
        server
            .admin(Method::DELETE, &format!("/clients/{id}"), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    let (status, body) = server
        .admin(Method::GET, &format!("/clients/{id}"), None)
        .await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (StatusCode::NOT_FOUND, Some("inexistent_client"))
    );
    let (_, grants) = server
        .admin(Method::GET, &format!("/client-grants?client_id={id}"), None)
        .await;
    assert_eq!(grants, json!([]), "grants go with their client");
}

#[tokio::test]
async fn paging_follows_auth0() {
    let server = TestServer::start().await;
    for i in 0..7 {
        server
            .admin(
                Method::POST,
                "/clients",
                Some(json!({"name": format!("app {i}")})),
            )
            .await;
    }
    // 7 plus the bootstrap administrator and the admin console's own client.
    let (_, page) = server
        .admin(
            Method::GET,
            "/clients?page=1&per_page=3&include_totals=true",
            None,
        )
        .await;
    assert_eq!(
        (
            page["start"].clone(),
            page["limit"].clone(),
            page["total"].clone()
        ),
        (json!(3), json!(3), json!(9))
    );
    assert_eq!(page["clients"].as_array().unwrap().len(), 3);
    let (_, last) = server
        .admin(
            Method::GET,
            "/clients?page=2&per_page=3&include_totals=true",
            None,
        )
        .await;
    assert_eq!(last["clients"].as_array().unwrap().len(), 3);
    let (_, past) = server
        .admin(
            Method::GET,
            "/clients?page=9&per_page=3&include_totals=true",
            None,
        )
        .await;
    assert_eq!(
        (past["clients"].clone(), past["total"].clone()),
        (json!([]), json!(9))
    );
    let (_, bare) = server.admin(Method::GET, "/clients?per_page=2", None).await;
    assert_eq!(bare.as_array().unwrap().len(), 2);

    let mut seen = vec![];
    let mut from: Option<String> = None;
    loop {
        let query = match &from {
            Some(cursor) => format!("/client-grants?take=1&from={cursor}"),
            None => "/client-grants?take=1".to_string(),
        };
        let (_, body) = server.admin(Method::GET, &query, None).await;
        seen.extend(
            body["client_grants"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| g["id"].clone()),
        );
        match body.get("next") {
            Some(next) => from = Some(next.as_str().unwrap().to_string()),
            None => break,
        }
    }
    assert_eq!(
        seen.len(),
        2,
        "the administrator's two grants, one page each"
    );

    for bad in [
        "per_page=101",
        "page=-1",
        "include_totals=maybe",
        "take=500",
    ] {
        let (status, body) = server
            .admin(Method::GET, &format!("/client-grants?{bad}"), None)
            .await;
        assert_eq!(
            (status, body["errorCode"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_query_string")),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn resource_servers_by_id_or_identifier_and_their_rules() {
    let server = TestServer::start().await;
    let api = json!({"identifier": "https://api.example.com/v1", "name": "Example", "token_lifetime": 600,
                     "signing_alg": "ES256", "token_dialect": "access_token_authz", "enforce_policies": true,
                     "scopes": [{"value": "read:x", "description": "Read"}]});
    let (status, created) = server
        .admin(Method::POST, "/resource-servers", Some(api.clone()))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["signing_alg"], "ES256");
    let (status, dup) = server
        .admin(Method::POST, "/resource-servers", Some(api))
        .await;
    assert_eq!(
        (status, dup["statusCode"].clone()),
        (StatusCode::CONFLICT, json!(409))
    );
    let (status, by_identifier) = server
        .admin(
            Method::GET,
            "/resource-servers/https%3A%2F%2Fapi.example.com%2Fv1",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_identifier["id"], created["id"]);
    let id = created["id"].as_str().unwrap();
    let (_, patched) = server
        .admin(
            Method::PATCH,
            &format!("/resource-servers/{id}"),
            Some(json!({"token_lifetime": 60, "allow_offline_access": true})),
        )
        .await;
    assert_eq!(
        (
            patched["token_lifetime"].clone(),
            patched["allow_offline_access"].clone()
        ),
        (json!(60), json!(true))
    );

    for (body, needle) in [
        (
            json!({"identifier": "https://api.example.com/v1/changed"}),
            "identifier",
        ),
        (json!({"signing_alg": "HS256"}), "signing_alg"),
        (json!({"token_dialect": "jwt"}), "token_dialect"),
        (json!({"token_lifetime": 0}), "token_lifetime"),
        (json!({"scopes": [{"value": "a b"}]}), "scopes"),
        (
            json!({"scopes": [{"value": "a"}, {"value": "a"}]}),
            "scopes",
        ),
    ] {
        let (status, error) = server
            .admin(
                Method::PATCH,
                &format!("/resource-servers/{id}"),
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            error["message"].as_str().unwrap().contains(needle),
            "{error}"
        );
    }
    let (_, unchanged) = server
        .admin(Method::GET, &format!("/resource-servers/{id}"), None)
        .await;
    assert_eq!(
        unchanged, patched,
        "refused changes leave the API as it was"
    );

    let (status, _) = server
        .admin(
            Method::DELETE,
            "/resource-servers/urn%3Aauth0-authz-api",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "system APIs stay");
    let (status, _) = server
        .admin(
            Method::PATCH,
            "/resource-servers/urn%3Aauth0-authz-api",
            Some(json!({"scopes": []})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        server
            .admin(Method::DELETE, &format!("/resource-servers/{id}"), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        server
            .admin(Method::GET, &format!("/resource-servers/{id}"), None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn client_grants_check_client_audience_scopes_and_duplicates() {
    let server = TestServer::start().await;
    let (_, client) = server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "m2m", "app_type": "non_interactive"})),
        )
        .await;
    let id = client["client_id"].as_str().unwrap();
    let cases = [
        (
            json!({"client_id": "ghost", "audience": MANAGEMENT_AUDIENCE, "scope": []}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"client_id": id, "audience": "urn:ghost", "scope": []}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"client_id": id, "audience": MANAGEMENT_AUDIENCE, "scope": ["fly:away"]}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"client_id": id, "audience": MANAGEMENT_AUDIENCE}),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (body, status) in cases {
        assert_eq!(
            server
                .admin(Method::POST, "/client-grants", Some(body.clone()))
                .await
                .0,
            status,
            "{body}"
        );
    }
    let (_, none) = server
        .admin(Method::GET, &format!("/client-grants?client_id={id}"), None)
        .await;
    assert_eq!(none, json!([]), "refused grants were not written");

    let alias = json!({"client_id": id, "audience": "https://castellan.test/api/v2/", "scope": ["read:clients"]});
    let (status, grant) = server
        .admin(Method::POST, "/client-grants", Some(alias))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        grant["audience"], MANAGEMENT_AUDIENCE,
        "stored under the canonical identifier"
    );
    let dup = json!({"client_id": id, "audience": MANAGEMENT_AUDIENCE, "scope": []});
    assert_eq!(
        server
            .admin(Method::POST, "/client-grants", Some(dup))
            .await
            .0,
        StatusCode::CONFLICT
    );
    let gid = grant["id"].as_str().unwrap();
    let (status, patched) = server
        .admin(
            Method::PATCH,
            &format!("/client-grants/{gid}"),
            Some(json!({"scope": ["read:clients", "read:connections"]})),
        )
        .await;
    assert_eq!(
        (status, patched["scope"].clone()),
        (StatusCode::OK, json!(["read:clients", "read:connections"]))
    );
    let (_, filtered) = server
        .admin(
            Method::GET,
            &format!("/client-grants?audience={MANAGEMENT_AUDIENCE}&client_id={id}"),
            None,
        )
        .await;
    assert_eq!(filtered.as_array().unwrap().len(), 1);
    assert_eq!(
        server
            .admin(Method::DELETE, &format!("/client-grants/{gid}"), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        server
            .admin(Method::DELETE, &format!("/client-grants/{gid}"), None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn connections_crud_and_validation() {
    let server = TestServer::start().await;
    let (_, client) = server
        .admin(Method::POST, "/clients", Some(json!({"name": "web"})))
        .await;
    let body = json!({"name": "staff-db", "strategy": "auth0", "options": {"requires_username": true},
                      "enabled_clients": [client["client_id"]]});
    let (status, created) = server
        .admin(Method::POST, "/connections", Some(body.clone()))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["realms"], json!(["staff-db"]));
    assert_eq!(
        server
            .admin(Method::POST, "/connections", Some(body))
            .await
            .0,
        StatusCode::CONFLICT
    );
    for bad in [
        json!({"name": "bad name", "strategy": "auth0"}),
        json!({"name": "social", "strategy": "google-oauth2"}),
        json!({"name": "x", "strategy": "auth0", "options": [1]}),
        json!({"strategy": "auth0"}),
    ] {
        assert_eq!(
            server
                .admin(Method::POST, "/connections", Some(bad.clone()))
                .await
                .0,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
    let ghost = json!({"name": "ghosts", "strategy": "auth0", "enabled_clients": ["nobody"]});
    assert_eq!(
        server
            .admin(Method::POST, "/connections", Some(ghost))
            .await
            .0,
        StatusCode::CONFLICT
    );
    let (_, all) = server
        .admin(Method::GET, "/connections?include_totals=true", None)
        .await;
    assert_eq!(all["total"], 2, "nothing half-written");

    let id = created["id"].as_str().unwrap();
    let (status, patched) = server
        .admin(
            Method::PATCH,
            &format!("/connections/{id}"),
            Some(json!({"enabled_clients": [], "options": {"x": 1}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            patched["enabled_clients"].clone(),
            patched["options"].clone()
        ),
        (json!([]), json!({"x": 1}))
    );
    let rename = json!({"name": "other"});
    assert_eq!(
        server
            .admin(Method::PATCH, &format!("/connections/{id}"), Some(rename))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        server
            .admin(Method::DELETE, &format!("/connections/{id}"), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        server
            .admin(Method::GET, &format!("/connections/{id}"), None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn bad_bodies_get_the_documented_error_and_change_nothing() {
    let server = TestServer::start().await;
    let token = server.admin_token(None).await;
    let (_, before) = server
        .admin(Method::GET, "/clients?include_totals=true", None)
        .await;
    let send = |content_type: &'static str, body: Vec<u8>| {
        server
            .http
            .post(server.url("/api/v2/clients"))
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let cases: Vec<(&str, Vec<u8>, StatusCode)> = vec![
        (
            "application/json",
            b"{\"name\": ".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        ("application/json", b"[]".to_vec(), StatusCode::BAD_REQUEST),
        (
            "application/json",
            b"{\"name\": 5}".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        ("application/json", b"{}".to_vec(), StatusCode::BAD_REQUEST),
        (
            "application/json",
            b"{\"name\": \"x\", \"app_type\": \"robot\"}".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "application/json",
            b"{\"name\": \"x\", \"grant_types\": [\"magic\"]}".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "text/plain",
            b"{\"name\": \"x\"}".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "application/json",
            format!("{{\"name\": \"{}\"}}", "x".repeat(70_000)).into_bytes(),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ];
    for (content_type, body, status) in cases {
        let response = send(content_type, body).await.unwrap();
        assert_eq!(response.status(), status, "{content_type}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["statusCode"], status.as_u16());
        assert!(
            error["errorCode"].is_string()
                && error["message"].is_string()
                && error["request_id"].is_string()
        );
    }
    let (_, after) = server
        .admin(Method::GET, "/clients?include_totals=true", None)
        .await;
    assert_eq!(after["total"], before["total"]);
}

#[tokio::test]
async fn health_readiness_metrics_discovery_and_request_ids() {
    let server = TestServer::start().await;
    let get = |path: &'static str| {
        server
            .http
            .get(server.url(path))
            .header("x-request-id", "trace-me-42")
            .send()
    };
    let healthz = get("/healthz").await.unwrap();
    assert_eq!(healthz.status(), StatusCode::OK);
    assert_eq!(healthz.headers()["x-request-id"], "trace-me-42");
    assert_eq!(get("/readyz").await.unwrap().status(), StatusCode::OK);
    server.admin_token(None).await;
    let metrics = get("/metrics").await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains("castellan_tokens_issued_total{grant=\"client_credentials\"}"),
        "{metrics}"
    );
    assert!(metrics.contains(
        "castellan_http_requests_total{route=\"/oauth/token\",method=\"POST\",status=\"200\"}"
    ));
    assert!(metrics.contains("castellan_http_request_duration_seconds_bucket"));

    let discovery: Value = get("/.well-known/openid-configuration")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], ISSUER);
    assert_eq!(
        discovery["token_endpoint"],
        "http://castellan.test/oauth/token"
    );
    assert!(
        discovery["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("client_credentials"))
    );
    let jwks: Value = get("/.well-known/jwks.json")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let algs: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["alg"].as_str().unwrap())
        .collect();
    assert_eq!(
        algs,
        ["RS256", "RS256"],
        "only the algorithms in use are published, each with its current and next key"
    );
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k.get("d").is_none()),
        "no private parts"
    );

    let api = json!({"identifier": "urn:edwards", "signing_alg": "EdDSA"});
    assert_eq!(
        server
            .admin(Method::POST, "/resource-servers", Some(api))
            .await
            .0,
        StatusCode::CREATED
    );
    let jwks: Value = server.get_json("/.well-known/jwks.json").await;
    let kinds: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kty"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["RSA", "RSA", "OKP", "OKP"],
        "an API's algorithm is published as soon as it is used"
    );

    let missing = get("/no/such/route").await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["request_id"], "trace-me-42");
}

/// A request id the client sends is kept only when it is short printable ASCII; otherwise
/// the server makes one up, and the response and the error body carry that one.
#[tokio::test]
async fn unacceptable_request_ids_are_replaced() {
    let server = TestServer::start().await;
    let long = "x".repeat(129);
    for sent in [
        None,
        Some("has space"),
        Some(long.as_str()),
        Some("caf\u{e9}"),
    ] {
        let mut request = server.http.get(server.url("/no/such/route"));
        if let Some(sent) = sent {
            request = request.header("x-request-id", sent);
        }
        let response = request.send().await.unwrap();
        let id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_string();
        assert_eq!(id.len(), 36, "{sent:?} replaced by a UUID: {id}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["request_id"], id.as_str());
    }
}

/// The `sapi` entries of `action`.
async fn entries_of(server: &TestServer, action: &str) -> Vec<Value> {
    server
        .sapi_entries()
        .await
        .into_iter()
        .filter(|e| e["details"]["action"] == action)
        .collect()
}

#[tokio::test]
async fn a_refused_change_leaves_neither_the_change_nor_an_audit_entry() {
    let server = TestServer::start().await;
    let api = json!({"name": "Reports", "identifier": "https://reports.example.com",
                     "scopes": [{"value": "read:reports"}]});
    let (status, body) = server
        .admin(Method::POST, "/resource-servers", Some(api.clone()))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = server
        .admin(Method::POST, "/resource-servers", Some(api))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "duplicate identifier: {body}");
    assert_eq!(
        entries_of(&server, "create_resource_server").await.len(),
        1,
        "only the API made is recorded"
    );

    let (_, client) = server
        .admin(Method::POST, "/clients", Some(json!({"name": "Worker"})))
        .await;
    let client_id = client["client_id"].as_str().unwrap();
    let grant =
        json!({"client_id": client_id, "audience": "https://unknown.example.com", "scope": []});
    let (status, body) = server
        .admin(Method::POST, "/client-grants", Some(grant))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "unknown API: {body}");
    let grant = json!({"client_id": client_id, "audience": "https://reports.example.com",
                       "scope": ["read:reports", "write:reports"]});
    let (status, body) = server
        .admin(Method::POST, "/client-grants", Some(grant))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "unknown scope: {body}");
    let (_, grants) = server
        .admin(
            Method::GET,
            &format!("/client-grants?client_id={client_id}"),
            None,
        )
        .await;
    assert_eq!(grants, json!([]));
    assert_eq!(
        entries_of(&server, "create_client_grant").await,
        [] as [Value; 0]
    );

    // The connection's options pass, its default role does not: neither is kept.
    let (_, connections) = server.admin(Method::GET, "/connections", None).await;
    let connection = connections[0]["id"].as_str().unwrap();
    let path = format!("/connections/{connection}");
    let change = json!({"options": {"brute_force_protection": false},
                        "default_assignments": {"roles": ["no such role"]}});
    let (status, body) = server.admin(Method::PATCH, &path, Some(change)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (_, kept) = server.admin(Method::GET, &path, None).await;
    assert_eq!(kept["options"], connections[0]["options"]);
    assert!(kept.get("default_assignments").is_none(), "{kept}");
    for action in ["update_connection", "set_default_assignments"] {
        assert_eq!(
            entries_of(&server, action).await,
            [] as [Value; 0],
            "{action}"
        );
    }

    let (status, body) = server
        .admin(Method::DELETE, "/clients/no-such-client", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(entries_of(&server, "delete_client").await, [] as [Value; 0]);
}

#[tokio::test]
async fn a_change_whose_audit_entry_cannot_be_stored_is_not_stored_either() {
    let server = TestServer::start().await;
    let (_, api) = server
        .admin(
            Method::POST,
            "/resource-servers",
            Some(json!({"name": "Reports", "identifier": "https://reports.example.com"})),
        )
        .await;
    let api_path = format!("/resource-servers/{}", api["id"].as_str().unwrap());
    let (_, connections) = server.admin(Method::GET, "/connections", None).await;
    let connection_path = format!("/connections/{}", connections[0]["id"].as_str().unwrap());
    server.refuse_audit_entries().await;

    let refused = [
        (
            Method::POST,
            "/clients".to_string(),
            Some(json!({"name": "Lost"})),
        ),
        (
            Method::PATCH,
            api_path.clone(),
            Some(json!({"name": "Renamed"})),
        ),
        (
            Method::PATCH,
            connection_path.clone(),
            Some(json!({"options": {"lost": true}})),
        ),
        (Method::POST, "/keys/signing/rotate".to_string(), None),
    ];
    let (_, keys_before) = server.admin(Method::GET, "/keys/signing", None).await;
    for (method, path, body) in refused {
        let (status, answer) = server.admin(method.clone(), &path, body).await;
        assert!(
            status.is_server_error(),
            "{method} {path}: {status} {answer}"
        );
    }
    let (_, clients) = server.admin(Method::GET, "/clients", None).await;
    assert!(
        !clients
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "Lost"),
        "{clients}"
    );
    let (_, kept) = server.admin(Method::GET, &api_path, None).await;
    assert_eq!(kept["name"], "Reports");
    let (_, kept) = server.admin(Method::GET, &connection_path, None).await;
    assert_eq!(kept["options"], connections[0]["options"]);
    let (_, keys_after) = server.admin(Method::GET, "/keys/signing", None).await;
    assert_eq!(keys_after, keys_before, "no key rotated");
}

#[tokio::test]
async fn clients_keep_allowed_origins_and_refuse_what_is_not_an_origin() {
    let server = TestServer::start().await;
    let (status, created) = server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({
                "name": "Storefront", "app_type": "spa",
                "allowed_origins": ["https://shop.example.com", "http://localhost:3000"],
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        created["allowed_origins"],
        json!(["https://shop.example.com", "http://localhost:3000"])
    );
    let id = created["client_id"].as_str().unwrap();
    let path = format!("/clients/{id}");
    let (_, fetched) = server.admin(Method::GET, &path, None).await;
    assert_eq!(fetched["allowed_origins"], created["allowed_origins"]);
    let (_, listed) = server.admin(Method::GET, "/clients", None).await;
    let in_list = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["client_id"] == id)
        .unwrap();
    assert_eq!(in_list["allowed_origins"], created["allowed_origins"]);

    // A change to another attribute keeps them; a change to them replaces them.
    let (status, patched) = server
        .admin(Method::PATCH, &path, Some(json!({"description": "Shop"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["allowed_origins"], created["allowed_origins"]);
    let (status, patched) = server
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"allowed_origins": ["https://*.shop.example.com"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(
        patched["allowed_origins"],
        json!(["https://*.shop.example.com"])
    );
    let updates: Vec<Value> = server
        .audit_entries_naming("Storefront")
        .await
        .into_iter()
        .filter(|e| e["action"] == "update_client")
        .map(|e| e["changes"].clone())
        .collect();
    assert_eq!(
        updates,
        [
            json!({"attributes": ["description"]}).to_string(),
            json!({"attributes": ["allowed_origins"]}).to_string(),
        ],
        "the audit names the attribute changed"
    );

    // Every client answers the attribute, an empty list when it was never set.
    let (_, plain) = server
        .admin(Method::POST, "/clients", Some(json!({"name": "Plain"})))
        .await;
    assert_eq!(plain["allowed_origins"], json!([]));

    for bad in [
        "https://shop.example.com/cart",
        "https://shop.example.com?x=1",
        "https://shop.example.com#top",
        "https://user@shop.example.com",
        "ftp://shop.example.com",
        "shop.example.com",
        "*",
        "https://*",
        "https://*.com",
        "https://a.*.example.com",
        "",
    ] {
        for (method, target) in [(Method::PATCH, path.as_str()), (Method::POST, "/clients")] {
            let body = json!({"name": "Other", "allowed_origins": ["https://ok.example.com", bad]});
            let (status, error) = server.admin(method.clone(), target, Some(body)).await;
            assert_eq!(
                (status, error["statusCode"].as_u64()),
                (StatusCode::BAD_REQUEST, Some(400)),
                "{method} {bad:?}: {error}"
            );
            let message = error["message"].as_str().unwrap();
            assert!(
                message.contains("allowed_origins") && message.contains(bad),
                "{error}"
            );
            assert!(error["errorCode"].is_string(), "{error}");
        }
    }
    let (_, unchanged) = server.admin(Method::GET, &path, None).await;
    assert_eq!(unchanged, patched);
    let (_, clients) = server.admin(Method::GET, "/clients", None).await;
    assert!(
        !clients
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "Other"),
        "{clients}"
    );
}

#[tokio::test]
async fn clients_keep_refresh_token_settings_with_auth0s_defaults_and_limits() {
    let server = TestServer::start().await;
    let rotating = json!({"rotation_type": "rotating", "expiration_type": "expiring", "leeway": 0,
                          "token_lifetime": 2_592_000, "infinite_token_lifetime": false,
                          "idle_token_lifetime": 1_296_000, "infinite_idle_token_lifetime": false});
    let endless = json!({"rotation_type": "non-rotating", "expiration_type": "non-expiring",
                         "leeway": 0, "token_lifetime": 31_557_600, "infinite_token_lifetime": true,
                         "idle_token_lifetime": 2_592_000, "infinite_idle_token_lifetime": true});
    for (app_type, expected) in [
        ("spa", &rotating),
        ("regular_web", &endless),
        ("native", &endless),
        ("non_interactive", &endless),
    ] {
        let body = json!({"name": format!("App {app_type}"), "app_type": app_type});
        let (status, created) = server.admin(Method::POST, "/clients", Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(&created["refresh_token"], expected, "{app_type}");
    }

    let (status, created) = server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "Mobile", "app_type": "native",
                        "refresh_token": {"rotation_type": "rotating", "expiration_type": "expiring",
                                          "leeway": 5, "token_lifetime": 86_400}})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let mut expected = rotating.clone();
    expected["leeway"] = json!(5);
    expected["token_lifetime"] = json!(86_400);
    expected["idle_token_lifetime"] = json!(86_400);
    assert_eq!(
        created["refresh_token"], expected,
        "settings left out take Auth0's defaults for the types given, idleness within the lifetime"
    );
    let path = format!("/clients/{}", created["client_id"].as_str().unwrap());
    let (_, fetched) = server.admin(Method::GET, &path, None).await;
    assert_eq!(fetched["refresh_token"], expected);

    let (status, patched) = server
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"refresh_token": {"rotation_type": "non-rotating",
                                          "expiration_type": "expiring",
                                          "token_lifetime": 157_788_000,
                                          "idle_token_lifetime": 600}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(
        patched["refresh_token"],
        json!({"rotation_type": "non-rotating", "expiration_type": "expiring", "leeway": 0,
               "token_lifetime": 157_788_000, "infinite_token_lifetime": false,
               "idle_token_lifetime": 600, "infinite_idle_token_lifetime": false})
    );
    let updates: Vec<Value> = server
        .audit_entries_naming("Mobile")
        .await
        .into_iter()
        .filter(|e| e["action"] == "update_client")
        .map(|e| e["changes"].clone())
        .collect();
    assert_eq!(
        updates,
        [json!({"attributes": ["refresh_token"]}).to_string()]
    );

    let types = json!({"rotation_type": "rotating", "expiration_type": "expiring"});
    let with = |extra: Value| {
        let mut settings = types.clone();
        settings
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        settings
    };
    for (bad, field) in [
        (
            with(json!({"token_lifetime": 31_557_601})),
            "token_lifetime",
        ),
        (with(json!({"token_lifetime": 0})), "token_lifetime"),
        (
            json!({"rotation_type": "non-rotating", "expiration_type": "expiring",
                   "token_lifetime": 157_788_001}),
            "token_lifetime",
        ),
        (
            with(json!({"idle_token_lifetime": 0})),
            "idle_token_lifetime",
        ),
        (
            with(json!({"token_lifetime": 3600, "idle_token_lifetime": 3601})),
            "idle_token_lifetime",
        ),
        (with(json!({"leeway": -1})), "leeway"),
        (
            json!({"rotation_type": "rotating", "expiration_type": "non-expiring"}),
            "rotation_type",
        ),
        (
            with(json!({"infinite_token_lifetime": true})),
            "rotation_type",
        ),
        (
            json!({"rotation_type": "sometimes", "expiration_type": "expiring"}),
            "",
        ),
        (json!({"rotation_type": "rotating"}), ""),
        (with(json!({"policies": []})), ""),
    ] {
        for (method, target) in [(Method::PATCH, path.as_str()), (Method::POST, "/clients")] {
            let body = json!({"name": "Other", "refresh_token": bad});
            let (status, error) = server.admin(method.clone(), target, Some(body)).await;
            assert_eq!(
                (status, error["statusCode"].as_u64()),
                (StatusCode::BAD_REQUEST, Some(400)),
                "{method} {bad}: {error}"
            );
            let message = error["message"].as_str().unwrap();
            assert!(message.contains(field), "{error}");
        }
    }
    let (_, unchanged) = server.admin(Method::GET, &path, None).await;
    assert_eq!(unchanged, patched);
    let (_, clients) = server.admin(Method::GET, "/clients", None).await;
    assert!(
        clients
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["name"] != "Other"),
        "nothing made"
    );
}
