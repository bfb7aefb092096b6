//! Hostile scripts: each is contained, and a normal rule still runs afterwards.

use std::time::{Duration, Instant};

use castellan_rules::{Limits, Sandbox, ScriptError, ScriptKind, WorkerProgram};
use serde_json::json;

/// The defaults, with this crate's worker program (the server runs its own binary).
fn defaults() -> Limits {
    Limits {
        worker: WorkerProgram::new(env!("CARGO_BIN_EXE_castellan-rules-worker"), &[]),
        ..Limits::default()
    }
}

const NORMAL: &str =
    "function (user, context, callback) { user.ok = true; callback(null, user, context); }";

fn sandbox() -> Sandbox {
    Sandbox::new(Limits {
        workers: 1,
        memory_bytes: 8 * 1024 * 1024,
        stack_bytes: 256 * 1024,
        // Room for an allocation bomb to reach the memory limit on a busy machine.
        per_rule: Duration::from_millis(500),
        per_login: Duration::from_secs(2),
        ..defaults()
    })
}

async fn still_works(sandbox: &Sandbox) {
    let outcome = sandbox
        .run_rule("normal", NORMAL, json!({"user_id": "auth0|1"}), json!({}))
        .await
        .expect("a normal rule runs after a hostile one");
    assert_eq!(outcome.user, json!({"user_id": "auth0|1", "ok": true}));
    assert_eq!(outcome.context, json!({}));
}

async fn run(sandbox: &Sandbox, source: &str) -> Result<castellan_rules::RuleOutcome, ScriptError> {
    sandbox
        .run_rule(
            "hostile",
            source,
            json!({"user_id": "auth0|1"}),
            json!({"clientID": "c"}),
        )
        .await
}

#[tokio::test]
async fn infinite_loop_times_out() {
    let sandbox = sandbox();
    let start = Instant::now();
    let err = run(&sandbox, "function (u, c, cb) { while (true) {} }")
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ScriptError::TimedOut {
            script: "hostile".into()
        }
    );
    assert!(start.elapsed() < Duration::from_secs(2));
    assert!(err.to_string().contains("hostile"));
    still_works(&sandbox).await;
}

#[tokio::test]
async fn infinite_loop_inside_try_catch_times_out() {
    let sandbox = sandbox();
    let src = "function (u, c, cb) { while (true) { try { while (true) {} } catch (e) {} } }";
    let err = run(&sandbox, src).await.unwrap_err();
    assert_eq!(
        err,
        ScriptError::TimedOut {
            script: "hostile".into()
        }
    );
    still_works(&sandbox).await;
}

#[tokio::test]
async fn allocation_bomb_is_out_of_memory() {
    let sandbox = sandbox();
    let src = "function (u, c, cb) { var a = []; while (true) { a.push({ x: 'xxxxxxxxxxxxxxxx' + a.length }); } }";
    let err = run(&sandbox, src).await.unwrap_err();
    assert_eq!(
        err,
        ScriptError::OutOfMemory {
            script: "hostile".into()
        }
    );
    assert!(err.to_string().contains("out of memory"));
    still_works(&sandbox).await;
}

#[tokio::test]
async fn big_typed_array_is_out_of_memory() {
    let sandbox = sandbox();
    let err = run(
        &sandbox,
        "function (u, c, cb) { var a = new Uint8Array(1 << 30); cb(null, u, c); }",
    )
    .await
    .unwrap_err();
    assert_eq!(
        err,
        ScriptError::OutOfMemory {
            script: "hostile".into()
        }
    );
    still_works(&sandbox).await;
}

#[tokio::test]
async fn unbounded_recursion_throws() {
    let sandbox = sandbox();
    let src = "function (u, c, cb) { function f(n) { return f(n + 1) + 1; } f(0); }";
    match run(&sandbox, src).await.unwrap_err() {
        ScriptError::Threw {
            script: rule,
            message,
            ..
        } => {
            assert_eq!(rule, "hostile");
            assert!(message.contains("stack"), "{message}");
        }
        other => panic!("unexpected {other:?}"),
    }
    still_works(&sandbox).await;
}

