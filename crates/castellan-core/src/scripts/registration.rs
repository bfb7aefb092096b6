//! Post-user-registration actions, run when a user signs up.

use serde_json::{Map, json};

use super::Scripts;
use super::changes::{ChangeTarget, StoreTarget};
use super::engine::{Setup, Trigger};
use super::login::logs_json;
use super::run::{Stop, edit_of};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::events::{self, LogEventExt, RequestContext};
use crate::model::{Client, User};
use crate::store::Store;

/// Runs the post-user-registration actions of a new user. Their outcome cannot undo the
/// sign-up (as on Auth0); a failure is logged as a warning event.
pub async fn post_user_registration(
    store: &dyn Store,
    clock: &dyn Clock,
    scripts: &Scripts,
    client: Option<&Client>,
    user: &User,
    request: &RequestContext,
) -> Result<()> {
    let set = scripts.current(store).await?;
    let actions = &set.post_user_registration;
    if actions.is_empty() {
        return Ok(());
    }
    let target = StoreTarget { store, clock };
    let mut session = scripts.engine.open(Setup {
        configuration: Map::new(),
        domain: scripts.hostname.clone(),
        base_url: scripts.base_url.clone(),
        access_token: None,
        keep_global: true,
        redirect_state: None,
    });
    let mut current = user.clone();
    let mut failure = None;
    for action in actions {
        let event = json!({
            "user": current.to_auth0_json(),
            "connection": {"name": current.connection, "strategy": "auth0"},
            "request": {"ip": request.ip, "user_agent": request.user_agent, "hostname": scripts.hostname},
            "tenant": {"id": scripts.hostname},
            "client": client.map(|c| json!({"client_id": c.client_id, "name": c.name})),
            "secrets": action.secrets,
        });
        let outcome = session
            .run_action(
                &action.name,
                &action.source,
                Trigger::PostUserRegistration,
                event,
            )
            .await;
        let applied = match outcome {
            Err(e) => Err(format!("action {e}")),
            Ok(out) => match edit_of(&current.user_id, out.effects) {
                Err(reason) => Err(refused(&action.name, &reason)),
                Ok((edit, _)) => match target.apply(&action.name, &current, &edit).await {
                    Ok(after) => Ok(after),
                    Err(Error::Invalid(reason)) => Err(refused(&action.name, &reason)),
                    Err(other) => return Err(other),
                },
            },
        };
        match applied {
            Ok(after) => current = after,
            Err(description) => {
                failure = Some(description);
                break;
            }
        }
    }
    let logs = session.take_logs();
    if let Some(description) = failure {
        let mut event = events::event("w", description, request).user(user);
        if let Some(client) = client {
            event = event.client(client);
        }
        event.details =
            json!({"trigger": Trigger::PostUserRegistration.id(), "console": logs_json(&logs)});
        events::record(store, clock, event).await;
    }
    Ok(())
}

fn refused(action: &str, reason: &str) -> String {
    Stop::refused("action", action, reason)
        .description()
        .to_owned()
}
