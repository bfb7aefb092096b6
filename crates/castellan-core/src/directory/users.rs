//! Users through the Management API: created by an administrator (with the connection's
//! sign-up defaults), read, searched, updated with Auth0's merge rules, deleted.
//!
//! Metadata rules (Auth0's): keys may not contain `.` or start with `$` at any depth, and
//! each of `app_metadata` and `user_metadata` holds at most 16 KB of JSON. A PATCH replaces
//! root attributes, merges metadata one level deep (a sub-object sent replaces the stored one
//! as a whole, `null` removes a key, `{}` empties it), and writes everything in one statement
//! after every check has passed, so a refused PATCH changes nothing.

use serde_json::{Map, Value};

use super::password_policy::PasswordPolicy;
use super::signup::{canonical_email, normalise_email};
use super::validate;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::model::{AssignOn, Connection, User};
use crate::paging::{Page, PageRequest};
use crate::passwords::PasswordService;
use crate::search::{self, Condition, Filter, Kind, Pattern, SyntaxError, Term, Test};
use crate::store::{Store, StoreError, UserField, UserQuery};

/// Auth0 allows 16 KB for each of `app_metadata` and `user_metadata`.
pub const MAX_METADATA_BYTES: usize = 16 * 1024;

/// `POST /api/v2/users`.
#[derive(Debug, Default, Clone)]
pub struct NewUser {
    pub connection: String,
    pub email: Option<String>,
    pub password: Option<String>,
    pub username: Option<String>,
    /// Without the provider prefix; a random 24-hex id when absent.
    pub user_id: Option<String>,
    pub email_verified: bool,
    pub blocked: bool,
    pub name: Option<String>,
    pub nickname: Option<String>,
    pub picture: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub user_metadata: Map<String, Value>,
    pub app_metadata: Map<String, Value>,
}

async fn database_connection(store: &dyn Store, name: &str) -> Result<Connection> {
    store
        .find_connection_by_name(name)
        .await?
        .ok_or(Error::NotFound { kind: "connection" })
}

fn requires_username(connection: &Connection) -> bool {
    connection
        .options
        .get("requires_username")
        .and_then(Value::as_bool)
        == Some(true)
}

/// Auth0 refuses a username on a connection that does not use them.
pub(crate) fn check_username(connection: &Connection, username: Option<&str>) -> Result<()> {
    match username {
        None if requires_username(connection) => Err(Error::Invalid(
            "username is required by this connection".into(),
        )),
        None => Ok(()),
        Some(_) if !requires_username(connection) => Err(Error::Invalid(
            "Cannot set username for connection without requires_username".into(),
        )),
        Some(u) => {
            let ok = (1..=128).contains(&u.chars().count())
                && !u.contains('@')
                && u.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_+-.!#$^`~'".contains(c));
            if ok {
                Ok(())
            } else {
                Err(Error::Invalid(
                    "username must be 1 to 128 letters, digits or _+-.!#$^`~' and no @".into(),
                ))
            }
        }
    }
}

pub(crate) fn email(text: &str) -> Result<String> {
    normalise_email(text)
        .ok_or_else(|| Error::Invalid(format!("email \"{text}\" is not a valid address")))
}