#[tokio::test]
async fn never_calling_back_is_reported_without_waiting_for_the_deadline() {
    let sandbox = sandbox();
    // The worker process is up (its start is not what is measured).
    still_works(&sandbox).await;
    let start = Instant::now();
    let err = run(&sandbox, "function (u, c, cb) { u.x = 1; }")
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ScriptError::NeverCalledBack {
            script: "hostile".into()
        }
    );
    assert!(start.elapsed() < Duration::from_millis(150));
    still_works(&sandbox).await;
}

#[tokio::test]
async fn calling_back_twice_keeps_the_first_result() {
    let sandbox = sandbox();
    let src = "function (u, c, cb) { u.n = 1; cb(null, u, c); u.n = 2; cb(null, u, c); cb(new Error('late')); throw new Error('later'); }";
    let outcome = run(&sandbox, src).await.unwrap();
    // The objects of the first call are handed on; as in Node, what the rule does to them
    // before the next rule starts shows.
    assert_eq!(outcome.user["n"], json!(2));
    let src = "function (u, c, cb) { cb(null, u, c); cb(null, {}, {}); }";
    let outcome = run(&sandbox, src).await.unwrap();
    assert_eq!(outcome.user["user_id"], json!("auth0|1"));
    let src = "function (u, c, cb) { cb(new UnauthorizedError('first')); cb(null, u, c); }";
    let err = run(&sandbox, src).await.unwrap_err();
    assert_eq!(
        err,
        ScriptError::Denied {
            script: "hostile".into(),
            message: "first".into()
        }
    );
    still_works(&sandbox).await;
}

#[tokio::test]
async fn async_callback_from_a_promise_is_honoured() {
    let sandbox = sandbox();
    let src = "function (u, c, cb) { Promise.resolve(5).then(function (v) { u.v = v; cb(null, u, c); }); }";
    let outcome = run(&sandbox, src).await.unwrap();
    assert_eq!(outcome.user["v"], json!(5));
}

#[tokio::test]
async fn prototype_tampering_does_not_break_the_outcome() {
    let sandbox = sandbox();
    let src = "function (u, c, cb) { Object.prototype.x = 1; Array.prototype.y = 2; u.__proto__ = null; c.__proto__ = null; u.tags = ['a']; cb(null, u, c); }";
    let outcome = run(&sandbox, src).await.unwrap();
    assert_eq!(outcome.user, json!({"user_id": "auth0|1", "tags": ["a"]}));
    assert_eq!(outcome.context, json!({"clientID": "c"}));
    // The tampering does not leak into the next run (fresh context per run).
    let src =
        "function (u, c, cb) { u.leak = ({}).x === undefined ? 'no' : 'yes'; cb(null, u, c); }";
    let outcome = run(&sandbox, src).await.unwrap();
    assert_eq!(outcome.user["leak"], json!("no"));
    still_works(&sandbox).await;
}

#[tokio::test]
async fn a_run_that_does_not_keep_global_leaves_nothing_behind() {
    let sandbox = sandbox();
    let src = "function (u, c, cb) { global.seen = (global.seen || 0) + 1; u.seen = global.seen; JSON.stringify = null; cb(null, u, c); }";
    for _ in 0..2 {
        let outcome = run(&sandbox, src).await.unwrap();
        assert_eq!(outcome.user["seen"], json!(1));
    }
}

#[tokio::test]
async fn require_names_the_module() {
    let sandbox = sandbox();
    match run(
        &sandbox,
        "function (u, c, cb) { var fs = require('fs'); cb(null, u, c); }",
    )
    .await
    .unwrap_err()
    {
        ScriptError::Threw { message, .. } => {
            assert_eq!(message, "module 'fs' is not available")
        }
        other => panic!("unexpected {other:?}"),
    }
    still_works(&sandbox).await;
}

