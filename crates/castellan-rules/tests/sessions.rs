//! Sessions (one log-in's scripts in one context), what scripts record, console output,
//! and actions.

use std::time::{Duration, Instant};

use castellan_rules::{
    Effect, Limits, MultifactorRequest, Sandbox, ScriptError, ScriptKind, Setup, Trigger,
    Unsupported, WorkerProgram,
};
use serde_json::{Map, json};

/// The defaults, with this crate's worker program (the server runs its own binary).
fn defaults() -> Limits {
    Limits {
        worker: WorkerProgram::new(env!("CARGO_BIN_EXE_castellan-rules-worker"), &[]),
        ..Limits::default()
    }
}

fn sandbox() -> Sandbox {
    Sandbox::new(Limits {
        workers: 1,
        memory_bytes: 8 * 1024 * 1024,
        stack_bytes: 256 * 1024,
        per_rule: Duration::from_millis(300),
        per_login: Duration::from_millis(700),
        ..defaults()
    })
}

fn setup() -> Setup {
    let mut configuration = Map::new();
    configuration.insert("DOMAIN".into(), json!("example.com"));
    Setup {
        configuration,
        domain: "login.example.com".into(),
        base_url: "https://login.example.com/api/v2".into(),
        access_token: None,
        keep_global: false,
        redirect_state: None,
    }
}

fn kept() -> Setup {
    Setup {
        keep_global: true,
        ..setup()
    }
}

/// Runs one rule in a session of its own and returns the `user` it handed back.
async fn user_after(sandbox: &Sandbox, setup: Setup, rule: &str) -> serde_json::Value {
    let mut session = sandbox.open(setup);
    let outcome = session.run_rule("r", rule, json!({}), context()).await;
    outcome.unwrap().user
}

fn context() -> serde_json::Value {
    json!({"clientID": "c", "authorization": {"roles": ["reader"], "groups": []}})
}

/// `auth0.baseUrl` always, `auth0.accessToken` only in a log-in given one.
#[tokio::test]
async fn auth0_carries_the_base_url_and_the_token_of_its_log_in() {
    let sandbox = sandbox();
    let rule = "function (u, c, cb) { u.base = auth0.baseUrl; u.has = 'accessToken' in auth0; \
                u.token = auth0.accessToken; cb(null, u, c); }";
    let with = Setup {
        access_token: Some("eyJ.token".into()),
        ..setup()
    };
    let user = user_after(&sandbox, with, rule).await;
    assert_eq!(user["base"], "https://login.example.com/api/v2");
    assert_eq!(user["token"], "eyJ.token");
    let user = user_after(&sandbox, setup(), rule).await;
    assert_eq!(user["base"], "https://login.example.com/api/v2");
    assert_eq!(user["has"], false);
}

#[tokio::test]
async fn rules_of_one_log_in_share_global_and_see_the_settings() {
    let sandbox = sandbox();
    let mut session = sandbox.open(setup());
    let first =
        "function (u, c, cb) { global.helper = function (x) { return x + '!'; }; cb(null, u, c); }";
    let second = "function (u, c, cb) { u.shout = global.helper(configuration.DOMAIN); u.domain = auth0.domain; cb(null, u, c); }";
    let user = json!({"user_id": "auth0|1"});
    let one = session
        .run_rule("one", first, user, context())
        .await
        .unwrap();
    let two = session
        .run_rule("two", second, one.user, one.context)
        .await
        .unwrap();
    assert_eq!(two.user["shout"], json!("example.com!"));
    assert_eq!(two.user["domain"], json!("login.example.com"));
    drop(session);
    // A new log-in starts from a fresh context.
    let mut session = sandbox.open(setup());
    let probe = "function (u, c, cb) { u.seen = typeof global.helper; cb(null, u, c); }";
    let out = session
        .run_rule("probe", probe, json!({}), context())
        .await
        .unwrap();
    assert_eq!(out.user["seen"], json!("undefined"));
}

