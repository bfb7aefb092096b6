//! Auth0's MFA API over plain HTTP: a password-realm log-in that needs a second factor
//! answers `mfa_required`; the client enrols or challenges a factor and finishes with the
//! `mfa-otp`, `mfa-oob` or `mfa-recovery-code` grant. Codes are computed here from the
//! stored secret, the way an authenticator app computes them.

mod access;
mod codes;
mod device;

use crate::common;

use castellan_core::clock::Clock;
use castellan_core::mfa::totp;
use castellan_core::model::AuthenticatorKind;
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const DB: &str = "Username-Password-Authentication";
const PASSWORD: &str = "correct horse battery";
const REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";
const OTP: &str = "http://auth0.com/oauth/grant-type/mfa-otp";
const OOB: &str = "http://auth0.com/oauth/grant-type/mfa-oob";
const RECOVERY: &str = "http://auth0.com/oauth/grant-type/mfa-recovery-code";
const EMAIL: &str = "ada@example.com";

struct App {
    server: TestServer,
    client_id: String,
    client_secret: String,
}

/// A server whose tenant asks every log-in for a second factor (`always` is false: none
/// unless a script asks), a client with the password-realm and MFA grants, and a user.
async fn app(always: bool) -> App {
    let server = TestServer::start().await;
    let grants = json!([REALM, "password", OTP, OOB, RECOVERY, "refresh_token"]);
    let (status, client) = server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "Native", "grant_types": grants})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{client}");
    let app = App {
        client_id: client["client_id"].as_str().unwrap().into(),
        client_secret: client["client_secret"].as_str().unwrap().into(),
        server,
    };
    let (status, body) = app.server.sign_up(&app.client_id, EMAIL).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    if always {
        app.setting("guardian.policies", json!(["all-applications"]))
            .await;
    }
    app
}

impl App {
    fn store(&self) -> &dyn castellan_core::store::Store {
        self.server.running().state.store.as_ref()
    }

    async fn setting(&self, name: &str, value: Value) {
        self.store()
            .save_tenant_setting(name, &value)
            .await
            .unwrap();
    }

    async fn login_with(&self, extra: Value) -> (StatusCode, Value) {
        let mut body = json!({"grant_type": REALM, "client_id": self.client_id,
            "client_secret": self.client_secret, "username": EMAIL, "password": PASSWORD,
            "realm": DB, "scope": "openid offline_access"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        self.server.token_request(body).await
    }

    /// A log-in that must answer `mfa_required`; its `mfa_token`.
    async fn mfa_token(&self) -> String {
        let (status, body) = self.login_with(json!({})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["error"], "mfa_required", "{body}");
        assert_eq!(
            body["error_description"],
            "Multifactor authentication required"
        );
        body["mfa_token"].as_str().unwrap().to_owned()
    }

    async fn grant(&self, grant_type: &str, fields: Value) -> (StatusCode, Value) {
        let mut body = json!({"grant_type": grant_type, "client_id": self.client_id,
                              "client_secret": self.client_secret});
        body.as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        self.server.token_request(body).await
    }

    async fn bearer(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.server.call(method, path, token, body).await
    }

    async fn post_challenge(&self, body: Value) -> (StatusCode, Value) {
        let response = self
            .server
            .http
            .post(self.server.url("/mfa/challenge"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    async fn associate_otp(&self, mfa_token: &str) -> Value {
        let (status, body) = self
            .bearer(
                Method::POST,
                "/mfa/associate",
                mfa_token,
                Some(json!({"authenticator_types": ["otp"]})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    async fn user_id(&self) -> String {
        let user = self
            .store()
            .find_user_by_email(DB, EMAIL)
            .await
            .unwrap()
            .expect("the user");
        user.user_id
    }

    /// The user's app secret, as the app holds it.
    async fn app_secret(&self) -> Vec<u8> {
        let user_id = self.user_id().await;
        let app = self
            .store()
            .list_authenticators(&user_id)
            .await
            .unwrap()
            .into_iter()
            .find(|a| a.kind == AuthenticatorKind::Totp)
            .expect("an app");
        let state = &self.server.running().state;
        state
            .master_key
            .open(app.secret.as_deref().unwrap(), &app.id)
            .unwrap()
    }

    /// The app's code now.
    async fn code(&self) -> String {
        let step = totp::step_at(self.server.clock.now());
        totp::code_at_step(&self.app_secret().await, step)
    }

    /// Enrols the app through the API and finishes with its first code.
    async fn enrolled(&self) -> (Value, Value) {
        let mfa_token = self.mfa_token().await;
        let associated = self.associate_otp(&mfa_token).await;
        let (status, tokens) = self
            .grant(
                OTP,
                json!({"mfa_token": mfa_token, "otp": self.code().await}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        (associated, tokens)
    }

    async fn log_types(&self) -> Vec<String> {
        let (_, logs) = self
            .server
            .admin(Method::GET, "/logs?per_page=100", None)
            .await;
        logs.as_array()
            .unwrap()
            .iter()
            .map(|l| l["type"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// The code of the `count`th verification mail.
async fn mailed_code(app: &App, count: usize) -> String {
    let mail = app.store().list_mail().await.unwrap();
    let codes: Vec<&castellan_core::model::Mail> = mail
        .iter()
        .filter(|m| m.subject == "Your verification code")
        .collect();
    assert_eq!(codes.len(), count, "{mail:?}");
    let body = &codes[count - 1].body;
    body.split_whitespace()
        .find(|w| {
            w.trim_end_matches('.').len() == 6
                && w.trim_end_matches('.').chars().all(|c| c.is_ascii_digit())
        })
        .unwrap()
        .trim_end_matches('.')
        .to_owned()
}
