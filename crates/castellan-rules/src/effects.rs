//! What scripts ask for, recorded as data for the caller to apply, and what they print.
//! Both are held outside QuickJS's memory limit, hence the caps.

use serde_json::Value;

use crate::{Effect, LogLine, MultifactorRequest, Unsupported};

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
        "redirect" => Effect::Redirect {
            url: string(payload.get("url")?)?,
            query: payload.get("query")?.as_object()?.clone(),
        },
        "rule_redirect" => Effect::RuleRedirect,
        "multifactor" => Effect::Multifactor(MultifactorRequest {
            provider: string(payload.get("provider")?)?,
            allow_remember_browser: payload.get("allow_remember_browser")?.as_bool()?,
            factors: strings(payload.get("factors")?)?,
            enroll: payload.get("enroll")?.as_bool()?,
        }),
        "unsupported" => Effect::Unsupported {
            request: Unsupported::parse(payload.get("request")?.as_str()?)?,
            by_previous_rule: payload.get("by_previous_rule")?.as_bool()?,
        },
        _ => return None,
    })
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
            .and_then(|v| parse(kind, v))
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