#[tokio::test]
async fn configuration_is_read_only() {
    let sandbox = sandbox();
    let src =
        "function (u, c, cb) { 'use strict'; configuration.DOMAIN = 'evil'; cb(null, u, c); }";
    let err = sandbox
        .open(setup())
        .run_rule("write", src, json!({}), context())
        .await
        .unwrap_err();
    assert!(matches!(err, ScriptError::Threw { .. }), "{err:?}");
}

#[tokio::test]
async fn metadata_updates_are_recorded_with_promises_and_callbacks() {
    let sandbox = sandbox();
    let src = r#"function (user, context, callback) {
        user.app_metadata = user.app_metadata || {};
        user.app_metadata.first = 'now';
        auth0.users.updateUserMetadata(user.user_id, {theme: 'dark'}, function (err) {
          if (err) return callback(err);
          auth0.users.updateAppMetadata(user.user_id, user.app_metadata)
            .then(function () { user.app_metadata.later = 'not recorded'; callback(null, user, context); })
            .catch(function (err) { callback(err); });
        });
    }"#;
    let out = sandbox
        .open(setup())
        .run_rule("meta", src, json!({"user_id": "auth0|1"}), context())
        .await
        .unwrap();
    assert_eq!(
        out.effects,
        vec![
            Effect::UpdateUserMetadata {
                user_id: "auth0|1".into(),
                value: json!({"theme": "dark"})
            },
            Effect::UpdateAppMetadata {
                user_id: "auth0|1".into(),
                value: json!({"first": "now"})
            },
        ]
    );
    let bad = "function (u, c, cb) { auth0.users.updateAppMetadata(u.user_id, 'x').then(function () { cb(null, u, c); }, cb); }";
    let err = sandbox
        .open(setup())
        .run_rule("bad", bad, json!({"user_id": "auth0|1"}), context())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ScriptError::Failed { message, .. } if message.contains("app_metadata must be an object")),
        "{err:?}"
    );
}

#[tokio::test]
async fn authorization_helpers_record_and_stay_out_of_the_json() {
    let sandbox = sandbox();
    let src = r#"async function (user, context, callback) {
        await context.authorization.assignRoles(['editor', 'rol_x']);
        context.authorization.removeRoles('reader');
        context.authorization.addToGroups(['Staff']);
        callback(null, user, context);
    }"#;
    let out = sandbox
        .open(setup())
        .run_rule("native", src, json!({}), context())
        .await
        .unwrap();
    assert_eq!(
        out.effects,
        vec![
            Effect::AssignRoles(vec!["editor".into(), "rol_x".into()]),
            Effect::RemoveRoles(vec!["reader".into()]),
            Effect::AddToGroups(vec!["Staff".into()]),
        ]
    );
    assert_eq!(out.context, context(), "helpers are not data");
    let bad = "function (u, c, cb) { c.authorization.assignRoles([42]); cb(null, u, c); }";
    let err = sandbox
        .open(setup())
        .run_rule("bad", bad, json!({}), context())
        .await
        .unwrap_err();
    assert!(matches!(&err, ScriptError::Threw { message, .. } if message.contains("assignRoles")));
}

#[tokio::test]
async fn a_failed_script_keeps_none_of_its_changes() {
    let sandbox = sandbox();
    let mut session = sandbox.open(setup());
    let src =
        "function (u, c, cb) { c.authorization.assignRoles('admin'); throw new Error('boom'); }";
    assert!(
        session
            .run_rule("boom", src, json!({}), context())
            .await
            .is_err()
    );
    let next = "function (u, c, cb) { cb(null, u, c); }";
    let out = session
        .run_rule("next", next, json!({}), context())
        .await
        .unwrap();
    assert!(out.effects.is_empty());
}

