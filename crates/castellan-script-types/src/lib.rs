//! What Castellan's log-in pipeline and a script engine exchange: the settings of a
//! session, the scripts' kinds and triggers, what a script asks for ([`Effect`]), prints
//! ([`LogLine`]) and hands back, and why it failed ([`ScriptError`]).
//!
//! Plain values only. `castellan-core` drives an engine through its port with these, and
//! `castellan-rules` (QuickJS) produces them; neither depends on the other, so the domain
//! builds without a JavaScript engine and the sandbox never learns the domain.

#![forbid(unsafe_code)]

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What every script of a session sees as globals.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Setup {
    /// `configuration`: a JSON object of strings (Auth0's rules settings).
    pub configuration: serde_json::Map<String, Value>,
    /// `auth0.domain`.
    pub domain: String,
    /// `auth0.baseUrl`: where the server's Management API answers (`{issuer}api/v2`).
    #[serde(default)]
    pub base_url: String,
    /// `auth0.accessToken`: a short-lived Management API token limited to `read:users
    /// update:users`, as Auth0 gave rules. `None` leaves it undefined (a log-in whose
    /// rules do not read it, a dry run, actions).
    #[serde(default)]
    pub access_token: Option<String>,
    /// Whether the session sees and keeps what earlier log-ins left on `global` (Auth0
    /// keeps `global` per container). Off for dry runs, which must neither see nor change
    /// what real log-ins share.
    pub keep_global: bool,
    /// The state of a log-in that can send the browser away and resume at `/continue`:
    /// what `api.redirect.encodeToken` puts in a token's `state` claim and what
    /// `validateToken` compares it with. `None` where no browser is there to redirect.
    #[serde(default)]
    pub redirect_state: Option<String>,
}

/// The trigger an action runs for; it decides the handler and the `api` it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Trigger {
    PostLogin,
    /// A post-login action resumed at `/continue` after it sent the user away.
    PostLoginContinue,
    PostUserRegistration,
}

impl Trigger {
    pub fn id(self) -> &'static str {
        match self {
            Trigger::PostLogin | Trigger::PostLoginContinue => "post-login",
            Trigger::PostUserRegistration => "post-user-registration",
        }
    }

    /// The function an action's module exports for this trigger.
    pub fn handler(self) -> &'static str {
        match self {
            Trigger::PostLogin => "onExecutePostLogin",
            Trigger::PostLoginContinue => "onContinuePostLogin",
            Trigger::PostUserRegistration => "onExecutePostUserRegistration",
        }
    }
}

/// What kind of script a source is, for a syntax check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScriptKind {
    /// `function (user, context, callback) {...}`
    Rule,
    /// A module body that assigns `exports.onExecute...`.
    Action,
}

/// The result of a rule that called `callback(null, user, context)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleOutcome {
    pub user: Value,
    pub context: Value,
    /// What the rule asked for, in order.
    pub effects: Vec<Effect>,
}

/// What a batch of rules got to: `ran` rules ran, and `outcome` is the last one's
/// (its effects are the only ones, since a rule that asks for a change ends the batch).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleBatch {
    pub ran: usize,
    pub outcome: RuleOutcome,
}

/// The result of an action whose handler finished.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionOutcome {
    /// What the action asked for, in order (an `api.access.deny` is one of them).
    pub effects: Vec<Effect>,
}

/// Why a script did not finish. Every variant names the script.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
pub enum ScriptError {
    /// `callback(new UnauthorizedError(message))`.
    #[error("'{script}' denied access: {message}")]
    Denied { script: String, message: String },
    /// `callback(err)` with any other error value, or a request the sandbox refuses.
    #[error("'{script}' failed: {message}")]
    Failed { script: String, message: String },
    /// The script threw or its promise was rejected (including stack overflow).
    #[error("'{script}' threw: {message}")]
    Threw {
        script: String,
        message: String,
        stack: Option<String>,
    },
    /// The script ran past its deadline, or the log-in past its own (even when it called
    /// back in the end).
    #[error("'{script}' timed out")]
    TimedOut { script: String },
    /// The script exhausted its memory limit.
    #[error("'{script}' ran out of memory")]
    OutOfMemory { script: String },
    /// The script finished (with no pending work) without calling back or settling.
    #[error("'{script}' never called back")]
    NeverCalledBack { script: String },
    /// The source does not compile, or is not of the expected shape.
    #[error("'{script}' has a syntax error at line {line}, column {column}: {message}")]
    Syntax {
        script: String,
        line: u32,
        column: u32,
        message: String,
    },
    /// No worker could take the script: its process could not be started, or died.
    #[error("'{script}' could not run: sandbox unavailable")]
    Unavailable { script: String },
}

