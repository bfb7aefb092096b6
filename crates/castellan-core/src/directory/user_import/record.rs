//! One record of an Auth0 export read into a user and a password hash: the fields Castellan
//! keeps, checked as the Management API checks them, in the spellings Auth0's export job,
//! bulk-import schema and password-hash export use.

use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Problem;
use crate::directory::users::{check_local_id, check_metadata, check_username, email};
use crate::error::Error;
use crate::model::{Connection, User};
use crate::passwords::is_importable_hash;

fn invalid(e: Error) -> Problem {
    match e {
        Error::Invalid(message) => Problem::Invalid(message),
        other => Problem::Invalid(other.to_string()),
    }
}

fn text(record: &Map<String, Value>, field: &'static str) -> Result<Option<String>, Problem> {
    match record.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Problem::WrongType {
            field,
            expected: "a string",
        }),
    }
}

fn flag(record: &Map<String, Value>, field: &'static str) -> Result<bool, Problem> {
    match record.get(field) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(Problem::WrongType {
            field,
            expected: "true or false",
        }),
    }
}

fn object(record: &Map<String, Value>, field: &'static str) -> Result<Map<String, Value>, Problem> {
    match record.get(field) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(o)) => Ok(o.clone()),
        Some(_) => Err(Problem::WrongType {
            field,
            expected: "an object",
        }),
    }
}

/// An RFC 3339 date, as the export job writes them, or `{"$date": …}` as the password-hash
/// export does; in seconds.
fn instant(record: &Map<String, Value>, field: &'static str) -> Result<Option<i64>, Problem> {
    let text = match record.get(field) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.as_str(),
        Some(Value::Object(o)) if o.get("$date").is_some_and(Value::is_string) => {
            o["$date"].as_str().unwrap_or_default()
        }
        Some(_) => {
            return Err(Problem::WrongType {
                field,
                expected: "a date (RFC 3339)",
            });
        }
    };
    OffsetDateTime::parse(text, &Rfc3339)
        .map(|t| Some(t.unix_timestamp()))
        .map_err(|_| Problem::WrongType {
            field,
            expected: "a date (RFC 3339)",
        })
}

fn count(record: &Map<String, Value>, field: &'static str) -> Result<i64, Problem> {
    match record.get(field) {
        None | Some(Value::Null) => Ok(0),
        Some(v) => v.as_i64().filter(|n| *n >= 0).ok_or(Problem::WrongType {
            field,
            expected: "a whole number of at least 0",
        }),
    }
}

/// The id without its provider: from `user_id` (`auth0|…`, or bare as the bulk-import schema
/// has it), else the password-hash export's `alt_id` or `_id`; `None` gets a fresh id.
fn local_id(record: &Map<String, Value>) -> Result<Option<String>, Problem> {
    let provider = record
        .get("identities")
        .and_then(|i| i.get(0))
        .and_then(|i| i.get("provider"))
        .and_then(Value::as_str);
    if let Some(id) = text(record, "user_id")? {
        return match id.split_once('|') {
            Some((User::PROVIDER, local)) => Ok(Some(local.to_string())),
            Some((provider, _)) => Err(Problem::NotDatabaseUser {
                provider: provider.to_string(),
                user_id: id,
            }),
            None => Ok(Some(id)),
        };
    }
    if let Some(provider) = provider.filter(|p| *p != User::PROVIDER) {
        let id = record["identities"][0]["user_id"].as_str().unwrap_or("?");
        return Err(Problem::NotDatabaseUser {
            user_id: format!("{provider}|{id}"),
            provider: provider.to_string(),
        });
    }
    if let Some(id) = text(record, "alt_id")? {
        return Ok(Some(id));
    }
    match record.get("_id") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(id)) => Ok(Some(id.clone())),
        Some(Value::Object(o)) if o.get("$oid").is_some_and(Value::is_string) => {
            Ok(o["$oid"].as_str().map(str::to_string))
        }
        Some(_) => Err(Problem::WrongType {
            field: "_id",
            expected: "a string or {\"$oid\": string}",
        }),
    }
}