#[tokio::test]
async fn console_output_is_captured_with_the_script_name_and_capped() {
    let sandbox = sandbox();
    let mut session = sandbox.open(setup());
    let src = "function (u, c, cb) { console.log('hello', {a: 1}, 2); console.error(new Error('bad')); cb(null, u, c); }";
    session
        .run_rule("talk", src, json!({}), context())
        .await
        .unwrap();
    let logs = session.take_logs();
    assert_eq!(logs[0].script, "talk");
    assert_eq!(logs[0].level, "log");
    assert_eq!(logs[0].text, r#"hello {"a":1} 2"#);
    assert_eq!(logs[1].level, "error");
    assert!(logs[1].text.contains("bad"));
    let flood = "function (u, c, cb) { for (var i = 0; i < 100000; i++) console.log('xxxxxxxxxxxxxxxxxxxxxxxx'); throw new Error('after the flood'); }";
    assert!(
        session
            .run_rule("flood", flood, json!({}), context())
            .await
            .is_err()
    );
    let logs = session.take_logs();
    assert!(logs.len() < 2000, "{}", logs.len());
    assert_eq!(logs.last().unwrap().text, "[console output truncated]");
}

#[tokio::test]
async fn the_log_in_deadline_bounds_all_its_scripts() {
    let sandbox = sandbox();
    let mut session = sandbox.open(setup());
    // Each rule stays under its own 300 ms; together they pass the 700 ms of the log-in.
    let slow = "function (u, c, cb) { var end = Date.now() + 250; while (Date.now() < end) {} cb(null, u, c); }";
    let start = Instant::now();
    let mut results = Vec::new();
    for i in 0..4 {
        results.push(
            session
                .run_rule(&format!("slow{i}"), slow, json!({}), context())
                .await,
        );
    }
    assert!(results[0].is_ok() && results[1].is_ok());
    assert!(matches!(results[2], Err(ScriptError::TimedOut { .. })));
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn post_login_action_records_what_the_api_was_asked() {
    let sandbox = sandbox();
    let src = r#"
        exports.onExecutePostLogin = async (event, api) => {
          const ns = 'https://example.com/';
          api.accessToken.setCustomClaim(ns + 'roles', event.authorization.roles);
          api.idToken.setCustomClaim(ns + 'secret', event.secrets.KEY.length);
          api.accessToken.addScope('read:extra').accessToken.removeScope('write:all');
          api.user.setAppMetadata('plan', 'gold');
          api.user.setUserMetadata('theme', undefined);
          await api.authorization.assignRoles(['editor']);
          console.log('done for', event.user.user_id);
        };
    "#;
    let event = json!({
        "user": {"user_id": "auth0|1"},
        "authorization": {"roles": ["reader"]},
        "secrets": {"KEY": "abcd"},
    });
    let mut session = sandbox.open(setup());
    let out = session
        .run_action("claims", src, Trigger::PostLogin, event)
        .await
        .unwrap();
    assert_eq!(
        out.effects,
        vec![
            Effect::AccessTokenClaim {
                key: "https://example.com/roles".into(),
                value: json!(["reader"])
            },
            Effect::IdTokenClaim {
                key: "https://example.com/secret".into(),
                value: json!(4)
            },
            Effect::AddScope("read:extra".into()),
            Effect::RemoveScope("write:all".into()),
            Effect::SetAppMetadata {
                key: "plan".into(),
                value: json!("gold")
            },
            Effect::SetUserMetadata {
                key: "theme".into(),
                value: json!(null)
            },
            Effect::AssignRoles(vec!["editor".into()]),
        ]
    );
    assert_eq!(session.take_logs()[0].text, "done for auth0|1");
}

#[tokio::test]
async fn deny_is_an_effect_and_failures_name_the_action() {
    let sandbox = sandbox();
    let deny =
        "exports.onExecutePostLogin = async (event, api) => { api.access.deny('no entry'); };";
    let out = sandbox
        .open(setup())
        .run_action("gate", deny, Trigger::PostLogin, json!({}))
        .await
        .unwrap();
    assert_eq!(out.effects, vec![Effect::Deny("no entry".into())]);

    let rejects = "exports.onExecutePostLogin = async () => { throw new Error('kaput'); };";
    let err = sandbox
        .open(setup())
        .run_action("rejects", rejects, Trigger::PostLogin, json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ScriptError::Threw { script, message, .. } if script == "rejects" && message == "kaput")
    );

    let missing = "exports.somethingElse = () => {};";
    let err = sandbox
        .open(setup())
        .run_action("missing", missing, Trigger::PostLogin, json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ScriptError::Failed { message, .. } if message.contains("onExecutePostLogin"))
    );

    let never = "exports.onExecutePostLogin = () => new Promise(() => {});";
    let err = sandbox
        .open(setup())
        .run_action("never", never, Trigger::PostLogin, json!({}))
        .await
        .unwrap_err();
    assert!(matches!(err, ScriptError::NeverCalledBack { .. }));

    let looping = "exports.onExecutePostLogin = async () => { for (;;) {} };";
    let err = sandbox
        .open(setup())
        .run_action("looping", looping, Trigger::PostLogin, json!({}))
        .await
        .unwrap_err();
    assert!(matches!(err, ScriptError::TimedOut { .. }));
}