#[tokio::test]
async fn no_process_no_network() {
    let sandbox = sandbox();
    // `process` is Node's shape with an empty environment and nothing that reaches the
    // real process.
    let src = "function (u, c, cb) { u.env = process.env; u.exit = typeof process.exit; u.binding = typeof process.binding; u.f = typeof fetch; u.x = typeof XMLHttpRequest; cb(null, u, c); }";
    let outcome = run(&sandbox, src).await.unwrap();
    assert_eq!(outcome.user["env"], json!({}));
    for key in ["exit", "binding", "f", "x"] {
        assert_eq!(outcome.user[key], json!("undefined"), "{key}");
    }
}

#[tokio::test]
async fn unauthorized_error_is_denied_with_the_message() {
    let sandbox = sandbox();
    let src = "function (u, c, cb) { return cb(new UnauthorizedError('Access denied: email not verified')); }";
    let err = run(&sandbox, src).await.unwrap_err();
    assert_eq!(
        err,
        ScriptError::Denied {
            script: "hostile".into(),
            message: "Access denied: email not verified".into()
        }
    );
    assert!(err.to_string().contains("hostile"));
    let err = run(&sandbox, "function (u, c, cb) { cb(new Error('nope')); }")
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ScriptError::Failed {
            script: "hostile".into(),
            message: "nope".into()
        }
    );
}

