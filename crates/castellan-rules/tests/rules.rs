//! Normal Auth0-shaped rules.

use std::sync::Arc;
use std::time::Duration;

use castellan_rules::{Limits, Sandbox, WorkerProgram};
use serde_json::json;

/// The defaults, with this crate's worker program (the server runs its own binary).
fn defaults() -> Limits {
    Limits {
        worker: WorkerProgram::new(env!("CARGO_BIN_EXE_castellan-rules-worker"), &[]),
        ..Limits::default()
    }
}

fn sandbox() -> Sandbox {
    Sandbox::new(Limits {
        workers: 2,
        memory_bytes: 8 * 1024 * 1024,
        stack_bytes: 256 * 1024,
        per_rule: Duration::from_millis(500),
        per_login: Duration::from_secs(5),
        ..defaults()
    })
}

#[tokio::test]
async fn adds_a_namespaced_claim_to_the_id_token() {
    let sandbox = sandbox();
    let rule = r#"function addClaims(user, context, callback) {
  const namespace = 'https://example.com/';
  context.idToken[namespace + 'favorite_color'] = user.user_metadata.favorite_color;
  context.idToken[namespace + 'roles'] = (context.authorization || {}).roles;
  return callback(null, user, context);
}"#;
    let outcome = sandbox
        .run_rule(
            "add claims",
            rule,
            json!({"user_id": "auth0|1", "user_metadata": {"favorite_color": "blue"}}),
            json!({"clientID": "abc", "idToken": {}, "authorization": {"roles": ["admin"]}}),
        )
        .await
        .unwrap();
    assert_eq!(
        outcome.context["idToken"],
        json!({"https://example.com/favorite_color": "blue", "https://example.com/roles": ["admin"]})
    );
    assert_eq!(outcome.context["clientID"], json!("abc"));
}

#[tokio::test]
async fn sets_app_metadata_on_first_login() {
    let sandbox = sandbox();
    let rule = r#"function (user, context, callback) {
  user.app_metadata = user.app_metadata || {};
  if (context.stats.loginsCount === 1) {
    user.app_metadata.x = 'first';
    user.app_metadata.first_login = new Date(0).toISOString();
  }
  callback(null, user, context);
}"#;
    let outcome = sandbox
        .run_rule(
            "first login",
            rule,
            json!({"user_id": "auth0|1"}),
            json!({"stats": {"loginsCount": 1}}),
        )
        .await
        .unwrap();
    assert_eq!(
        outcome.user["app_metadata"],
        json!({"x": "first", "first_login": "1970-01-01T00:00:00.000Z"})
    );
}

#[tokio::test]
async fn a_hostile_rule_does_not_stop_other_runs() {
    let sandbox = Arc::new(sandbox());
    let looping = {
        let sandbox = Arc::clone(&sandbox);
        tokio::spawn(async move {
            sandbox
                .run_rule(
                    "loop",
                    "function (u, c, cb) { while (true) {} }",
                    json!({}),
                    json!({}),
                )
                .await
        })
    };
    for i in 0..20 {
        let outcome = sandbox
            .run_rule(
                "normal",
                "function (u, c, cb) { u.i = u.i + 1; cb(null, u, c); }",
                json!({"i": i}),
                json!({}),
            )
            .await
            .unwrap();
        assert_eq!(outcome.user["i"], json!(i + 1));
    }
    assert!(looping.await.unwrap().is_err());
}

/// Node runs Auth0's rules as sloppy scripts, so rules written for it may assign variables
/// they never declared, or read `this` as the global object.
#[tokio::test]
async fn rules_run_in_sloppy_mode_as_in_node() {
    let sandbox = sandbox();
    let rule = r#"function (user, context, callback) {
  total = 0;
  for (i = 0; i < 3; i++) { total += i; }
  context.idToken.total = total;
  context.idToken.global = this === global;
  callback(null, user, context);
}"#;
    // Twice, so the second run comes from the compiled cache.
    for _ in 0..2 {
        let outcome = sandbox
            .run_rule("sloppy", rule, json!({}), json!({"idToken": {}}))
            .await
            .unwrap();
        assert_eq!(
            outcome.context["idToken"],
            json!({"total": 3, "global": true})
        );
    }
}
