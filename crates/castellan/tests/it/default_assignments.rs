//! Default assignments on connections: set through `/api/v2/connections`, applied exactly
//! once per user in the transaction of the event that triggers them (sign-up, first log-in,
//! verified email), so the very first token carries them; never re-added after an
//! administrator removes them; audited with the actor `default`. The first test is the
//! whole story of issue 4, ending with the Authorization Extension API giving the role back.

use crate::common;

use common::*;
use reqwest::{Method, StatusCode, redirect};
use serde_json::{Value, json};

const API: &str = "https://api.example.com";
const REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";
const DB: &str = "Username-Password-Authentication";
const PASSWORD: &str = "correct horse battery";
const AUTHZ: &str = "urn:auth0-authz-api";

struct Tenant {
    server: TestServer,
    client_id: String,
    client_secret: String,
    connection_id: String,
    role_id: String,
}

/// An RBAC API whose `member` role holds `read:reports`, and a web client.
async fn tenant() -> Tenant {
    let server = TestServer::start().await;
    let api = json!({"identifier": API, "enforce_policies": true, "token_dialect": "access_token_authz",
                     "scopes": [{"value": "read:reports"}, {"value": "write:reports"}]});
    assert_eq!(
        server
            .admin(Method::POST, "/resource-servers", Some(api))
            .await
            .0,
        StatusCode::CREATED
    );
    let (_, role) = server
        .admin(Method::POST, "/roles", Some(json!({"name": "member"})))
        .await;
    let role_id = role["id"].as_str().unwrap().to_string();
    let grant = json!({"permissions": [{"resource_server_identifier": API, "permission_name": "read:reports"}]});
    let (status, _) = server
        .admin(
            Method::POST,
            &format!("/roles/{role_id}/permissions"),
            Some(grant),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, client) = server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "web", "grant_types": [REALM]})),
        )
        .await;
    let (_, connections) = server.admin(Method::GET, "/connections", None).await;
    let connection_id = connections
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == DB)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    Tenant {
        client_id: client["client_id"].as_str().unwrap().into(),
        client_secret: client["client_secret"].as_str().unwrap().into(),
        server,
        connection_id,
        role_id,
    }
}

impl Tenant {
    async fn set_defaults(&self, defaults: Value) -> (StatusCode, Value) {
        self.server
            .admin(
                Method::PATCH,
                &format!("/connections/{}", self.connection_id),
                Some(json!({"default_assignments": defaults})),
            )
            .await
    }

