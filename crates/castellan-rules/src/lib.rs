//! Sandbox for log-in scripts: Auth0-style rules (`function (user, context, callback)`)
//! run on QuickJS (through rquickjs) on a pool of dedicated worker threads.
//!
//! This crate knows nothing of `castellan-core`: it takes a rule's name and source plus
//! `user` and `context` as JSON, and gives back the modified JSON or a typed [`RuleError`].
//!
//! Isolation choices:
//! - Each worker thread owns one QuickJS `Runtime` with a memory limit, a stack limit and an
//!   interrupt handler that enforces a wall-clock deadline per run.
//! - Every run gets a **fresh `Context`** (fresh globals). Auth0 keeps `global` per worker,
//!   so definitions made by one rule survive into later runs there; here they do not, so
//!   one run's tampering (with `Object.prototype`, `JSON`, `global`, ...) cannot leak into
//!   another log-in. Sharing `global` between the rules of one log-in is left to the
//!   pipeline (run them in one context) and is not done yet.
//! - No file system, no process, no network: the context has only the ECMAScript
//!   intrinsics; `require(name)` throws `Error("module '<name>' is not available")` and
//!   `process` is undefined.
//! - Scripts are compiled per run, not cached: QuickJS can only reload bytecode through
//!   `unsafe Module::load`, which the workspace's `unsafe_code = "forbid"` rules out, and a
//!   compiled `Function` is tied to the context it was compiled in.
//!
//! Callback contract: the first `callback(...)` wins and later calls are ignored (as in
//! Auth0), even if the rule then throws or loops. Promise jobs are drained after the rule
//! returns, so a rule that calls back from a `.then` or after `await` works; a rule with
//! nothing left to run and no callback fails at once with [`RuleError::NeverCalledBack`]
//! instead of waiting for the deadline. There are no timers (`setTimeout` is undefined).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use rquickjs::prelude::Opt;
use rquickjs::{CatchResultExt, CaughtError, Context, Ctx, Function, Object, Runtime, Value};

/// Resource limits of a [`Sandbox`].
#[derive(Debug, Clone)]
pub struct Limits {
    /// Number of worker threads (each with its own QuickJS runtime).
    pub workers: usize,
    /// Memory limit of each worker's runtime, in bytes.
    pub memory_bytes: usize,
    /// Maximum JavaScript stack size, in bytes.
    pub stack_bytes: usize,
    /// Wall-clock deadline of one rule run.
    pub per_rule: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            workers: 2,
            memory_bytes: 32 * 1024 * 1024,
            stack_bytes: 512 * 1024,
            per_rule: Duration::from_secs(5),
        }
    }
}

/// The result of a rule that called `callback(null, user, context)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub user: serde_json::Value,
    pub context: serde_json::Value,
}

/// Why a rule did not produce an [`Outcome`]. Every variant names the rule.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RuleError {
    /// `callback(new UnauthorizedError(message))`.
    #[error("rule '{rule}' denied access: {message}")]
    Denied { rule: String, message: String },
    /// `callback(err)` with any other error value.
    #[error("rule '{rule}' failed: {message}")]
    Failed { rule: String, message: String },
    /// The rule threw (including stack overflow).
    #[error("rule '{rule}' threw: {message}")]
    Threw {
        rule: String,
        message: String,
        stack: Option<String>,
    },
    /// The rule ran past its deadline.
    #[error("rule '{rule}' timed out")]
    TimedOut { rule: String },
    /// The rule exhausted its memory limit.
    #[error("rule '{rule}' ran out of memory")]
    OutOfMemory { rule: String },
    /// The rule finished (with no pending work) without calling back.
    #[error("rule '{rule}' never called back")]
    NeverCalledBack { rule: String },
    /// The source does not compile, or is not a function.
    #[error("rule '{rule}' has a syntax error at line {line}, column {column}: {message}")]
    Syntax {
        rule: String,
        line: u32,
        column: u32,
        message: String,
    },
    /// The sandbox's worker went away (should not happen).
    #[error("rule '{rule}' could not run: sandbox unavailable")]
    Unavailable { rule: String },
}

