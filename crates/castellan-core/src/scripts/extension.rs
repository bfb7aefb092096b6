//! What the Authorization Extension's own rule did at every log-in (reference §1.5), done
//! natively before the user's rules, once the extension is configured: refuse end users a
//! token for the extension's API, put the policy's groups, roles and permissions on `user`,
//! and persist them to `app_metadata.authorization` when asked.

use serde_json::{Map, Value, json};

use super::Stop;
use super::changes::{ChangeTarget, UserEdit};
use super::shape::LoginFacts;
use crate::error::Result;
use crate::model::{Policy, User};
use crate::store::Store;

/// The name of the extension's rule; an imported rule of that name is kept but not run.
pub const EXTENSION_RULE: &str = "auth0-authorization-extension";
const EXTENSION_AUDIENCE: &str = "urn:auth0-authz-api";

pub(super) struct ExtensionPolicy {
    settings: Map<String, Value>,
    policy: Policy,
    /// Set when the log-in must fail as the extension's rule would fail it.
    pub refusal: Option<Stop>,
}

fn flag(settings: &Map<String, Value>, name: &str) -> bool {
    matches!(settings.get(name), Some(Value::Bool(true)))
        || matches!(
            settings.get(name).and_then(Value::as_str),
            Some("yes" | "true")
        )
}

pub(super) async fn policy(
    store: &dyn Store,
    facts: &LoginFacts<'_>,
    settings: Option<&Map<String, Value>>,
) -> Result<Option<ExtensionPolicy>> {
    let Some(settings) = settings.cloned() else {
        return Ok(None);
    };
    let refusal = (facts.audience == Some(EXTENSION_AUDIENCE)).then(|| Stop::Unauthorized {
        script: EXTENSION_RULE.into(),
        message: "no_end_users".into(),
    });
    let policy = store
        .policy(
            &facts.user.user_id,
            &facts.client.client_id,
            &facts.user.connection,
            &[],
        )
        .await?;
    Ok(Some(ExtensionPolicy {
        settings,
        policy,
        refusal,
    }))
}

/// Puts the policy on the rules' `user` and persists it when the settings ask.
pub(super) async fn apply(
    target: &dyn ChangeTarget,
    user: &User,
    user_json: &mut Value,
    found: &ExtensionPolicy,
) -> Result<User> {
    let parts = [
        ("groups", &found.policy.groups),
        ("roles", &found.policy.roles),
        ("permissions", &found.policy.permissions),
    ];
    let mut persisted = Map::new();
    for (name, values) in parts {
        let title = format!("{}{}", name[..1].to_uppercase(), &name[1..]);
        if flag(&found.settings, &format!("{name}InToken")) {
            user_json[name] = json!(values);
        }
        if flag(&found.settings, &format!("persist{title}")) {
            persisted.insert(name.into(), json!(values));
        }
    }
    if persisted.is_empty()
        || user.app_metadata.get("authorization") == Some(&Value::Object(persisted.clone()))
    {
        return Ok(user.clone());
    }
    let edit = UserEdit {
        app_metadata: vec![json!({"authorization": persisted})],
        ..UserEdit::default()
    };
    let after = target.apply(super::EXTENSION_RULE, user, &edit).await?;
    user_json["app_metadata"] = json!(after.app_metadata);
    Ok(after)
}
