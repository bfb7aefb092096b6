use serde_json::{Map, Value};

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
}
