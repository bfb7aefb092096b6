//! Multi-factor authentication in the console: a user's factors on the user's page (each
//! removable, all reset at once, remembered browsers forgotten), and the tenant's policy
//! and factors as a settings page. Every change goes through the same use cases as
//! `/api/v2/users/{id}/authentication-methods` and `/api/v2/guardian/*`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use castellan_core::directory::{authentication_methods as methods, guardian};
use castellan_core::mfa::policy::ALWAYS;
use castellan_core::model::Named;
use minijinja::context;
use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::{Admin, Confirm, ConsoleError, Outcome, Posted, done_or_again, finish, when};
use crate::app::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/mfa", get(settings))
        .route("/admin/mfa/policy", post(set_policy))
        .route("/admin/mfa/factors", post(set_factor))
        .route("/admin/users/{id}/mfa/remove", post(remove_factor))
        .route("/admin/users/{id}/mfa/reset", post(reset))
        .route(
            "/admin/users/{id}/mfa/forget-browsers",
            post(forget_browsers),
        )
}

/// The user's factors as the user's page lists them.
pub async fn factor_rows(s: &AppState, user_id: &str) -> Result<Vec<Json>, ConsoleError> {
    let listed = methods::list(s.store.as_ref(), user_id).await?;
    Ok(listed
        .iter()
        .map(|m| {
            json!({
                "id": m.id,
                "type": m.kind.name(),
                "name": m.name.clone().or_else(|| m.email.clone()),
                "confirmed": m.confirmed,
                "created_at": when(m.created_at),
                "last_auth_at": m.last_auth_at.map(when),
            })
        })
        .collect())
}

#[derive(Deserialize)]
pub struct FactorForm {
    #[serde(default)]
    method: String,
}

async fn remove_factor(
    State(s): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<FactorForm>,
) -> Response {
    let Posted { admin, form } = posted;
    let result = methods::delete(&admin.editor(&s), &id, &form.method)
        .await
        .map_err(ConsoleError::from);
    super::users::user_changed(&s, &admin, &id, "removed", result).await
}

async fn reset(
    State(s): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<Confirm>,
) -> Response {
    let admin = posted.admin;
    let result = methods::delete_all(&admin.editor(&s), &id)
        .await
        .map(|_| ())
        .map_err(ConsoleError::from);
    super::users::user_changed(&s, &admin, &id, "mfa-reset", result).await
}

async fn forget_browsers(
    State(s): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<Confirm>,
) -> Response {
    let admin = posted.admin;
    let result = methods::invalidate_remember_browser(&admin.editor(&s), &id)
        .await
        .map_err(ConsoleError::from);
    super::users::user_changed(&s, &admin, &id, "browsers-forgotten", result).await
}

async fn settings_page(
    s: &AppState,
    admin: &Admin,
    status: StatusCode,
    error: Option<String>,
) -> Outcome {
    let store = s.store.as_ref();
    let always = guardian::policies(store).await?.iter().any(|p| p == ALWAYS);
    let factors: Vec<Json> = guardian::factors(store)
        .await?
        .into_iter()
        .map(|(name, enabled)| json!({"name": name, "enabled": enabled}))
        .collect();
    Ok(super::page(
        s,
        admin,
        status,
        "admin/mfa.html",
        "mfa",
        context! {
            always => always,
            factors => super::to_value(&factors),
            error => error,
        },
    ))
}

async fn settings(State(s): State<AppState>, admin: Admin) -> Response {
    let outcome = settings_page(&s, &admin, StatusCode::OK, None).await;
    finish(&s, outcome)
}

#[derive(Deserialize)]
pub struct PolicyForm {
    #[serde(default)]
    policy: String,
}

async fn set_policy(State(s): State<AppState>, posted: Posted<PolicyForm>) -> Response {
    let Posted { admin, form } = posted;
    let result = async {
        let wanted = match form.policy.as_str() {
            "never" => Vec::new(),
            "always" => vec![ALWAYS.to_string()],
            _ => {
                return Err(ConsoleError::Refused(
                    "Choose when to ask for a second factor: never or always.".into(),
                ));
            }
        };
        guardian::set_policies(&admin.editor(&s), &wanted).await?;
        Ok(())
    }
    .await;
    done_or_again(&s, result, "/admin/mfa", "saved", |message| {
        settings_page(&s, &admin, StatusCode::BAD_REQUEST, Some(message))
    })
    .await
}

#[derive(Deserialize)]
pub struct FactorSwitch {
    #[serde(default)]
    name: String,
    #[serde(default)]
    enabled: String,
}

async fn set_factor(State(s): State<AppState>, posted: Posted<FactorSwitch>) -> Response {
    let Posted { admin, form } = posted;
    let result = async {
        let enabled = match form.enabled.as_str() {
            "true" => true,
            "false" => false,
            _ => return Err(ConsoleError::Refused("Choose on or off.".into())),
        };
        guardian::set_factor(&admin.editor(&s), &form.name, enabled).await?;
        Ok(())
    }
    .await;
    done_or_again(&s, result, "/admin/mfa", "saved", |message| {
        settings_page(&s, &admin, StatusCode::BAD_REQUEST, Some(message))
    })
    .await
}
