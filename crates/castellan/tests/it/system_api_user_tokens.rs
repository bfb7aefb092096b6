//! End users' tokens for the two system APIs, through every user-credential grant
//! (authorization code, password, password-realm, refresh): the Management API grants them
//! only Auth0's current-user scopes, which reach their own user only, and any other scope
//! only as a permission they hold; the Authorization Extension API serves client-credentials
//! tokens only. The console's client gets nothing at the token endpoint and signs nobody up,
//! and a connection's `disable_signup` closes sign-up.

use crate::common;

use common::browser::Browser;
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";
const PASSWORD: &str = "correct horse battery";
const CALLBACK: &str = "https://web.example/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const AUTHZ_AUDIENCE: &str = "urn:auth0-authz-api";
/// What an attacker asks for: administrator power, and the current-user scopes.
const ASKED: &str = "openid offline_access read:users delete:users create:clients castellan:admin \
                     read:current_user update:current_user_metadata read:groups create:groups";

struct Tenant {
    server: TestServer,
    client_id: String,
    secret: String,
}

async fn tenant() -> Tenant {
    let server = TestServer::start().await;
    let grants = json!(["authorization_code", "password", REALM, "refresh_token"]);
    let (status, client) = server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "Web", "callbacks": [CALLBACK], "grant_types": grants})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{client}");
    // Refresh tokens for the system APIs, so that the refresh grant is walked too.
    for audience in [MANAGEMENT_AUDIENCE, AUTHZ_AUDIENCE] {
        let (status, apis) = server.admin(Method::GET, "/resource-servers", None).await;
        assert_eq!(status, StatusCode::OK);
        let id = apis
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["identifier"] == audience)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let (status, body) = server
            .admin(
                Method::PATCH,
                &format!("/resource-servers/{id}"),
                Some(json!({"allow_offline_access": true})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    Tenant {
        client_id: client["client_id"].as_str().unwrap().into(),
        secret: client["client_secret"].as_str().unwrap().into(),
        server,
    }
}

#[derive(Debug, Clone, Copy)]
enum Grant {
    Code,
    Password,
    PasswordRealm,
    Refresh,
}

const GRANTS: [Grant; 4] = [
    Grant::Code,
    Grant::Password,
    Grant::PasswordRealm,
    Grant::Refresh,
];

impl Tenant {
    async fn token(&self, body: Value) -> Value {
        let mut body = body;
        body["client_id"] = json!(self.client_id);
        body["client_secret"] = json!(self.secret);
        let (status, answer) = self.server.token_request(body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        answer
    }

    async fn password_tokens(&self, grant: &str, email: &str, audience: &str) -> Value {
        self.token(
            json!({"grant_type": grant, "username": email, "password": PASSWORD,
                          "realm": DATABASE, "audience": audience, "scope": ASKED}),
        )
        .await
    }

    /// The code flow through the log-in page, with the scopes and audience asked for.
    async fn code_tokens(&self, email: &str, audience: &str) -> Value {
        let mut browser = Browser::new(&self.server);
        let query = serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", CALLBACK),
            ("scope", ASKED),
            ("audience", audience),
            ("state", "s"),
        ])
        .unwrap();
        let back = browser
            .submit_credentials(&format!("/authorize?{query}"), email, PASSWORD)
            .await;
        let code = back.query()["code"].clone();
        self.token(json!({"grant_type": "authorization_code", "code": code,
                          "redirect_uri": CALLBACK}))
            .await
    }

    async fn tokens(&self, grant: Grant, email: &str, audience: &str) -> Value {
        match grant {
            Grant::Code => self.code_tokens(email, audience).await,
            Grant::Password => self.password_tokens("password", email, audience).await,
            Grant::PasswordRealm => self.password_tokens(REALM, email, audience).await,
            Grant::Refresh => {
                let first = self.password_tokens(REALM, email, audience).await;
                let refresh_token = first["refresh_token"]
                    .as_str()
                    .unwrap_or_else(|| panic!("a refresh token: {first}"));
                self.token(json!({"grant_type": "refresh_token",
                                  "refresh_token": refresh_token}))
                    .await
            }
        }
    }

    async fn user(&self, email: &str) -> String {
        let (status, body) = self.server.sign_up(&self.client_id, email).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (_, found) = self
            .server
            .admin(Method::GET, &format!("/users-by-email?email={email}"), None)
            .await;
        found[0]["user_id"].as_str().unwrap().to_string()
    }

    /// Gives the user `permission` on `audience` through a role.
    async fn hold(&self, user_id: &str, audience: &str, permission: &str) {
        let (status, role) = self
            .server
            .admin(
                Method::POST,
                "/roles",
                Some(json!({"name": format!("holds {permission} on {audience}")})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{role}");
        let role_id = role["id"].as_str().unwrap();
        let permissions = json!({"permissions": [{"resource_server_identifier": audience,
                                                  "permission_name": permission}]});
        let path = format!("/roles/{role_id}/permissions");
        let (status, body) = self
            .server
            .admin(Method::POST, &path, Some(permissions))
            .await;
        assert!(status.is_success(), "{body}");
        let path = format!("/users/{}/roles", encoded(user_id));
        let (status, body) = self
            .server
            .admin(Method::POST, &path, Some(json!({"roles": [role_id]})))
            .await;
        assert!(status.is_success(), "{body}");
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> StatusCode {
        self.server.call(method, path, token, body).await.0
    }
}

fn scopes(answer: &Value) -> Vec<String> {
    let token = answer["access_token"].as_str().unwrap();
    let scope = claims(token)["scope"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(answer["scope"], scope, "the answer and the token agree");
    scope.split_whitespace().map(str::to_string).collect()
}

#[tokio::test]
async fn every_user_grant_gets_only_current_user_scopes_on_the_management_api() {
    let t = tenant().await;
    let ada = t.user("ada@example.com").await;
    let bob = t.user("bob@example.com").await;
    let own = format!("/api/v2/users/{}", encoded(&ada));
    let other = format!("/api/v2/users/{}", encoded(&bob));
    for grant in GRANTS {
        let answer = t
            .tokens(grant, "ada@example.com", MANAGEMENT_AUDIENCE)
            .await;
        assert_eq!(
            scopes(&answer),
            [
                "openid",
                "offline_access",
                "read:current_user",
                "update:current_user_metadata"
            ],
            "{grant:?}"
        );
        let token = answer["access_token"].as_str().unwrap();
        let refused = [
            (Method::GET, "/api/v2/users".to_string(), None),
            (Method::GET, other.clone(), None),
            (Method::DELETE, own.clone(), None),
            (
                Method::PATCH,
                own.clone(),
                Some(json!({"app_metadata": {"roles": ["admin"]}})),
            ),
            (
                Method::PATCH,
                own.clone(),
                Some(json!({"user_metadata": {"x": 1}, "blocked": false})),
            ),
            (
                Method::PATCH,
                other.clone(),
                Some(json!({"user_metadata": {"x": 1}})),
            ),
            (
                Method::POST,
                "/api/v2/clients".to_string(),
                Some(json!({"name": "mine"})),
            ),
            (Method::GET, "/api/v2/rules".to_string(), None),
        ];
        for (method, path, body) in refused {
            let status = t.call(method.clone(), &path, token, body).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{grant:?} {method} {path}");
        }
        assert_eq!(
            t.call(Method::GET, &own, token, None).await,
            StatusCode::OK,
            "{grant:?}"
        );
        let patch = json!({"user_metadata": {"theme": format!("{grant:?}")}});
        assert_eq!(
            t.call(Method::PATCH, &own, token, Some(patch)).await,
            StatusCode::OK,
            "{grant:?}"
        );
    }
    // Nothing was changed by the refused calls; the own user_metadata was.
    let (_, stored) = t.server.admin(Method::GET, &own[7..], None).await;
    assert_eq!(stored["user_metadata"]["theme"], "Refresh");
    assert_eq!(stored["app_metadata"], json!({}));
    let (_, bob_stored) = t.server.admin(Method::GET, &other[7..], None).await;
    assert_eq!(bob_stored["user_metadata"], json!({}));
    let (_, clients) = t.server.admin(Method::GET, "/clients", None).await;
    assert!(
        !clients
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "mine")
    );
}

#[tokio::test]
async fn other_management_scopes_reach_a_user_only_as_held_permissions() {
    let t = tenant().await;
    let ada = t.user("ada@example.com").await;
    t.hold(&ada, MANAGEMENT_AUDIENCE, "read:users").await;
    for grant in GRANTS {
        let answer = t
            .tokens(grant, "ada@example.com", MANAGEMENT_AUDIENCE)
            .await;
        let granted = scopes(&answer);
        assert!(granted.contains(&"read:users".to_string()), "{grant:?}");
        for never in ["delete:users", "create:clients", "castellan:admin"] {
            assert!(!granted.contains(&never.to_string()), "{grant:?} {never}");
        }
        let token = answer["access_token"].as_str().unwrap();
        assert_eq!(
            t.call(Method::GET, "/api/v2/users", token, None).await,
            StatusCode::OK
        );
        assert_eq!(
            t.call(
                Method::POST,
                "/api/v2/roles",
                token,
                Some(json!({"name": "x"}))
            )
            .await,
            StatusCode::FORBIDDEN
        );
    }
}

#[tokio::test]
async fn the_authorization_extension_api_refuses_every_user_token() {
    let t = tenant().await;
    let ada = t.user("ada@example.com").await;
    for grant in GRANTS {
        let answer = t.tokens(grant, "ada@example.com", AUTHZ_AUDIENCE).await;
        let granted = scopes(&answer);
        assert_eq!(granted, ["openid", "offline_access"], "{grant:?}");
        let token = answer["access_token"].as_str().unwrap();
        let status = t.call(Method::GET, "/authz/api/groups", token, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{grant:?}");
    }
    // Even holding the extension's permission, a user's token is not a client's.
    t.hold(&ada, AUTHZ_AUDIENCE, "read:groups").await;
    for grant in GRANTS {
        let answer = t.tokens(grant, "ada@example.com", AUTHZ_AUDIENCE).await;
        assert!(scopes(&answer).contains(&"read:groups".to_string()));
        let token = answer["access_token"].as_str().unwrap();
        let status = t.call(Method::GET, "/authz/api/groups", token, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{grant:?}");
    }
    // A client-credentials token with the scope is served.
    let (id, secret) = t
        .server
        .m2m_client_for(
            json!({"identifier": "https://unrelated.example", "name": "unrelated"}),
            &[],
        )
        .await;
    let grant = json!({"client_id": id, "audience": AUTHZ_AUDIENCE, "scope": ["read:groups"]});
    let (status, body) = t
        .server
        .admin(Method::POST, "/client-grants", Some(grant))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let token = t
        .server
        .token(&id, &secret, AUTHZ_AUDIENCE, Some("read:groups"))
        .await;
    let status = t.call(Method::GET, "/authz/api/groups", &token, None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn no_user_id_ends_in_at_clients() {
    let t = tenant().await;
    for id in ["evil@clients", "evil@CLIENTS"] {
        let body = json!({"connection": DATABASE, "email": "eve@example.com",
                          "password": PASSWORD, "user_id": id});
        let (status, answer) = t.server.admin(Method::POST, "/users", Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert!(
            answer["message"].as_str().unwrap().contains("@clients"),
            "{answer}"
        );
    }
    let (_, found) = t
        .server
        .admin(Method::GET, "/users-by-email?email=eve@example.com", None)
        .await;
    assert_eq!(found, json!([]));
}

/// The console's client: public, enabled on the database connection, and with a callback
/// anyone can start a flow for.
#[tokio::test]
async fn the_console_client_gets_no_tokens_and_signs_nobody_up() {
    let t = tenant().await;
    t.user("ada@example.com").await;
    let console = "castellan-admin-console";
    let (status, body) = t.server.sign_up(console, "eve@example.com").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "operation_not_allowed");

    let mut browser = Browser::new(&t.server);
    let callback = format!("{ISSUER}admin/callback");
    let query = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("client_id", console),
        ("redirect_uri", callback.as_str()),
        ("scope", ASKED),
        ("audience", MANAGEMENT_AUDIENCE),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("state", "s"),
    ])
    .unwrap();
    let back = browser
        .submit_credentials(&format!("/authorize?{query}"), "ada@example.com", PASSWORD)
        .await;
    let code = back.query()["code"].clone();
    let (status, answer) = t
        .server
        .token_request(
            json!({"grant_type": "authorization_code", "client_id": console,
                              "code": code, "redirect_uri": callback,
                              "code_verifier": VERIFIER}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert_eq!(answer["error"], "unauthorized_client");
    assert!(answer.get("access_token").is_none());

    // The hosted sign-up page refuses it too (a new browser, without a session).
    let mut browser = Browser::new(&t.server);
    let signup = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("client_id", console),
        ("redirect_uri", callback.as_str()),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("screen_hint", "signup"),
    ])
    .unwrap();
    sign_up_is_neither_offered_nor_taken(&mut browser, &format!("/authorize?{signup}")).await;
    let (_, found) = t
        .server
        .admin(Method::GET, "/users-by-email?email=eve@example.com", None)
        .await;
    assert_eq!(found, json!([]));
}

#[tokio::test]
async fn a_connection_with_disable_signup_refuses_sign_up() {
    let t = tenant().await;
    let (_, connections) = t.server.admin(Method::GET, "/connections", None).await;
    let connection = connections
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == DATABASE)
        .unwrap()
        .clone();
    let mut options = connection["options"].clone();
    options["disable_signup"] = json!(true);
    let path = format!("/connections/{}", connection["id"].as_str().unwrap());
    let (status, body) = t
        .server
        .admin(Method::PATCH, &path, Some(json!({"options": options})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["options"]["disable_signup"], true);

    let (status, body) = t.server.sign_up(&t.client_id, "eve@example.com").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "operation_not_allowed");
    assert_eq!(body["description"], "public signup is disabled");

    let mut browser = Browser::new(&t.server);
    let query = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("client_id", t.client_id.as_str()),
        ("redirect_uri", CALLBACK),
        ("screen_hint", "signup"),
    ])
    .unwrap();
    sign_up_is_neither_offered_nor_taken(&mut browser, &format!("/authorize?{query}")).await;
    let (_, found) = t
        .server
        .admin(Method::GET, "/users-by-email?email=eve@example.com", None)
        .await;
    assert_eq!(found, json!([]));

    // Administrators still create users.
    t.server.create_user("eve@example.com", json!({})).await;
}

/// The hosted pages at `path` (which asks for sign-up) show the log-in form without a
/// sign-up link, and posting the sign-up form anyway is refused.
async fn sign_up_is_neither_offered_nor_taken(browser: &mut Browser, path: &str) {
    let form = browser.get(path).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(
        form.body.contains("action=\"/authorize/login\""),
        "{}",
        form.body
    );
    assert!(!form.body.contains("Sign up"), "{}", form.body);
    let page = browser
        .post(
            "/authorize/signup",
            &[
                ("q", form.field("q").as_str()),
                ("csrf", form.field("csrf").as_str()),
                ("email", "eve@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert!(
        page.body.contains("public signup is disabled"),
        "{}",
        page.body
    );
}