/// One rule run.
#[derive(Debug, Clone)]
pub struct Job {
    pub name: String,
    pub source: String,
    pub user: serde_json::Value,
    pub context: serde_json::Value,
}

type Reply = tokio::sync::oneshot::Sender<Result<Outcome, RuleError>>;

struct Request {
    job: Job,
    compile_only: bool,
    reply: Reply,
}

/// A pool of worker threads, each with its own QuickJS runtime.
pub struct Sandbox {
    sender: Mutex<Option<mpsc::Sender<Request>>>,
    workers: Vec<thread::JoinHandle<()>>,
}

impl Sandbox {
    /// Starts `limits.workers` worker threads (at least one).
    pub fn new(limits: Limits) -> Sandbox {
        let (tx, rx) = mpsc::channel::<Request>();
        let rx = Arc::new(Mutex::new(rx));
        let workers = (0..limits.workers.max(1))
            .map(|i| {
                let rx = Arc::clone(&rx);
                let limits = limits.clone();
                thread::Builder::new()
                    .name(format!("castellan-rules-{i}"))
                    .stack_size(limits.stack_bytes.saturating_mul(4).max(4 * 1024 * 1024))
                    .spawn(move || worker(limits, rx))
                    .expect("spawn rules worker thread")
            })
            .collect();
        Sandbox {
            sender: Mutex::new(Some(tx)),
            workers,
        }
    }

    /// Runs one job on a worker thread without blocking the async runtime.
    pub async fn run(&self, job: Job) -> Result<Outcome, RuleError> {
        self.submit(job, false).await
    }

    /// Compiles a rule without running it: `Err(RuleError::Syntax { line, column, .. })`
    /// when it does not compile or is not a function (for refusing to save it).
    pub async fn check(&self, name: &str, source: &str) -> Result<(), RuleError> {
        let job = Job {
            name: name.to_owned(),
            source: source.to_owned(),
            user: serde_json::Value::Null,
            context: serde_json::Value::Null,
        };
        self.submit(job, true).await.map(|_| ())
    }

    async fn submit(&self, job: Job, compile_only: bool) -> Result<Outcome, RuleError> {
        let rule = job.name.clone();
        let (reply, answer) = tokio::sync::oneshot::channel();
        let sent = match self.sender.lock() {
            Ok(guard) => guard
                .as_ref()
                .map(|tx| {
                    tx.send(Request {
                        job,
                        compile_only,
                        reply,
                    })
                    .is_ok()
                })
                .unwrap_or(false),
            Err(_) => false,
        };
        if !sent {
            return Err(RuleError::Unavailable { rule });
        }
        answer.await.unwrap_or(Err(RuleError::Unavailable { rule }))
    }

    /// Runs an Auth0 rule `function (user, context, callback)`.
    pub async fn run_rule(
        &self,
        name: &str,
        source: &str,
        user: serde_json::Value,
        context: serde_json::Value,
    ) -> Result<Outcome, RuleError> {
        self.run(Job {
            name: name.to_owned(),
            source: source.to_owned(),
            user,
            context,
        })
        .await
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Ok(mut guard) = self.sender.lock() {
            guard.take();
        }
        for handle in self.workers.drain(..) {
            let _ = handle.join();
        }
    }
}

fn new_runtime(limits: &Limits, deadline: &Rc<Cell<Instant>>) -> Option<Runtime> {
    let runtime = Runtime::new().ok()?;
    runtime.set_memory_limit(limits.memory_bytes);
    runtime.set_max_stack_size(limits.stack_bytes);
    let handler_deadline = Rc::clone(deadline);
    runtime.set_interrupt_handler(Some(Box::new(move || {
        Instant::now() >= handler_deadline.get()
    })));
    Some(runtime)
}