#[tokio::test]
async fn post_user_registration_gets_the_cache_and_authorization_only() {
    let sandbox = sandbox();
    let src = r#"exports.onExecutePostUserRegistration = async (event, api) => {
        api.cache.set('k', 'v');
        api.authorization.addToGroups('Newcomers');
        if (api.accessToken !== undefined || api.access !== undefined) throw new Error('too much api');
    };"#;
    let out = sandbox
        .open(setup())
        .run_action("welcome", src, Trigger::PostUserRegistration, json!({}))
        .await
        .unwrap();
    assert_eq!(
        out.effects,
        vec![Effect::AddToGroups(vec!["Newcomers".into()])]
    );
}

#[tokio::test]
async fn actions_are_checked_for_syntax_with_positions_in_the_source() {
    let sandbox = sandbox();
    sandbox
        .check(
            ScriptKind::Action,
            "ok",
            "exports.onExecutePostLogin = async (event, api) => {};",
        )
        .await
        .unwrap();
    match sandbox
        .check(
            ScriptKind::Action,
            "bad",
            "exports.onExecutePostLogin = async (event, api) => {\n  api.x(;\n};",
        )
        .await
    {
        Err(ScriptError::Syntax { line, .. }) => assert_eq!(line, 2),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn a_batch_of_rules_stops_after_the_first_that_asks_for_a_change() {
    let sandbox = sandbox();
    let mut session = sandbox.open(setup());
    let rule = |body: &str| format!("function (u, c, cb) {{ {body} cb(null, u, c); }}");
    let rules = vec![
        ("one".to_owned(), rule("u.seen = ['one'];")),
        (
            "two".to_owned(),
            rule("u.seen.push('two'); c.authorization.assignRoles('editor');"),
        ),
        ("three".to_owned(), rule("u.seen.push('three');")),
    ];
    let batch = session
        .run_rules(&rules, json!({}), context())
        .await
        .unwrap();
    assert_eq!(batch.ran, 2);
    assert_eq!(batch.outcome.user["seen"], json!(["one", "two"]));
    assert_eq!(
        batch.outcome.effects,
        vec![Effect::AssignRoles(vec!["editor".into()])]
    );
    let rest = session
        .run_rules(&rules[2..], batch.outcome.user, batch.outcome.context)
        .await
        .unwrap();
    assert_eq!(rest.ran, 1);
    assert_eq!(rest.outcome.user["seen"], json!(["one", "two", "three"]));
    let failing = vec![
        ("fine".to_owned(), rule("")),
        (
            "broken".to_owned(),
            "function (u, c, cb) { throw new Error('x'); }".to_owned(),
        ),
    ];
    let err = session
        .run_rules(&failing, json!({}), context())
        .await
        .unwrap_err();
    assert_eq!(err.script(), "broken");
}

fn asked(request: Unsupported, by_previous_rule: bool) -> Vec<Effect> {
    vec![Effect::Unsupported {
        request,
        by_previous_rule,
    }]
}

/// What the pipeline does not carry out (SAML settings) is recorded as the rule asks for
/// it, which ends the batch at that rule; a request made on a new `context` object is seen
/// when the next rule is handed it.
#[tokio::test]
async fn requests_the_pipeline_does_not_carry_out_are_recorded() {
    let sandbox = sandbox();
    let rule = |body: &str| format!("function (u, c, cb) {{ {body} cb(null, u, c); }}");
    let cases = [
        (
            "c.samlConfiguration.mappings = { email: 'email' };",
            Unsupported::Saml,
        ),
        (
            "c.samlConfiguration = { audience: 'urn:sp' };",
            Unsupported::Saml,
        ),
    ];
    for (body, request) in cases {
        let mut session = sandbox.open(setup());
        let rules = vec![
            ("asks".to_owned(), rule(body)),
            ("after".to_owned(), rule("u.after = true;")),
        ];
        let batch = session
            .run_rules(&rules, json!({}), context())
            .await
            .unwrap();
        assert_eq!(batch.ran, 1, "{body}");
        assert_eq!(batch.outcome.effects, asked(request, false), "{body}");
    }

    // Asking for nothing records nothing: an empty SAML object, a request set to null.
    let mut session = sandbox.open(setup());
    let quiet = vec![(
        "quiet".to_owned(),
        rule("c.multifactor = null; c.samlConfiguration = c.samlConfiguration || {};"),
    )];
    let batch = session
        .run_rules(&quiet, json!({}), context())
        .await
        .unwrap();
    assert_eq!(batch.outcome.effects, vec![]);
    assert!(
        batch.outcome.context.get("samlConfiguration").is_none(),
        "the empty SAML object stays out of the context handed back"
    );

    // A new object called back with: the next rule's batch ends with the request marked as
    // made by the rule before.
    let mut session = sandbox.open(setup());
    let rules = vec![
        (
            "fresh".to_owned(),
            "function (u, c, cb) { cb(null, u, Object.assign({}, c, { samlConfiguration: { audience: 'urn:sp' } })); }".to_owned(),
        ),
        ("next".to_owned(), rule("")),
        ("last".to_owned(), rule("")),
    ];
    let batch = session
        .run_rules(&rules, json!({}), context())
        .await
        .unwrap();
    assert_eq!(batch.ran, 2);
    assert_eq!(batch.outcome.effects, asked(Unsupported::Saml, true));

    // Actions: `api.samlResponse`.
    let cases = [(
        "api.samlResponse.setAttribute('email', event.user.email);",
        Unsupported::Saml,
    )];
    for (body, request) in cases {
        let mut session = sandbox.open(setup());
        let code = format!("exports.onExecutePostLogin = async (event, api) => {{ {body} }};");
        let out = session
            .run_action(
                "a",
                &code,
                Trigger::PostLogin,
                json!({"user": {"email": "a@example.com"}}),
            )
            .await
            .unwrap();
        assert_eq!(out.effects, asked(request, false), "{body}");
    }
}

/// A second factor is carried out: a rule's `context.multifactor` stays on the context the
/// batch hands back without ending it, and an action's requests are recorded with their
/// options and factors.
#[tokio::test]
async fn second_factor_requests_are_handed_to_the_pipeline() {
    let sandbox = sandbox();
    let mut session = sandbox.open(setup());
    let rules = vec![
        (
            "mfa".to_owned(),
            "function (u, c, cb) { c.multifactor = { provider: 'any', allowRememberBrowser: true }; cb(null, u, c); }".to_owned(),
        ),
        (
            "after".to_owned(),
            "function (u, c, cb) { cb(null, u, c); }".to_owned(),
        ),
    ];
    let batch = session
        .run_rules(&rules, json!({}), context())
        .await
        .unwrap();
    assert_eq!(batch.ran, 2);
    assert_eq!(batch.outcome.effects, vec![]);
    assert_eq!(
        batch.outcome.context["multifactor"],
        json!({"provider": "any", "allowRememberBrowser": true})
    );

    let request = |provider: &str, remember: bool, factors: &[&str], enroll: bool| {
        Effect::Multifactor(MultifactorRequest {
            provider: provider.into(),
            allow_remember_browser: remember,
            factors: factors.iter().map(|f| f.to_string()).collect(),
            enroll,
        })
    };
    let cases = [
        (
            "api.multifactor.enable('google-authenticator', { allowRememberBrowser: true });",
            request("google-authenticator", true, &[], false),
        ),
        (
            "api.multifactor.enable();",
            request("any", false, &[], false),
        ),
        (
            "api.authentication.challengeWith({ type: 'otp' }, { additionalFactors: [{ type: 'webauthn-roaming' }] });",
            request("any", false, &["otp", "webauthn-roaming"], false),
        ),
        (
            "api.authentication.enrollWithAny([{ type: 'email' }, { type: 'otp' }, null]);",
            request("any", false, &["email", "otp"], true),
        ),
    ];
    for (body, effect) in cases {
        let mut session = sandbox.open(setup());
        let code = format!("exports.onExecutePostLogin = async (event, api) => {{ {body} }};");
        let out = session
            .run_action("a", &code, Trigger::PostLogin, json!({"user": {}}))
            .await
            .unwrap();
        assert_eq!(out.effects, vec![effect], "{body}");
    }
}

/// Within a batch the next rule gets the very objects the one before called back with, as
/// in Node: a function or a `Date` left on `context` survives; only the batch's result is
/// JSON, taken once its last rule has finished (what it did to the objects after calling
/// back, before anything else ran, shows, as in Node).
#[tokio::test]
async fn rules_of_a_batch_hand_each_other_the_same_objects() {
    let sandbox = sandbox();
    let mut session = sandbox.open(setup());
    let rules = vec![
        (
            "one".to_owned(),
            "function (u, c, cb) { c.helper = function () { return 42; }; c.when = new Date(0); cb(null, u, c); }"
                .to_owned(),
        ),
        (
            "two".to_owned(),
            "function (u, c, cb) { c.idToken.answer = c.helper(); c.idToken.year = c.when.getUTCFullYear(); cb(null, u, c); c.idToken.late = true; }"
                .to_owned(),
        ),
    ];
    let mut rule_context = context();
    rule_context["idToken"] = json!({});
    let batch = session
        .run_rules(&rules, json!({}), rule_context)
        .await
        .unwrap();
    assert_eq!(batch.ran, 2);
    assert_eq!(batch.outcome.context["idToken"]["answer"], json!(42));
    assert_eq!(batch.outcome.context["idToken"]["year"], json!(1970));
    assert_eq!(batch.outcome.context["idToken"]["late"], json!(true));
    assert!(batch.outcome.context.get("helper").is_none());
}

/// Auth0 keeps `global` per container, and rules cache in it; here a worker (the sandbox
/// has one) keeps it across log-ins, names and values, while each log-in still gets fresh
/// built-ins and prelude globals.
#[tokio::test]
async fn global_is_kept_across_log_ins_but_built_ins_are_fresh() {
    let sandbox = sandbox();
    let rule = "function (u, c, cb) {
      global.count = (global.count || 0) + 1;
      if (typeof sloppy === 'undefined') { sloppy = []; }
      sloppy.push(global.count);
      u.count = global.count; u.sloppy = sloppy;
      u.stringify = typeof JSON.stringify; u.domain = auth0.domain;
      u.max = typeof Math.max;
      JSON.parse = null; Object.prototype.polluted = true; auth0.domain = 'evil';
      delete globalThis.Math; Math = { max: null }; console = null;
      cb(null, u, c);
    }";
    for count in 1..=3 {
        let user = user_after(&sandbox, kept(), rule).await;
        assert_eq!(user["count"], json!(count));
        assert_eq!(user["sloppy"], json!((1..=count).collect::<Vec<_>>()));
        assert_eq!(user["stringify"], json!("function"));
        assert_eq!(user["max"], json!("function"));
        assert_eq!(user["domain"], json!("login.example.com"));
        assert!(user.get("polluted").is_none());
    }
    // A session that does not keep `global` (a dry run) neither sees nor changes it.
    let probe =
        "function (u, c, cb) { u.count = global.count; global.count = 100; cb(null, u, c); }";
    assert!(
        user_after(&sandbox, setup(), probe)
            .await
            .get("count")
            .is_none()
    );
    let user = user_after(&sandbox, kept(), rule).await;
    assert_eq!(user["count"], json!(4));
}

/// A `global` that fills half the worker's memory is dropped, as a container that ran out
/// of memory is replaced, instead of failing every later log-in.
#[tokio::test]
async fn a_global_that_fills_the_memory_is_dropped() {
    let sandbox = sandbox();
    let hoard = "function (u, c, cb) {
      global.small = 1;
      global.big = 'x'.repeat(5 * 1024 * 1024);
      cb(null, u, c);
    }";
    user_after(&sandbox, kept(), hoard).await;
    let probe = "function (u, c, cb) { u.big = typeof global.big; u.small = typeof global.small; cb(null, u, c); }";
    let user = user_after(&sandbox, kept(), probe).await;
    assert_eq!(user["big"], json!("undefined"));
    assert_eq!(user["small"], json!("undefined"));
}

