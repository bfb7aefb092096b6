//! Users: created by an administrator (with the connection's sign-up defaults), read,
//! searched, updated with Auth0's merge rules, blocked and unblocked, deleted. Every front
//! end changes users through the commands here, each written with its audit entry in one
//! transaction.
//!
//! Metadata rules (Auth0's): keys may not contain `.` or start with `$` at any depth, and
//! each of `app_metadata` and `user_metadata` holds at most 16 KB of JSON. A PATCH replaces
//! root attributes, merges metadata one level deep (a sub-object sent replaces the stored one
//! as a whole, `null` removes a key, `{}` empties it), and writes everything in one transaction
//! after every check has passed, so a refused PATCH changes nothing.

use serde_json::{Map, Value};

use super::Editor;
use super::password_policy::PasswordPolicy;
use super::signup::{canonical_email, normalise_email};
use super::validate;
use crate::audit::UserChange;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::events::RequestContext;
use crate::login::recovery::Recovery;
use crate::model::{AssignOn, Connection, User};
use crate::paging::{Page, PageRequest};
use crate::passwords::PasswordService;
use crate::search::{self, Condition, Filter, Kind, Pattern, SyntaxError, Term, Test};
use crate::store::{
    ConnectionStore, NewPassword, Store, StoreError, Transaction, UserField, UserQuery, UserStore,
};

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

/// Checks `input` and hashes its password: everything a creation needs before its
/// transaction. Hashing takes long, and on SQLite a transaction holds the write lock
/// throughout, so it is done before.
async fn prepare_new(
    store: &dyn Store,
    passwords: &PasswordService,
    input: &NewUser,
) -> Result<(Connection, String, String)> {
    let connection = database_connection(store, &input.connection).await?;
    let email = email(
        input
            .email
            .as_deref()
            .ok_or_else(|| Error::Invalid("email is required".into()))?,
    )?;
    let password = input
        .password
        .as_deref()
        .ok_or_else(|| Error::Invalid("password is required".into()))?;
    check_username(&connection, input.username.as_deref())?;
    if let Some(id) = &input.user_id {
        check_local_id(id)?;
    }
    check_metadata("user_metadata", &input.user_metadata)?;
    check_metadata("app_metadata", &input.app_metadata)?;
    validate::profile_names(&[
        ("name", &input.name),
        ("nickname", &input.nickname),
        ("given_name", &input.given_name),
        ("family_name", &input.family_name),
    ])?;
    check_password(&connection, password, Some(&email))?;
    let hash = passwords.hash(password).await?;
    Ok((connection, email, hash))
}

/// Creates a database user with the connection's sign-up defaults, as
/// `POST /api/v2/users` does.
pub async fn create(ed: &Editor<'_>, passwords: &PasswordService, input: NewUser) -> Result<User> {
    let (connection, email, hash) = prepare_new(ed.store, passwords, &input).await?;
    let now = ed.clock.now();
    let local_id = input.user_id.unwrap_or_else(|| crate::ids::hex(12));
    let user = User {
        user_id: format!("{}|{local_id}", User::PROVIDER),
        connection: connection.name.clone(),
        name: input.name.or_else(|| Some(email.clone())),
        nickname: input
            .nickname
            .or_else(|| email.split('@').next().map(str::to_string)),
        email: Some(email),
        email_verified: input.email_verified,
        username: input.username,
        picture: input.picture,
        given_name: input.given_name,
        family_name: input.family_name,
        app_metadata: input.app_metadata,
        user_metadata: input.user_metadata,
        created_at: now,
        updated_at: now,
        last_login: None,
        last_ip: None,
        logins_count: 0,
        blocked: input.blocked,
        last_password_reset: None,
    };
    let tx = ed.begin().await?;
    let grant =
        super::default_assignments::grant_on(tx.as_ref(), &connection, AssignOn::Signup).await?;
    match tx.create_user(&user, Some(&hash), grant.as_ref()).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(Error::Conflict("The user already exists.".into()));
        }
        Err(e) => return Err(e.into()),
    }
    let change = UserChange::Create {
        user_id: user.user_id.clone(),
        connection: user.connection.clone(),
    };
    ed.commit(tx, [change]).await?;
    if let Some(grant) = &grant {
        super::default_assignments::record_applied(
            ed.store,
            ed.clock,
            &user.user_id,
            AssignOn::Signup,
            grant,
        )
        .await;
    }
    Ok(user)
}

pub async fn get(store: &dyn Store, user_id: &str) -> Result<User> {
    find(store, user_id).await
}

