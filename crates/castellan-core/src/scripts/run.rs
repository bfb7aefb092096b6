//! Running a log-in's rules and post-login actions in one session, applying what each
//! script asked for before the next one runs, and collecting what the tokens get.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::changes::{ChangeTarget, Held, UserEdit};
use super::engine::{
    Effect, LogLine, MultifactorRequest, ScriptError, ScriptSession, Setup, Trigger, Unsupported,
};
use super::redirect::{self, CALLBACK_PROTOCOL, Partial, Resume, ResumeAt, Suspension};
use super::{ScriptSet, Scripts, claims};
use crate::error::Error;
use crate::model::User;

/// How the scripts change the token's scopes: a rule may replace the list
/// (`context.accessToken.scope`), actions add and remove.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScopeEdit {
    pub replaced: Option<Vec<String>>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

impl ScopeEdit {
    pub fn apply(&self, granted: Vec<String>) -> Vec<String> {
        let mut scopes = self.replaced.clone().unwrap_or(granted);
        for s in &self.added {
            if !scopes.contains(s) {
                scopes.push(s.clone());
            }
        }
        scopes.retain(|s| !self.removed.contains(s));
        scopes
    }
}

/// What the scripts leave for the tokens.
#[derive(Debug, Clone)]
pub struct PostLoginOutcome {
    /// The user as the scripts left it (stored metadata included).
    pub user: User,
    /// The `user` object the last rule handed back (what the dry run prints).
    pub rule_user: Value,
    pub access_claims: Map<String, Value>,
    pub id_claims: Map<String, Value>,
    pub scopes: ScopeEdit,
    /// Roles or groups changed: permissions must be read again.
    pub authorization_changed: bool,
    pub held: Held,
    pub logs: Vec<LogLine>,
    /// The scripts sent the browser away: nothing is issued until the log-in resumes.
    pub redirect: Option<Suspension>,
    /// The scripts asked for a second factor before the log-in completes.
    pub multifactor: Option<MultifactorRequest>,
}

/// Why the scripts stopped a log-in.
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    /// A rule called back with `UnauthorizedError`: Auth0's `unauthorized`.
    Unauthorized { script: String, message: String },
    /// An action called `api.access.deny`.
    Denied { script: String, message: String },
    /// A script threw, timed out, ran out of memory, never called back, or asked for
    /// something that does not exist.
    Failed {
        script: String,
        description: String,
        stack: Option<String>,
    },
    /// A script asked for something the pipeline does not carry out (multi-factor
    /// authentication, a redirect, SAML settings). Going on without it could drop a
    /// security control, so the log-in is refused.
    Unsupported {
        script: String,
        request: Unsupported,
        description: String,
    },
}

impl Stop {
    /// What the client is told.
    pub fn description(&self) -> &str {
        match self {
            Stop::Unauthorized { message, .. } | Stop::Denied { message, .. } => message,
            Stop::Failed { description, .. } | Stop::Unsupported { description, .. } => description,
        }
    }

    /// `kind` ("rule" or "action") `script` asked for `request`.
    pub(super) fn unsupported(kind: &str, script: &str, request: Unsupported) -> Stop {
        let description = match request {
            Unsupported::Saml => {
                format!("{kind} '{script}' set SAML response settings, which are not supported")
            }
        };
        Stop::Unsupported {
            script: script.to_owned(),
            request,
            description,
        }
    }

    /// A script asked for something that cannot be done (an unknown role, metadata of
    /// another user): the log-in fails naming it.
    pub(super) fn refused(kind: &str, script: &str, reason: &str) -> Stop {
        Stop::Failed {
            script: script.to_owned(),
            description: format!("{kind} '{script}' failed: {reason}"),
            stack: None,
        }
    }

    pub(super) fn script(&self) -> &str {
        match self {
            Stop::Unauthorized { script, .. }
            | Stop::Denied { script, .. }
            | Stop::Failed { script, .. }
            | Stop::Unsupported { script, .. } => script,
        }
    }
}

