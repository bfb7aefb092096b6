//! The real log-in's scripted step: the scripts in memory, the extension's work, the run
//! against the store, and the tenant-log event when the scripts stop the log-in.

use serde_json::{Value, json};

use super::changes::StoreTarget;
use super::engine::LogLine;
use super::redirect::Resume;
use super::run::{PostLoginError, PostLoginOutcome, PostLoginRun, Stop};
use super::shape::{self, LoginFacts};
use super::{Script, Scripts, extension, geoip, management, risk};
use crate::clock::Clock;
use crate::events::{self, LogEventExt};
use crate::store::Store;

/// The real log-in's entry: loads the scripts, builds what they are handed, runs them
/// against the store, and records a failed log-in event (with the stack and the console
/// output) when they stop it. `None` when there is nothing to run. `redirect_state` is
/// the state of a log-in the scripts may send away (none where no browser waits), and
/// `resume` a suspended one coming back.
pub async fn post_login(
    store: &dyn Store,
    clock: &dyn Clock,
    scripts: &Scripts,
    facts: &LoginFacts<'_>,
    redirect_state: Option<&str>,
    resume: Option<Resume>,
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
    let (mut context, mut event) = (shape::context(facts), shape::event(facts));
    if let Some(locate) = &scripts.geoip {
        geoip::fill(locate.as_ref(), &facts.request.ip, &mut context, &mut event);
    }
    let all: Vec<&Script> = set.rules.iter().chain(&set.post_login).collect();
    if risk::wanted(&all) {
        let attempt = risk::Attempt {
            user_id: &facts.user.user_id,
            request: facts.request,
            before: facts.auth_time,
        };
        let assessment = risk::assess(store, scripts.geoip.as_deref(), &attempt)
            .await
            .map_err(crate::error::Error::from)?;
        event["authentication"]["riskAssessment"] = assessment.clone();
        context["riskAssessment"] = assessment;
    }
    let access_token = match &scripts.tokens {
        Some(tokens) if management::wanted(&set.rules) => {
            Some(management::rules_token(store, tokens).await?)
        }
        _ => None,
    };
    let run = PostLoginRun {
        scripts,
        set: &set,
        target: &target,
        user,
        user_json,
        context,
        event,
        access_token,
        redirect_state: redirect_state.map(str::to_owned),
        resume,
    };
    match run.run().await {
        // Until the log-in pages carry a second factor out (branch mfa-pages), asking for
        // one refuses a browser's log-in (one with a `redirect_state`), as before: a
        // control a script asked for is never dropped. Log-ins without a browser are
        // decided where their tokens are issued (`user_tokens::issue`, Auth0's
        // `mfa_required`).
        Ok(outcome)
            if redirect_state.is_some()
                && outcome
                    .multifactor
                    .as_ref()
                    .is_some_and(|m| m.provider != "none") =>
        {
            let stop = Stop::Failed {
                script: "multifactor".into(),
                description: "the scripts require multi-factor authentication, which is not \
                              configured"
                    .into(),
                stack: None,
            };
            record_stop(store, clock, facts, &stop, &outcome.logs).await;
            Err(PostLoginError::Stopped {
                stop,
                logs: outcome.logs,
            })
        }
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
    if let Stop::Unsupported { request, .. } = stop {
        event.details["unsupported"] = json!(request.name());
    }
    events::record(store, clock, event).await;
}