/// `api.cache` persists across executions, as on Auth0, for as long as the worker's
/// `global`; an earlier log-in that replaced `Map.prototype.get` does not change what later
/// ones read.
#[tokio::test]
async fn the_action_cache_is_kept_across_log_ins() {
    let sandbox = sandbox();
    let src = r#"exports.onExecutePostLogin = async (event, api) => {
        const hit = api.cache.get('count');
        const count = (hit ? hit.value : 0) + 1;
        api.cache.set('count', count);
        api.idToken.setCustomClaim('count', count);
        Map.prototype.get = () => 1000;
    };"#;
    let count = |setup: Setup| {
        let sandbox = &sandbox;
        async move {
            let out = sandbox
                .open(setup)
                .run_action("counter", src, Trigger::PostLogin, json!({}))
                .await
                .unwrap();
            out.effects
        }
    };
    for expected in 1..=3 {
        let claim = Effect::IdTokenClaim {
            key: "count".into(),
            value: json!(expected),
        };
        assert_eq!(count(kept()).await, vec![claim]);
    }
    // A dry run starts from an empty cache and leaves the kept one alone.
    let fresh = Effect::IdTokenClaim {
        key: "count".into(),
        value: json!(1),
    };
    assert_eq!(count(setup()).await, vec![fresh]);
    let fourth = Effect::IdTokenClaim {
        key: "count".into(),
        value: json!(4),
    };
    assert_eq!(count(kept()).await, vec![fourth]);
}

