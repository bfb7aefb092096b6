//! The scripted steps of a log-in (spec §8): after authentication, statistics and the
//! `first_login` defaults, the Authorization Extension's work, then the enabled rules in
//! their order, then the post-login actions in their binding order; the token is issued
//! from what they leave. Also the post-user-registration actions of a sign-up.
//!
//! Scripts never call back into the server: they record what they want (see
//! `castellan_rules::Effect`) and the pipeline applies it through a [`ChangeTarget`] after
//! each script, so the next script already sees the roles and groups it changed. Each
//! script's changes are one transaction; a script that fails changes nothing, though what
//! earlier scripts changed stays, as it does on Auth0, where they are REST calls. A SQLite
//! write transaction is not held open while JavaScript runs.

pub mod changes;
pub mod claims;
mod extension;
pub mod shape;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use castellan_rules::{Effect, Limits, LogLine, Sandbox, ScriptError, ScriptKind, Setup, Trigger};
use serde_json::{Map, Value, json};

use crate::clock::Clock;
use crate::directory::{actions, rules_configs};
use crate::error::{Error, Result};
use crate::events::{self, LogEventExt, RequestContext};
use crate::model::{self, Client, Connection, User};
use crate::paging::PageRequest;
use crate::secrets::MasterKey;
use crate::store::Store;
use changes::{ChangeTarget, Held, StoreTarget, UserEdit};
pub use extension::EXTENSION_RULE;
use shape::LoginFacts;

/// The sandbox and what scripts are given besides the log-in itself.
pub struct Scripts {
    sandbox: Sandbox,
    master: MasterKey,
    hostname: String,
    /// The scripts as last read, with the store's script generation they were read at.
    loaded: Mutex<Option<(i64, Arc<ScriptSet>)>>,
}

impl Scripts {
    /// `auth0.domain` and `context.request.hostname` are the issuer's host.
    pub fn new(limits: Limits, master: MasterKey, issuer: &str) -> Scripts {
        let without_scheme = issuer.split_once("://").map_or(issuer, |(_, rest)| rest);
        let hostname = without_scheme
            .split('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        Scripts {
            sandbox: Sandbox::new(limits),
            master,
            hostname,
            loaded: Mutex::new(None),
        }
    }

    /// What a log-in runs: read from the store again only when the script generation has
    /// moved, so a log-in costs one read for it however many scripts there are.
    pub async fn current(&self, store: &dyn Store) -> Result<Arc<ScriptSet>> {
        let generation = store.script_generation().await?;
        let cached = self.loaded.lock().ok().and_then(|l| l.clone());
        if let Some((at, set)) = cached
            && at == generation
        {
            return Ok(set);
        }
        let set = Arc::new(ScriptSet::load(store, self).await?);
        if let Ok(mut loaded) = self.loaded.lock() {
            *loaded = Some((generation, Arc::clone(&set)));
        }
        Ok(set)
    }

    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    pub fn hostname(&self) -> &str {
        &self.hostname
    }

    /// Refuses a script that does not compile (or a rule that is not a function), naming
    /// the line and column.
    pub async fn check_syntax(&self, kind: ScriptKind, name: &str, source: &str) -> Result<()> {
        match self.sandbox.check(kind, name, source).await {
            Ok(()) => Ok(()),
            Err(ScriptError::Syntax {
                line,
                column,
                message,
                ..
            }) => Err(Error::Invalid(format!(
                "script has a syntax error at line {line}, column {column}: {message}"
            ))),
            Err(other) => Err(Error::Internal(other.to_string())),
        }
    }
}

/// How the user got here, as Auth0 names it in `context.protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    AuthorizationCode,
    Password,
    RefreshToken,
}

impl Protocol {
    pub fn auth0_name(self) -> &'static str {
        match self {
            Protocol::AuthorizationCode => "oidc-basic-profile",
            Protocol::Password => "oauth2-password",
            Protocol::RefreshToken => "oauth2-refresh-token",
        }
    }

    fn grant_type(self) -> &'static str {
        match self {
            Protocol::AuthorizationCode => "authorization_code",
            Protocol::Password => "password",
            Protocol::RefreshToken => "refresh_token",
        }
    }
}

/// One script with what it runs with.
#[derive(Debug, Clone, Default)]
pub struct Script {
    pub name: String,
    pub source: String,
    /// An action's `event.secrets`.
    pub secrets: Map<String, Value>,
}

/// The scripts a log-in runs and the rules' `configuration`.
#[derive(Debug, Clone, Default)]
pub struct ScriptSet {
    pub rules: Vec<Script>,
    pub post_login: Vec<Script>,
    pub post_user_registration: Vec<Script>,
    pub configuration: Map<String, Value>,
    /// The Authorization Extension's settings, once it is configured.
    pub extension: Option<Map<String, Value>>,
    /// Connections by name (`context.connectionID`, `event.connection`).
    pub connections: BTreeMap<String, Connection>,
}

