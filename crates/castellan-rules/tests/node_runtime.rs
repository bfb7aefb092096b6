//! The Node runtime rules were written for: modules by `require`, the Node globals, timers,
//! and callbacks as Auth0 honoured them (work started before calling back still finishes).

use std::time::Duration;

use castellan_rules::{Limits, Sandbox, ScriptError, WorkerProgram};
use serde_json::{Value, json};

fn sandbox() -> Sandbox {
    Sandbox::new(Limits {
        workers: 1,
        per_rule: Duration::from_millis(1500),
        per_login: Duration::from_secs(5),
        worker: WorkerProgram::new(env!("CARGO_BIN_EXE_castellan-rules-worker"), &[]),
        ..Limits::default()
    })
}

async fn run(rule: &str) -> Result<Value, ScriptError> {
    sandbox()
        .run_rule("node", rule, json!({"user_id": "auth0|1"}), json!({}))
        .await
        .map(|outcome| outcome.user)
}

#[tokio::test]
async fn buffer_url_and_text_encoding_behave_as_in_node() {
    let user = run(r#"function (user, context, callback) {
  user.b64 = Buffer.from('auth0|1:secret').toString('base64');
  user.hex = Buffer.from('aGk=', 'base64').toString('hex');
  const url = new URL('/path?a=1&b=two%20words#frag', 'https://tenant.example.com:8443');
  url.searchParams.append('c', 'x y');
  user.url = url.href;
  user.host = url.host;
  user.b = url.searchParams.get('b');
  const query = new URLSearchParams({ grant_type: 'client_credentials', scope: 'a b' });
  user.query = query.toString();
  user.bytes = Array.from(new TextEncoder().encode('é€'));
  user.text = new TextDecoder().decode(new TextEncoder().encode('é€😀'));
  user.env = typeof process.env;
  try { new URL('not a url'); } catch (e) { user.invalid = e instanceof TypeError; }
  callback(null, user, context);
}"#)
    .await
    .unwrap();
    assert_eq!(user["b64"], "YXV0aDB8MTpzZWNyZXQ=");
    assert_eq!(user["hex"], "6869");
    assert_eq!(
        user["url"],
        "https://tenant.example.com:8443/path?a=1&b=two+words&c=x+y#frag"
    );
    assert_eq!(user["host"], "tenant.example.com:8443");
    assert_eq!(user["b"], "two words");
    assert_eq!(user["query"], "grant_type=client_credentials&scope=a+b");
    assert_eq!(user["bytes"], json!([195, 169, 226, 130, 172]));
    assert_eq!(user["text"], "é€😀");
    assert_eq!(user["env"], "object");
    assert_eq!(user["invalid"], true);
}

#[tokio::test]
async fn a_versioned_name_gives_the_module_and_an_unknown_one_is_named() {
    let user = run(r#"function (user, context, callback) {
  user.same = require('buffer@5.7.1') === require('buffer');
  try { require('tedious'); } catch (e) { user.error = e.message; }
  callback(null, user, context);
}"#)
    .await
    .unwrap();
    assert_eq!(user["same"], true);
    assert_eq!(user["error"], "module 'tedious' is not available");
}

#[tokio::test]
async fn timers_run_in_order_within_the_deadline() {
    let user = run(r#"function (user, context, callback) {
  const order = [];
  setTimeout(() => order.push('late'), 30);
  const cancelled = setTimeout(() => order.push('cancelled'), 10);
  clearTimeout(cancelled);
  setImmediate(() => order.push('immediate'));
  Promise.resolve().then(() => order.push('microtask'));
  setTimeout(() => { user.order = order; callback(null, user, context); }, 40);
}"#)
    .await
    .unwrap();
    assert_eq!(user["order"], json!(["microtask", "immediate", "late"]));
}

#[tokio::test]
async fn work_started_before_the_callback_finishes_and_counts() {
    let outcome = sandbox()
        .run_rule(
            "early callback",
            r#"function (user, context, callback) {
  setTimeout(() => {
    user.app_metadata = { synced: true };
    auth0.users.updateAppMetadata(user.user_id, user.app_metadata);
  }, 20);
  callback(null, user, context);
}"#,
            json!({"user_id": "auth0|1"}),
            json!({}),
        )
        .await
        .unwrap();
    assert_eq!(outcome.user["app_metadata"], json!({"synced": true}));
    assert_eq!(outcome.effects.len(), 1, "{:?}", outcome.effects);
}

/// What the last timer queues (a promise job, as a request's answer is) still runs.
#[tokio::test]
async fn promise_jobs_queued_by_the_last_timer_run() {
    let user = run(r#"function (user, context, callback) {
  setTimeout(() => {
    Promise.resolve().then(() => { user.late = true; callback(null, user, context); });
  }, 5);
}"#)
    .await
    .unwrap();
    assert_eq!(user["late"], true);
}

#[tokio::test]
async fn a_timer_due_after_the_deadline_of_a_finished_rule_is_dropped() {
    let started = std::time::Instant::now();
    let user = run(r#"function (user, context, callback) {
  setTimeout(() => { throw new Error('never'); }, 60000);
  callback(null, user, context);
}"#)
    .await
    .unwrap();
    assert_eq!(user["user_id"], "auth0|1");
    assert!(started.elapsed() < Duration::from_secs(1), "it waited");
}

#[tokio::test]
async fn an_error_thrown_in_a_promise_continuation_fails_with_its_message() {
    let error = run(r#"function (user, context, callback) {
  Promise.resolve().then(() => { throw new Error('the CRM said no'); });
}"#)
    .await
    .unwrap_err();
    match error {
        ScriptError::Threw { message, .. } => assert_eq!(message, "the CRM said no"),
        other => panic!("expected the error's message, got {other:?}"),
    }
}

#[tokio::test]
async fn an_error_thrown_in_a_timer_before_the_callback_fails_with_its_message() {
    let error = run(r#"function (user, context, callback) {
  setTimeout(() => { JSON.parse('{'); callback(null, user, context); }, 5);
}"#)
    .await
    .unwrap_err();
    match error {
        ScriptError::Threw { message, .. } => assert!(message.contains("JSON"), "{message}"),
        other => panic!("expected the timer's error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_rejection_handled_later_in_the_same_turn_is_not_an_error() {
    let user = run(r#"function (user, context, callback) {
  const failing = Promise.reject(new Error('handled'));
  Promise.resolve().then(() => failing.catch(() => { user.caught = true; callback(null, user, context); }));
}"#)
    .await
    .unwrap();
    assert_eq!(user["caught"], true);
}

#[tokio::test]
async fn a_rule_waiting_on_a_timer_past_its_deadline_times_out() {
    let error = run(r#"function (user, context, callback) {
  setTimeout(() => callback(null, user, context), 60000);
}"#)
    .await
    .unwrap_err();
    assert!(matches!(error, ScriptError::TimedOut { .. }), "{error:?}");
}
