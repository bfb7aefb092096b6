use serde_json::{Map, Value, json};

use crate::oidc::claims::timestamp;

/// A person in a database connection. The password hash is kept apart (see `UserStore`).
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    /// `auth0|` followed by 24 hex digits, so rules that test the prefix keep working.
    pub user_id: String,
    pub connection: String,
    /// Lower-cased; unique per connection.
    pub email: Option<String>,
    pub email_verified: bool,
    /// Unique per connection, compared case-insensitively.
    pub username: Option<String>,
    pub name: Option<String>,
    pub nickname: Option<String>,
    pub picture: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub app_metadata: Map<String, Value>,
    pub user_metadata: Map<String, Value>,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_login: Option<i64>,
    pub last_ip: Option<String>,
    pub logins_count: i64,
    pub blocked: bool,
    pub last_password_reset: Option<i64>,
}

impl User {
    pub const PROVIDER: &'static str = "auth0";

    /// The id without its provider prefix, as `identities[].user_id` shows it.
    pub fn local_id(&self) -> &str {
        self.user_id
            .split_once('|')
            .map_or(&self.user_id, |(_, id)| id)
    }

    /// Auth0's user object (the Management API's and the rules' `user`). Attributes the user does not have are left out, as Auth0 does.
    pub fn to_auth0_json(&self) -> Value {
        let mut body = json!({
            "user_id": self.user_id,
            "email_verified": self.email_verified,
            "created_at": timestamp(self.created_at),
            "updated_at": timestamp(self.updated_at),
            "identities": [{
                "connection": self.connection,
                "user_id": self.local_id(),
                "provider": User::PROVIDER,
                "isSocial": false,
            }],
            "app_metadata": self.app_metadata,
            "user_metadata": self.user_metadata,
            "logins_count": self.logins_count,
            "blocked": self.blocked,
        });
        for (key, value) in [
            ("email", &self.email),
            ("username", &self.username),
            ("name", &self.name),
            ("nickname", &self.nickname),
            ("picture", &self.picture),
            ("given_name", &self.given_name),
            ("family_name", &self.family_name),
            ("last_ip", &self.last_ip),
        ] {
            if let Some(v) = value {
                body[key] = json!(v);
            }
        }
        for (key, value) in [
            ("last_login", self.last_login),
            ("last_password_reset", self.last_password_reset),
        ] {
            if let Some(t) = value {
                body[key] = timestamp(t);
            }
        }
        body
    }
}