pub(crate) async fn find<S: UserStore + ?Sized>(store: &S, user_id: &str) -> Result<User> {
    store
        .find_user(user_id)
        .await?
        .ok_or(Error::NotFound { kind: "user" })
}

/// Deleting a user who does not exist succeeds, as in Auth0, and is not recorded: nothing
/// changed. Returns whether there was one.
pub async fn delete(ed: &Editor<'_>, user_id: &str) -> Result<bool> {
    let tx = ed.begin().await?;
    let existed = tx.delete_user(user_id).await?;
    let change = existed.then(|| UserChange::Delete {
        user_id: user_id.to_string(),
    });
    ed.commit(tx, change).await?;
    Ok(existed)
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

fn wrong_type(name: &str, expected: &str) -> Error {
    Error::Invalid(format!("{name} must be {expected}"))
}

/// Auth0's merge: one level deep, `null` removes a key, `{}` (or `null`) empties it all.
pub(crate) fn merge_metadata(
    name: &str,
    stored: &mut Map<String, Value>,
    patch: &Value,
) -> Result<()> {
    match patch {
        Value::Null => {
            stored.clear();
            check_metadata(name, stored)
        }
        Value::Object(changes) => merge(name, stored, changes),
        _ => Err(wrong_type(name, "an object")),
    }
}

fn merge(name: &str, stored: &mut Map<String, Value>, changes: &Map<String, Value>) -> Result<()> {
    if changes.is_empty() {
        stored.clear();
    }
    for (key, value) in changes {
        if value.is_null() {
            stored.remove(key);
        } else {
            stored.insert(key.clone(), value.clone());
        }
    }
    check_metadata(name, stored)
}

/// How an update changes `app_metadata` or `user_metadata`.
#[derive(Debug, Clone, PartialEq)]
pub enum MetadataPatch {
    /// Every key removed.
    Clear,
    /// Auth0's merge, one level deep: each key set to its value (a sub-object replaces the
    /// stored one as a whole), or removed where the value is `null`. Empty, it clears, as
    /// Auth0's `{}` does.
    Merge(Map<String, Value>),
}

impl MetadataPatch {
    fn apply(&self, name: &str, stored: &mut Map<String, Value>) -> Result<()> {
        match self {
            MetadataPatch::Clear => merge_metadata(name, stored, &Value::Null),
            MetadataPatch::Merge(changes) => merge(name, stored, changes),
        }
    }
}

/// A change to a user. Fields left `None` keep their value; `Some(None)` removes an
/// optional attribute (Auth0's `null`).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct UserUpdate {
    pub blocked: Option<bool>,
    pub email_verified: Option<bool>,
    /// A new address is unverified unless `email_verified` is given too (Auth0).
    pub email: Option<String>,
    pub username: Option<Option<String>>,
    /// Checked against the connection's policy, stored hashed.
    pub password: Option<String>,
    pub name: Option<Option<String>>,
    pub nickname: Option<Option<String>>,
    pub picture: Option<Option<String>>,
    pub given_name: Option<Option<String>>,
    pub family_name: Option<Option<String>>,
    pub user_metadata: Option<MetadataPatch>,
    pub app_metadata: Option<MetadataPatch>,
    /// The connection the caller names the user's identity by: it must be the user's own,
    /// since a database user has one identity.
    pub connection: Option<String>,
    /// What Auth0's PATCH also carries for the verification mail its caller sends (the
    /// application the mail is for, and whether to send it): nothing to store, but named
    /// in the audit entry with the rest of the request.
    pub client_id: Option<Option<String>>,
    pub verify_email: Option<bool>,
}

impl UserUpdate {
    /// The attributes given, by their Auth0 names, in alphabetical order.
    pub fn attributes(&self) -> Vec<&'static str> {
        let given = [
            ("app_metadata", self.app_metadata.is_some()),
            ("blocked", self.blocked.is_some()),
            ("client_id", self.client_id.is_some()),
            ("connection", self.connection.is_some()),
            ("email", self.email.is_some()),
            ("email_verified", self.email_verified.is_some()),
            ("family_name", self.family_name.is_some()),
            ("given_name", self.given_name.is_some()),
            ("name", self.name.is_some()),
            ("nickname", self.nickname.is_some()),
            ("password", self.password.is_some()),
            ("picture", self.picture.is_some()),
            ("user_metadata", self.user_metadata.is_some()),
            ("username", self.username.is_some()),
            ("verify_email", self.verify_email.is_some()),
        ];
        given
            .into_iter()
            .filter_map(|(name, is_given)| is_given.then_some(name))
            .collect()
    }
}