impl ScriptSet {
    /// The enabled rules in order (the extension's own rule is left out: its work is done
    /// natively) and the post-login actions bound, as deployed.
    pub async fn load(store: &dyn Store, scripts: &Scripts) -> Result<ScriptSet> {
        let rules: Vec<Script> = store
            .list_rules(Some(true), PageRequest::ALL)
            .await?
            .items
            .into_iter()
            .filter(|r| r.name != EXTENSION_RULE)
            .map(|r| Script {
                name: r.name,
                source: r.script,
                secrets: Map::new(),
            })
            .collect();
        let post_login = bound_actions(store, &scripts.master, Trigger::PostLogin).await?;
        let post_user_registration =
            bound_actions(store, &scripts.master, Trigger::PostUserRegistration).await?;
        let configuration = if rules.is_empty() {
            Map::new()
        } else {
            rules_configs::open_all(store, &scripts.master)
                .await?
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect()
        };
        Ok(ScriptSet {
            rules,
            post_login,
            post_user_registration,
            configuration,
            extension: store.configuration().await?.map(|c| c.settings),
            connections: store
                .list_connections(PageRequest::ALL)
                .await?
                .items
                .into_iter()
                .map(|c| (c.name.clone(), c))
                .collect(),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.post_login.is_empty()
    }
}

/// The actions bound to a trigger, as deployed, with their secrets opened.
async fn bound_actions(
    store: &dyn Store,
    master: &MasterKey,
    trigger: Trigger,
) -> Result<Vec<Script>> {
    let stored = match trigger {
        Trigger::PostLogin => model::Trigger::PostLogin,
        Trigger::PostUserRegistration => model::Trigger::PostUserRegistration,
    };
    Ok(actions::bound(store, master, stored)
        .await?
        .into_iter()
        .map(|a| Script {
            name: a.name,
            source: a.code,
            secrets: a
                .secrets
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        })
        .collect())
}

/// How the scripts change the token's scopes: a rule may replace the list
/// (`context.accessToken.scope`), actions add and remove.
#[derive(Debug, Clone, Default, PartialEq)]
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
}

impl Stop {
    /// What the client is told.
    pub fn description(&self) -> &str {
        match self {
            Stop::Unauthorized { message, .. } | Stop::Denied { message, .. } => message,
            Stop::Failed { description, .. } => description,
        }
    }

    fn script(&self) -> &str {
        match self {
            Stop::Unauthorized { script, .. }
            | Stop::Denied { script, .. }
            | Stop::Failed { script, .. } => script,
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
            stop: Stop::Failed {
                script: script.to_owned(),
                description: format!("{kind} '{script}' failed: {reason}"),
                stack: None,
            },
            logs: Vec::new(),
        },
        other => PostLoginError::Store(other),
    }
}

/// Splits a script's effects into the user edit and the rest.
fn edit_of(
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
}

impl PostLoginRun<'_> {
    pub async fn run(self) -> std::result::Result<PostLoginOutcome, PostLoginError> {
        let mut user = self.user;
        let mut held = self.target.held(&user).await?;
        let mut context = self.context;
        context["authorization"] = authorization_json(&held);
        let initial_scope = context["accessToken"]["scope"].clone();
        let mut session = self.scripts.sandbox.open(Setup {
            configuration: self.set.configuration.clone(),
            domain: self.scripts.hostname.clone(),
        });
        let mut rule_user = self.user_json;
        let mut authorization_changed = false;
        let stopped =
            |stop: Stop, session: &mut castellan_rules::Session| PostLoginError::Stopped {
                stop,
                logs: session.take_logs(),
            };
        let rules: Vec<(String, String)> = self
            .set
            .rules
            .iter()
            .map(|r| (r.name.clone(), r.source.clone()))
            .collect();
        let mut next = 0;
        // Rules go to the worker in batches that end at the first rule asking for a
        // change, so a log-in whose rules change nothing is one trip.
        while next < rules.len() {
            let batch = session
                .run_rules(&rules[next..], rule_user, context)
                .await
                .map_err(|e| stopped(script_failure("rule", e), &mut session))?;
            let name = &rules[next + batch.ran - 1].0;
            next += batch.ran;
            let out = batch.outcome;
            let (edit, _) = edit_of(&user.user_id, out.effects).map_err(|reason| {
                let stop = Stop::Failed {
                    script: name.clone(),
                    description: format!("rule '{name}' failed: {reason}"),
                    stack: None,
                };
                stopped(stop, &mut session)
            })?;
            user = self
                .target
                .apply(name, &user, &edit)
                .await
                .map_err(|e| with_logs(refused("rule", name, e), &mut session))?;
            rule_user = out.user;
            context = out.context;
            if edit.changes_authorization() {
                authorization_changed = true;
                held = self.target.held(&user).await?;
                context["authorization"] = authorization_json(&held);
            }
        }
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

        let mut event = self.event;
        let mut app_metadata = Map::new();
        let mut user_metadata = Map::new();
        for action in &self.set.post_login {
            event["user"] = user.to_auth0_json();
            event["authorization"] = json!({"roles": held.roles});
            event["secrets"] = Value::Object(action.secrets.clone());
            let out = session
                .run_action(
                    &action.name,
                    &action.source,
                    Trigger::PostLogin,
                    event.clone(),
                )
                .await
                .map_err(|e| stopped(script_failure("action", e), &mut session))?;
            let (edit, rest) = edit_of(&user.user_id, out.effects).map_err(|reason| {
                let stop = Stop::Failed {
                    script: action.name.clone(),
                    description: format!("action '{}' failed: {reason}", action.name),
                    stack: None,
                };
                stopped(stop, &mut session)
            })?;
            let mut denied = None;
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
                    _ => {}
                }
            }
            if let Some(message) = denied {
                let stop = Stop::Denied {
                    script: action.name.clone(),
                    message,
                };
                return Err(stopped(stop, &mut session));
            }
            user = self
                .target
                .apply(&action.name, &user, &edit)
                .await
                .map_err(|e| with_logs(refused("action", &action.name, e), &mut session))?;
            if edit.changes_authorization() {
                authorization_changed = true;
                held = self.target.held(&user).await?;
            }
        }
        // Actions' metadata is written once, at the end of a log-in that succeeds.
        if !(app_metadata.is_empty() && user_metadata.is_empty()) {
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
                .map_err(|e| with_logs(refused("action", "post-login actions", e), &mut session))?;
        }
        for (token, claims) in [("access", &access_claims), ("ID", &id_claims)] {
            if claims::size(claims) > claims::MAX_CUSTOM_CLAIMS_BYTES {
                let stop = Stop::Failed {
                    script: "custom claims".into(),
                    description: format!(
                        "the custom claims of the {token} token exceed {} KB",
                        claims::MAX_CUSTOM_CLAIMS_BYTES / 1024
                    ),
                    stack: None,
                };
                return Err(stopped(stop, &mut session));
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
        })
    }
}