/// Keys may not contain `.` or start with `$` (they would break search paths), at any depth.
fn check_keys(field: &str, object: &Map<String, Value>) -> Result<()> {
    for (key, value) in object {
        if key.is_empty() || key.contains('.') || key.starts_with('$') {
            return Err(Error::Invalid(format!(
                "{field}: the key \"{key}\" is not allowed (no '.', not starting with '$')"
            )));
        }
        match value {
            Value::Object(inner) => check_keys(&format!("{field}.{key}"), inner)?,
            Value::Array(items) => {
                for item in items {
                    if let Value::Object(inner) = item {
                        check_keys(&format!("{field}.{key}[]"), inner)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

pub(crate) fn check_metadata(field: &str, metadata: &Map<String, Value>) -> Result<()> {
    check_keys(field, metadata)?;
    if let Some(at) = crate::text::nul_in_object(field, metadata) {
        return Err(Error::Invalid(crate::text::nul_refused(&at)));
    }
    let size = serde_json::to_vec(metadata).map_or(usize::MAX, |b| b.len());
    if size > MAX_METADATA_BYTES {
        return Err(Error::Invalid(format!(
            "{field} is {size} bytes; at most {MAX_METADATA_BYTES} are allowed"
        )));
    }
    Ok(())
}

/// A user id's local part: 1 to 255 characters without spaces or `|`, and never ending in
/// `@clients`, the suffix of a client acting for itself in a token's `sub`.
pub(crate) fn check_local_id(id: &str) -> Result<()> {
    let ok = (1..=255).contains(&id.chars().count())
        && !id
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '|');
    if !ok {
        return Err(Error::Invalid(
            "user_id must be 1 to 255 characters without spaces or '|'".into(),
        ));
    }
    if id.to_ascii_lowercase().ends_with("@clients") {
        return Err(Error::Invalid("user_id may not end in '@clients'".into()));
    }
    Ok(())
}

fn check_password(connection: &Connection, password: &str, email: Option<&str>) -> Result<()> {
    PasswordPolicy::from_options(&connection.options)
        .check(password, email)
        .map_err(Error::WeakPassword)
}

pub async fn create(
    store: &dyn Store,
    passwords: &PasswordService,
    clock: &dyn Clock,
    request: NewUser,
) -> Result<User> {
    let connection = database_connection(store, &request.connection).await?;
    let email = email(
        request
            .email
            .as_deref()
            .ok_or_else(|| Error::Invalid("email is required".into()))?,
    )?;
    let password = request
        .password
        .as_deref()
        .ok_or_else(|| Error::Invalid("password is required".into()))?;
    check_username(&connection, request.username.as_deref())?;
    if let Some(id) = &request.user_id {
        check_local_id(id)?;
    }
    check_metadata("user_metadata", &request.user_metadata)?;
    check_metadata("app_metadata", &request.app_metadata)?;
    validate::profile_names(&[
        ("name", &request.name),
        ("nickname", &request.nickname),
        ("given_name", &request.given_name),
        ("family_name", &request.family_name),
    ])?;
    check_password(&connection, password, Some(&email))?;
    let hash = passwords.hash(password).await?;
    let now = clock.now();
    let local_id = request.user_id.unwrap_or_else(|| crate::ids::hex(12));
    let user = User {
        user_id: format!("{}|{local_id}", User::PROVIDER),
        connection: connection.name.clone(),
        name: request.name.or_else(|| Some(email.clone())),
        nickname: request
            .nickname
            .or_else(|| email.split('@').next().map(str::to_string)),
        email: Some(email),
        email_verified: request.email_verified,
        username: request.username,
        picture: request.picture,
        given_name: request.given_name,
        family_name: request.family_name,
        app_metadata: request.app_metadata,
        user_metadata: request.user_metadata,
        created_at: now,
        updated_at: now,
        last_login: None,
        last_ip: None,
        logins_count: 0,
        blocked: request.blocked,
        last_password_reset: None,
    };
    let grant = super::default_assignments::grant_on(store, &connection, AssignOn::Signup).await?;
    match store.create_user(&user, Some(&hash), grant.as_ref()).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(Error::Conflict("The user already exists.".into()));
        }
        Err(e) => return Err(e.into()),
    }
    if let Some(grant) = &grant {
        super::default_assignments::record_applied(
            store,
            clock,
            &user.user_id,
            AssignOn::Signup,
            grant,
        )
        .await;
    }
    Ok(user)
}

pub async fn get(store: &dyn Store, user_id: &str) -> Result<User> {
    store
        .find_user(user_id)
        .await?
        .ok_or(Error::NotFound { kind: "user" })
}

/// Deleting a user who does not exist succeeds, as in Auth0.
pub async fn delete(store: &dyn Store, user_id: &str) -> Result<bool> {
    Ok(store.delete_user(user_id).await?)
}

/// Every user with this address, in any connection. Addresses are stored lower-cased, so
/// the lookup is case-insensitive (Auth0's is case-sensitive; ours cannot tell the
/// difference).
pub async fn by_email(store: &dyn Store, address: &str) -> Result<Vec<User>> {
    let query = UserQuery {
        filter: Some(Filter::Term(Condition {
            field: UserField::Email,
            test: Test::Equals(search::Scalar::Text(canonical_email(address))),
        })),
        sort: None,
    };
    Ok(store.search_users(&query, PageRequest::ALL).await?.items)
}

/// `GET /api/v2/users`: `q` (search v3 syntax), `connection`, `sort` (`field:1` or `field:-1`).
pub async fn search(
    store: &dyn Store,
    q: Option<&str>,
    connection: Option<&str>,
    sort: Option<&str>,
    page: PageRequest,
) -> Result<Page<User>> {
    let filter = q.map(search_filter).transpose()?;
    let by_connection = connection.map(|c| {
        Filter::Term(Condition {
            field: UserField::Connection,
            test: Test::Equals(search::Scalar::Text(c.to_string())),
        })
    });
    let query = UserQuery {
        filter: Filter::and(filter, by_connection),
        sort: sort.map(parse_sort).transpose()?,
    };
    Ok(store.search_users(&query, page).await?)
}

fn column_field(name: &str) -> Option<(UserField, Kind)> {
    Some(match name {
        "user_id" => (UserField::UserId, Kind::Text),
        "email" => (UserField::Email, Kind::Folded),
        "username" => (UserField::Username, Kind::Folded),
        "name" => (UserField::Name, Kind::Folded),
        "nickname" => (UserField::Nickname, Kind::Folded),
        "given_name" => (UserField::GivenName, Kind::Folded),
        "family_name" => (UserField::FamilyName, Kind::Folded),
        "connection" | "identities.connection" => (UserField::Connection, Kind::Text),
        "email_verified" => (UserField::EmailVerified, Kind::Bool),
        "blocked" => (UserField::Blocked, Kind::Bool),
        "logins_count" => (UserField::LoginsCount, Kind::Int),
        "created_at" => (UserField::CreatedAt, Kind::Time),
        "updated_at" => (UserField::UpdatedAt, Kind::Time),
        "last_login" => (UserField::LastLogin, Kind::Time),
        "last_ip" => (UserField::LastIp, Kind::Text),
        _ => return None,
    })
}

const SEARCHABLE: &str = "user_id, email, username, name, nickname, given_name, family_name, \
     connection, email_verified, blocked, logins_count, created_at, updated_at, last_login, \
     last_ip, app_metadata.<key>, user_metadata.<key>";

fn metadata_field(name: &str) -> Option<Result<UserField, SyntaxError>> {
    let (field, path): (fn(Vec<String>) -> UserField, &str) =
        if let Some(path) = name.strip_prefix("app_metadata.") {
            (UserField::AppMetadata, path)
        } else if let Some(path) = name.strip_prefix("user_metadata.") {
            (UserField::UserMetadata, path)
        } else {
            return None;
        };
    let keys: Vec<String> = path.split('.').map(str::to_string).collect();
    let valid = keys.iter().all(|k| {
        !k.is_empty()
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    });
    Some(if valid {
        Ok(field(keys))
    } else {
        Err(SyntaxError(format!(
            "{name}: metadata keys in a search may hold letters, digits, '_' and '-'"
        )))
    })
}

fn condition(field: UserField, test: Test) -> Filter<Condition<UserField>> {
    Filter::Term(Condition { field, test })
}

fn search_filter(q: &str) -> Result<Filter<Condition<UserField>>> {
    let parsed = search::parse(q)?;
    let filter = parsed.try_map(&mut |term: Term| {
        let Some(name) = term.field else {
            // A bare word looks in the names people search by.
            let fields = [
                UserField::Email,
                UserField::Name,
                UserField::Nickname,
                UserField::Username,
            ];
            let mut any = Vec::new();
            for field in fields {
                let test = search::typed("a bare term", Kind::Folded, term.pattern.clone())?;
                any.push(condition(field, test));
            }
            return Ok(Filter::Or(any));
        };
        if let Some((field, kind)) = column_field(&name) {
            return Ok(condition(field, search::typed(&name, kind, term.pattern)?));
        }
        match metadata_field(&name) {
            Some(field) => {
                let pattern = match term.pattern {
                    // JSON numbers and booleans are compared as their text.
                    Pattern::Range { .. } => {
                        return Err(SyntaxError(format!(
                            "{name}: ranges are not supported on metadata"
                        )));
                    }
                    other => other,
                };
                Ok(condition(
                    field?,
                    search::typed(&name, Kind::Text, pattern)?,
                ))
            }
            None => Err(SyntaxError(format!(
                "\"{name}\" is not a searchable field (searchable: {SEARCHABLE})"
            ))),
        }
    })?;
    Ok(filter)
}

fn parse_sort(text: &str) -> Result<(UserField, bool)> {
    let bad = || {
        Error::InvalidQuery(format!(
            "sort must be field:1 or field:-1 on one of {SEARCHABLE} except metadata, not \"{text}\""
        ))
    };
    let (name, direction) = text.split_once(':').ok_or_else(bad)?;
    let ascending = match direction {
        "1" => true,
        "-1" => false,
        _ => return Err(bad()),
    };
    let (field, _) = column_field(name).ok_or_else(bad)?;
    Ok((field, ascending))
}

/// What a PATCH may carry: unknown names are refused, as by Auth0.
const PATCHABLE: &[&str] = &[
    "blocked",
    "email_verified",
    "email",
    "username",
    "password",
    "name",
    "nickname",
    "picture",
    "given_name",
    "family_name",
    "user_metadata",
    "app_metadata",
    "connection",
    "client_id",
    "verify_email",
];

fn wrong_type(name: &str, expected: &str) -> Error {
    Error::Invalid(format!("{name} must be {expected}"))
}

fn optional_string(name: &str, value: &Value) -> Result<Option<String>> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(wrong_type(name, "a string or null")),
    }
}

/// A name shown for the user: a string or null, without control characters.
fn profile_name(name: &str, value: &Value) -> Result<Option<String>> {
    let text = optional_string(name, value)?;
    if let Some(text) = &text {
        validate::no_control(name, text)?;
    }
    Ok(text)
}

fn boolean(name: &str, value: &Value) -> Result<bool> {
    value
        .as_bool()
        .ok_or_else(|| wrong_type(name, "true or false"))
}

/// Auth0's merge: one level deep, `null` removes a key, `{}` (or `null`) empties it all.
pub(crate) fn merge_metadata(
    name: &str,
    stored: &mut Map<String, Value>,
    patch: &Value,
) -> Result<()> {
    match patch {
        Value::Null => stored.clear(),
        Value::Object(changes) if changes.is_empty() => stored.clear(),
        Value::Object(changes) => {
            for (key, value) in changes {
                if value.is_null() {
                    stored.remove(key);
                } else {
                    stored.insert(key.clone(), value.clone());
                }
            }
        }
        _ => return Err(wrong_type(name, "an object")),
    }
    check_metadata(name, stored)
}

/// `PATCH /api/v2/users/{id}`: applies `patch` (a JSON object) and returns the user as stored.
pub async fn update(
    store: &dyn Store,
    passwords: &PasswordService,
    clock: &dyn Clock,
    user_id: &str,
    patch: &Map<String, Value>,
) -> Result<User> {
    if let Some(unknown) = patch.keys().find(|k| !PATCHABLE.contains(&k.as_str())) {
        return Err(Error::Invalid(format!(
            "Additional properties not allowed: {unknown}"
        )));
    }
    let mut user = get(store, user_id).await?;
    let connection = database_connection(store, &user.connection).await?;
    if let Some(c) = patch.get("connection")
        && c.as_str() != Some(user.connection.as_str())
    {
        return Err(Error::Invalid(format!(
            "connection must be the user's connection, {}",
            user.connection
        )));
    }
    for name in ["client_id"] {
        if let Some(v) = patch.get(name) {
            optional_string(name, v)?;
        }
    }
    if let Some(v) = patch.get("verify_email") {
        boolean("verify_email", v)?;
    }
    let mut email_changed = false;
    for (name, value) in patch {
        match name.as_str() {
            "blocked" => user.blocked = boolean(name, value)?,
            "email_verified" => user.email_verified = boolean(name, value)?,
            "email" => {
                let text = value.as_str().ok_or_else(|| wrong_type(name, "a string"))?;
                let new = email(text)?;
                email_changed = user.email.as_deref() != Some(new.as_str());
                user.email = Some(new);
            }
            "username" => {
                let username = optional_string(name, value)?;
                check_username(&connection, username.as_deref())?;
                user.username = username;
            }
            "name" => user.name = profile_name(name, value)?,
            "nickname" => user.nickname = profile_name(name, value)?,
            "picture" => user.picture = optional_string(name, value)?,
            "given_name" => user.given_name = profile_name(name, value)?,
            "family_name" => user.family_name = profile_name(name, value)?,
            "user_metadata" => merge_metadata(name, &mut user.user_metadata, value)?,
            "app_metadata" => merge_metadata(name, &mut user.app_metadata, value)?,
            _ => {}
        }
    }
    // A new address is unverified unless the same request says otherwise (Auth0).
    if email_changed && !patch.contains_key("email_verified") {
        user.email_verified = false;
    }
    let now = clock.now();
    let new_password = match patch.get("password") {
        None => None,
        Some(Value::String(password)) => {
            check_password(&connection, password, user.email.as_deref())?;
            user.last_password_reset = Some(now);
            Some(passwords.new_password(password).await?)
        }
        Some(_) => return Err(wrong_type("password", "a string")),
    };
    user.updated_at = now;
    match store.update_user(&user, new_password.as_ref()).await {
        Ok(()) => Ok(user),
        Err(StoreError::NotFound) => Err(Error::NotFound { kind: "user" }),
        Err(StoreError::Conflict(_)) => Err(Error::Conflict(
            "The specified new email or username already exists".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn metadata_merges_one_level_deep() {
        let mut stored = object(json!({"a": 1, "b": {"x": 1, "y": 2}, "c": true}));
        merge_metadata(
            "m",
            &mut stored,
            &json!({"a": 2, "b": {"x": 9}, "c": null, "d": "new"}),
        )
        .unwrap();
        assert_eq!(
            Value::Object(stored.clone()),
            json!({"a": 2, "b": {"x": 9}, "d": "new"})
        );
        merge_metadata("m", &mut stored, &json!({})).unwrap();
        assert!(stored.is_empty());
    }

    #[test]
    fn metadata_keys_and_size_are_checked() {
        for bad in [
            json!({"a.b": 1}),
            json!({"$set": 1}),
            json!({"ok": {"in.side": 1}}),
            json!({"big": "x".repeat(MAX_METADATA_BYTES)}),
        ] {
            let mut stored = Map::new();
            assert!(merge_metadata("m", &mut stored, &bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn search_fields_are_checked() {
        assert!(search_filter("email:\"a@b.c\" AND app_metadata.plan:gold").is_ok());
        assert!(search_filter("app_metadata.a-b.c_d:1").is_ok());
        let e = search_filter("colour:red").unwrap_err();
        assert!(e.to_string().contains("not a searchable field"), "{e}");
        assert!(search_filter("logins_count:many").is_err());
        assert!(parse_sort("created_at:-1").is_ok());
        assert!(parse_sort("app_metadata.x:1").is_err());
    }
}