/// A name shown for the user: no control characters.
fn profile_name(name: &str, value: &Option<String>) -> Result<Option<String>> {
    if let Some(text) = value {
        validate::no_control(name, text)?;
    }
    Ok(value.clone())
}

/// Applies `input` to `user` with every check, in the order of the attributes' names (the
/// order Auth0's refusals follow); the password is checked, not hashed.
fn apply(connection: &Connection, user: &mut User, input: &UserUpdate, now: i64) -> Result<()> {
    if let Some(named) = &input.connection
        && *named != user.connection
    {
        return Err(Error::Invalid(format!(
            "connection must be the user's connection, {}",
            user.connection
        )));
    }
    if let Some(patch) = &input.app_metadata {
        patch.apply("app_metadata", &mut user.app_metadata)?;
    }
    if let Some(blocked) = input.blocked {
        user.blocked = blocked;
    }
    let mut email_changed = false;
    if let Some(text) = &input.email {
        let new = email(text)?;
        email_changed = user.email.as_deref() != Some(new.as_str());
        user.email = Some(new);
    }
    if let Some(verified) = input.email_verified {
        user.email_verified = verified;
    }
    let names = [
        ("family_name", &input.family_name, &mut user.family_name),
        ("given_name", &input.given_name, &mut user.given_name),
        ("name", &input.name, &mut user.name),
        ("nickname", &input.nickname, &mut user.nickname),
    ];
    for (name, value, stored) in names {
        if let Some(value) = value {
            *stored = profile_name(name, value)?;
        }
    }
    if let Some(picture) = &input.picture {
        user.picture = picture.clone();
    }
    if let Some(patch) = &input.user_metadata {
        patch.apply("user_metadata", &mut user.user_metadata)?;
    }
    if let Some(username) = &input.username {
        check_username(connection, username.as_deref())?;
        user.username = username.clone();
    }
    if email_changed && input.email_verified.is_none() {
        user.email_verified = false;
    }
    if let Some(password) = &input.password {
        check_password(connection, password, user.email.as_deref())?;
        user.last_password_reset = Some(now);
    }
    user.updated_at = now;
    Ok(())
}

async fn user_and_connection<S: UserStore + ConnectionStore + ?Sized>(
    store: &S,
    user_id: &str,
) -> Result<(User, Connection)> {
    let user = find(store, user_id).await?;
    let connection = store
        .find_connection_by_name(&user.connection)
        .await?
        .ok_or(Error::NotFound { kind: "connection" })?;
    Ok((user, connection))
}