fn worker(limits: Limits, rx: Arc<Mutex<mpsc::Receiver<Request>>>) {
    let deadline = Rc::new(Cell::new(Instant::now() + limits.per_rule));
    let Some(mut runtime) = new_runtime(&limits, &deadline) else {
        return;
    };
    loop {
        let next = match rx.lock() {
            Ok(guard) => guard.recv(),
            Err(_) => return,
        };
        let Ok(request) = next else {
            return;
        };
        deadline.set(Instant::now() + limits.per_rule);
        let rule = request.job.name.clone();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_job(
                &runtime,
                &limits,
                &deadline,
                request.job,
                request.compile_only,
            )
        }));
        match result {
            Ok(result) => {
                runtime.run_gc();
                let _ = request.reply.send(result);
            }
            Err(_) => {
                // A bug on our side: answer, and continue on a fresh runtime. The old one
                // is leaked rather than dropped, as its state is unknown.
                let _ = request.reply.send(Err(RuleError::Unavailable { rule }));
                let Some(fresh) = new_runtime(&limits, &deadline) else {
                    return;
                };
                std::mem::forget(std::mem::replace(&mut runtime, fresh));
            }
        }
    }
}

/// What `callback` received first.
enum Called {
    Ok(Outcome),
    Err(RuleError),
}

const PRELUDE: &str = r#"
(function () {
  class UnauthorizedError extends Error {
    constructor(message) { super(message); this.name = 'UnauthorizedError'; }
  }
  globalThis.UnauthorizedError = UnauthorizedError;
  globalThis.global = globalThis;
  globalThis.require = function require(name) {
    throw new Error("module '" + String(name) + "' is not available");
  };
})();
"#;

fn run_job(
    runtime: &Runtime,
    limits: &Limits,
    deadline: &Cell<Instant>,
    job: Job,
    compile_only: bool,
) -> Result<Outcome, RuleError> {
    let rule = job.name.clone();
    let out_of_memory = || RuleError::OutOfMemory { rule: rule.clone() };
    let Ok(context) = Context::full(runtime) else {
        return Err(out_of_memory());
    };
    let called: Rc<RefCell<Option<Called>>> = Rc::new(RefCell::new(None));
    let result = context.with(|ctx| -> Result<(), RuleError> {
        // Prelude.
        if ctx.eval::<(), _>(PRELUDE).is_err() {
            return Err(out_of_memory());
        }
        // Compile: "(\n" + src + "\n)" so that line numbers are shifted by exactly one.
        let wrapped = format!("(\n{}\n)", job.source);
        let rule_fn: Function = match ctx.eval::<Value, _>(wrapped).catch(&ctx) {
            Ok(v) => match v.into_function() {
                Some(f) => f,
                None => {
                    return Err(RuleError::Syntax {
                        rule: rule.clone(),
                        line: 1,
                        column: 1,
                        message: "the script is not a function".into(),
                    });
                }
            },
            Err(e) => return Err(classify(deadline, &rule, e, true)),
        };
        if compile_only {
            *called.borrow_mut() = Some(Called::Ok(Outcome {
                user: serde_json::Value::Null,
                context: serde_json::Value::Null,
            }));
            return Ok(());
        }
        let user = to_js(&ctx, &job.user).map_err(|_| out_of_memory())?;
        let context_value = to_js(&ctx, &job.context).map_err(|_| out_of_memory())?;
        let callback =
            make_callback(&ctx, Rc::clone(&called), rule.clone()).map_err(|_| out_of_memory())?;
        let call = rule_fn
            .call::<_, Value>((user, context_value, callback))
            .catch(&ctx);
        match call {
            Err(e) => {
                if called.borrow().is_some() {
                    return Ok(());
                }
                Err(classify(deadline, &rule, e, false))
            }
            Ok(returned) if returned.is_promise() => {
                // An async rule: a rejection before calling back is reported as a throw.
                let on_reject = make_on_reject(&ctx, Rc::clone(&called), rule.clone())
                    .map_err(|_| out_of_memory())?;
                let watch: Function = ctx.eval(WATCH).map_err(|_| out_of_memory())?;
                watch
                    .call::<_, ()>((returned, on_reject))
                    .map_err(|_| out_of_memory())?;
                Ok(())
            }
            Ok(_) => Ok(()),
        }
    });
    if let Err(e) = result {
        // The runtime is locked inside `with`, so memory is checked here: an exception
        // raised under memory pressure is often not the out-of-memory error itself.
        let pressure = matches!(e, RuleError::Threw { .. } | RuleError::Syntax { .. })
            && near_limit(runtime, limits);
        return Err(if pressure { out_of_memory() } else { e });
    }
    // Run pending promise jobs (an async rule may call back from a `.then`).
    while called.borrow().is_none() && runtime.is_job_pending() {
        if Instant::now() >= deadline.get() {
            return Err(RuleError::TimedOut { rule });
        }
        if runtime.execute_pending_job().is_err() && called.borrow().is_none() {
            if Instant::now() >= deadline.get() {
                return Err(RuleError::TimedOut { rule });
            }
            if near_limit(runtime, limits) {
                return Err(out_of_memory());
            }
        }
    }
    let first = called.borrow_mut().take();
    drop(context);
    match first {
        Some(Called::Ok(outcome)) => Ok(outcome),
        Some(Called::Err(e)) => Err(e),
        None => Err(RuleError::NeverCalledBack { rule }),
    }
}

