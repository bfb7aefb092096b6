//! What rules and actions ask for when they redirect the user, and the tokens
//! `api.redirect` makes and checks against the log-in's state.

use std::time::Duration;

use castellan_rules::{Effect, Limits, Sandbox, ScriptError, Setup, Trigger, WorkerProgram};
use serde_json::{Value, json};

fn sandbox() -> Sandbox {
    Sandbox::new(Limits {
        worker: WorkerProgram::new(env!("CARGO_BIN_EXE_castellan-rules-worker"), &[]),
        workers: 1,
        per_rule: Duration::from_millis(500),
        per_login: Duration::from_secs(2),
        ..Limits::default()
    })
}

fn setup(state: Option<&str>) -> Setup {
    Setup {
        domain: "login.example.com".into(),
        redirect_state: state.map(str::to_owned),
        ..Setup::default()
    }
}

/// The rule that sets `context.redirect` ends its batch, so the pipeline names it; the URL
/// stays on the `context` handed back.
#[tokio::test]
async fn a_rule_setting_context_redirect_ends_its_batch() {
    let sandbox = sandbox();
    let mut session = sandbox.open(setup(Some("s1")));
    let rules = vec![
        (
            "sends".to_owned(),
            "function (u, c, cb) { c.redirect = { url: 'https://x.example/' }; cb(null, u, c); }"
                .to_owned(),
        ),
        (
            "after".to_owned(),
            "function (u, c, cb) { cb(null, u, c); }".to_owned(),
        ),
    ];
    let batch = session
        .run_rules(&rules, json!({}), json!({"protocol": "oidc-basic-profile"}))
        .await
        .unwrap();
    assert_eq!(batch.ran, 1);
    assert_eq!(batch.outcome.effects, vec![Effect::RuleRedirect]);
    assert_eq!(
        batch.outcome.context["redirect"]["url"],
        "https://x.example/"
    );

    // Handed on to the next batch, it asks for nothing again.
    let next = session
        .run_rules(&rules[1..], json!({}), batch.outcome.context)
        .await
        .unwrap();
    assert_eq!(next.outcome.effects, vec![]);
}

const SEND: &str = r#"
exports.onExecutePostLogin = async (event, api) => {
  const token = api.redirect.encodeToken({ secret: 'k', payload: { n: 1 }, expiresInSeconds: 60 });
  api.idToken.setCustomClaim('token', token);
  api.redirect.sendUserTo('https://x.example/verify', { query: { session_token: token, skip: null } });
};
"#;

const CHECK: &str = r#"
exports.onContinuePostLogin = async (event, api) => {
  // Changing the event does not change where the token is read from.
  event.request.body.session_token = 'tampered';
  const payload = api.redirect.validateToken({ secret: 'k' });
  api.idToken.setCustomClaim('n', payload.n);
  api.idToken.setCustomClaim('sub', payload.sub);
};
"#;

fn claim(effects: &[Effect], name: &str) -> Option<Value> {
    effects.iter().find_map(|e| match e {
        Effect::IdTokenClaim { key, value } if key == name => Some(value.clone()),
        _ => None,
    })
}

#[tokio::test]
async fn send_user_to_is_recorded_and_its_token_validates_for_the_same_state_only() {
    let sandbox = sandbox();
    let event = json!({"user": {"user_id": "auth0|1"}, "request": {"query": {}, "body": {}}});
    let mut session = sandbox.open(setup(Some("s1")));
    let out = session
        .run_action("gate", SEND, Trigger::PostLogin, event.clone())
        .await
        .unwrap();
    let token = claim(&out.effects, "token").unwrap();
    let token = token.as_str().unwrap();
    let query = json!({"session_token": token}).as_object().unwrap().clone();
    assert!(out.effects.contains(&Effect::Redirect {
        url: "https://x.example/verify".into(),
        query,
    }));

    let back = |state: &str| {
        let sandbox = &sandbox;
        let event = json!({"user": {"user_id": "auth0|1"},
                           "request": {"query": {}, "body": {"session_token": token}}});
        let state = state.to_owned();
        async move {
            let mut session = sandbox.open(setup(Some(&state)));
            session
                .run_action("gate", CHECK, Trigger::PostLoginContinue, event)
                .await
        }
    };
    let out = back("s1").await.unwrap();
    assert_eq!(claim(&out.effects, "n"), Some(json!(1)));
    assert_eq!(claim(&out.effects, "sub"), Some(json!("auth0|1")));
    match back("s2").await {
        Err(ScriptError::Threw { message, .. }) => assert!(message.contains("state"), "{message}"),
        other => panic!("another log-in's token was accepted: {other:?}"),
    }

    // Where no browser waits, there is no state to bind a token to.
    let mut session = sandbox.open(setup(None));
    match session
        .run_action("gate", SEND, Trigger::PostLogin, event)
        .await
    {
        Err(ScriptError::Threw { message, .. }) => {
            assert!(message.contains("cannot be redirected"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}
