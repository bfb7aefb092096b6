//! Users moved over from Auth0. A record is one user as Auth0 hands users out: a line of the
//! export job's JSON, an entry of the bulk-import schema, or a line of the password-hash
//! export its support provides. Each is checked as `POST /api/v2/users` checks a user (email,
//! username, id, metadata), ids and addresses must be unique within the file and against the
//! store, and a password hash must be bcrypt, which log-in verifies and upgrades to
//! argon2id. Every user is written in one transaction, and only when no record was refused,
//! so a bad file changes nothing.
//!
//! Imported users are not signing up: no sign-up defaults or actions run, and log-in counts
//! and dates from the export are kept, so a `first_login` default waits for a user who has
//! never logged in.

use std::collections::HashMap;

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::users::{check_local_id, check_metadata, check_username, email};
use crate::audit::{self, Actor, Change};
use crate::clock::Clock;
use crate::error::Error;
use crate::model::{Connection, User};
use crate::passwords::is_importable_hash;
use crate::store::{ImportedUser, Store, StoreError};

/// Why one record cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("not valid JSON: {0}")]
    Json(String),
    #[error("expected a JSON object")]
    NotAnObject,
    #[error("\"{field}\" must be {expected}")]
    WrongType {
        field: &'static str,
        expected: &'static str,
    },
    /// What the Management API would answer for the same user.
    #[error("{0}")]
    Invalid(String),
    #[error(
        "\"{user_id}\" is a {provider} user; only database users (auth0|…) can be imported into a database connection"
    )]
    NotDatabaseUser { user_id: String, provider: String },
    #[error("password_hash and custom_password_hash are mutually exclusive")]
    TwoHashes,
    #[error("password hash algorithm \"{0}\" is not supported; only bcrypt hashes can be imported")]
    UnsupportedAlgorithm(String),
    /// `scheme` is the hash's `$…$` prefix at most, never the hash.
    #[error(
        "the password hash ({scheme}) is not a bcrypt hash ($2a$, $2b$ or $2y$ with a cost of 4 to 31); only bcrypt hashes can be imported"
    )]
    UnknownHashFormat { scheme: String },
    #[error("{what} \"{value}\" is also on line {line}")]
    Duplicate {
        what: &'static str,
        value: String,
        line: usize,
    },
    #[error("{what} \"{value}\" already belongs to a user of the database")]
    Taken { what: &'static str, value: String },
}

/// A refused record and its line in the file (the line it starts on, in a JSON array).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct LineError {
    pub line: usize,
    pub problem: Problem,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{} record(s) refused; nothing was imported", .0.len())]
    Refused(Vec<LineError>),
    #[error(
        "the connection \"{0}\" does not exist (apply the tenant's configuration or start the server once first)"
    )]
    UnknownConnection(String),
    #[error(transparent)]
    Core(#[from] Error),
}

impl From<StoreError> for ImportError {
    fn from(e: StoreError) -> Self {
        Self::Core(e.into())
    }
}

/// What an import wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub connection: String,
    pub users: usize,
    pub with_password: usize,
}

/// Records being checked, in file order.
pub struct UserImport {
    connection: Connection,
    now: i64,
    accepted: Vec<(usize, ImportedUser)>,
    ids: HashMap<String, usize>,
    emails: HashMap<String, usize>,
    usernames: HashMap<String, usize>,
    refused: Vec<LineError>,
}

impl UserImport {
    /// Users go to `connection`; `now` dates records that carry no dates.
    pub async fn begin(store: &dyn Store, connection: &str, now: i64) -> Result<Self, ImportError> {
        let connection = store
            .find_connection_by_name(connection)
            .await?
            .ok_or_else(|| ImportError::UnknownConnection(connection.to_string()))?;
        Ok(Self {
            connection,
            now,
            accepted: Vec::new(),
            ids: HashMap::new(),
            emails: HashMap::new(),
            usernames: HashMap::new(),
            refused: Vec::new(),
        })
    }

    /// Checks one record and keeps it, or remembers why it is refused.
    pub fn add(&mut self, line: usize, record: &Value) {
        match self.read(line, record) {
            Ok(user) => self.accepted.push((line, user)),
            Err(problem) => self.refuse(line, problem),
        }
    }

    /// A record the reader could not even parse.
    pub fn refuse(&mut self, line: usize, problem: Problem) {
        self.refused.push(LineError { line, problem });
    }

    /// Records read so far, accepted or not.
    pub fn records(&self) -> usize {
        self.accepted.len() + self.refused.len()
    }

