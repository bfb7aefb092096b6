//! `/users` and `/users-by-email`: users of database connections in Auth0's wire shape.
//! Ids arrive percent-encoded (`auth0%7C…`) or raw.

use std::collections::HashSet;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{delete, get, patch, post};
use castellan_core::directory::authentication_methods;
use castellan_core::directory::users::{self, MetadataPatch, NewUser, Unblock, UserUpdate};
use castellan_core::model::{Auth0User, User};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::fields::{Fields, select};
use super::paging::Listing;
use crate::app::AppState;
use crate::http::body::{JsonBody, QueryParams};
use crate::http::endpoint::{Endpoint, Scopes, Scopes::AnyOf, endpoint};
use crate::http::error::ApiError;
use crate::http::guard::{self, Caller};
use crate::http::wire_schema::Shape;

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
        )
        .answers(200, Shape::listing_of::<Auth0User>("users")),
        endpoint(
            Method::POST,
            "/users",
            AnyOf(&["create:users"]),
            "Create a user",
            post(create),
        )
        .takes(Shape::of::<CreateUserRequest>())
        .answers(201, Shape::of::<Auth0User>()),
        endpoint(
            Method::GET,
            "/users/{id}",
            AnyOf(&["read:users", "read:current_user", "read:user_idp_tokens"]),
            "Get a user (with read:current_user, the token's own user only)",
            get(read),
        )
        .answers(200, Shape::of::<Auth0User>()),
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
        )
        .takes(Shape::of::<UpdateUserRequest>())
        .answers(200, Shape::of::<Auth0User>()),
        endpoint(
            Method::DELETE,
            "/users/{id}",
            AnyOf(&["delete:users"]),
            "Delete a user",
            delete(remove),
        )
        .answers_empty(204),
        endpoint(
            Method::GET,
            "/user-blocks/{id}",
            AnyOf(&["read:users"]),
            "The addresses failed log-ins block a user from",
            get(read_blocks),
        )
        .answers(200, Shape::of::<UserBlocks>()),
        endpoint(
            Method::DELETE,
            "/user-blocks/{id}",
            AnyOf(&["update:users"]),
            "Lift the blocks that failed log-ins put on a user",
            delete(remove_blocks),
        )
        .answers_empty(204),
        endpoint(
            Method::GET,
            "/users-by-email",
            AnyOf(&["read:users"]),
            "Find users by email",
            get(by_email),
        )
        .answers(200, Shape::list_of::<Auth0User>()),
    ]
}

#[derive(Debug, Deserialize, ToSchema)]
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
    #[schema(value_type = Object)]
    user_metadata: Map<String, Value>,
    #[serde(default)]
    #[schema(value_type = Object)]
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
    Ok((StatusCode::CREATED, Json(user.to_auth0())))
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
fn may_update(caller: &Caller, id: &str, attributes: &[&str]) -> Result<(), ApiError> {
    if caller.holds(UPDATE_ANY_USER) {
        return Ok(());
    }
    let only = |allowed: &[&str]| attributes.iter().all(|a| allowed.contains(a));
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
    let enrolled = authentication_methods::enrolled(s.store.as_ref(), &user.user_id).await?;
    Ok(Json(select(&fields, user_json(&user, enrolled))))
}

/// The user as Auth0 shows it, with `multifactor: ["guardian"]` when the user has a
/// confirmed second factor.
fn user_json(user: &User, enrolled: bool) -> Value {
    let mut json = user.to_auth0_json();
    if enrolled {
        json["multifactor"] = serde_json::json!(["guardian"]);
    }
    json
}

/// Which of `found` have a second factor: one read for a whole page of users.
async fn enrolled_among(s: &AppState, found: &[User]) -> Result<HashSet<String>, ApiError> {
    let ids: Vec<String> = found.iter().map(|u| u.user_id.clone()).collect();
    Ok(authentication_methods::enrolled_among(s.store.as_ref(), &ids).await?)
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
    let enrolled = enrolled_among(&s, &page.items).await?;
    Ok(listing.respond_counted("users", page, |u| {
        let has = enrolled.contains(&u.user_id);
        select(&fields, user_json(&u, has))
    }))
}

async fn update(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<UpdateUserRequest>,
) -> Result<Json<Auth0User>, ApiError> {
    let input = UserUpdate::from(body);
    may_update(&caller, &id, &input.attributes())?;
    let verify = input.verify_email == Some(true);
    let user = users::update(&caller.editor(&s), &s.passwords, &id, input).await?;
    if verify && !user.email_verified {
        send_verification(&s, &user).await;
    }
    Ok(Json(user.to_auth0()))
}

/// Auth0's PATCH body. `null` clears an attribute the user may go without, and empties a
/// metadata object; an absent attribute is left as it is.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    blocked: Option<bool>,
    email_verified: Option<bool>,
    email: Option<String>,
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<String>)]
    username: Option<Option<String>>,
    password: Option<String>,
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<String>)]
    name: Option<Option<String>>,
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<String>)]
    nickname: Option<Option<String>>,
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<String>)]
    picture: Option<Option<String>>,
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<String>)]
    given_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<String>)]
    family_name: Option<Option<String>>,
    /// Merged one level deep, as Auth0 does; a key set to `null` is removed.
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<Object>)]
    user_metadata: Option<Option<Map<String, Value>>>,
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<Object>)]
    app_metadata: Option<Option<Map<String, Value>>>,
    connection: Option<String>,
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<String>)]
    client_id: Option<Option<String>>,
    verify_email: Option<bool>,
}

/// An attribute that was given, `null` included, as against one that was left out.
fn given<'de, T: Deserialize<'de>, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

fn metadata(patch: Option<Map<String, Value>>) -> MetadataPatch {
    patch.map_or(MetadataPatch::Clear, MetadataPatch::Merge)
}

impl From<UpdateUserRequest> for UserUpdate {
    fn from(body: UpdateUserRequest) -> Self {
        UserUpdate {
            blocked: body.blocked,
            email_verified: body.email_verified,
            email: body.email,
            username: body.username,
            password: body.password,
            name: body.name,
            nickname: body.nickname,
            picture: body.picture,
            given_name: body.given_name,
            family_name: body.family_name,
            user_metadata: body.user_metadata.map(metadata),
            app_metadata: body.app_metadata.map(metadata),
            connection: body.connection,
            client_id: body.client_id,
            verify_email: body.verify_email,
        }
    }
}

async fn remove(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    users::delete(&caller.editor(&s), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Auth0's answer to `GET /user-blocks/{id}`.
#[derive(Debug, Serialize, ToSchema)]
struct UserBlocks {
    blocked_for: Vec<LoginBlock>,
}

/// An address that failed log-ins block the user from, naming the user as they log in.
#[derive(Debug, Serialize, ToSchema)]
struct LoginBlock {
    identifier: Option<String>,
    ip: String,
    connection: String,
}

async fn read_blocks(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<UserBlocks>, ApiError> {
    let (user, addresses) = users::login_blocks(s.store.as_ref(), s.clock.as_ref(), &id).await?;
    let identifier = user.email.or(user.username);
    let blocked_for = addresses
        .into_iter()
        .map(|ip| LoginBlock {
            identifier: identifier.clone(),
            ip,
            connection: user.connection.clone(),
        })
        .collect();
    Ok(Json(UserBlocks { blocked_for }))
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
    let enrolled = enrolled_among(&s, &found).await?;
    Ok(Json(Value::Array(
        found
            .iter()
            .map(|u| select(&fields, user_json(u, enrolled.contains(&u.user_id))))
            .collect(),
    )))
}