#[derive(Debug)]
pub enum PostLoginError {
    Stopped { stop: Stop, logs: Vec<LogLine> },
    Store(Error),
}

impl From<Error> for PostLoginError {
    fn from(e: Error) -> Self {
        PostLoginError::Store(e)
    }
}

fn script_failure(kind: &str, e: ScriptError) -> Stop {
    match e {
        ScriptError::Denied { script, message } if kind == "rule" => {
            Stop::Unauthorized { script, message }
        }
        other => Stop::Failed {
            script: other.script().to_owned(),
            stack: other.stack().map(str::to_owned),
            description: format!("{kind} {other}"),
        },
    }
}

/// A script's change was refused (an unknown role, metadata that is not an object): the
/// log-in fails naming the script; anything else is the store's failure.
fn refused(kind: &str, script: &str, e: Error) -> PostLoginError {
    match e {
        Error::Invalid(reason) => PostLoginError::Stopped {
            stop: Stop::refused(kind, script, &reason),
            logs: Vec::new(),
        },
        other => PostLoginError::Store(other),
    }
}

/// Splits a script's effects into the user edit and the rest.
pub(super) fn edit_of(
    user_id: &str,
    effects: Vec<Effect>,
) -> std::result::Result<(UserEdit, Vec<Effect>), String> {
    let mut edit = UserEdit::default();
    let mut rest = Vec::new();
    for effect in effects {
        match effect {
            Effect::UpdateAppMetadata { user_id: id, value }
            | Effect::UpdateUserMetadata { user_id: id, value }
                if id != user_id =>
            {
                let _ = value;
                return Err(format!(
                    "only the user logging in can be updated, not '{id}'"
                ));
            }
            Effect::UpdateAppMetadata { value, .. } => edit.app_metadata.push(value),
            Effect::UpdateUserMetadata { value, .. } => edit.user_metadata.push(value),
            Effect::AssignRoles(r) => edit.assign_roles.extend(r),
            Effect::RemoveRoles(r) => edit.remove_roles.extend(r),
            Effect::AddToGroups(g) => edit.add_groups.extend(g),
            Effect::RemoveFromGroups(g) => edit.remove_groups.extend(g),
            other => rest.push(other),
        }
    }
    Ok((edit, rest))
}

/// The first request among a script's effects that the pipeline does not carry out, and
/// whether the rule before made it.
fn first_unsupported(effects: &[Effect]) -> Option<(Unsupported, bool)> {
    effects.iter().find_map(|e| match e {
        Effect::Unsupported {
            request,
            by_previous_rule,
        } => Some((*request, *by_previous_rule)),
        _ => None,
    })
}

/// What a rule's `context` asks for that the pipeline does not carry out. The sandbox
/// records these as they are made; this reads the `context` a rule called back with, in
/// case it is a new object.
fn unsupported_in_context(context: &Value) -> Option<Unsupported> {
    match &context["samlConfiguration"] {
        Value::Null => None,
        Value::Object(settings) if settings.is_empty() => None,
        _ => Some(Unsupported::Saml),
    }
}

/// A rule's `context.multifactor = {provider, allowRememberBrowser}`, as the last rule left
/// it (Auth0 reads it once every rule has run). Anything but an object with a provider asks
/// for nothing, as on Auth0, where only `provider` is read.
fn multifactor_of_context(context: &Value) -> Option<MultifactorRequest> {
    let asked = context["multifactor"].as_object()?;
    let provider = asked.get("provider")?.as_str()?;
    Some(MultifactorRequest {
        provider: provider.to_owned(),
        allow_remember_browser: asked.get("allowRememberBrowser") == Some(&Value::Bool(true)),
        factors: Vec::new(),
        enroll: false,
    })
}

fn authorization_json(held: &Held) -> Value {
    json!({"roles": held.roles, "groups": held.groups})
}