    fn read(&mut self, line: usize, record: &Value) -> Result<ImportedUser, Problem> {
        let record = record.as_object().ok_or(Problem::NotAnObject)?;
        let user = user(&self.connection, record, self.now)?;
        let password_hash = password_hash(record)?;
        let username = user.username.as_ref().map(|u| u.to_lowercase());
        let email = user.email.clone().unwrap_or_default();
        for (seen, what, key) in [
            (&self.ids, "user_id", Some(&user.user_id)),
            (&self.emails, "email", Some(&email)),
            (&self.usernames, "username", username.as_ref()),
        ] {
            if let Some(first) = key.and_then(|k| seen.get(k)) {
                return Err(Problem::Duplicate {
                    what,
                    value: key.cloned().unwrap_or_default(),
                    line: *first,
                });
            }
        }
        self.ids.insert(user.user_id.clone(), line);
        self.emails.insert(email, line);
        if let Some(username) = username {
            self.usernames.insert(username, line);
        }
        Ok(ImportedUser {
            user,
            password_hash,
        })
    }

    /// Checks the accepted records against the users already stored. Every refused record
    /// comes back, in line order, or none does and the import is ready to write.
    pub async fn check(self, store: &dyn Store) -> Result<CheckedImport, ImportError> {
        let Self {
            connection,
            accepted,
            mut refused,
            ..
        } = self;
        let keys = |f: fn(&User) -> Option<&String>| -> Vec<String> {
            accepted
                .iter()
                .filter_map(|(_, u)| f(&u.user).cloned())
                .collect()
        };
        let taken = store
            .taken_user_keys(
                &connection.name,
                &keys(|u| Some(&u.user_id)),
                &keys(|u| u.email.as_ref()),
                &keys(|u| u.username.as_ref()),
            )
            .await?;
        for (line, ImportedUser { user, .. }) in &accepted {
            let username = user.username.as_ref().map(|u| u.to_lowercase());
            let clashes = [
                ("user_id", Some(&user.user_id), &taken.user_ids),
                ("email", user.email.as_ref(), &taken.emails),
                ("username", username.as_ref(), &taken.usernames),
            ];
            if let Some((what, Some(value), _)) = clashes
                .into_iter()
                .find(|(_, key, set)| key.is_some_and(|k| set.contains(k)))
            {
                refused.push(LineError {
                    line: *line,
                    problem: Problem::Taken {
                        what,
                        value: value.clone(),
                    },
                });
            }
        }
        if !refused.is_empty() {
            refused.sort_by_key(|e| e.line);
            return Err(ImportError::Refused(refused));
        }
        Ok(CheckedImport {
            connection: connection.name,
            users: accepted.into_iter().map(|(_, u)| u).collect(),
        })
    }
}

/// Records that passed every check, ready to write.
pub struct CheckedImport {
    connection: String,
    users: Vec<ImportedUser>,
}

impl CheckedImport {
    pub fn len(&self) -> usize {
        self.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    pub fn summary(&self) -> Summary {
        Summary {
            connection: self.connection.clone(),
            users: self.users.len(),
            with_password: self
                .users
                .iter()
                .filter(|u| u.password_hash.is_some())
                .count(),
        }
    }

    /// Writes every user in one transaction and records the import in the tenant log.
    /// `written` hears the number of users written so far.
    pub async fn write(
        self,
        store: &dyn Store,
        clock: &dyn Clock,
        actor: &Actor,
        written: &(dyn Fn(usize) + Send + Sync),
    ) -> Result<Summary, ImportError> {
        let summary = self.summary();
        match store.insert_users(&self.users, written).await {
            Ok(()) => {}
            // Someone created one of these users after the check: the transaction is gone.
            Err(StoreError::Conflict(_)) => {
                return Err(Error::Conflict(
                    "a user with one of these ids, emails or usernames was created during the import; nothing was imported"
                        .into(),
                )
                .into());
            }
            Err(e) => return Err(e.into()),
        }
        audit::record(
            store,
            clock,
            actor,
            Change {
                action: "import_users",
                description: format!(
                    "Imported {} users into {}",
                    summary.users, summary.connection
                ),
                target: json!({"connection": summary.connection}),
                changes: json!({"users": summary.users, "with_password_hash": summary.with_password}),
            },
        )
        .await;
        Ok(summary)
    }
}

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

fn user(connection: &Connection, record: &Map<String, Value>, now: i64) -> Result<User, Problem> {
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
fn password_hash(record: &Map<String, Value>) -> Result<Option<String>, Problem> {
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