fn make_callback<'js>(
    ctx: &Ctx<'js>,
    slot: Rc<RefCell<Option<Called>>>,
    rule: String,
) -> rquickjs::Result<Function<'js>> {
    Function::new(
        ctx.clone(),
        move |ctx: Ctx<'js>,
              err: Opt<Value<'js>>,
              user: Opt<Value<'js>>,
              context: Opt<Value<'js>>| {
            if slot.borrow().is_some() {
                return; // Auth0 honours the first call only.
            }
            let result = callback_result(&ctx, &rule, err.0, user.0, context.0);
            *slot.borrow_mut() = Some(result);
        },
    )
}

/// Attaches a rejection handler to the promise an async rule returned.
const WATCH: &str = "(function (p, f) { Promise.prototype.then.call(p, undefined, f); })";

fn make_on_reject<'js>(
    ctx: &Ctx<'js>,
    slot: Rc<RefCell<Option<Called>>>,
    rule: String,
) -> rquickjs::Result<Function<'js>> {
    Function::new(ctx.clone(), move |reason: Opt<Value<'js>>| {
        if slot.borrow().is_some() {
            return;
        }
        let (message, stack) = match reason.0 {
            Some(v) => match v.as_object() {
                Some(obj) => (
                    get_string(obj, "message").unwrap_or_else(|| value_to_string(&v)),
                    get_string(obj, "stack"),
                ),
                None => (value_to_string(&v), None),
            },
            None => ("undefined".into(), None),
        };
        *slot.borrow_mut() = Some(Called::Err(RuleError::Threw {
            rule: rule.clone(),
            message,
            stack,
        }));
    })
}

fn to_js<'js>(ctx: &Ctx<'js>, value: &serde_json::Value) -> rquickjs::Result<Value<'js>> {
    ctx.json_parse(value.to_string())
}

fn from_js<'js>(ctx: &Ctx<'js>, value: Option<Value<'js>>) -> Result<serde_json::Value, String> {
    let Some(value) = value else {
        return Ok(serde_json::Value::Null);
    };
    if value.is_undefined() {
        return Ok(serde_json::Value::Null);
    }
    match ctx.json_stringify(value) {
        Ok(Some(s)) => {
            let s = s.to_string().map_err(|e| e.to_string())?;
            serde_json::from_str(&s).map_err(|e| e.to_string())
        }
        Ok(None) => Ok(serde_json::Value::Null),
        Err(e) => Err(format!("cannot serialise the result: {e}")),
    }
}

