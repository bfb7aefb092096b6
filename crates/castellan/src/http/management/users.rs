//! `/users` and `/users-by-email`: users of database connections in Auth0's wire shape.
//! Ids arrive percent-encoded (`auth0%7C…`) or raw.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{delete, get, patch, post};
use castellan_core::directory::users::{self, MetadataPatch, NewUser, Unblock, UserUpdate};
use castellan_core::model::User;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::fields::{Fields, select};
use super::paging::Listing;
use crate::app::AppState;
use crate::http::body::{JsonBody, QueryParams};
use crate::http::endpoint::{Endpoint, Scopes, Scopes::AnyOf, endpoint};
use crate::http::error::ApiError;
use crate::http::guard::{self, Caller};

/// Auth0 serves the first 1000 results of a user search.
const SEARCH_WINDOW: u64 = 1000;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        endpoint(
            Method::GET,
            "/users",
            AnyOf(&["read:users"]),
            "List or search users",
            get(list),
        ),
        endpoint(
            Method::POST,
            "/users",
            AnyOf(&["create:users"]),
            "Create a user",
            post(create),
        ),
        endpoint(
            Method::GET,
            "/users/{id}",
            AnyOf(&["read:users", "read:current_user", "read:user_idp_tokens"]),
            "Get a user (with read:current_user, the token's own user only)",
            get(read),
        ),
        endpoint(
            Method::PATCH,
            "/users/{id}",
            AnyOf(&[
                "update:users",
                "update:users_app_metadata",
                "update:current_user_metadata",
                "create:current_user_metadata",
            ]),
            "Update a user (with the current-user scopes, the token's own user_metadata only)",
            patch(update),
        ),
        endpoint(
            Method::DELETE,
            "/users/{id}",
            AnyOf(&["delete:users"]),
            "Delete a user",
            delete(remove),
        ),
        endpoint(
            Method::GET,
            "/user-blocks/{id}",
            AnyOf(&["read:users"]),
            "The addresses failed log-ins block a user from",
            get(read_blocks),
        ),
        endpoint(
            Method::DELETE,
            "/user-blocks/{id}",
            AnyOf(&["update:users"]),
            "Lift the blocks that failed log-ins put on a user",
            delete(remove_blocks),
        ),
        endpoint(
            Method::GET,
            "/users-by-email",
            AnyOf(&["read:users"]),
            "Find users by email",
            get(by_email),
        ),
    ]
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    connection: Option<String>,
    email: Option<String>,
    password: Option<String>,
    username: Option<String>,
    user_id: Option<String>,
    #[serde(default)]
    email_verified: bool,
    verify_email: Option<bool>,
    #[serde(default)]
    blocked: bool,
    name: Option<String>,
    nickname: Option<String>,
    picture: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    #[serde(default)]
    user_metadata: Map<String, Value>,
    #[serde(default)]
    app_metadata: Map<String, Value>,
}

async fn create(
    State(s): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateUserRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let connection = body.connection.ok_or_else(|| {
        ApiError::bad_request(
            "invalid_body",
            "Payload validation error: Missing required property: connection",
        )
    })?;
    // Auth0 mails a verification link unless the address is verified or the caller says not to.
    let verify = body.verify_email.unwrap_or(!body.email_verified);
    let request = NewUser {
        connection,
        email: body.email,
        password: body.password,
        username: body.username,
        user_id: body.user_id,
        email_verified: body.email_verified,
        blocked: body.blocked,
        name: body.name,
        nickname: body.nickname,
        picture: body.picture,
        given_name: body.given_name,
        family_name: body.family_name,
        user_metadata: body.user_metadata,
        app_metadata: body.app_metadata,
    };
    let user = users::create(&caller.editor(&s), &s.passwords, request).await?;
    if verify && !user.email_verified {
        send_verification(&s, &user).await;
    }
    Ok((StatusCode::CREATED, Json(user.to_auth0_json())))
}

/// A mail failure does not undo the change it follows.
async fn send_verification(s: &AppState, user: &User) {
    if let Err(e) = s.recovery().send_verification(user, None).await {
        tracing::warn!(cause = %e, "could not send the verification email");
    }
}

/// Reads any user; without these, only the token's own user (`read:current_user`).
const READ_ANY_USER: Scopes = AnyOf(&["read:users", "read:user_idp_tokens"]);
/// Changes anything of any user.
const UPDATE_ANY_USER: Scopes = AnyOf(&["update:users"]);
/// Changes the metadata of any user.
const UPDATE_ANY_METADATA: Scopes = AnyOf(&["update:users", "update:users_app_metadata"]);

/// What a PATCH may change with the caller's scopes, as Auth0 has it: everything with
/// `update:users`, both metadata objects of anyone with `update:users_app_metadata`, and
/// otherwise (the current-user scopes) the caller's own `user_metadata` only.
fn may_update(caller: &Caller, id: &str, patch: &Map<String, Value>) -> Result<(), ApiError> {
    if caller.holds(UPDATE_ANY_USER) {
        return Ok(());
    }
    let only = |allowed: &[&str]| patch.keys().all(|k| allowed.contains(&k.as_str()));
    if caller.holds(UPDATE_ANY_METADATA) {
        return if only(&["app_metadata", "user_metadata"]) {
            Ok(())
        } else {
            Err(guard::refused(UPDATE_ANY_USER))
        };
    }
    if !caller.is_user(id) {
        return Err(guard::refused(UPDATE_ANY_METADATA));
    }
    if only(&["user_metadata"]) {
        Ok(())
    } else {
        Err(guard::refused(UPDATE_ANY_METADATA))
    }
}