pub(super) fn user(
    connection: &Connection,
    record: &Map<String, Value>,
    now: i64,
) -> Result<User, Problem> {
    let local = local_id(record)?.unwrap_or_else(|| crate::ids::hex(12));
    check_local_id(&local).map_err(invalid)?;
    let address = text(record, "email")?
        .ok_or_else(|| Problem::Invalid("email is required".into()))
        .and_then(|e| email(&e).map_err(invalid))?;
    let username = text(record, "username")?;
    check_username(connection, username.as_deref()).map_err(invalid)?;
    let app_metadata = object(record, "app_metadata")?;
    let user_metadata = object(record, "user_metadata")?;
    check_metadata("app_metadata", &app_metadata).map_err(invalid)?;
    check_metadata("user_metadata", &user_metadata).map_err(invalid)?;
    let created_at = instant(record, "created_at")?.unwrap_or(now);
    Ok(User {
        user_id: format!("{}|{local}", User::PROVIDER),
        connection: connection.name.clone(),
        // The same defaults as a user created through the Management API.
        name: text(record, "name")?.or_else(|| Some(address.clone())),
        nickname: text(record, "nickname")?
            .or_else(|| address.split('@').next().map(str::to_string)),
        email: Some(address),
        email_verified: flag(record, "email_verified")?,
        username,
        picture: text(record, "picture")?,
        given_name: text(record, "given_name")?,
        family_name: text(record, "family_name")?,
        app_metadata,
        user_metadata,
        created_at,
        updated_at: instant(record, "updated_at")?.unwrap_or(created_at),
        last_login: instant(record, "last_login")?,
        last_ip: text(record, "last_ip")?,
        logins_count: count(record, "logins_count")?,
        blocked: flag(record, "blocked")?,
        last_password_reset: instant(record, "last_password_reset")?,
    })
}

/// `password_hash` (the bulk-import schema), `passwordHash` (the password-hash export) or
/// `custom_password_hash` with `algorithm: "bcrypt"` and the hash as `hash.value` (or as
/// `hash` itself, in older files).
pub(super) fn password_hash(record: &Map<String, Value>) -> Result<Option<String>, Problem> {
    let plain = match text(record, "password_hash")? {
        Some(hash) => Some(hash),
        None => text(record, "passwordHash")?,
    };
    let custom = match record.get("custom_password_hash") {
        None | Some(Value::Null) => None,
        Some(Value::Object(custom)) => Some(custom),
        Some(_) => {
            return Err(Problem::WrongType {
                field: "custom_password_hash",
                expected: "an object",
            });
        }
    };
    let hash = match (plain, custom) {
        (None, None) => return Ok(None),
        (Some(_), Some(_)) => return Err(Problem::TwoHashes),
        (Some(hash), None) => hash,
        (None, Some(custom)) => {
            let algorithm = text(custom, "algorithm")?.ok_or(Problem::WrongType {
                field: "custom_password_hash.algorithm",
                expected: "a string",
            })?;
            if !algorithm.eq_ignore_ascii_case("bcrypt") {
                return Err(Problem::UnsupportedAlgorithm(algorithm));
            }
            let value = match custom.get("hash") {
                Some(Value::String(hash)) => Some(hash.clone()),
                Some(Value::Object(hash)) => hash
                    .get("value")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                _ => None,
            };
            value.ok_or(Problem::WrongType {
                field: "custom_password_hash.hash.value",
                expected: "a string",
            })?
        }
    };
    if is_importable_hash(&hash) {
        Ok(Some(hash))
    } else {
        Err(Problem::UnknownHashFormat {
            scheme: scheme(&hash),
        })
    }
}