fn callback_result<'js>(
    ctx: &Ctx<'js>,
    rule: &str,
    err: Option<Value<'js>>,
    user: Option<Value<'js>>,
    context: Option<Value<'js>>,
) -> Called {
    if let Some(err) = err.filter(|e| !e.is_null() && !e.is_undefined()) {
        let (name, message) = match err.as_object() {
            Some(obj) => (
                get_string(obj, "name"),
                get_string(obj, "message").unwrap_or_default(),
            ),
            None => (None, value_to_string(&err)),
        };
        return Called::Err(if name.as_deref() == Some("UnauthorizedError") {
            RuleError::Denied {
                rule: rule.to_owned(),
                message,
            }
        } else {
            RuleError::Failed {
                rule: rule.to_owned(),
                message,
            }
        });
    }
    let user = from_js(ctx, user);
    let context = from_js(ctx, context);
    match (user, context) {
        (Ok(user), Ok(context)) => Called::Ok(Outcome { user, context }),
        (Err(message), _) | (_, Err(message)) => Called::Err(RuleError::Failed {
            rule: rule.to_owned(),
            message,
        }),
    }
}

fn get_string(obj: &Object<'_>, key: &str) -> Option<String> {
    obj.get::<_, Option<rquickjs::Coerced<String>>>(key)
        .ok()
        .flatten()
        .map(|c| c.0)
}

fn value_to_string(value: &Value<'_>) -> String {
    value
        .clone()
        .get::<rquickjs::Coerced<String>>()
        .map(|c| c.0)
        .unwrap_or_else(|_| "error".into())
}

fn near_limit(runtime: &Runtime, limits: &Limits) -> bool {
    let used = runtime.memory_usage().malloc_size.max(0) as usize;
    used >= limits.memory_bytes / 4 * 3
}

fn classify(
    deadline: &Cell<Instant>,
    rule: &str,
    error: CaughtError<'_>,
    compiling: bool,
) -> RuleError {
    let rule = rule.to_owned();
    if Instant::now() >= deadline.get() {
        return RuleError::TimedOut { rule };
    }
    let (message, stack, name, line, column) = match &error {
        CaughtError::Exception(e) => {
            let obj = e.as_object();
            (
                e.message().unwrap_or_default(),
                e.stack(),
                get_string(obj, "name"),
                obj.get::<_, Option<u32>>("lineNumber").ok().flatten(),
                obj.get::<_, Option<u32>>("columnNumber").ok().flatten(),
            )
        }
        CaughtError::Value(v) => (value_to_string(v), None, None, None, None),
        CaughtError::Error(e) => (e.to_string(), None, None, None, None),
    };
    let oom_message = message.contains("out of memory");
    // When QuickJS runs out of memory while allocating the exception itself, the exception
    // is `null`. QuickJS frees the garbage by reference counting as the stack unwinds, so
    // memory use afterwards cannot tell this apart from a rule's own `throw null`: both
    // are reported as out of memory.
    let null_exception = matches!(error, CaughtError::Value(ref v) if v.is_null());
    if oom_message || null_exception {
        return RuleError::OutOfMemory { rule };
    }
    if compiling && name.as_deref() == Some("SyntaxError") {
        let (line, column) = match (line, column) {
            (Some(l), Some(c)) => (l, c),
            _ => position_from_stack(stack.as_deref()).unwrap_or((2, 1)),
        };
        return RuleError::Syntax {
            rule,
            line: line.saturating_sub(1).max(1),
            column,
            message,
        };
    }
    RuleError::Threw {
        rule,
        message,
        stack,
    }
}

/// Finds `:line:column` in the first frame of a QuickJS stack trace.
fn position_from_stack(stack: Option<&str>) -> Option<(u32, u32)> {
    let frame = stack?.lines().next()?;
    let inside = frame.rsplit('(').next()?.trim_end_matches(')');
    let mut parts = inside.rsplit(':');
    let column = parts.next()?.parse().ok()?;
    let line = parts.next()?.parse().ok()?;
    Some((line, column))
}
