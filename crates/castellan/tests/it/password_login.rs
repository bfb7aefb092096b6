//! Sign-up through `/dbconnections/signup`, log-in through the password grants, ID tokens,
//! `/userinfo`, brute-force blocks, and the tenant log.

use crate::common;

use std::net::{IpAddr, Ipv4Addr};

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";
const DB: &str = "Username-Password-Authentication";
const PASSWORD: &str = "correct horse battery";

struct App {
    server: TestServer,
    client_id: String,
    client_secret: String,
}

async fn app() -> App {
    let server = TestServer::start().await;
    let (status, client) = server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "Web", "grant_types": ["password", REALM, "authorization_code"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    App {
        client_id: client["client_id"].as_str().unwrap().into(),
        client_secret: client["client_secret"].as_str().unwrap().into(),
        server,
    }
}

impl App {
    async fn signup(&self, email: &str, password: &str) -> (StatusCode, Value) {
        let body = json!({"client_id": self.client_id, "email": email, "password": password, "connection": DB});
        let response = self
            .server
            .http
            .post(self.server.url("/dbconnections/signup"))
            .json(&body)
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }

    async fn login_from(
        &self,
        http: &reqwest::Client,
        username: &str,
        password: &str,
        extra: Value,
    ) -> (StatusCode, Value) {
        let mut body = json!({
            "grant_type": REALM, "client_id": self.client_id, "client_secret": self.client_secret,
            "username": username, "password": password, "realm": DB,
        });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let response = http
            .post(self.server.url("/oauth/token"))
            .json(&body)
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }

    async fn login(&self, username: &str, password: &str, extra: Value) -> (StatusCode, Value) {
        self.login_from(&self.server.http, username, password, extra)
            .await
    }

    async fn log_types(&self) -> Vec<String> {
        let logs = self
            .server
            .running()
            .state
            .store
            .list_logs(None, 1000)
            .await
            .unwrap();
        logs.into_iter().rev().map(|e| e.event_type).collect()
    }
}

#[tokio::test]
async fn signup_then_password_realm_login_with_id_token_and_userinfo() {
    let app = app().await;
    let (status, user) = app.signup("Ada@Example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["email_verified"], false);
    let local_id = user["_id"].as_str().unwrap();
    assert_eq!(local_id.len(), 24);

    let (status, tokens) = app
        .login(
            "ADA@example.com",
            PASSWORD,
            json!({"scope": "openid profile email"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["scope"], "openid profile email");
    let id_token = tokens["id_token"].as_str().unwrap();
    let id_claims = verify_with_jwks(&app.server, id_token, &app.client_id).await;
    assert_eq!(id_claims["sub"], format!("auth0|{local_id}"));
    assert_eq!(id_claims["email"], "ada@example.com");
    assert_eq!(id_claims["nickname"], "ada");
    assert!(id_claims["updated_at"].as_str().unwrap().ends_with('Z'));

    let access = tokens["access_token"].as_str().unwrap();
    let access_claims =
        verify_with_jwks(&app.server, access, "http://castellan.test/userinfo").await;
    assert_eq!(access_claims["gty"], "password");
    let userinfo: Value = app
        .server
        .http
        .get(app.server.url("/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (userinfo["sub"].clone(), userinfo["email"].clone()),
        (id_claims["sub"].clone(), json!("ada@example.com"))
    );
    let narrow = app
        .login("ada@example.com", PASSWORD, json!({"scope": "openid"}))
        .await
        .1;
    let narrow_info: Value = app
        .server
        .http
        .get(app.server.url("/userinfo"))
        .bearer_auth(narrow["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        narrow_info.get("email").is_none(),
        "claims follow the token's scopes: {narrow_info}"
    );
    let (user_after, _) = (
        app.server
            .running()
            .state
            .store
            .find_user(&format!("auth0|{local_id}"))
            .await
            .unwrap()
            .unwrap(),
        (),
    );
    assert_eq!(user_after.logins_count, 2);
    assert_eq!(user_after.last_ip.as_deref(), Some("127.0.0.1"));

    let no_token = app
        .server
        .http
        .get(app.server.url("/userinfo"))
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), StatusCode::UNAUTHORIZED);
    let m2m = app.server.admin_token(None).await;
    let wrong_audience = app
        .server
        .http
        .get(app.server.url("/userinfo"))
        .bearer_auth(m2m)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_audience.status(), StatusCode::UNAUTHORIZED);
}

/// RFC 6750 §2.2–2.3: passport-auth0 sends `GET /userinfo?access_token=…`; a form body
/// works too; the header and a parameter together are refused.
#[tokio::test]
async fn userinfo_takes_the_token_as_a_query_or_form_parameter_but_not_twice() {
    let app = app().await;
    app.signup("ada@example.com", PASSWORD).await;
    let (_, tokens) = app
        .login(
            "ada@example.com",
            PASSWORD,
            json!({"scope": "openid email"}),
        )
        .await;
    let access = tokens["access_token"].as_str().unwrap();
    let url = app.server.url("/userinfo");
    let http = &app.server.http;
    let by_query = http
        .get(format!("{url}?access_token={access}"))
        .send()
        .await
        .unwrap();
    assert_eq!(by_query.status(), StatusCode::OK);
    assert_eq!(
        by_query.json::<Value>().await.unwrap()["email"],
        "ada@example.com"
    );
    let by_form = http
        .post(&url)
        .form(&[("access_token", access)])
        .send()
        .await
        .unwrap();
    assert_eq!(by_form.status(), StatusCode::OK);
    assert_eq!(
        by_form.json::<Value>().await.unwrap()["email"],
        "ada@example.com"
    );
    let twice = http
        .get(format!("{url}?access_token={access}"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(twice.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        twice.json::<Value>().await.unwrap()["error"],
        "invalid_request"
    );
    let forged = http
        .get(format!("{url}?access_token=not-a-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn api_audience_and_scopes_for_users() {
    let app = app().await;
    app.signup("ada@example.com", PASSWORD).await;
    let api =
        json!({"identifier": "https://api.example.com", "scopes": [{"value": "read:reports"}]});
    assert_eq!(
        app.server
            .admin(Method::POST, "/resource-servers", Some(api))
            .await
            .0,
        StatusCode::CREATED
    );
    let (status, tokens) = app
        .login(
            "ada@example.com",
            PASSWORD,
            json!({"audience": "https://api.example.com", "scope": "openid read:reports fly:away"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        tokens["scope"], "openid read:reports",
        "undefined scopes are dropped"
    );
    let claims = verify_with_jwks(
        &app.server,
        tokens["access_token"].as_str().unwrap(),
        "https://api.example.com",
    )
    .await;
    assert_eq!(
        claims["aud"],
        json!(["https://api.example.com", "http://castellan.test/userinfo"])
    );
    let (status, body) = app
        .login(
            "ada@example.com",
            PASSWORD,
            json!({"audience": "https://nope.example"}),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("access_denied"))
    );

    // The plain password grant uses the default database connection.
    let plain = json!({"grant_type": "password", "client_id": app.client_id, "client_secret": app.client_secret,
                       "username": "ada@example.com", "password": PASSWORD});
    assert_eq!(app.server.token_request(plain).await.0, StatusCode::OK);
}

#[tokio::test]
async fn signup_errors_carry_both_shapes_and_write_nothing() {
    let app = app().await;
    assert_eq!(
        app.signup("ada@example.com", PASSWORD).await.0,
        StatusCode::OK
    );
    let cases = [
        ("ADA@EXAMPLE.COM", PASSWORD, "user_exists"),
        ("bob@example.com", "short", "invalid_password"),
        ("bob@example.com", "bob@example.com", "invalid_password"),
        ("not-an-email", PASSWORD, "invalid_signup"),
    ];
    for (email, password, code) in cases {
        let (status, body) = app.signup(email, password).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{email}");
        assert_eq!(body["code"], code, "{body}");
        assert_eq!(body["error"], code);
        assert_eq!(body["statusCode"], 400);
        assert!(
            body["description"].is_string() && body["error_description"] == body["description"]
        );
    }
    let long = "p".repeat(1025);
    assert_eq!(
        app.signup("bob@example.com", &long).await.1["code"],
        "invalid_password"
    );
    let http = &app.server.http;
    let url = app.server.url("/dbconnections/signup");
    let unknown_client = json!({"client_id": "nope", "email": "c@example.com", "password": PASSWORD, "connection": DB});
    assert_eq!(
        http.post(&url)
            .json(&unknown_client)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::BAD_REQUEST
    );
    let unknown_connection = json!({"client_id": app.client_id, "email": "c@example.com", "password": PASSWORD, "connection": "nope"});
    assert_eq!(
        http.post(&url)
            .json(&unknown_connection)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::BAD_REQUEST
    );
    let not_json = http
        .post(&url)
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    let metadata = json!({"client_id": app.client_id, "email": "d@example.com", "password": PASSWORD, "connection": DB,
                          "user_metadata": {"nested": {"no": 1}}});
    assert_eq!(
        http.post(&url)
            .json(&metadata)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::BAD_REQUEST
    );
    for email in ["bob@example.com", "c@example.com", "d@example.com"] {
        assert_eq!(
            app.login(email, PASSWORD, json!({})).await.0,
            StatusCode::FORBIDDEN,
            "{email} was not created"
        );
    }
    let types = app.log_types().await;
    assert!(
        types.contains(&"ss".to_string()) && types.contains(&"fs".to_string()),
        "{types:?}"
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_user_look_alike() {
    let app = app().await;
    app.signup("ada@example.com", PASSWORD).await;
    let wrong = app
        .login("ada@example.com", "not the password", json!({}))
        .await;
    let unknown = app
        .login("nobody@example.com", "not the password", json!({}))
        .await;
    assert_eq!(wrong.0, StatusCode::FORBIDDEN);
    assert_eq!(wrong.1["error"], "invalid_grant");
    assert_eq!(wrong.1["error_description"], "Wrong email or password.");
    let strip = |mut v: Value| {
        v.as_object_mut().unwrap().remove("request_id");
        v
    };
    assert_eq!((wrong.0, strip(wrong.1)), (unknown.0, strip(unknown.1)));
    let types = app.log_types().await;
    assert!(
        types.contains(&"fp".to_string()) && types.contains(&"fu".to_string()),
        "{types:?}"
    );
}

#[tokio::test]
async fn ten_failures_block_the_user_from_that_address_for_a_while() {
    let app = app().await;
    app.signup("ada@example.com", PASSWORD).await;
    for _ in 0..10 {
        assert_eq!(
            app.login("ada@example.com", "guess", json!({})).await.0,
            StatusCode::FORBIDDEN
        );
    }
    let (status, body) = app.login("ada@example.com", PASSWORD, json!({})).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts"))
    );
    let elsewhere = reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)))
        .build()
        .unwrap();
    let (status, _) = app
        .login_from(&elsewhere, "ada@example.com", PASSWORD, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "another address is not blocked");
    app.server.clock.advance(14 * 60);
    assert_eq!(
        app.login("ada@example.com", PASSWORD, json!({})).await.0,
        StatusCode::TOO_MANY_REQUESTS,
        "a block holds for 15 minutes"
    );
    app.server.clock.advance(61);
    assert_eq!(
        app.login("ada@example.com", PASSWORD, json!({})).await.0,
        StatusCode::OK,
        "and then runs out"
    );
    for _ in 0..10 {
        app.login("ada@example.com", "guess", json!({})).await;
    }
    assert_eq!(
        app.login("ada@example.com", PASSWORD, json!({})).await.0,
        StatusCode::TOO_MANY_REQUESTS,
        "ten more failures block again"
    );
    let store = app.server.running().state.store.clone();
    let user = store
        .find_user_by_email(DB, "ada@example.com")
        .await
        .unwrap()
        .unwrap();
    store.unblock_user_logins(&user.user_id).await.unwrap();
    assert_eq!(
        app.login("ada@example.com", PASSWORD, json!({})).await.0,
        StatusCode::OK
    );
    assert!(app.log_types().await.contains(&"limit_wc".to_string()));
}

#[tokio::test]
async fn imported_bcrypt_hash_is_upgraded_on_the_next_good_login() {
    let app = app().await;
    app.signup("ada@example.com", PASSWORD).await;
    let store = app.server.running().state.store.clone();
    let user = store
        .find_user_by_email(DB, "ada@example.com")
        .await
        .unwrap()
        .unwrap();
    let imported = bcrypt::hash("from auth0", 4).unwrap();
    store
        .set_password_hash(&user.user_id, &imported, 1)
        .await
        .unwrap();
    assert_eq!(
        app.login("ada@example.com", "from auth0", json!({}))
            .await
            .0,
        StatusCode::OK
    );
    let upgraded = store
        .find_password_hash(&user.user_id)
        .await
        .unwrap()
        .unwrap();
    assert!(upgraded.starts_with("$argon2id$"), "{upgraded}");
    assert_eq!(
        app.login("ada@example.com", "from auth0", json!({}))
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn grants_and_connections_the_client_does_not_have_are_refused() {
    let app = app().await;
    app.signup("ada@example.com", PASSWORD).await;
    let (_, m2m) = app
        .server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "m2m", "app_type": "non_interactive"})),
        )
        .await;
    let body = json!({"grant_type": REALM, "client_id": m2m["client_id"], "client_secret": m2m["client_secret"],
                      "username": "ada@example.com", "password": PASSWORD, "realm": DB});
    let (status, error) = app.server.token_request(body).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("unauthorized_client"))
    );
    let (status, error) = app
        .login("ada@example.com", PASSWORD, json!({"realm": "nope"}))
        .await;
    assert_eq!(
        (status, error["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
    let (status, error) = app
        .login("ada@example.com", PASSWORD, json!({"password": null}))
        .await;
    assert_eq!(
        (status, error["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
}

async fn offline_app(allow_offline: bool) -> App {
    let app = app().await;
    let id = app.client_id.clone();
    let (status, _) = app
        .server
        .admin(
            Method::PATCH,
            &format!("/clients/{id}"),
            // Rotation, which these tests were written for: a regular web app, as in
            // Auth0, has non-rotating tokens unless it asks.
            Some(json!({"grant_types": [REALM, "refresh_token"],
                        "refresh_token": {"rotation_type": "rotating", "expiration_type": "expiring"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let api = json!({"identifier": "https://api.example.com", "allow_offline_access": allow_offline,
                     "scopes": [{"value": "read:reports"}]});
    assert_eq!(
        app.server
            .admin(Method::POST, "/resource-servers", Some(api))
            .await
            .0,
        StatusCode::CREATED
    );
    app.signup("ada@example.com", PASSWORD).await;
    app
}

impl App {
    async fn offline_login(&self) -> Value {
        let extra = json!({"audience": "https://api.example.com", "scope": "openid offline_access read:reports"});
        let (status, tokens) = self.login("ada@example.com", PASSWORD, extra).await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        tokens
    }

    async fn refresh(&self, token: &str, scope: Option<&str>) -> (StatusCode, Value) {
        let mut body = json!({"grant_type": "refresh_token", "client_id": self.client_id,
                              "client_secret": self.client_secret, "refresh_token": token});
        if let Some(scope) = scope {
            body["scope"] = json!(scope);
        }
        self.server.token_request(body).await
    }
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    let app = offline_app(true).await;
    let first = app.offline_login().await;
    let r1 = first["refresh_token"]
        .as_str()
        .expect("offline_access gives a refresh token");
    let (status, second) = app.refresh(r1, None).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let r2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(r1, r2, "rotated");
    assert_eq!(second["scope"], "openid offline_access read:reports");
    assert!(second["id_token"].is_string());
    let claims = verify_with_jwks(
        &app.server,
        second["access_token"].as_str().unwrap(),
        "https://api.example.com",
    )
    .await;
    assert!(claims["sub"].as_str().unwrap().starts_with("auth0|"));

    let (status, error) = app.refresh(r1, None).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("invalid_grant")),
        "reuse"
    );
    let (status, _) = app.refresh(r2, None).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the whole family is revoked after a reuse"
    );
    let types = app.log_types().await;
    assert!(types.contains(&"ferrt".to_string()) && types.contains(&"fertft".to_string()));
    assert!(types.contains(&"sertft".to_string()) && types.contains(&"sepft".to_string()));
}

#[tokio::test]
async fn refresh_scope_narrowing_expiry_and_client_binding() {
    let app = offline_app(true).await;
    let r = app.offline_login().await["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, narrowed) = app.refresh(&r, Some("openid offline_access")).await;
    assert_eq!(
        (status, narrowed["scope"].as_str()),
        (StatusCode::OK, Some("openid offline_access"))
    );
    let r = narrowed["refresh_token"].as_str().unwrap().to_string();
    let (status, again) = app
        .refresh(&r, Some("openid offline_access read:reports write:all"))
        .await;
    assert_eq!(
        (status, again["scope"].as_str()),
        (StatusCode::OK, Some("openid offline_access")),
        "what was not granted is left out, never added: {again}"
    );

    let r = app.offline_login().await["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, other) = app
        .server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "other", "grant_types": ["refresh_token"]})),
        )
        .await;
    let stolen = json!({"grant_type": "refresh_token", "client_id": other["client_id"],
                        "client_secret": other["client_secret"], "refresh_token": r});
    assert_eq!(
        app.server.token_request(stolen).await.0,
        StatusCode::FORBIDDEN,
        "bound to its client"
    );
    assert_eq!(
        app.refresh(&r, None).await.0,
        StatusCode::OK,
        "a refused attempt by another client uses nothing"
    );

    let r = app.offline_login().await["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    app.server.clock.advance(30 * 86_400 + 1);
    assert_eq!(
        app.refresh(&r, None).await.0,
        StatusCode::FORBIDDEN,
        "expired"
    );
    assert_eq!(
        app.refresh("made-up", None).await.1["error"],
        "invalid_grant"
    );
}

/// Authlib and auth0-spa-js send the scope of their log-in again with each refresh: a scope
/// RBAC dropped is left out again, and a refused refresh never uses up the token.
#[tokio::test]
async fn a_refresh_asking_for_a_dropped_scope_succeeds_and_a_refused_one_uses_nothing() {
    let app = offline_app(true).await;
    let (_, apis) = app
        .server
        .admin(Method::GET, "/resource-servers", None)
        .await;
    let api = apis
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["identifier"] == "https://api.example.com")
        .unwrap();
    let path = format!("/resource-servers/{}", api["id"].as_str().unwrap());
    let rbac = json!({"enforce_policies": true});
    assert_eq!(
        app.server.admin(Method::PATCH, &path, Some(rbac)).await.0,
        StatusCode::OK
    );
    let login = app.offline_login().await;
    assert_eq!(login["scope"], "openid offline_access", "RBAC dropped one");
    let asked = "openid offline_access read:reports";
    let (status, refreshed) = app
        .refresh(login["refresh_token"].as_str().unwrap(), Some(asked))
        .await;
    assert_eq!(
        (status, refreshed["scope"].as_str()),
        (StatusCode::OK, Some("openid offline_access")),
        "{refreshed}"
    );

    let token = refreshed["refresh_token"].as_str().unwrap();
    let (_, found) = app
        .server
        .admin(Method::GET, "/users-by-email?email=ada@example.com", None)
        .await;
    let user = format!("/users/{}", found[0]["user_id"].as_str().unwrap());
    let block = |blocked: bool| json!({ "blocked": blocked });
    app.server
        .admin(Method::PATCH, &user, Some(block(true)))
        .await;
    let (status, refused) = app.refresh(token, Some(asked)).await;
    assert!(status.is_client_error(), "{refused}");
    app.server
        .admin(Method::PATCH, &user, Some(block(false)))
        .await;
    let (status, after) = app.refresh(token, Some(asked)).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the refused refresh used nothing: {after}"
    );
}

#[tokio::test]
async fn no_refresh_token_without_offline_access_grant_or_api_permission() {
    let app = offline_app(false).await;
    assert!(
        app.offline_login().await.get("refresh_token").is_none(),
        "the API does not allow offline access"
    );
    let (_, tokens) = app
        .login(
            "ada@example.com",
            PASSWORD,
            json!({"scope": "openid offline_access"}),
        )
        .await;
    assert!(
        tokens["refresh_token"].is_string(),
        "without an API, offline_access is enough"
    );
    let (_, tokens) = app
        .login("ada@example.com", PASSWORD, json!({"scope": "openid"}))
        .await;
    assert!(tokens.get("refresh_token").is_none());
}

#[tokio::test]
async fn revocation_ends_the_family() {
    let app = offline_app(true).await;
    let r = app.offline_login().await["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    let revoke = |token: String| {
        app.server
            .http
            .post(app.server.url("/oauth/revoke"))
            .form(&[
                ("client_id", app.client_id.as_str()),
                ("client_secret", app.client_secret.as_str()),
                ("token", token.as_str()),
            ])
            .send()
    };
    let response = revoke(r.clone()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(app.refresh(&r, None).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        revoke("unknown".into()).await.unwrap().status(),
        StatusCode::OK
    );
    let wrong_secret = app
        .server
        .http
        .post(app.server.url("/oauth/revoke"))
        .json(&json!({"client_id": app.client_id, "client_secret": "nope", "token": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_secret.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn unicode_and_case_variants_of_an_email_are_one_account() {
    let app = app().await;
    let decomposed = "A\u{308}DA@Example.com";
    assert_eq!(app.signup(decomposed, PASSWORD).await.0, StatusCode::OK);
    let (status, body) = app.signup("äda@example.com", PASSWORD).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("user_exists"))
    );
    assert_eq!(
        app.login("ÄDA@EXAMPLE.COM", PASSWORD, json!({})).await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.login("a\u{308}da@example.com", PASSWORD, json!({}))
            .await
            .0,
        StatusCode::OK
    );
}

/// An address that looks like another is that address, or refused; the most common
/// passwords are refused.
#[tokio::test]
async fn look_alike_addresses_and_common_passwords_are_refused_at_sign_up() {
    let app = app().await;
    let (status, body) = app.signup("admin@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app.signup("\u{FF41}dmin@example.com", PASSWORD).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("user_exists")),
        "fullwidth is the same address: {body}"
    );
    for look_alike in [
        "admin\u{200B}@example.com",
        "\u{0430}dmin@example.com",
        "ad\u{00AD}min@example.com",
    ] {
        let (status, body) = app.signup(look_alike, PASSWORD).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_signup")),
            "{look_alike:?}: {body}"
        );
    }
    for common in ["12345678", "Password1", "qwertyuiop"] {
        let (status, body) = app.signup("bob@example.com", common).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_password")),
            "{common}: {body}"
        );
    }
    let (_, users) = app.server.admin(Method::GET, "/users", None).await;
    assert_eq!(users.as_array().unwrap().len(), 1, "{users}");
    // The fullwidth address logs in as the account it looks like.
    let (status, body) = app
        .login("\u{FF41}dmin@example.com", PASSWORD, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

impl App {
    async fn set_refresh_token(&self, settings: Value) {
        let path = format!("/clients/{}", self.client_id);
        let patch = json!({ "refresh_token": settings });
        let (status, body) = self.server.admin(Method::PATCH, &path, Some(patch)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    async fn offline_refresh_token(&self) -> String {
        self.offline_login().await["refresh_token"]
            .as_str()
            .expect("offline_access gives a refresh token")
            .to_string()
    }

    /// The refresh token that exchanging `token` answers, which must succeed.
    async fn refreshed(&self, token: &str, why: &str) -> String {
        let (status, body) = self.refresh(token, None).await;
        assert_eq!(status, StatusCode::OK, "{why}: {body}");
        body["refresh_token"].as_str().unwrap().to_string()
    }

    async fn refused(&self, token: &str, why: &str) {
        let (status, body) = self.refresh(token, None).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::FORBIDDEN, Some("invalid_grant")),
            "{why}"
        );
    }
}

#[tokio::test]
async fn a_refresh_family_ends_at_the_clients_token_lifetime_however_often_exchanged() {
    let app = offline_app(true).await;
    app.set_refresh_token(
        json!({"rotation_type": "rotating", "expiration_type": "expiring",
                                 "token_lifetime": 1000, "infinite_idle_token_lifetime": true}),
    )
    .await;
    let mut token = app.offline_refresh_token().await;
    for _ in 0..3 {
        app.server.clock.advance(300);
        token = app.refreshed(&token, "within the lifetime").await;
    }
    app.server.clock.advance(99);
    let last = app.refreshed(&token, "a second before the end").await;
    app.server.clock.advance(2);
    app.refused(&last, "the family's lifetime counts from its first token")
        .await;
}

#[tokio::test]
async fn an_unused_refresh_token_idles_out_and_one_used_regularly_lives_to_the_absolute_end() {
    let app = offline_app(true).await;
    for rotation in ["rotating", "non-rotating"] {
        app.set_refresh_token(
            json!({"rotation_type": rotation, "expiration_type": "expiring",
                                     "token_lifetime": 1000, "idle_token_lifetime": 100}),
        )
        .await;
        let unused = app.offline_refresh_token().await;
        let mut token = app.offline_refresh_token().await;
        app.server.clock.advance(90);
        token = app.refreshed(&token, rotation).await;
        app.server.clock.advance(11);
        app.refused(
            &unused,
            &format!("{rotation}: unused for longer than its idle lifetime"),
        )
        .await;
        // Exchanges 99 seconds apart from the one at 90 (the first at 189), the last at 981.
        app.server.clock.advance(88);
        for step in 0..9 {
            if step > 0 {
                app.server.clock.advance(99);
            }
            token = app
                .refreshed(
                    &token,
                    &format!("{rotation}: each exchange starts a new idle period"),
                )
                .await;
        }
        app.server.clock.advance(20);
        app.refused(
            &token,
            &format!("{rotation}: used regularly, still ends at the absolute end"),
        )
        .await;
    }
}

#[tokio::test]
async fn a_non_rotating_refresh_token_is_answered_again_and_its_reuse_is_no_error() {
    let app = offline_app(true).await;
    app.set_refresh_token(
        json!({"rotation_type": "non-rotating", "expiration_type": "non-expiring"}),
    )
    .await;
    let token = app.offline_refresh_token().await;
    for _ in 0..3 {
        assert_eq!(
            app.refreshed(&token, "reused").await,
            token,
            "the same token"
        );
    }
    app.server.clock.advance(5 * 365 * 86_400);
    assert_eq!(app.refreshed(&token, "non-expiring").await, token);
    let types = app.log_types().await;
    assert!(
        !types.iter().any(|t| t == "ferrt" || t == "fertft"),
        "{types:?}"
    );
}

#[tokio::test]
async fn a_rotated_refresh_token_may_be_exchanged_again_within_the_leeway_only() {
    let app = offline_app(true).await;
    app.set_refresh_token(
        json!({"rotation_type": "rotating", "expiration_type": "expiring",
                                 "leeway": 30}),
    )
    .await;
    let first = app.offline_refresh_token().await;
    let second = app.refreshed(&first, "first exchange").await;
    app.server.clock.advance(29);
    let third = app.refreshed(&first, "again within the leeway").await;
    assert_ne!(second, third, "another new token of the family");
    let second = app.refreshed(&second, "the family lives on").await;
    app.server.clock.advance(1);
    app.refused(&first, "the leeway is over: reuse").await;
    app.refused(&second, "the reuse revoked the family").await;
    app.refused(&third, "the reuse revoked the family").await;
    assert!(app.log_types().await.contains(&"ferrt".to_string()));
}
