//! Helpers for the Authorization Extension API tests: a server, a full-scope token for
//! `urn:auth0-authz-api`, narrower machine-to-machine clients, and users made by sign-up.

#![allow(dead_code)]

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

pub const AUTHZ: &str = "urn:auth0-authz-api";
pub const REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";
pub const DB: &str = "Username-Password-Authentication";
pub const PASSWORD: &str = "correct horse battery";

pub struct Authz {
    pub server: TestServer,
    pub token: String,
    /// A regular web application users sign up and log in through.
    pub web_id: String,
    pub web_secret: String,
}

impl Authz {
    pub async fn start() -> Self {
        let server = TestServer::start().await;
        let token = server.token(ADMIN_ID, ADMIN_SECRET, AUTHZ, None).await;
        let (status, web) = server
            .admin(
                Method::POST,
                "/clients",
                Some(json!({"name": "web", "app_type": "regular_web", "grant_types": [REALM]})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{web}");
        Self {
            server,
            token,
            web_id: web["client_id"].as_str().unwrap().to_string(),
            web_secret: web["client_secret"].as_str().unwrap().to_string(),
        }
    }

    /// A call to `/authz/api{path}` with every scope of the API.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call_with(&self.token, method, path, body).await
    }

    pub async fn call_with(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.server
            .call(method, &format!("/authz/api{path}"), token, body)
            .await
    }

    /// A new machine-to-machine client granted exactly `scopes` on the API; its token.
    pub async fn m2m_token(&self, scopes: &[&str]) -> String {
        let (_, client) = self
            .server
            .admin(
                Method::POST,
                "/clients",
                Some(json!({"name": "m2m", "app_type": "non_interactive"})),
            )
            .await;
        let id = client["client_id"].as_str().unwrap();
        let grant = json!({"client_id": id, "audience": AUTHZ, "scope": scopes});
        let (status, body) = self
            .server
            .admin(Method::POST, "/client-grants", Some(grant))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        self.server
            .token(id, client["client_secret"].as_str().unwrap(), AUTHZ, None)
            .await
    }

    /// Signs a user up; returns the user id (`auth0|…`).
    pub async fn signup(&self, email: &str) -> String {
        let body = json!({"client_id": self.web_id, "email": email, "password": PASSWORD, "connection": DB});
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

    /// Creates a group; returns its `_id`.
    pub async fn group(&self, name: &str) -> String {
        let (status, g) = self
            .call(
                Method::POST,
                "/groups",
                Some(json!({"name": name, "description": format!("{name} group")})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{g}");
        g["_id"].as_str().unwrap().to_string()
    }

    /// Creates a role bound to `application_id` with `permissions`; returns its `_id`.
    pub async fn role(&self, name: &str, application_id: &str, permissions: &[&str]) -> String {
        let body = json!({"name": name, "description": format!("{name} role"), "applicationType": "client",
                          "applicationId": application_id, "permissions": permissions});
        let (status, r) = self.call(Method::POST, "/roles", Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{r}");
        r["_id"].as_str().unwrap().to_string()
    }

    /// Creates a permission; returns its `_id`.
    pub async fn permission(
        &self,
        name: &str,
        application_type: &str,
        application_id: &str,
    ) -> String {
        let body = json!({"name": name, "description": format!("{name} permission"),
                          "applicationType": application_type, "applicationId": application_id});
        let (status, p) = self.call(Method::POST, "/permissions", Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{p}");
        p["_id"].as_str().unwrap().to_string()
    }
}

/// The extension's error body: exactly `{statusCode, error, message}`.
pub fn assert_error(body: &Value, status: u16, error: &str, message_part: &str) {
    assert_eq!(body["statusCode"], status, "{body}");
    assert_eq!(body["error"], error, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains(message_part),
        "{body}"
    );
    assert!(
        body.get("errorCode").is_none(),
        "no errorCode on this API: {body}"
    );
}

pub fn names(list: &Value) -> Vec<String> {
    let mut names: Vec<String> = list
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {list}"))
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}