/// Runs the log-in's scripts. `context` and `event` are the shapes of [`shape`] (or what a
/// dry run was given); `authorization` is filled in here.
pub struct PostLoginRun<'a> {
    pub scripts: &'a Scripts,
    pub set: &'a ScriptSet,
    pub target: &'a dyn ChangeTarget,
    pub user: User,
    /// The `user` handed to the first rule (the stored user plus what the extension adds).
    pub user_json: Value,
    pub context: Value,
    pub event: Value,
    /// The rules' `auth0.accessToken` (see [`super::management`]).
    pub access_token: Option<String>,
    /// The state of a log-in a script may redirect (see [`Setup::redirect_state`]); `None`
    /// where no browser waits (the password, refresh-token and device-code grants), where
    /// a redirect fails the log-in.
    pub redirect_state: Option<String>,
    /// A suspended log-in resuming at `/continue`.
    pub resume: Option<Resume>,
}

/// A redirect asked for where it cannot be followed, or a second one: the log-in fails.
/// Auth0 refuses both: a redirect at the token endpoint (the password grant's answer is
/// that redirection is not available on /oauth/token, auth0/rules issue 121), and a second
/// redirect ("You can redirect a user once per authentication flow", "Redirect Users from
/// Within Rules").
fn redirect_refused(kind: &str, script: &str, resumed: bool) -> Stop {
    let why = if resumed {
        "a log-in is redirected at most once, and this one already was"
    } else {
        "redirection is not available on the /oauth/token endpoint, only from /authorize"
    };
    Stop::refused(kind, script, &format!("asked to redirect the user: {why}"))
}