fn with_logs(e: PostLoginError, session: &mut castellan_rules::Session) -> PostLoginError {
    match e {
        PostLoginError::Stopped { stop, mut logs } => {
            logs.extend(session.take_logs());
            PostLoginError::Stopped { stop, logs }
        }
        other => other,
    }
}

/// The real log-in's entry: loads the scripts, builds what they are handed, runs them
/// against the store, and records a failed log-in event (with the stack and the console
/// output) when they stop it. `None` when there is nothing to run.
pub async fn post_login(
    store: &dyn Store,
    clock: &dyn Clock,
    scripts: &Scripts,
    facts: &LoginFacts<'_>,
) -> std::result::Result<Option<PostLoginOutcome>, PostLoginError> {
    let set = scripts.current(store).await?;
    let policy = extension::policy(store, facts, set.extension.as_ref()).await?;
    if set.is_empty() && policy.is_none() {
        return Ok(None);
    }
    let facts = &LoginFacts {
        connection: set.connections.get(&facts.user.connection),
        ..*facts
    };
    if let Some(stop) = policy.as_ref().and_then(|p| p.refusal.clone()) {
        record_stop(store, clock, facts, &stop, &[]).await;
        return Err(PostLoginError::Stopped {
            stop,
            logs: Vec::new(),
        });
    }
    let target = StoreTarget { store, clock };
    let mut user = facts.user.clone();
    let mut user_json = user.to_auth0_json();
    if let Some(policy) = &policy {
        user = extension::apply(&target, &user, &mut user_json, policy).await?;
    }
    let run = PostLoginRun {
        scripts,
        set: &set,
        target: &target,
        user,
        user_json,
        context: shape::context(facts),
        event: shape::event(facts),
    };
    match run.run().await {
        Err(PostLoginError::Stopped { stop, logs }) => {
            record_stop(store, clock, facts, &stop, &logs).await;
            Err(PostLoginError::Stopped { stop, logs })
        }
        other => other.map(Some),
    }
}

/// Console output as the log event and the dry run show it.
pub fn logs_json(logs: &[LogLine]) -> Value {
    logs.iter()
        .map(|l| json!({"script": l.script, "level": l.level, "text": l.text}))
        .collect()
}

/// The operator's view of a stopped log-in: Auth0's `f` event, with what the script said.
async fn record_stop(
    store: &dyn Store,
    clock: &dyn Clock,
    facts: &LoginFacts<'_>,
    stop: &Stop,
    logs: &[LogLine],
) {
    let mut event = events::event("f", stop.description(), facts.request)
        .client(facts.client)
        .user(facts.user)
        .connection(&facts.user.connection);
    event.details = json!({
        "script": stop.script(),
        "stack": match stop { Stop::Failed { stack, .. } => stack.clone(), _ => None },
        "console": logs_json(logs),
    });
    events::record(store, clock, event).await;
}

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
    let mut session = scripts.sandbox.open(Setup {
        configuration: Map::new(),
        domain: scripts.hostname.clone(),
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
                Err(reason) => Err(format!("action '{}' failed: {reason}", action.name)),
                Ok((edit, _)) => match target.apply(&action.name, &current, &edit).await {
                    Ok(after) => Ok(after),
                    Err(Error::Invalid(reason)) => {
                        Err(format!("action '{}' failed: {reason}", action.name))
                    }
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
