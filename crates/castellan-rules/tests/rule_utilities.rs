//! `@auth0/rule-utilities`, used as Auth0's redirect and metadata templates use it.

use std::time::Duration;

use castellan_rules::{Effect, Limits, RuleOutcome, Sandbox, Setup, WorkerProgram};
use serde_json::{Map, Value, json};

async fn run(rule: &str, user: Value, context: Value) -> RuleOutcome {
    let sandbox = Sandbox::new(Limits {
        workers: 1,
        per_rule: Duration::from_secs(3),
        per_login: Duration::from_secs(10),
        worker: WorkerProgram::new(env!("CARGO_BIN_EXE_castellan-rules-worker"), &[]),
        ..Limits::default()
    });
    let mut configuration = Map::new();
    configuration.insert(
        "SESSION_TOKEN_SECRET".into(),
        json!("a secret of the tenant"),
    );
    let mut session = sandbox.open(Setup {
        configuration,
        domain: "tenant.example.com".into(),
        ..Setup::default()
    });
    session
        .run_rule("rule utilities", rule, user, context)
        .await
        .unwrap()
}

#[tokio::test]
async fn redirect_utilities_tell_when_a_redirect_is_possible() {
    let rule = r#"function (user, context, callback) {
  const { Auth0RedirectRuleUtilities } = require('@auth0/rule-utilities@0.1.0');
  const ruleUtils = new Auth0RedirectRuleUtilities(user, context, configuration);
  user.canRedirect = ruleUtils.canRedirect;
  user.isRedirectCallback = ruleUtils.isRedirectCallback;
  user.query = ruleUtils.queryParams;
  if (ruleUtils.canRedirect) {
    ruleUtils.doRedirect('https://verify.example.com/start', { generateSessionToken: false });
  }
  callback(null, user, context);
}"#;
    let login = run(
        rule,
        json!({"user_id": "auth0|1"}),
        json!({"protocol": "oidc-basic-profile", "request": {"query": {"state": "x"}}}),
    )
    .await;
    assert_eq!(login.user["canRedirect"], true);
    assert_eq!(login.user["isRedirectCallback"], false);
    assert_eq!(login.user["query"], json!({"state": "x"}));
    assert_eq!(
        login.context["redirect"],
        json!({"url": "https://verify.example.com/start"})
    );

    for context in [
        json!({"protocol": "oauth2-refresh-token"}),
        json!({"protocol": "oidc-basic-profile", "request": {"query": {"prompt": "none"}}}),
        json!({"protocol": "oidc-basic-profile", "multifactor": {"provider": "any"}}),
        json!({"protocol": "oidc-basic-profile", "redirect": {"url": "https://other.example.com"}}),
    ] {
        let outcome = run(rule, json!({"user_id": "auth0|1"}), context.clone()).await;
        assert_eq!(outcome.user["canRedirect"], false, "{context}");
    }

    let back = run(
        rule,
        json!({"user_id": "auth0|1"}),
        json!({"protocol": "redirect-callback"}),
    )
    .await;
    assert_eq!(back.user["isRedirectCallback"], true);
    assert_eq!(back.user["canRedirect"], false);
    assert_eq!(back.user["query"], json!({}));
}

#[tokio::test]
async fn user_update_utilities_set_namespaced_metadata_and_record_the_update() {
    let outcome = run(
        r#"async function (user, context, callback) {
  const { Auth0UserUpdateUtilities } = require('@auth0/rule-utilities@0.2.0');
  const userUtils = new Auth0UserUpdateUtilities(user, auth0, 'yoonik');
  user.before = userUtils.getAppMeta('status') === undefined && userUtils.getUserMeta('plan');
  userUtils.setAppMeta('status', 'verified');
  await userUtils.updateAppMeta();
  const plain = new Auth0UserUpdateUtilities(user, auth0);
  plain.setUserMeta('terms_accepted', true);
  await plain.updateUserMeta();
  try { await plain.updateUser(); } catch (e) { user.updateUser = e.message; }
  callback(null, user, context);
}"#,
        json!({"user_id": "auth0|7", "user_metadata": {"yoonik": {"plan": "pro"}}}),
        json!({}),
    )
    .await;
    assert_eq!(outcome.user["before"], "pro");
    assert_eq!(
        outcome.user["app_metadata"],
        json!({"yoonik": {"status": "verified"}})
    );
    assert_eq!(
        outcome.effects,
        vec![
            Effect::UpdateAppMetadata {
                user_id: "auth0|7".into(),
                value: json!({"yoonik": {"status": "verified"}}),
            },
            Effect::UpdateUserMetadata {
                user_id: "auth0|7".into(),
                value: json!({"yoonik": {"plan": "pro"}, "terms_accepted": true}),
            },
        ]
    );
    assert!(
        outcome.user["updateUser"]
            .as_str()
            .unwrap()
            .contains("not supported"),
        "{}",
        outcome.user["updateUser"]
    );
}

// Needs the `jsonwebtoken` module, which the rt-crypto branch adds.
#[tokio::test]
async fn a_session_token_made_before_a_redirect_validates_on_the_way_back() {
    let outcome = run(
        r#"function (user, context, callback) {
  const { Auth0RedirectRuleUtilities } = require('@auth0/rule-utilities');
  const out = new Auth0RedirectRuleUtilities(user, context, configuration);
  out.doRedirect('https://verify.example.com/start');
  const token = context.redirect.url.split('?session_token=')[1];
  const back = Object.assign({}, context, {
    protocol: 'redirect-callback',
    request: Object.assign({}, context.request, { query: { session_token: token } }),
  });
  const payload = new Auth0RedirectRuleUtilities(user, back, configuration).validateSessionToken();
  user.payload = { sub: payload.sub, iss: payload.iss, ip: payload.ip, expires: payload.exp - payload.iat };
  const stranger = new Auth0RedirectRuleUtilities({ user_id: 'auth0|2' }, back, configuration);
  try { stranger.validateSessionToken(); } catch (e) { user.stranger = e.name; }
  callback(null, user, context);
}"#,
        json!({"user_id": "auth0|1"}),
        json!({"protocol": "oidc-basic-profile", "request": {"ip": "203.0.113.9", "hostname": "tenant.example.com", "query": {}}}),
    )
    .await;
    assert_eq!(
        outcome.user["payload"],
        json!({"sub": "auth0|1", "iss": "https://tenant.example.com/", "ip": "203.0.113.9", "expires": 259_200})
    );
    assert_eq!(outcome.user["stranger"], "JsonWebTokenError");
}
