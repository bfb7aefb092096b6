use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::oidc::claims::rfc3339;

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

    /// Auth0's user object (the Management API's and the rules' `user`).
    pub fn to_auth0(&self) -> Auth0User {
        Auth0User {
            user_id: self.user_id.clone(),
            email: self.email.clone(),
            email_verified: self.email_verified,
            username: self.username.clone(),
            name: self.name.clone(),
            nickname: self.nickname.clone(),
            picture: self.picture.clone(),
            given_name: self.given_name.clone(),
            family_name: self.family_name.clone(),
            created_at: rfc3339(self.created_at),
            updated_at: rfc3339(self.updated_at),
            identities: vec![Identity {
                connection: self.connection.clone(),
                user_id: self.local_id().to_string(),
                provider: User::PROVIDER,
                is_social: false,
            }],
            app_metadata: self.app_metadata.clone(),
            user_metadata: self.user_metadata.clone(),
            logins_count: self.logins_count,
            blocked: self.blocked,
            last_ip: self.last_ip.clone(),
            last_login: self.last_login.and_then(rfc3339),
            last_password_reset: self.last_password_reset.and_then(rfc3339),
        }
    }

    /// [`User::to_auth0`] as JSON.
    pub fn to_auth0_json(&self) -> Value {
        serde_json::to_value(self.to_auth0()).expect("a user serializes to JSON")
    }
}

/// Auth0's user object. Attributes the user does not have are left out, as Auth0 does; the
/// Management API's `fields` may leave out any other, so none is required.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = User)]
pub struct Auth0User {
    #[schema(required = false)]
    pub user_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[schema(required = false)]
    pub email_verified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// RFC 3339.
    #[schema(required = false)]
    pub created_at: Option<String>,
    /// RFC 3339.
    #[schema(required = false)]
    pub updated_at: Option<String>,
    #[schema(required = false)]
    pub identities: Vec<Identity>,
    #[schema(required = false, value_type = Object)]
    pub app_metadata: Map<String, Value>,
    #[schema(required = false, value_type = Object)]
    pub user_metadata: Map<String, Value>,
    #[schema(required = false)]
    pub logins_count: i64,
    #[schema(required = false)]
    pub blocked: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_ip: Option<String>,
    /// RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_login: Option<String>,
    /// RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_password_reset: Option<String>,
}

/// The account a user logs in with; one per user, in a database connection.
#[derive(Debug, Serialize, ToSchema)]
pub struct Identity {
    pub connection: String,
    /// The user's id without its provider prefix.
    pub user_id: String,
    pub provider: &'static str,
    #[serde(rename = "isSocial")]
    pub is_social: bool,
}