/// A getter left on `global` that never returns stops at once when the log-in's globals
/// are kept, rather than holding the worker for a script's whole deadline.
#[tokio::test]
async fn a_looping_getter_on_global_does_not_hold_the_worker() {
    let sandbox = Sandbox::new(Limits {
        workers: 1,
        per_rule: Duration::from_secs(10),
        ..defaults()
    });
    let trap = "function (u, c, cb) {
      Object.defineProperty(global, 'trap', { enumerable: true, get() { for (;;) {} } });
      global.plain = 1;
      cb(null, u, c);
    }";
    user_after(&sandbox, kept(), trap).await;
    let started = Instant::now();
    let probe = "function (u, c, cb) { u.plain = global.plain; u.trap = Object.getOwnPropertyDescriptor(global, 'trap'); cb(null, u, c); }";
    let user = user_after(&sandbox, kept(), probe).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(user["plain"], json!(1));
    assert!(user.get("trap").is_none_or(|t| t.is_null()), "{user}");
}

/// What a log-in keeps on `global` is copied into each later log-in's context: its objects
/// have that context's prototypes (an earlier log-in's tampering with them does not come
/// along), and shared references, cycles and frozen objects stay as they were.
#[tokio::test]
async fn kept_objects_get_the_prototypes_of_each_new_log_in() {
    let sandbox = sandbox();
    let keep = "function (u, c, cb) {
      if (!global.cache) {
        var nested = { deep: true };
        global.cache = {
          list: [1, 2], when: new Date(0), pattern: /a+/gi,
          byName: new Map([['k', { v: 1 }]]), seen: new Set(['x']),
          nested: nested, also: nested,
        };
        global.cache.self = global.cache;
        Object.freeze(nested);
        global.helper = function () { return 'helped'; };
      }
      Object.prototype.fromThatLogIn = 'leaked';
      Array.prototype.fromThatLogIn = 'leaked';
      cb(null, u, c);
    }";
    user_after(&sandbox, kept(), keep).await;
    let probe = "function (u, c, cb) {
      var k = global.cache;
      u.object = k instanceof Object && Object.getPrototypeOf(k) === Object.prototype;
      u.array = k.list instanceof Array && Array.isArray(k.list) && k.list.length === 2;
      u.date = k.when instanceof Date && k.when.getTime() === 0;
      u.regexp = k.pattern instanceof RegExp && k.pattern.flags === 'gi' && k.pattern.source === 'a+';
      u.map = k.byName instanceof Map && k.byName.get('k').v === 1
        && Object.getPrototypeOf(k.byName.get('k')) === Object.prototype;
      u.set = k.seen instanceof Set && k.seen.has('x');
      u.cycle = k.self === k;
      u.shared = k.also === k.nested;
      u.frozen = Object.isFrozen(k.nested);
      u.leaked = [k.fromThatLogIn, k.list.fromThatLogIn];
      u.helper = global.helper();
      cb(null, u, c);
    }";
    for _ in 0..2 {
        let user = user_after(&sandbox, kept(), probe).await;
        for check in [
            "object", "array", "date", "regexp", "map", "set", "cycle", "shared", "frozen",
        ] {
            assert_eq!(user[check], json!(true), "{check}: {user}");
        }
        assert_eq!(user["leaked"], json!([null, null]));
        assert_eq!(user["helper"], json!("helped"));
    }
}

/// A function kept on `global` cannot be copied and runs in the context that made it, but
/// what it asks for and prints goes to the log-in that calls it.
#[tokio::test]
async fn a_kept_function_records_into_the_log_in_that_calls_it() {
    let sandbox = sandbox();
    let keep = "function (u, c, cb) {
      global.note = function (id) {
        console.log('noted', id);
        return auth0.users.updateUserMetadata(id, { seen: true });
      };
      cb(null, u, c);
    }";
    user_after(&sandbox, kept(), keep).await;
    let call =
        "function (u, c, cb) { global.note('auth0|2').then(function () { cb(null, u, c); }); }";
    let mut session = sandbox.open(kept());
    let out = session
        .run_rule("call", call, json!({}), context())
        .await
        .unwrap();
    assert_eq!(
        out.effects,
        vec![Effect::UpdateUserMetadata {
            user_id: "auth0|2".into(),
            value: json!({"seen": true})
        }]
    );
    let logs = session.take_logs();
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(
        (logs[0].script.as_str(), logs[0].text.as_str()),
        ("call", "noted auth0|2")
    );
}