impl PostLoginRun<'_> {
    pub async fn run(self) -> std::result::Result<PostLoginOutcome, PostLoginError> {
        let mut user = self.user;
        let mut held = self.target.held(&user).await?;
        let mut context = self.context;
        context["authorization"] = authorization_json(&held);
        let initial_scope = context["accessToken"]["scope"].clone();
        let mut session = self.scripts.engine.open(Setup {
            configuration: self.set.configuration.clone(),
            domain: self.scripts.hostname.clone(),
            base_url: self.scripts.base_url.clone(),
            access_token: self.access_token,
            keep_global: self.target.is_real(),
            redirect_state: self.redirect_state.clone(),
        });
        let resumed = self.resume.is_some();
        let mut event = self.event;
        let (resume_at, mut partial) = match self.resume {
            Some(Resume {
                at,
                partial,
                query,
                body,
            }) => {
                // The `/continue` request is the one the scripts now read.
                context["protocol"] = json!(CALLBACK_PROTOCOL);
                context["request"]["query"] = Value::Object(query.clone());
                context["request"]["body"] = Value::Object(body.clone());
                event["transaction"]["protocol"] = json!(CALLBACK_PROTOCOL);
                event["request"]["query"] = Value::Object(query);
                event["request"]["body"] = Value::Object(body);
                (Some(at), partial)
            }
            None => (None, Partial::default()),
        };
        let first_action = match &resume_at {
            Some(ResumeAt::Action { index, name }) => {
                if self.set.post_login.get(*index).map(|a| &a.name) != Some(name) {
                    let stop = Stop::refused(
                        "action",
                        name,
                        "the post-login actions changed while the user was redirected",
                    );
                    return Err(PostLoginError::Stopped {
                        stop,
                        logs: Vec::new(),
                    });
                }
                Some(*index)
            }
            _ => None,
        };
        let mut rule_user = self.user_json;
        let mut authorization_changed = false;
        let stopped = |stop: Stop, session: &mut dyn ScriptSession| PostLoginError::Stopped {
            stop,
            logs: session.take_logs(),
        };
        let rules: Vec<(String, String)> = self
            .set
            .rules
            .iter()
            .map(|r| (r.name.clone(), r.source.clone()))
            .collect();
        // A log-in resuming at an action ran its rules before it was sent away.
        let mut next = if first_action.is_some() {
            rules.len()
        } else {
            0
        };
        let mut redirect_by: Option<String> = None;
        // Rules go to the worker in batches that end at the first rule asking for a
        // change, so a log-in whose rules change nothing is one trip.
        while next < rules.len() {
            let batch = session
                .run_rules(&rules[next..], rule_user, context)
                .await
                .map_err(|e| stopped(script_failure("rule", e), session.as_mut()))?;
            let (first, last) = (next, next + batch.ran - 1);
            let name = &rules[last].0;
            next += batch.ran;
            let out = batch.outcome;
            let asked = first_unsupported(&out.effects)
                .map(|(request, by_previous)| {
                    // Within a batch, the rule before handed the request over on a new
                    // object; at a batch's start it came with the context the batch got.
                    let asker = if by_previous && last > first {
                        last - 1
                    } else {
                        last
                    };
                    (request, &rules[asker].0)
                })
                .or_else(|| unsupported_in_context(&out.context).map(|r| (r, name)));
            if let Some((request, asker)) = asked {
                let stop = Stop::unsupported("rule", asker, request);
                return Err(stopped(stop, session.as_mut()));
            }
            // The rule that set `context.redirect` ended its batch; one that handed it on a
            // new object is named by the batch it was first seen after.
            if redirect_by.is_none() && out.effects.contains(&Effect::RuleRedirect) {
                redirect_by = Some(name.clone());
            }
            let (edit, _) = edit_of(&user.user_id, out.effects).map_err(|reason| {
                stopped(Stop::refused("rule", name, &reason), session.as_mut())
            })?;
            user = self
                .target
                .apply(name, &user, &edit)
                .await
                .map_err(|e| with_logs(refused("rule", name, e), session.as_mut()))?;
            rule_user = out.user;
            context = out.context;
            if redirect_by.is_none() && !context["redirect"].is_null() {
                redirect_by = Some(name.clone());
            }
            if edit.changes_authorization() {
                authorization_changed = true;
                held = self.target.held(&user).await?;
                context["authorization"] = authorization_json(&held);
            }
        }
        // Auth0 sends the browser once all rules have run, with what the last one left.
        let rule_redirect = match redirect::of_context(&context) {
            _ if first_action.is_some() => None,
            None => None,
            Some(asked) => {
                let by = redirect_by.clone().unwrap_or_else(|| "rules".to_owned());
                if resumed || self.redirect_state.is_none() {
                    let stop = redirect_refused("rule", &by, resumed);
                    return Err(stopped(stop, session.as_mut()));
                }
                match asked {
                    Ok(url) => Some(Suspension {
                        url,
                        script: by,
                        at: ResumeAt::Rules,
                        partial: Partial::default(),
                    }),
                    Err(reason) => {
                        let stop = Stop::refused("rule", &by, &reason);
                        return Err(stopped(stop, session.as_mut()));
                    }
                }
            }
        };
        let mut access_claims = Map::new();
        let mut id_claims = Map::new();
        let token_claims = |token: &str, skip: &[&str]| -> Vec<(String, Value)> {
            context[token]
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter(|(k, _)| !skip.contains(&k.as_str()))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                })
                .unwrap_or_default()
        };
        claims::collect(&mut id_claims, token_claims("idToken", &[]));
        claims::collect(&mut access_claims, token_claims("accessToken", &["scope"]));
        let mut scopes = ScopeEdit::default();
        let final_scope = &context["accessToken"]["scope"];
        if *final_scope != initial_scope {
            scopes.replaced = Some(match final_scope {
                Value::String(s) => s.split_whitespace().map(str::to_owned).collect(),
                Value::Array(items) => items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            });
        }

        let mut app_metadata = Map::new();
        let mut user_metadata = Map::new();
        if first_action.is_some() {
            let taken = std::mem::take(&mut partial);
            access_claims = taken.access_claims;
            id_claims = taken.id_claims;
            scopes = taken.scopes;
            app_metadata = taken.app_metadata;
            user_metadata = taken.user_metadata;
            authorization_changed |= taken.authorization_changed;
        }
        let actions = if rule_redirect.is_some() {
            // The actions run after the rules, once the log-in resumes.
            &[][..]
        } else {
            &self.set.post_login[first_action.unwrap_or(0)..]
        };
        let mut suspension = rule_redirect;
        let mut multifactor = multifactor_of_context(&context);
        for (offset, action) in actions.iter().enumerate() {
            let index = first_action.unwrap_or(0) + offset;
            let trigger = if first_action == Some(index) {
                Trigger::PostLoginContinue
            } else {
                Trigger::PostLogin
            };
            event["user"] = user.to_auth0_json();
            event["authorization"] = json!({"roles": held.roles});
            event["secrets"] = Value::Object(action.secrets.clone());
            let out = session
                .run_action(&action.name, &action.source, trigger, event.clone())
                .await
                .map_err(|e| stopped(script_failure("action", e), session.as_mut()))?;
            let (edit, rest) = edit_of(&user.user_id, out.effects).map_err(|reason| {
                stopped(
                    Stop::refused("action", &action.name, &reason),
                    session.as_mut(),
                )
            })?;
            if let Some((request, _)) = first_unsupported(&rest) {
                let stop = Stop::unsupported("action", &action.name, request);
                return Err(stopped(stop, session.as_mut()));
            }
            let mut denied = None;
            let mut sent_to = None;
            for effect in rest {
                match effect {
                    Effect::AccessTokenClaim { key, value } => {
                        claims::collect(&mut access_claims, [(key, value)])
                    }
                    Effect::IdTokenClaim { key, value } => {
                        claims::collect(&mut id_claims, [(key, value)])
                    }
                    Effect::AddScope(s) => {
                        scopes.removed.retain(|r| *r != s);
                        scopes.added.push(s);
                    }
                    Effect::RemoveScope(s) => {
                        scopes.added.retain(|a| *a != s);
                        scopes.removed.push(s);
                    }
                    Effect::SetAppMetadata { key, value } => {
                        app_metadata.insert(key, value);
                    }
                    Effect::SetUserMetadata { key, value } => {
                        user_metadata.insert(key, value);
                    }
                    Effect::Deny(reason) => {
                        denied.get_or_insert(reason);
                    }
                    // The last call wins, as the redirect happens once the action is done.
                    Effect::Redirect { url, query } => sent_to = Some((url, query)),
                    // Taken apart by `edit_of`, or refused above: listed so that a new kind
                    // of request cannot be dropped here unnoticed.
                    Effect::UpdateAppMetadata { .. }
                    | Effect::UpdateUserMetadata { .. }
                    | Effect::AssignRoles(_)
                    | Effect::RemoveRoles(_)
                    | Effect::AddToGroups(_)
                    | Effect::RemoveFromGroups(_)
                    | Effect::Unsupported { .. }
                    | Effect::RuleRedirect => {}
                    // The last call wins, and an action's request replaces a rule's.
                    Effect::Multifactor(request) => multifactor = Some(request),
                }
            }
            if let Some(message) = denied {
                let stop = Stop::Denied {
                    script: action.name.clone(),
                    message,
                };
                return Err(stopped(stop, session.as_mut()));
            }
            user = self
                .target
                .apply(&action.name, &user, &edit)
                .await
                .map_err(|e| with_logs(refused("action", &action.name, e), session.as_mut()))?;
            if edit.changes_authorization() {
                authorization_changed = true;
                held = self.target.held(&user).await?;
            }
            if let Some((url, query)) = sent_to {
                if resumed || self.redirect_state.is_none() {
                    let stop = redirect_refused("action", &action.name, resumed);
                    return Err(stopped(stop, session.as_mut()));
                }
                let url = redirect::target(&url, &query).map_err(|reason| {
                    stopped(
                        Stop::refused("action", &action.name, &reason),
                        session.as_mut(),
                    )
                })?;
                suspension = Some(Suspension {
                    url,
                    script: action.name.clone(),
                    at: ResumeAt::Action {
                        index,
                        name: action.name.clone(),
                    },
                    partial: Partial {
                        access_claims: std::mem::take(&mut access_claims),
                        id_claims: std::mem::take(&mut id_claims),
                        scopes: std::mem::take(&mut scopes),
                        app_metadata: std::mem::take(&mut app_metadata),
                        user_metadata: std::mem::take(&mut user_metadata),
                        authorization_changed,
                    },
                });
                break;
            }
        }
        // Actions' metadata is written once, at the end of a log-in that succeeds; a
        // suspended one writes it, and checks the claims, when it resumes.
        let finishing = suspension.is_none();
        if finishing && !(app_metadata.is_empty() && user_metadata.is_empty()) {
            let edit = UserEdit {
                app_metadata: [app_metadata]
                    .into_iter()
                    .filter(|m| !m.is_empty())
                    .map(Value::Object)
                    .collect(),
                user_metadata: [user_metadata]
                    .into_iter()
                    .filter(|m| !m.is_empty())
                    .map(Value::Object)
                    .collect(),
                ..UserEdit::default()
            };
            user = self
                .target
                .apply("post-login actions", &user, &edit)
                .await
                .map_err(|e| {
                    with_logs(refused("action", "post-login actions", e), session.as_mut())
                })?;
        }
        for (token, claims) in [("access", &access_claims), ("ID", &id_claims)] {
            if finishing && claims::size(claims) > claims::MAX_CUSTOM_CLAIMS_BYTES {
                let stop = Stop::Failed {
                    script: "custom claims".into(),
                    description: format!(
                        "the custom claims of the {token} token exceed {} KB",
                        claims::MAX_CUSTOM_CLAIMS_BYTES / 1024
                    ),
                    stack: None,
                };
                return Err(stopped(stop, session.as_mut()));
            }
        }
        Ok(PostLoginOutcome {
            user,
            rule_user,
            access_claims,
            id_claims,
            scopes,
            authorization_changed,
            held,
            logs: session.take_logs(),
            redirect: suspension,
            multifactor,
        })
    }
}

