//! A user's standard claims, chosen by scope (OpenID Connect Core §5.4).

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::model::User;

/// Auth0 writes timestamps as RFC 3339 strings in UTC; `None` for a time out of range.
pub fn rfc3339(seconds: i64) -> Option<String> {
    OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
}

/// `rfc3339` as a JSON value, `null` for a time out of range.
pub fn timestamp(seconds: i64) -> Value {
    rfc3339(seconds).map_or(Value::Null, Value::String)
}

pub fn by_scope(user: &User, scopes: &[String]) -> Map<String, Value> {
    let has = |s: &str| scopes.iter().any(|x| x == s);
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(user.user_id));
    if has("profile") {
        for (name, value) in [
            ("name", &user.name),
            ("nickname", &user.nickname),
            ("picture", &user.picture),
            ("given_name", &user.given_name),
            ("family_name", &user.family_name),
        ] {
            if let Some(v) = value {
                claims.insert(name.into(), json!(v));
            }
        }
        claims.insert("updated_at".into(), timestamp(user.updated_at));
    }
    if has("email")
        && let Some(email) = &user.email
    {
        claims.insert("email".into(), json!(email));
        claims.insert("email_verified".into(), json!(user.email_verified));
    }
    claims
}