    async fn sign_up(&self, email: &str) -> String {
        let body = json!({"client_id": self.client_id, "email": email, "password": PASSWORD, "connection": DB});
        let response = self
            .server
            .http
            .post(self.server.url("/dbconnections/signup"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let user: Value = response.json().await.unwrap();
        format!("auth0|{}", user["_id"].as_str().unwrap())
    }

    /// The access token's `scope` and `permissions` after a password log-in.
    async fn log_in(&self, email: &str) -> (String, Value) {
        let (status, body) = self.server.token_request(json!({"grant_type": REALM, "client_id": self.client_id,
            "client_secret": self.client_secret, "username": email, "password": PASSWORD, "realm": DB,
            "audience": API, "scope": "read:reports write:reports"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let token = body["access_token"].as_str().unwrap();
        (
            body["scope"].as_str().unwrap().to_string(),
            claims(token)["permissions"].clone(),
        )
    }

    async fn roles_of(&self, user_id: &str) -> Vec<String> {
        let (_, roles) = self
            .server
            .admin(Method::GET, &format!("/users/{user_id}/roles"), None)
            .await;
        roles
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_string())
            .collect()
    }

    /// The token of a new machine-to-machine client granted `scopes` on the Authorization
    /// Extension API.
    async fn authz_client(&self, scopes: &[&str]) -> String {
        let (_, client) = self
            .server
            .admin(
                Method::POST,
                "/clients",
                Some(json!({"name": "script", "app_type": "non_interactive"})),
            )
            .await;
        let id = client["client_id"].as_str().unwrap();
        let grant = json!({"client_id": id, "audience": AUTHZ, "scope": scopes});
        let (status, body) = self
            .server
            .admin(Method::POST, "/client-grants", Some(grant))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let secret = client["client_secret"].as_str().unwrap();
        self.server.token(id, secret, AUTHZ, None).await
    }

    /// The audit entries that record defaults applied to this user.
    async fn defaults_applied(&self, user_id: &str) -> Vec<Value> {
        let store = &self.server.running().state.store;
        store
            .list_logs(Some(user_id), 1000)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| {
                e.event_type == "sapi" && e.details["action"] == "apply_default_assignments"
            })
            .map(|e| e.details)
            .collect()
    }
}

#[tokio::test]
async fn the_first_token_after_sign_up_carries_the_default_role_and_a_removed_role_stays_removed() {
    let t = tenant().await;
    let (status, connection) = t
        .set_defaults(json!({"roles": ["member"], "on": "signup"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{connection}");
    assert_eq!(
        connection["default_assignments"],
        json!({"roles": ["member"], "groups": [], "on": "signup"})
    );

    let user_id = t.sign_up("ada@example.com").await;
    let (scope, permissions) = t.log_in("ada@example.com").await;
    assert_eq!(scope, "read:reports", "the very first token");
    assert_eq!(permissions, json!(["read:reports"]));

    let logins = (0..32).map(|_| t.log_in("ada@example.com"));
    for (scope, _) in futures_util::future::join_all(logins).await {
        assert_eq!(scope, "read:reports");
    }
    assert_eq!(t.roles_of(&user_id).await, ["member"]);
    let applied = t.defaults_applied(&user_id).await;
    assert_eq!(applied.len(), 1, "{applied:?}");
    assert_eq!(applied[0]["actor"], json!({"type": "default"}));
    assert_eq!(applied[0]["changes"]["roles"], json!([t.role_id]));

    let (status, _) = t
        .server
        .admin(
            Method::DELETE,
            &format!("/users/{}/roles", user_id.replace('|', "%7C")),
            Some(json!({"roles": [t.role_id]})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for _ in 0..3 {
        assert_eq!(t.log_in("ada@example.com").await.0, "", "not re-added");
    }
    assert!(t.roles_of(&user_id).await.is_empty());

    // Back through the Authorization Extension API: a client that may only read is told
    // which scope it lacks; one granted `update:roles` succeeds.
    let path = format!("/authz/api/users/{user_id}/roles");
    let reader = t
        .authz_client(&["read:users", "read:roles", "read:groups"])
        .await;
    let (status, refused) = t
        .server
        .call(Method::PATCH, &path, &reader, Some(json!(["member"])))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("update:roles"),
        "{refused}"
    );
    let writer = t.authz_client(&["update:roles"]).await;
    let (status, body) = t
        .server
        .call(Method::PATCH, &path, &writer, Some(json!(["member"])))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(t.log_in("ada@example.com").await.0, "read:reports");
    assert_eq!(t.roles_of(&user_id).await, ["member"]);
}

#[tokio::test]
async fn thirty_two_parallel_first_log_ins_apply_first_login_defaults_once() {
    let t = tenant().await;
    let by_id = json!({"roles": [t.role_id], "on": "first_login"});
    assert_eq!(t.set_defaults(by_id).await.0, StatusCode::OK);
    let user_id = t.sign_up("grace@example.com").await;
    assert!(t.roles_of(&user_id).await.is_empty(), "not at sign-up");

    let logins = (0..32).map(|_| t.log_in("grace@example.com"));
    for (scope, permissions) in futures_util::future::join_all(logins).await {
        assert_eq!(
            (scope.as_str(), permissions),
            ("read:reports", json!(["read:reports"])),
            "every token, the first included"
        );
    }
    assert_eq!(t.roles_of(&user_id).await, ["member"]);
    assert_eq!(t.defaults_applied(&user_id).await.len(), 1);

    let user = t
        .server
        .running()
        .state
        .store
        .find_user(&user_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.logins_count, 32);
}

#[tokio::test]
async fn email_verified_defaults_wait_for_the_verification_link() {
    let t = tenant().await;
    let defaults = json!({"roles": ["MEMBER"], "on": "email_verified"});
    assert_eq!(t.set_defaults(defaults).await.0, StatusCode::OK);
    let user_id = t.sign_up("alan@example.com").await;
    assert_eq!(t.log_in("alan@example.com").await.0, "", "not verified yet");

    let mail = t.server.running().state.store.list_mail().await.unwrap();
    let body = &mail.last().expect("a verification mail").body;
    let start = body.find("http://castellan.test/verify-email").unwrap();
    let path = body[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .trim_start_matches("http://castellan.test");
    let browser = reqwest::Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap();
    let response = browser.get(t.server.url(path)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    assert_eq!(t.log_in("alan@example.com").await.0, "read:reports");
    assert_eq!(t.roles_of(&user_id).await, ["member"]);
    assert_eq!(t.defaults_applied(&user_id).await.len(), 1);
}

#[tokio::test]
async fn default_assignments_are_checked_when_set_and_can_be_removed() {
    let t = tenant().await;
    for (bad, mentions) in [
        (json!({"roles": ["no-such-role"]}), "no-such-role"),
        (json!({"groups": ["no-such-group"]}), "no-such-group"),
        (
            json!({"roles": ["member"], "on": "sometimes"}),
            "first_login",
        ),
        (json!({"roles": ["member", "member"]}), "member"),
        (json!({"roles": ["member"], "when": "signup"}), "when"),
        (json!({"roles": "member"}), "expected a sequence"),
    ] {
        let (status, body) = t.set_defaults(bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains(mentions),
            "{bad}: {body}"
        );
    }
    let (_, unchanged) = t
        .server
        .admin(
            Method::GET,
            &format!("/connections/{}", t.connection_id),
            None,
        )
        .await;
    assert!(
        unchanged.get("default_assignments").is_none(),
        "{unchanged}"
    );

    assert_eq!(
        t.set_defaults(json!({"roles": ["member"]})).await.1["default_assignments"]["on"],
        "signup",
        "sign-up is the default moment"
    );
    let store = &t.server.running().state.store;
    let audited: Vec<Value> = store
        .list_logs(None, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.details["action"] == "set_default_assignments")
        .map(|e| e.details)
        .collect();
    assert_eq!(audited.len(), 1, "refused changes are not audited");
    assert_eq!(
        (
            audited[0]["actor"].clone(),
            audited[0]["changes"]["default_assignments"]["roles"].clone()
        ),
        (json!({"type": "client", "id": ADMIN_ID}), json!(["member"]))
    );
    let (status, cleared) = t.set_defaults(Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    assert!(cleared.get("default_assignments").is_none(), "{cleared}");
    let user_id = t.sign_up("edsger@example.com").await;
    assert!(t.roles_of(&user_id).await.is_empty());
}

#[tokio::test]
async fn a_default_role_deleted_later_is_skipped_not_an_error() {
    let t = tenant().await;
    assert_eq!(
        t.set_defaults(json!({"roles": ["member"]})).await.0,
        StatusCode::OK
    );
    let (status, _) = t
        .server
        .admin(Method::DELETE, &format!("/roles/{}", t.role_id), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let user_id = t.sign_up("barbara@example.com").await;
    assert_eq!(t.log_in("barbara@example.com").await.0, "");
    assert!(t.roles_of(&user_id).await.is_empty());
}