#[tokio::test]
async fn thrown_error_has_message_and_stack() {
    let sandbox = sandbox();
    let err = run(&sandbox, "function rule(u, c, cb) {\n  null.x;\n}")
        .await
        .unwrap_err();
    match err {
        ScriptError::Threw {
            script: rule,
            message,
            stack,
        } => {
            assert_eq!(rule, "hostile");
            assert!(message.contains("null"), "{message}");
            assert!(stack.unwrap_or_default().contains("rule"));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn syntax_error_has_line_and_column() {
    let sandbox = sandbox();
    let src = "function (u, c, cb) {\n  var x = ;\n  cb(null, u, c);\n}";
    match run(&sandbox, src).await.unwrap_err() {
        ScriptError::Syntax {
            script: rule,
            line,
            column,
            message,
        } => {
            assert_eq!(rule, "hostile");
            assert_eq!(line, 2, "{message}");
            assert!((9..=11).contains(&column), "column {column}: {message}");
        }
        other => panic!("unexpected {other:?}"),
    }
    let err = run(&sandbox, "42").await.unwrap_err();
    assert!(matches!(err, ScriptError::Syntax { .. }), "{err:?}");
    still_works(&sandbox).await;
}

#[tokio::test]
async fn check_compiles_without_running() {
    let sandbox = sandbox();
    sandbox
        .check(
            ScriptKind::Rule,
            "ok",
            "function (u, c, cb) { while (true) {} }",
        )
        .await
        .unwrap();
    match sandbox
        .check(ScriptKind::Rule, "bad", "function (u, c, cb) {\n}}")
        .await
    {
        Err(ScriptError::Syntax {
            script: rule, line, ..
        }) => {
            assert_eq!(rule, "bad");
            assert_eq!(line, 2);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(matches!(
        sandbox.check(ScriptKind::Rule, "empty", "").await,
        Err(ScriptError::Syntax { .. })
    ));
    still_works(&sandbox).await;
}

#[tokio::test]
async fn throwing_non_errors_is_a_throw() {
    let sandbox = sandbox();
    match run(&sandbox, "function (u, c, cb) { throw 'plain text'; }")
        .await
        .unwrap_err()
    {
        ScriptError::Threw { message, .. } => assert_eq!(message, "plain text"),
        other => panic!("unexpected {other:?}"),
    }
    // Indistinguishable from an out-of-memory error raised while allocating the exception.
    let err = run(&sandbox, "function (u, c, cb) { throw null; }")
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ScriptError::OutOfMemory {
            script: "hostile".into()
        }
    );
    still_works(&sandbox).await;
}

#[tokio::test]
async fn string_doubling_is_contained() {
    let sandbox = sandbox();
    let src = "function (u, c, cb) { var s = 'x'; while (true) { s = s + s; } }";
    let err = run(&sandbox, src).await.unwrap_err();
    assert!(
        matches!(
            err,
            ScriptError::OutOfMemory { .. } | ScriptError::Threw { .. }
        ),
        "{err:?}"
    );
    still_works(&sandbox).await;
}

#[tokio::test]
async fn endless_promise_chain_times_out() {
    let sandbox = sandbox();
    let src = "function (u, c, cb) { (function again() { Promise.resolve().then(again); })(); }";
    let err = run(&sandbox, src).await.unwrap_err();
    assert_eq!(
        err,
        ScriptError::TimedOut {
            script: "hostile".into()
        }
    );
    still_works(&sandbox).await;
}

#[tokio::test]
async fn async_function_rule_calls_back_after_await() {
    let sandbox = sandbox();
    let src = "async function (u, c, cb) { u.v = await Promise.resolve(7); cb(null, u, c); }";
    let outcome = run(&sandbox, src).await.unwrap();
    assert_eq!(outcome.user["v"], json!(7));
    let src = "async function (u, c, cb) { await null; throw new Error('rejected'); }";
    match run(&sandbox, src).await.unwrap_err() {
        ScriptError::Threw {
            script: rule,
            message,
            ..
        } => {
            assert_eq!(rule, "hostile");
            assert_eq!(message, "rejected");
        }
        other => panic!("unexpected {other:?}"),
    }
    let src = "async function (u, c, cb) { await null; }";
    let err = run(&sandbox, src).await.unwrap_err();
    assert_eq!(
        err,
        ScriptError::NeverCalledBack {
            script: "hostile".into()
        }
    );
    still_works(&sandbox).await;
}

/// One built-in that computes for a long time: QuickJS asks its interrupt handler about
/// the deadline only every ten thousand or so operations, and this loop makes a few per
/// turn, each printing a 200,000-bit number.
const BIGINT_LOOP: &str =
    "function (u, c, cb) { while (true) { ((1n << 200000n) - 1n).toString(); } }";

/// Whether the process is still there (a zombie, killed but not waited for, counts).
fn alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

fn wedge_sandbox(workers: usize, per_rule: Duration) -> Sandbox {
    Sandbox::new(Limits {
        workers,
        per_rule,
        per_login: per_rule * 4,
        ..defaults()
    })
}

#[tokio::test]
async fn a_slow_built_in_in_a_loop_fails_at_the_deadline_and_its_worker_is_killed() {
    let per_rule = Duration::from_millis(300);
    let sandbox = wedge_sandbox(1, per_rule);
    still_works(&sandbox).await;
    let before = sandbox.worker_pids();
    assert_eq!(before.len(), 1);
    let start = Instant::now();
    let err = run(&sandbox, BIGINT_LOOP).await.unwrap_err();
    let took = start.elapsed();
    assert_eq!(
        err,
        ScriptError::TimedOut {
            script: "hostile".into()
        }
    );
    assert!(took < per_rule + Duration::from_secs(1), "{took:?}");
    // The worker that ran it was killed and waited for: its CPU is back.
    assert!(!alive(before[0]), "worker {} is still there", before[0]);
    still_works(&sandbox).await;
    let after = sandbox.worker_pids();
    assert_eq!(after.len(), 1);
    assert_ne!(after, before);
}

#[tokio::test]
async fn a_script_that_overran_fails_even_when_it_calls_back() {
    // How long one print of a big number takes here; the deadline is a quarter of that, so
    // the rule is still in that one built-in at its deadline, and calls back afterwards.
    let timing = wedge_sandbox(1, Duration::from_secs(10));
    let timed = "function (u, c, cb) { var t = Date.now(); ((1n << 200000n) - 1n).toString(); u.ms = Date.now() - t; cb(null, u, c); }";
    let ms = run(&timing, timed).await.unwrap().user["ms"]
        .as_u64()
        .unwrap();
    let sandbox = wedge_sandbox(1, Duration::from_millis((ms / 4).max(1)));
    still_works(&sandbox).await;
    let before = sandbox.worker_pids();
    let late = "function (u, c, cb) { ((1n << 200000n) - 1n).toString(); cb(null, u, c); }";
    let err = run(&sandbox, late).await.unwrap_err();
    assert_eq!(
        err,
        ScriptError::TimedOut {
            script: "hostile".into()
        },
        "one print took {ms} ms"
    );
    // It answered (late): the worker was not killed.
    assert_eq!(sandbox.worker_pids(), before);
    still_works(&sandbox).await;
}

#[tokio::test]
async fn other_log_ins_go_on_while_a_worker_is_stuck() {
    let sandbox = std::sync::Arc::new(wedge_sandbox(2, Duration::from_secs(1)));
    still_works(&sandbox).await;
    let stuck = {
        let sandbox = std::sync::Arc::clone(&sandbox);
        tokio::spawn(async move { run(&sandbox, BIGINT_LOOP).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    for _ in 0..5 {
        still_works(&sandbox).await;
    }
    assert!(
        !stuck.is_finished(),
        "the other log-ins were served while the loop ran"
    );
    let err = stuck.await.unwrap().unwrap_err();
    assert!(matches!(err, ScriptError::TimedOut { .. }), "{err:?}");
}

#[tokio::test]
async fn dropping_the_sandbox_kills_a_stuck_worker_at_once() {
    let sandbox = wedge_sandbox(1, Duration::from_secs(30));
    still_works(&sandbox).await;
    let pids = sandbox.worker_pids();
    let mut session = sandbox.open(castellan_rules::Setup::default());
    let stuck = tokio::spawn(async move {
        session
            .run_rule("hostile", BIGINT_LOOP, json!({}), json!({}))
            .await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let start = Instant::now();
    drop(sandbox);
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    for pid in pids {
        assert!(!alive(pid), "worker {pid} is still there");
    }
    let err = tokio::time::timeout(Duration::from_secs(2), stuck)
        .await
        .expect("the log-in ends with its worker")
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, ScriptError::Unavailable { .. }), "{err:?}");
}

#[tokio::test]
async fn checking_a_rule_whose_expression_runs_is_bounded_too() {
    let per_rule = Duration::from_millis(300);
    let sandbox = wedge_sandbox(1, per_rule);
    sandbox
        .check(ScriptKind::Rule, "fine", NORMAL)
        .await
        .unwrap();
    let before = sandbox.worker_pids();
    // A rule is an expression: one with a comma runs what follows its function when saved.
    let source = "function (u, c, cb) { cb(null, u, c); }, (function () { for (;;) ((1n << 200000n) - 1n).toString(); })()";
    let start = Instant::now();
    let err = sandbox
        .check(ScriptKind::Rule, "wedge", source)
        .await
        .unwrap_err();
    assert!(start.elapsed() < per_rule + Duration::from_secs(1));
    assert_eq!(
        err,
        ScriptError::TimedOut {
            script: "wedge".into()
        }
    );
    assert!(!alive(before[0]));
    still_works(&sandbox).await;
}

#[tokio::test]
async fn a_worker_killed_from_outside_while_idle_is_replaced() {
    let sandbox = wedge_sandbox(1, Duration::from_secs(1));
    still_works(&sandbox).await;
    let pid = sandbox.worker_pids()[0];
    std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    // Dead once it is a zombie waiting for the sandbox to notice, with no thread left: the
    // first thread shows as a zombie while the others are still exiting, and until they
    // have, the process cannot be waited for.
    let zombie = || {
        let leader_done = std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            s.rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
        });
        let threads = std::fs::read_dir(format!("/proc/{pid}/task")).map_or(0, Iterator::count);
        leader_done && threads <= 1
    };
    for _ in 0..100 {
        if zombie() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    still_works(&sandbox).await;
    assert!(!alive(pid));
    assert_eq!(sandbox.worker_pids().len(), 1);
}