/// Applies `input` in `tx` and returns the user as written with the change to record.
/// `password` is `input.password` hashed.
async fn write_update(
    tx: &dyn Transaction,
    now: i64,
    user_id: &str,
    input: &UserUpdate,
    password: Option<&NewPassword>,
) -> Result<(User, UserChange)> {
    let (mut user, connection) = user_and_connection(tx, user_id).await?;
    apply(&connection, &mut user, input, now)?;
    match tx.update_user(&user, password).await {
        Ok(()) => {}
        Err(StoreError::NotFound) => return Err(Error::NotFound { kind: "user" }),
        Err(StoreError::Conflict(_)) => {
            return Err(Error::Conflict(
                "The specified new email or username already exists".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    let change = UserChange::Update {
        user_id: user.user_id.clone(),
        attributes: input.attributes(),
    };
    Ok((user, change))
}

/// `PATCH /api/v2/users/{id}`: applies `input` with Auth0's rules and returns the user as
/// stored. A refused change writes nothing.
pub async fn update(
    ed: &Editor<'_>,
    passwords: &PasswordService,
    user_id: &str,
    input: UserUpdate,
) -> Result<User> {
    let now = ed.clock.now();
    // Hashing takes long, and on SQLite a transaction holds the write lock throughout: the
    // password is hashed before, once the change is known to pass its checks.
    let password = match &input.password {
        Some(password) => {
            let (mut user, connection) = user_and_connection(ed.store, user_id).await?;
            apply(&connection, &mut user, &input, now)?;
            Some(passwords.new_password(password).await?)
        }
        None => None,
    };
    let tx = ed.begin().await?;
    let (user, change) = write_update(tx.as_ref(), now, user_id, &input, password.as_ref()).await?;
    ed.commit(tx, [change]).await?;
    Ok(user)
}

/// Sets a new password, checked against the connection's policy; recorded as an update of
/// `password`, as through the Management API.
pub async fn set_password(
    ed: &Editor<'_>,
    passwords: &PasswordService,
    user_id: &str,
    password: &str,
) -> Result<User> {
    let input = UserUpdate {
        password: Some(password.to_string()),
        ..UserUpdate::default()
    };
    update(ed, passwords, user_id, input).await
}

/// Sets the `blocked` flag: no log-in until it is lifted. Recorded as an update of
/// `blocked`, as through the Management API.
pub async fn block(ed: &Editor<'_>, user_id: &str) -> Result<User> {
    let input = UserUpdate {
        blocked: Some(true),
        ..UserUpdate::default()
    };
    let tx = ed.begin().await?;
    let (user, change) = write_update(tx.as_ref(), ed.clock.now(), user_id, &input, None).await?;
    ed.commit(tx, [change]).await?;
    Ok(user)
}

/// What an unblock lifts. A user can be kept from logging in two ways: by the `blocked`
/// flag an administrator sets, and by the blocks that repeated failed log-ins put on the
/// user from an address. Auth0 lifts them apart: `PATCH /api/v2/users/{id}` with
/// `blocked: false` clears the flag only (the Management API's PATCH is [`update`], which
/// does the same), and `DELETE /api/v2/user-blocks/{id}` lifts the failed log-in blocks
/// only. The console and the command line unblock a user so that they can log in again:
/// both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unblock {
    Flag,
    LoginBlocks,
    Everything,
}

impl Unblock {
    fn flag(self) -> bool {
        matches!(self, Unblock::Flag | Unblock::Everything)
    }

    fn login_blocks(self) -> bool {
        matches!(self, Unblock::LoginBlocks | Unblock::Everything)
    }
}

/// Lifts what `what` names, each recorded as its own entry: the flag as an update of
/// `blocked` (as through the Management API's PATCH), the failed log-in blocks as
/// `unblock_user_logins`. `NotFound` for an unknown user.
pub async fn unblock(ed: &Editor<'_>, user_id: &str, what: Unblock) -> Result<User> {
    let tx = ed.begin().await?;
    let mut changes = Vec::new();
    let user = if what.flag() {
        let input = UserUpdate {
            blocked: Some(false),
            ..UserUpdate::default()
        };
        let (user, change) =
            write_update(tx.as_ref(), ed.clock.now(), user_id, &input, None).await?;
        changes.push(change);
        user
    } else {
        find(tx.as_ref(), user_id).await?
    };
    if what.login_blocks() {
        tx.unblock_user_logins(&user.user_id).await?;
        changes.push(UserChange::UnblockLogins {
            user_id: user.user_id.clone(),
        });
    }
    ed.commit(tx, changes).await?;
    Ok(user)
}

/// The addresses the user is blocked from now by repeated failed log-ins (Auth0's
/// `GET /api/v2/user-blocks/{id}`). `NotFound` for an unknown user.
pub async fn login_blocks(
    store: &dyn Store,
    clock: &dyn Clock,
    user_id: &str,
) -> Result<(User, Vec<String>)> {
    let user = find(store, user_id).await?;
    let blocked_since = clock.now() - crate::login::password::BLOCK_SECONDS;
    let addresses = store.list_login_blocks(user_id, blocked_since).await?;
    Ok((user, addresses))
}

/// Mails the user a link to choose a new password (the forgotten-password mail), for the
/// application `client_id`. The recovery flow writes the link and the mail itself, as it
/// does for the public forgotten-password page; the entry is recorded once they are.
pub async fn send_password_reset(
    ed: &Editor<'_>,
    recovery: &Recovery<'_>,
    client_id: &str,
    user_id: &str,
    ctx: &RequestContext,
) -> Result<User> {
    let user = find(ed.store, user_id).await?;
    let email = user.email.clone().ok_or_else(|| {
        Error::Invalid("The user has no email address to send the link to.".into())
    })?;
    recovery
        .request_reset(client_id, &user.connection, &email, ctx)
        .await?;
    let tx = ed.begin().await?;
    let change = UserChange::SendPasswordReset {
        user_id: user.user_id.clone(),
    };
    ed.commit(tx, [change]).await?;
    Ok(user)
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
    fn an_update_names_its_attributes_in_the_order_a_patch_body_lists_them() {
        let update = UserUpdate {
            verify_email: Some(true),
            password: Some("secret".into()),
            app_metadata: Some(MetadataPatch::Clear),
            name: Some(None),
            ..UserUpdate::default()
        };
        let body = json!({"verify_email": true, "password": "secret", "app_metadata": null,
                          "name": null});
        let keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(update.attributes(), keys);
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