/// `$argon2id$` of an argon2 hash: enough to name the format without showing the hash.
fn scheme(hash: &str) -> String {
    hash.strip_prefix('$')
        .and_then(|rest| rest.split_once('$'))
        .map(|(name, _)| name)
        .filter(|name| name.len() <= 16)
        .map_or_else(|| "no $…$ prefix".to_string(), |name| format!("${name}$"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn connection(options: Value) -> Connection {
        Connection {
            id: "con_1".into(),
            name: "db".into(),
            strategy: "auth0".into(),
            options,
            enabled_clients: vec![],
            default_assignments: None,
        }
    }

    fn read(record: Value) -> Result<(User, Option<String>), Problem> {
        let record = record.as_object().unwrap().clone();
        Ok((
            user(&connection(json!({})), &record, 1_000)?,
            password_hash(&record)?,
        ))
    }

    #[test]
    fn an_export_job_line_keeps_ids_dates_metadata_and_counts() {
        let (user, hash) = read(json!({
            "user_id": "auth0|5f7c8ec7c33c6c004bbafe82", "email": "Ada@Example.com", "email_verified": true,
            "name": "Ada Lovelace", "given_name": "Ada", "created_at": "2020-10-06T15:32:23.529Z",
            "updated_at": "2021-01-01T00:00:00Z", "last_login": "2021-01-02T00:00:00.000Z", "logins_count": 7,
            "app_metadata": {"plan": "gold"}, "user_metadata": {"theme": "dark"},
            "identities": [{"connection": "Username-Password-Authentication", "provider": "auth0",
                            "user_id": "5f7c8ec7c33c6c004bbafe82", "isSocial": false}],
            "multifactor": ["guardian"]
        }))
        .unwrap();
        assert_eq!(user.user_id, "auth0|5f7c8ec7c33c6c004bbafe82");
        assert_eq!(user.connection, "db");
        assert_eq!(user.email.as_deref(), Some("ada@example.com"));
        assert!(user.email_verified);
        assert_eq!(
            user.nickname.as_deref(),
            Some("ada"),
            "defaulted from the email"
        );
        assert_eq!(user.created_at, 1_601_998_343);
        assert_eq!(user.updated_at, 1_609_459_200);
        assert_eq!(user.last_login, Some(1_609_545_600));
        assert_eq!(user.logins_count, 7);
        assert_eq!(user.app_metadata["plan"], "gold");
        assert_eq!(user.user_metadata["theme"], "dark");
        assert_eq!(hash, None);
    }

    #[test]
    fn hashes_come_in_three_spellings_and_only_as_bcrypt() {
        let bcrypt = bcrypt::hash("secret", 4).unwrap();
        for record in [
            json!({"email": "a@b.co", "password_hash": bcrypt}),
            json!({"email": "a@b.co", "passwordHash": bcrypt}),
            json!({"email": "a@b.co", "custom_password_hash": {"algorithm": "bcrypt", "hash": {"value": bcrypt}}}),
            json!({"email": "a@b.co", "custom_password_hash": {"algorithm": "bcrypt", "hash": bcrypt}}),
        ] {
            assert_eq!(read(record).unwrap().1.as_deref(), Some(bcrypt.as_str()));
        }
        let md5 = json!({"email": "a@b.co", "custom_password_hash": {"algorithm": "md5", "hash": {"value": "x"}}});
        assert_eq!(
            read(md5).unwrap_err(),
            Problem::UnsupportedAlgorithm("md5".into())
        );
        let argon = json!({"email": "a@b.co", "passwordHash": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"});
        let e = read(argon).unwrap_err();
        assert_eq!(
            e,
            Problem::UnknownHashFormat {
                scheme: "$argon2id$".into()
            }
        );
        assert!(!e.to_string().contains("c2FsdA"), "the hash is not shown");
        let both = json!({"email": "a@b.co", "password_hash": bcrypt,
                          "custom_password_hash": {"algorithm": "bcrypt", "hash": {"value": bcrypt}}});
        assert_eq!(read(both).unwrap_err(), Problem::TwoHashes);
    }

    #[test]
    fn ids_come_from_user_id_alt_id_or_the_hash_export_oid() {
        let id = |record: Value| read(record).map(|(u, _)| u.user_id);
        assert_eq!(
            id(json!({"email": "a@b.co", "user_id": "abc"})),
            Ok("auth0|abc".into())
        );
        assert_eq!(
            id(
                json!({"email": "a@b.co", "_id": {"$oid": "5dea9f9c82dd7c0e76e4ec93"}, "alt_id": "euclid"})
            ),
            Ok("auth0|euclid".into())
        );
        assert_eq!(
            id(json!({"email": "a@b.co", "_id": {"$oid": "5dea9f9c82dd7c0e76e4ec93"}})),
            Ok("auth0|5dea9f9c82dd7c0e76e4ec93".into())
        );
        let fresh = id(json!({"email": "a@b.co"})).unwrap();
        assert_eq!(fresh.len(), "auth0|".len() + 24);
        assert!(matches!(
            id(json!({"email": "a@b.co", "user_id": "google-oauth2|123"})),
            Err(Problem::NotDatabaseUser { .. })
        ));
        assert!(matches!(
            id(json!({"email": "a@b.co", "identities": [{"provider": "github"}]})),
            Err(Problem::NotDatabaseUser { .. })
        ));
    }

    #[test]
    fn fields_are_checked_like_the_management_api_checks_them() {
        for (record, expected) in [
            (json!({}), "email is required"),
            (json!({"email": "not-an-address"}), "not a valid address"),
            (json!({"email": 5}), "\"email\" must be a string"),
            (
                json!({"email": "a@b.co", "username": "ada"}),
                "requires_username",
            ),
            (
                json!({"email": "a@b.co", "app_metadata": {"a.b": 1}}),
                "not allowed",
            ),
            (
                json!({"email": "a@b.co", "user_metadata": []}),
                "must be an object",
            ),
            (
                json!({"email": "a@b.co", "created_at": "yesterday"}),
                "RFC 3339",
            ),
            (json!({"email": "a@b.co", "logins_count": -1}), "at least 0"),
            (
                json!({"email": "a@b.co", "user_id": "auth0|has space"}),
                "user_id",
            ),
        ] {
            let e = read(record.clone()).unwrap_err().to_string();
            assert!(e.contains(expected), "{record}: {e}");
        }
    }
}