fn with_logs(e: PostLoginError, session: &mut dyn ScriptSession) -> PostLoginError {
    match e {
        PostLoginError::Stopped { stop, mut logs } => {
            logs.extend(session.take_logs());
            PostLoginError::Stopped { stop, logs }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use async_trait::async_trait;

    use super::*;
    use crate::scripts::Script;
    use crate::scripts::changes::DryRunTarget;
    use crate::scripts::engine::{
        ActionOutcome, RuleBatch, RuleOutcome, ScriptEngine, ScriptKind, ScriptSession,
    };
    use crate::secrets::MasterKey;

    /// An engine that answers each script, by name, with the effects it was given, and
    /// remembers what each script was handed (a rule's context, an action's event): the
    /// pipeline's rules without JavaScript.
    #[derive(Clone)]
    struct Scripted {
        effects: Arc<HashMap<String, Vec<Effect>>>,
        ran: Arc<Mutex<Vec<(String, Value)>>>,
    }

    impl Scripted {
        fn new(effects: &[(&str, Vec<Effect>)]) -> Scripted {
            Scripted {
                effects: Arc::new(
                    (effects.iter())
                        .map(|(name, e)| ((*name).to_owned(), e.clone()))
                        .collect(),
                ),
                ran: Arc::default(),
            }
        }

        fn answer(&self, name: &str, handed: Value) -> Vec<Effect> {
            self.ran.lock().unwrap().push((name.to_owned(), handed));
            self.effects.get(name).cloned().unwrap_or_default()
        }

        fn ran(&self) -> Vec<String> {
            self.ran
                .lock()
                .unwrap()
                .iter()
                .map(|(n, _)| n.clone())
                .collect()
        }
    }

    #[async_trait]
    impl ScriptEngine for Scripted {
        async fn check(&self, _: ScriptKind, _: &str, _: &str) -> Result<(), ScriptError> {
            Ok(())
        }

        fn open(&self, _: Setup) -> Box<dyn ScriptSession> {
            Box::new(self.clone())
        }
    }

    #[async_trait]
    impl ScriptSession for Scripted {
        // One rule a batch, as the sandbox does when every rule asks for a change.
        async fn run_rules(
            &mut self,
            rules: &[(String, String)],
            user: Value,
            context: Value,
        ) -> Result<RuleBatch, ScriptError> {
            let effects = self.answer(&rules[0].0, context.clone());
            Ok(RuleBatch {
                ran: 1,
                outcome: RuleOutcome {
                    user,
                    context,
                    effects,
                },
            })
        }

        async fn run_action(
            &mut self,
            name: &str,
            _: &str,
            _: Trigger,
            event: Value,
        ) -> Result<ActionOutcome, ScriptError> {
            let effects = self.answer(name, event);
            Ok(ActionOutcome { effects })
        }

        fn take_logs(&mut self) -> Vec<LogLine> {
            Vec::new()
        }
    }

    fn user() -> User {
        User {
            user_id: "auth0|000000000000000000000001".into(),
            connection: "Username-Password-Authentication".into(),
            email: None,
            email_verified: false,
            username: None,
            name: None,
            nickname: None,
            picture: None,
            given_name: None,
            family_name: None,
            app_metadata: Map::new(),
            user_metadata: Map::new(),
            created_at: 0,
            updated_at: 0,
            last_login: None,
            last_ip: None,
            logins_count: 1,
            blocked: false,
            last_password_reset: None,
        }
    }

    async fn run(
        engine: &Scripted,
        rules: &[&str],
        actions: &[&str],
        target: &DryRunTarget,
    ) -> Result<PostLoginOutcome, PostLoginError> {
        let scripts = Scripts::new(
            Arc::new(engine.clone()),
            MasterKey::generate(),
            "https://tenant.example/",
        );
        let scripts_named = |names: &[&str]| -> Vec<Script> {
            (names.iter())
                .map(|n| Script {
                    name: (*n).to_owned(),
                    ..Script::default()
                })
                .collect()
        };
        let set = ScriptSet {
            rules: scripts_named(rules),
            post_login: scripts_named(actions),
            ..ScriptSet::default()
        };
        PostLoginRun {
            scripts: &scripts,
            set: &set,
            target,
            user: user(),
            user_json: json!({}),
            context: json!({}),
            event: json!({}),
            access_token: None,
            redirect_state: None,
            resume: None,
        }
        .run()
        .await
    }

    #[tokio::test]
    async fn a_scripts_role_change_is_applied_before_the_next_script_runs() {
        let engine = Scripted::new(&[("grant", vec![Effect::AssignRoles(vec!["editor".into()])])]);
        let target = DryRunTarget::new(Held::default());
        let outcome = run(&engine, &["grant", "rule after"], &["action"], &target)
            .await
            .unwrap();
        assert_eq!(engine.ran(), ["grant", "rule after", "action"]);
        let handed = engine.ran.lock().unwrap().clone();
        assert_eq!(handed[1].1["authorization"]["roles"], json!(["editor"]));
        assert_eq!(handed[2].1["authorization"]["roles"], json!(["editor"]));
        assert!(outcome.authorization_changed);
        assert_eq!(outcome.held.roles, ["editor"]);
    }

    #[tokio::test]
    async fn a_denial_stops_the_later_actions_and_drops_the_denying_actions_changes() {
        let engine = Scripted::new(&[(
            "deny",
            vec![
                Effect::AssignRoles(vec!["admin".into()]),
                Effect::Deny("closed".into()),
                Effect::Deny("ignored".into()),
            ],
        )]);
        let target = DryRunTarget::new(Held::default());
        let stopped = run(&engine, &[], &["deny", "after"], &target).await;
        match stopped {
            Err(PostLoginError::Stopped { stop, .. }) => assert_eq!(
                stop,
                Stop::Denied {
                    script: "deny".into(),
                    message: "closed".into()
                }
            ),
            other => panic!("expected a denial, got {other:?}"),
        }
        assert_eq!(engine.ran(), ["deny"]);
        assert!(target.edits().is_empty());
    }
}
