//! `GET /mfa/authenticators` and `DELETE /mfa/authenticators/{id}`: the user's own
//! factors in Auth0's shape (`otp`, `oob` with its channel, `recovery-code`; an enrolment
//! not finished yet is listed with `active: false`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use castellan_core::mfa::{mfa_api, unenroll};
use castellan_core::model::{Authenticator, AuthenticatorKind};
use serde_json::{Value, json};

use super::{caller, insufficient_scope, refused, store_failed};
use crate::app::AppState;
use crate::http::context::Context;
use crate::http::error::no_store;

/// One factor as the MFA API lists it; none for the kinds that API does not show.
pub(crate) fn listed(a: &Authenticator) -> Option<Value> {
    let kind = a.kind.mfa_api_type()?;
    let mut out = json!({"id": a.id, "authenticator_type": kind, "active": a.confirmed});
    if a.kind == AuthenticatorKind::Email {
        out["oob_channel"] = json!("email");
        out["name"] = json!(a.email);
    } else if let Some(name) = &a.name {
        out["name"] = json!(name);
    }
    Some(out)
}

pub async fn list(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let (caller, user) = match caller(&s, &headers).await {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    if !caller.allows(mfa_api::READ) {
        return insufficient_scope(mfa_api::READ);
    }
    match s.store.list_authenticators(&user.user_id).await {
        Ok(all) => {
            let body: Vec<Value> = all.iter().filter_map(listed).collect();
            (no_store(), Json(body)).into_response()
        }
        Err(e) => store_failed(e.into()),
    }
}

/// Needs a token that passed a second factor (`remove:authenticators`, as on Auth0): a
/// password alone must not take a factor away.
pub async fn delete(
    State(s): State<AppState>,
    Context(ctx): Context,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (caller, user) = match caller(&s, &headers).await {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    if !caller.allows(mfa_api::REMOVE) {
        return insufficient_scope(mfa_api::REMOVE);
    }
    match unenroll::remove(&s.factors(), &user, &id, &ctx).await {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => refused(
            StatusCode::NOT_FOUND,
            "not_found",
            "Authenticator not found",
        ),
        Err(e) => store_failed(e),
    }
}