impl ScriptError {
    /// The name of the script the error is about.
    pub fn script(&self) -> &str {
        match self {
            ScriptError::Denied { script, .. }
            | ScriptError::Failed { script, .. }
            | ScriptError::Threw { script, .. }
            | ScriptError::TimedOut { script }
            | ScriptError::OutOfMemory { script }
            | ScriptError::NeverCalledBack { script }
            | ScriptError::Syntax { script, .. }
            | ScriptError::Unavailable { script } => script,
        }
    }

    /// The stack trace, when the script threw.
    pub fn stack(&self) -> Option<&str> {
        match self {
            ScriptError::Threw { stack, .. } => stack.as_deref(),
            _ => None,
        }
    }
}

/// One line of `console` output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// `log`, `info`, `warn`, `error` or `debug`.
    pub level: String,
    /// The script that wrote it.
    pub script: String,
    pub text: String,
}

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
    /// `api.redirect.sendUserTo(url, {query})`: the browser goes to `url` with `query`
    /// (and the log-in's `state`) once the action has finished.
    Redirect {
        url: String,
        query: serde_json::Map<String, Value>,
    },
    /// A rule set `context.redirect`. Recorded as the rule does it so that the rule's batch
    /// ends there and the log names it; where the browser goes is read from the `context`
    /// the last rule hands back, as Auth0 redirects once every rule has run.
    RuleRedirect,
    /// `api.multifactor.enable`, `api.authentication.challengeWith*` or `enrollWith*`: the
    /// log-in needs a second factor before it completes. (A rule's `context.multifactor`
    /// is read from the `context` the last rule hands back.)
    Multifactor(MultifactorRequest),
    /// A request the log-in pipeline does not carry out. A security control a script asks
    /// for must never be dropped, so the caller refuses the log-in.
    Unsupported {
        request: Unsupported,
        /// Made by the rule before the one that recorded it, on a new `context` object it
        /// called back with (seen as the next rule was handed that object).
        by_previous_rule: bool,
    },
}

/// A script's demand for a second factor: Auth0's `context.multifactor` or
/// `api.multifactor.enable(provider, {allowRememberBrowser})`, or an action's
/// `api.authentication.challengeWith(factor, {additionalFactors})` /
/// `challengeWithAny(factors)` / `enrollWith*`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultifactorRequest {
    /// Auth0's provider: `any`, `guardian`, `google-authenticator`, `webauthn-roaming`,
    /// `webauthn-platform`, `duo`…, or `none`, which turns the tenant's policy off for this
    /// log-in.
    pub provider: String,
    /// A browser the user asked to remember may skip the challenge.
    pub allow_remember_browser: bool,
    /// The factor types (`otp`, `email`, `webauthn-roaming`, `webauthn-platform`,
    /// `recovery-code`…) an action named; empty for any.
    pub factors: Vec<String>,
    /// `enrollWith*`: a new factor is enrolled even if the user has one.
    pub enroll: bool,
}

/// What scripts may ask for that the pipeline does not implement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Unsupported {
    /// `context.samlConfiguration`, `api.samlResponse.*`.
    Saml,
}

impl Unsupported {
    /// The request named as [`Unsupported::name`] gives it.
    pub fn parse(name: &str) -> Option<Unsupported> {
        Some(match name {
            "saml" => Unsupported::Saml,
            _ => return None,
        })
    }

    /// The name `prelude.js` records it under.
    pub fn name(self) -> &'static str {
        match self {
            Unsupported::Saml => "saml",
        }
    }
}
