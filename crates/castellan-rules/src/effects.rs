//! What scripts ask for, recorded as data for the caller to apply, and what they print.
//! Both are held outside QuickJS's memory limit, hence the caps.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::LogLine;

/// One change a script asked for, with its arguments as they were at the call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Effect {
    /// `auth0.users.updateAppMetadata(user_id, value)`: a first-level merge.
    UpdateAppMetadata { user_id: String, value: Value },
    /// `auth0.users.updateUserMetadata(user_id, value)`: a first-level merge.
    UpdateUserMetadata { user_id: String, value: Value },
    /// `api.user.setAppMetadata(key, value)`.
    SetAppMetadata { key: String, value: Value },
    /// `api.user.setUserMetadata(key, value)`.
    SetUserMetadata { key: String, value: Value },
    /// `assignRoles([...])`: role names or ids.
    AssignRoles(Vec<String>),
    /// `removeRoles([...])`.
    RemoveRoles(Vec<String>),
    /// `addToGroups([...])`: group names or ids.
    AddToGroups(Vec<String>),
    /// `removeFromGroups([...])`.
    RemoveFromGroups(Vec<String>),
    /// `api.accessToken.setCustomClaim(key, value)`.
    AccessTokenClaim { key: String, value: Value },
    /// `api.idToken.setCustomClaim(key, value)`.
    IdTokenClaim { key: String, value: Value },
    /// `api.accessToken.addScope(scope)`.
    AddScope(String),
    /// `api.accessToken.removeScope(scope)`.
    RemoveScope(String),
    /// `api.access.deny(reason)`.
    Deny(String),
    /// A request the log-in pipeline does not carry out. A security control a script asks
    /// for must never be dropped, so the caller refuses the log-in.
    Unsupported {
        request: Unsupported,
        /// Made by the rule before the one that recorded it, on a new `context` object it
        /// called back with (seen as the next rule was handed that object).
        by_previous_rule: bool,
    },
}

/// What scripts may ask for that the pipeline does not implement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Unsupported {
    /// `context.multifactor`, `api.multifactor.enable`, `api.authentication.challengeWith*`
    /// and `enrollWith*`.
    Multifactor,
    /// `context.redirect`, `api.redirect.*`.
    Redirect,
    /// `context.samlConfiguration`, `api.samlResponse.*`.
    Saml,
}

impl Unsupported {
    fn parse(name: &str) -> Option<Unsupported> {
        Some(match name {
            "multifactor" => Unsupported::Multifactor,
            "redirect" => Unsupported::Redirect,
            "saml" => Unsupported::Saml,
            _ => return None,
        })
    }

    /// The name `prelude.js` records it under.
    pub fn name(self) -> &'static str {
        match self {
            Unsupported::Multifactor => "multifactor",
            Unsupported::Redirect => "redirect",
            Unsupported::Saml => "saml",
        }
    }
}

impl Effect {
    /// Reads what `prelude.js` recorded; `None` for anything it would not send.
    fn parse(kind: &str, payload: Value) -> Option<Effect> {
        let string = |v: &Value| v.as_str().map(str::to_owned);
        let strings = |v: &Value| -> Option<Vec<String>> {
            v.as_array()?
                .iter()
                .map(|x| x.as_str().map(str::to_owned))
                .collect()
        };
        let pair = |v: &Value| Some((string(v.get("key")?)?, v.get("value")?.clone()));
        let update = |v: &Value| Some((string(v.get("user_id")?)?, v.get("value")?.clone()));
        Some(match kind {
            "app_metadata" => {
                let (user_id, value) = update(&payload)?;
                Effect::UpdateAppMetadata { user_id, value }
            }
            "user_metadata" => {
                let (user_id, value) = update(&payload)?;
                Effect::UpdateUserMetadata { user_id, value }
            }
            "set_app_metadata" => {
                let (key, value) = pair(&payload)?;
                Effect::SetAppMetadata { key, value }
            }
            "set_user_metadata" => {
                let (key, value) = pair(&payload)?;
                Effect::SetUserMetadata { key, value }
            }
            "assign_roles" => Effect::AssignRoles(strings(&payload)?),
            "remove_roles" => Effect::RemoveRoles(strings(&payload)?),
            "add_to_groups" => Effect::AddToGroups(strings(&payload)?),
            "remove_from_groups" => Effect::RemoveFromGroups(strings(&payload)?),
            "access_token_claim" => {
                let (key, value) = pair(&payload)?;
                Effect::AccessTokenClaim { key, value }
            }
            "id_token_claim" => {
                let (key, value) = pair(&payload)?;
                Effect::IdTokenClaim { key, value }
            }
            "add_scope" => Effect::AddScope(string(&payload)?),
            "remove_scope" => Effect::RemoveScope(string(&payload)?),
            "deny" => Effect::Deny(string(&payload)?),
            "unsupported" => Effect::Unsupported {
                request: Unsupported::parse(payload.get("request")?.as_str()?)?,
                by_previous_rule: payload.get("by_previous_rule")?.as_bool()?,
            },
            _ => return None,
        })
    }
}

/// The most a session may record: Auth0 caps custom claims at 100 KB, and a log-in's
/// changes are of that order.
const MAX_EFFECT_BYTES: usize = 256 * 1024;
/// The console output kept per session; the rest is dropped and the cut is marked.
const MAX_LOG_BYTES: usize = 16 * 1024;
pub(crate) const TRUNCATED: &str = "[console output truncated]";

/// Per-session state the host functions write into.
#[derive(Default)]
pub(crate) struct Recorder {
    pub script: String,
    effects: Vec<Effect>,
    effect_bytes: usize,
    pub overflowed: bool,
    logs: Vec<LogLine>,
    log_bytes: usize,
    log_truncated: bool,
}

impl Recorder {
    pub fn record(&mut self, kind: &str, payload: &str) {
        self.effect_bytes += payload.len();
        if self.effect_bytes > MAX_EFFECT_BYTES {
            self.overflowed = true;
            return;
        }
        if let Some(effect) = serde_json::from_str(payload)
            .ok()
            .and_then(|v| Effect::parse(kind, v))
        {
            self.effects.push(effect);
        }
    }

    pub fn log(&mut self, level: &str, text: &str) {
        if self.log_truncated {
            return;
        }
        if self.log_bytes + text.len() > MAX_LOG_BYTES {
            self.log_truncated = true;
            self.logs.push(LogLine {
                level: "warn".into(),
                script: self.script.clone(),
                text: TRUNCATED.into(),
            });
            return;
        }
        self.log_bytes += text.len();
        self.logs.push(LogLine {
            level: level.to_owned(),
            script: self.script.clone(),
            text: text.to_owned(),
        });
    }

    /// Whether the current script asked for a change yet (or for more than it may).
    pub fn has_effects(&self) -> bool {
        !self.effects.is_empty() || self.overflowed
    }

    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    pub fn take_logs(&mut self) -> Vec<LogLine> {
        std::mem::take(&mut self.logs)
    }
}

pub(crate) fn max_effect_bytes() -> usize {
    MAX_EFFECT_BYTES
}