async fn read(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    q: QueryParams,
) -> Result<Json<Value>, ApiError> {
    if !caller.holds(READ_ANY_USER) && !caller.is_user(&id) {
        return Err(guard::refused(READ_ANY_USER));
    }
    let fields = Fields::from_query(&q)?;
    let user = users::get(s.store.as_ref(), &id).await?;
    Ok(Json(select(&fields, user.to_auth0_json())))
}

async fn list(State(s): State<AppState>, q: QueryParams) -> Result<Json<Value>, ApiError> {
    let listing = Listing::from_query(&q, false)?.within(SEARCH_WINDOW)?;
    let fields = Fields::from_query(&q)?;
    match q.get("search_engine") {
        None | Some("v3") | Some("v2") => {}
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid_query_string",
                format!("Query validation error: search_engine {other} is not supported; use v3"),
            ));
        }
    }
    let page = users::search(
        s.store.as_ref(),
        q.get("q"),
        q.get("connection"),
        q.get("sort"),
        listing.request(),
    )
    .await?;
    Ok(listing.respond_counted("users", page, |u| select(&fields, u.to_auth0_json())))
}

async fn update(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<Value>, ApiError> {
    let Value::Object(patch) = body else {
        return Err(ApiError::bad_request(
            "invalid_body",
            "Payload validation error: the body must be an object",
        ));
    };
    may_update(&caller, &id, &patch)?;
    let input = user_update(&patch)?;
    let verify = input.verify_email == Some(true);
    let user = users::update(&caller.editor(&s), &s.passwords, &id, input).await?;
    if verify && !user.email_verified {
        send_verification(&s, &user).await;
    }
    Ok(Json(user.to_auth0_json()))
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

fn wrong_type(name: &str, expected: &str) -> castellan_core::Error {
    castellan_core::Error::Invalid(format!("{name} must be {expected}"))
}

fn string(name: &str, value: &Value) -> Result<String, castellan_core::Error> {
    value
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| wrong_type(name, "a string"))
}

fn optional_string(name: &str, value: &Value) -> Result<Option<String>, castellan_core::Error> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(wrong_type(name, "a string or null")),
    }
}

fn boolean(name: &str, value: &Value) -> Result<bool, castellan_core::Error> {
    value
        .as_bool()
        .ok_or_else(|| wrong_type(name, "true or false"))
}

/// `null` or `{}` empties the object; otherwise Auth0's one-level merge.
fn metadata(name: &str, value: &Value) -> Result<MetadataPatch, castellan_core::Error> {
    match value {
        Value::Null => Ok(MetadataPatch::Clear),
        Value::Object(changes) => Ok(MetadataPatch::Merge(changes.clone())),
        _ => Err(wrong_type(name, "an object")),
    }
}

/// The PATCH body as a change, refused in Auth0's words when a name is unknown or a value
/// has the wrong type. What the values must be besides is the command's to check.
fn user_update(patch: &Map<String, Value>) -> Result<UserUpdate, castellan_core::Error> {
    if let Some(unknown) = patch.keys().find(|k| !PATCHABLE.contains(&k.as_str())) {
        return Err(castellan_core::Error::Invalid(format!(
            "Additional properties not allowed: {unknown}"
        )));
    }
    let mut input = UserUpdate::default();
    for (name, value) in patch {
        let name = name.as_str();
        match name {
            "blocked" => input.blocked = Some(boolean(name, value)?),
            "email_verified" => input.email_verified = Some(boolean(name, value)?),
            "email" => input.email = Some(string(name, value)?),
            "username" => input.username = Some(optional_string(name, value)?),
            "password" => input.password = Some(string(name, value)?),
            "name" => input.name = Some(optional_string(name, value)?),
            "nickname" => input.nickname = Some(optional_string(name, value)?),
            "picture" => input.picture = Some(optional_string(name, value)?),
            "given_name" => input.given_name = Some(optional_string(name, value)?),
            "family_name" => input.family_name = Some(optional_string(name, value)?),
            "user_metadata" => input.user_metadata = Some(metadata(name, value)?),
            "app_metadata" => input.app_metadata = Some(metadata(name, value)?),
            "connection" => input.connection = Some(string(name, value)?),
            "client_id" => input.client_id = Some(optional_string(name, value)?),
            "verify_email" => input.verify_email = Some(boolean(name, value)?),
            _ => {}
        }
    }
    Ok(input)
}

async fn remove(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    users::delete(&caller.editor(&s), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Auth0's `GET /user-blocks/{id}`: one entry per address, naming the user as they log in.
async fn read_blocks(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (user, addresses) = users::login_blocks(s.store.as_ref(), s.clock.as_ref(), &id).await?;
    let identifier = user.email.as_ref().or(user.username.as_ref());
    let blocked_for: Vec<Value> = addresses
        .into_iter()
        .map(|ip| json!({"identifier": identifier, "ip": ip, "connection": user.connection}))
        .collect();
    Ok(Json(json!({ "blocked_for": blocked_for })))
}

/// Auth0's `DELETE /user-blocks/{id}`: the blocks of failed log-ins only; the `blocked`
/// flag is PATCH's to lift.
async fn remove_blocks(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    users::unblock(&caller.editor(&s), &id, Unblock::LoginBlocks).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn by_email(State(s): State<AppState>, q: QueryParams) -> Result<Json<Value>, ApiError> {
    let fields = Fields::from_query(&q)?;
    let email = q.get("email").ok_or_else(|| {
        ApiError::bad_request(
            "invalid_query_string",
            "Query validation error: Missing required property: email",
        )
    })?;
    let found = users::by_email(s.store.as_ref(), email).await?;
    Ok(Json(Value::Array(
        found
            .iter()
            .map(|u| select(&fields, u.to_auth0_json()))
            .collect(),
    )))
}
