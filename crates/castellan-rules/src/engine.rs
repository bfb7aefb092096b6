//! Running scripts inside one worker's runtime: compiling, calling with JSON in and out,
//! draining promise jobs, and turning what went wrong into a [`ScriptError`]. This runs in
//! a worker process (`process.rs` feeds it).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use rquickjs::prelude::Opt;
use rquickjs::{
    CatchResultExt, CaughtError, Context, Ctx, Function, Object, Persistent, Runtime, Value,
};

use crate::compiled::CompiledScripts;
use crate::effects::{self, Recorder};
use crate::worker::{FetchHost, Worker};
use crate::{
    ActionOutcome, Limits, LogLine, RuleBatch, RuleOutcome, ScriptError, ScriptKind, Setup, Trigger,
};
use crate::{host, modules};

const PRELUDE: &str = include_str!("prelude.js");
const NODE: &str = include_str!("node.js");

/// How long reading what a log-in left on `global` may run scripts' getters.
pub(crate) const KEEPING_TIME: Duration = Duration::from_millis(10);

/// How long copying what is kept on `global` into the next context may take; past it (a
/// `global` of millions of objects) the worker starts over without it.
pub(crate) const ADOPTING_TIME: Duration = Duration::from_secs(1);

/// Attaches handlers to a promise a script returned, immune to a tampered `then`.
const WATCH: &str = "(function (p, ok, ko) { Promise.prototype.then.call(p, ok, ko); })";

/// Both wrappers add exactly one line before the source, so positions shift by one.
fn rule_wrapper(source: &str) -> String {
    format!("(\n{source}\n)")
}

fn action_wrapper(source: &str) -> String {
    format!("(function (exports, module, require) {{\n{source}\n}})")
}

/// What the earliest timer did.
enum Timer {
    /// It was due and ran.
    Ran,
    /// It is due after this long.
    Later(Duration),
    /// There is none.
    None,
}

/// How a script ended, as seen by the host functions.
type Slot = Rc<RefCell<Option<Result<(), ScriptError>>>>;

/// A rule's `user` and `context`, kept between the calls of a batch.
type JsPair = (Persistent<Value<'static>>, Persistent<Value<'static>>);

/// What a rule is handed, and what it called back with: JSON, or JavaScript values while
/// the batch goes on.
enum Handed {
    Json(serde_json::Value, serde_json::Value),
    Js(JsPair),
}

/// Compiles a script, and for a rule evaluates the expression it is (which runs whatever
/// code a source puts beside its function).
pub(crate) fn check(
    worker: &Worker,
    kind: ScriptKind,
    name: &str,
    source: &str,
) -> Result<(), ScriptError> {
    worker.deadline.set(Instant::now() + worker.limits.per_rule);
    let context = Context::full(&worker.runtime).map_err(|_| out_of_memory(name))?;
    let checked = context.with(|ctx| {
        let wrapped = match kind {
            ScriptKind::Rule => rule_wrapper(source),
            ScriptKind::Action => action_wrapper(source),
        };
        compile(&ctx, worker, name, &wrapped).map(|_| ())
    });
    overran(worker, name)?;
    checked
}

/// A script still running at its deadline has failed, even if it finished in the end (one
/// slow built-in can carry it past the deadline before the interrupt handler is asked).
fn overran(worker: &Worker, name: &str) -> Result<(), ScriptError> {
    if Instant::now() >= worker.deadline.get() {
        return Err(ScriptError::TimedOut {
            script: name.to_owned(),
        });
    }
    Ok(())
}

/// The function a wrapped script evaluates to, compiled once per worker.
fn compile<'js>(
    ctx: &Ctx<'js>,
    worker: &Worker,
    name: &str,
    wrapped: &str,
) -> Result<Function<'js>, ScriptError> {
    match worker.scripts.evaluate(ctx, wrapped).catch(ctx) {
        Ok(v) => v.into_function().ok_or_else(|| ScriptError::Syntax {
            script: name.to_owned(),
            line: 1,
            column: 1,
            message: "the script is not a function".into(),
        }),
        Err(e) => Err(classify(&worker.deadline, name, e, true)),
    }
}

/// The prelude's helpers, kept across the scripts of a session.
struct Helpers {
    configure: Persistent<Function<'static>>,
    decorate: Persistent<Function<'static>>,
    action_api: Persistent<Function<'static>>,
    adopt: Persistent<Function<'static>>,
    intrinsics: Persistent<Value<'static>>,
    cache_to_keep: Persistent<Function<'static>>,
    /// Runs the earliest timer when due (see `node.js`).
    run_timer: Persistent<Function<'static>>,
    drop_timers: Persistent<Function<'static>>,
}

/// A fresh context with the prelude installed, waiting for its log-in. Workers make the
/// next one while idle, so a log-in does not wait for it.
pub(crate) struct Prepared {
    // Declared first: persistent handles must be dropped before their context.
    helpers: Helpers,
    context: Context,
    /// Whether what earlier log-ins kept on `global` is in it (for a log-in that keeps
    /// `global`; a dry run needs a context without).
    pub with_kept: bool,
}

/// A fresh context with the prelude, and with copies of what is kept on `global` when
/// `with_kept` (if the copy fails, what is kept is dropped and the context is made again
/// without it).
pub(crate) fn prepare(worker: &mut Worker, with_kept: bool) -> Option<Prepared> {
    worker.deadline.set(Instant::now() + worker.limits.per_rule);
    let context = Context::full(&worker.runtime).ok()?;
    let helpers = context.with(|ctx| install(&ctx, worker))?;
    let with_kept = with_kept && !worker.kept.is_empty();
    if with_kept {
        worker.deadline.set(Instant::now() + ADOPTING_TIME);
        let adopted = context.with(|ctx| {
            let adopt = helpers.adopt.clone().restore(&ctx).ok()?;
            let intrinsics = helpers.intrinsics.clone().restore(&ctx).ok()?;
            worker.kept.adopt_into(&ctx, &adopt, &intrinsics)
        });
        if adopted.is_none() {
            worker.kept.forget();
            drop(helpers);
            drop(context);
            worker.runtime.run_gc();
            return prepare(worker, false);
        }
    }
    Some(Prepared {
        helpers,
        context,
        with_kept,
    })
}

fn install(ctx: &Ctx<'_>, worker: &mut Worker) -> Option<Helpers> {
    let prelude = worker
        .scripts
        .evaluate(ctx, PRELUDE)
        .ok()?
        .into_function()?;
    let sink = Rc::clone(&worker.recorder);
    let record = Function::new(ctx.clone(), move |kind: String, payload: String| {
        sink.borrow_mut().record(&kind, &payload);
    })
    .ok()?;
    let sink = Rc::clone(&worker.recorder);
    let log = Function::new(ctx.clone(), move |level: String, text: String| {
        sink.borrow_mut().log(&level, &text);
    })
    .ok()?;
    // The server makes the request; this worker waits for the answer, which comes before
    // the script's deadline (or the worker is gone).
    let fetch = match worker.fetch.clone() {
        Some(host) => Some(fetch_function(ctx, host)?),
        None => None,
    };
    let host = host::object(ctx).ok()?;
    let module_name = Function::new(ctx.clone(), |name: String| {
        modules::find(&name).map(|m| m.name.to_owned())
    })
    .ok()?;
    let load_module = load_module_function(ctx, Rc::clone(&worker.scripts))?;
    let helpers: Object = prelude
        .call((record, log, fetch, module_name, load_module, host.clone()))
        .ok()?;
    let node = worker.scripts.evaluate(ctx, NODE).ok()?.into_function()?;
    let require: Value = helpers.get("require").ok()?;
    let timers: Object = node.call((host, require)).ok()?;
    worker.kept.learn_own_names(ctx)?;
    Some(Helpers {
        configure: Persistent::save(ctx, helpers.get::<_, Function>("configure").ok()?),
        decorate: Persistent::save(ctx, helpers.get::<_, Function>("decorate").ok()?),
        action_api: Persistent::save(ctx, helpers.get::<_, Function>("actionApi").ok()?),
        adopt: Persistent::save(ctx, helpers.get::<_, Function>("adopt").ok()?),
        intrinsics: Persistent::save(ctx, helpers.get::<_, Value>("intrinsics").ok()?),
        cache_to_keep: Persistent::save(ctx, helpers.get::<_, Function>("cacheToKeep").ok()?),
        run_timer: Persistent::save(ctx, timers.get::<_, Function>("runTimer").ok()?),
        drop_timers: Persistent::save(ctx, timers.get::<_, Function>("dropTimers").ok()?),
    })
}

/// `loadModule(name)`: the function a module's wrapped body evaluates to, compiled once
/// per worker.
fn load_module_function<'js>(
    ctx: &Ctx<'js>,
    scripts: Rc<CompiledScripts>,
) -> Option<Function<'js>> {
    Function::new(
        ctx.clone(),
        move |ctx: Ctx<'js>, name: String| -> rquickjs::Result<Value<'js>> {
            let Some(module) = modules::find(&name) else {
                let message = format!("module '{name}' is not available");
                return Err(rquickjs::Exception::throw_message(&ctx, &message));
            };
            scripts.evaluate(&ctx, &modules::wrap(module.source))
        },
    )
    .ok()
}

fn fetch_function<'js>(ctx: &Ctx<'js>, host: FetchHost) -> Option<Function<'js>> {
    Function::new(
        ctx.clone(),
        move |ctx: Ctx<'_>,
              url: String,
              method: String,
              headers: String,
              body: Option<String>|
              -> rquickjs::Result<String> {
            host(url, method, headers, body)
                .map_err(|message| rquickjs::Exception::throw_message(&ctx, &message))
        },
    )
    .ok()
}

/// One log-in being served in its context.
pub(crate) struct Live {
    // Declared first: persistent handles must be dropped before their context.
    helpers: Helpers,
    context: Context,
    login_ends: Instant,
    /// Whether what the scripts leave on `global` is kept at the end.
    keeps_global: bool,
}

/// Starts a log-in in a prepared context (one with what is kept on `global` when the
/// log-in keeps it): its settings, and the kept `api.cache`.
pub(crate) fn open(worker: &mut Worker, prepared: Prepared, setup: &Setup) -> Option<Live> {
    let login_ends = Instant::now() + worker.limits.per_login;
    worker
        .deadline
        .set((Instant::now() + worker.limits.per_rule).min(login_ends));
    let Prepared {
        helpers, context, ..
    } = prepared;
    *worker.recorder.borrow_mut() = Recorder::default();
    let configured = context.with(|ctx| -> Option<()> {
        let settings = serde_json::json!({
            "configuration": setup.configuration,
            "domain": setup.domain,
            "baseUrl": setup.base_url,
            "accessToken": setup.access_token,
            "redirectState": setup.redirect_state,
        });
        let configure = helpers.configure.clone().restore(&ctx).ok()?;
        let kept_cache = (setup.keep_global)
            .then(|| worker.kept.action_cache(&ctx))
            .flatten();
        configure
            .call::<_, Value>((to_js(&ctx, &settings).ok()?, kept_cache))
            .ok()?;
        Some(())
    });
    let live = Live {
        helpers,
        context,
        login_ends,
        keeps_global: setup.keep_global,
    };
    configured.map(|()| live)
}

impl Live {
    pub fn rules(
        &self,
        worker: &Worker,
        rules: &[(String, String)],
        user: serde_json::Value,
        context: serde_json::Value,
        started: &mut dyn FnMut(usize),
    ) -> (Result<RuleBatch, ScriptError>, Vec<LogLine>) {
        let result = self
            .run(worker)
            .rules(rules, user, context, self.login_ends, started);
        (result, worker.recorder.borrow_mut().take_logs())
    }

    pub fn action(
        &self,
        worker: &Worker,
        name: &str,
        source: &str,
        trigger: Trigger,
        event: &serde_json::Value,
    ) -> (Result<ActionOutcome, ScriptError>, Vec<LogLine>) {
        worker
            .deadline
            .set((Instant::now() + worker.limits.per_rule).min(self.login_ends));
        let result = self.run(worker).action(name, source, trigger, event);
        (result, worker.recorder.borrow_mut().take_logs())
    }

    fn run<'a>(&'a self, worker: &'a Worker) -> Run<'a> {
        Run {
            worker,
            context: &self.context,
            helpers: &self.helpers,
        }
    }

    /// Ends the log-in: keeps what its scripts left on `global`, if it keeps `global`.
    pub fn close(self, worker: &mut Worker) {
        if self.keeps_global {
            // Reading the values may run a script's getter: it gets a moment, not a deadline.
            worker.deadline.set(Instant::now() + KEEPING_TIME);
            self.context.with(|ctx| {
                // First what runs no script's code, so a slow getter cannot cost it.
                let cache = (self.helpers.cache_to_keep.clone().restore(&ctx).ok())
                    .and_then(|f| f.call::<_, Value>(()).ok())
                    .filter(|cache| !cache.is_undefined());
                worker.kept.keep_action_cache(&ctx, cache);
                if let Ok(intrinsics) = self.helpers.intrinsics.clone().restore(&ctx) {
                    worker.kept.keep_added(&ctx, &intrinsics);
                }
            });
        }
        let Live {
            helpers, context, ..
        } = self;
        // Persistent handles must go before the context they point into.
        drop(helpers);
        drop(context);
    }
}

/// One script's run inside a session.
struct Run<'a> {
    worker: &'a Worker,
    context: &'a Context,
    helpers: &'a Helpers,
}

impl Run<'_> {
    /// Rules in order until one asks for a change (see `Session::run_rules`). Between the
    /// rules of a batch, `user` and `context` stay JavaScript values: the next rule is
    /// handed the very objects the one before called back with, as in Node, and they are
    /// turned into JSON once, at the end.
    fn rules(
        &self,
        rules: &[(String, String)],
        user: serde_json::Value,
        rule_context: serde_json::Value,
        login_ends: Instant,
        started: &mut dyn FnMut(usize),
    ) -> Result<RuleBatch, ScriptError> {
        let mut handed = Handed::Json(user, rule_context);
        let (mut ran, mut effects, mut name) = (0, Vec::new(), "");
        for (rule_name, source) in rules {
            if ran > 0 {
                // The server keeps each rule's deadline too, and names the rule it missed.
                started(ran);
            }
            self.worker
                .deadline
                .set((Instant::now() + self.worker.limits.per_rule).min(login_ends));
            ran += 1;
            name = rule_name;
            (handed, effects) = self.rule(name, source, handed)?;
            if !effects.is_empty() {
                break;
            }
        }
        let (user, context) = self.to_json(name, handed)?;
        overran(self.worker, name)?;
        let outcome = RuleOutcome {
            user,
            context,
            effects,
        };
        Ok(RuleBatch { ran, outcome })
    }

    /// Runs one rule: what it called back with, and the changes it asked for. Work the rule
    /// started before calling back (a request's callback, a timer) still runs until none is
    /// left or the rule's deadline comes, as on Auth0, and what it changes counts.
    fn rule(
        &self,
        name: &str,
        source: &str,
        handed: Handed,
    ) -> Result<(Handed, Vec<crate::Effect>), ScriptError> {
        self.worker.recorder.borrow_mut().script = name.to_owned();
        let slot: Slot = Rc::new(RefCell::new(None));
        let returned: Rc<RefCell<Option<Handed>>> = Rc::new(RefCell::new(None));
        let started = self.context.with(|ctx| -> Result<(), ScriptError> {
            let oom = || out_of_memory(name);
            let rule = compile(&ctx, self.worker, name, &rule_wrapper(source))?;
            let (user, rule_context) = match handed {
                Handed::Json(user, context) => (to_js(&ctx, &user), to_js(&ctx, &context)),
                Handed::Js((user, context)) => (user.restore(&ctx), context.restore(&ctx)),
            };
            let (user, rule_context) = (user.map_err(|_| oom())?, rule_context.map_err(|_| oom())?);
            let decorate = self
                .helpers
                .decorate
                .clone()
                .restore(&ctx)
                .map_err(|_| oom())?;
            let rule_context: Value = decorate.call((rule_context,)).map_err(|_| oom())?;
            let callback = rule_callback(&ctx, &slot, &returned, name).map_err(|_| oom())?;
            let call = rule
                .call::<_, Value>((user, rule_context, callback))
                .catch(&ctx);
            match call {
                Err(_) if slot.borrow().is_some() => Ok(()),
                Err(e) => Err(classify(&self.worker.deadline, name, e, false)),
                // An async rule: a rejection before calling back is reported as a throw.
                Ok(value) if value.is_promise() => {
                    watch(&ctx, &self.worker.scripts, value, &slot, name, false)
                }
                Ok(_) => Ok(()),
            }
        });
        self.finish(name, started, &slot)?;
        let effects = self.take_effects(name)?;
        let returned =
            returned
                .borrow_mut()
                .take()
                .ok_or_else(|| ScriptError::NeverCalledBack {
                    script: name.to_owned(),
                })?;
        Ok((returned, effects))
    }

    /// The `user` and `context` a rule called back with, as JSON.
    fn to_json(
        &self,
        name: &str,
        returned: Handed,
    ) -> Result<(serde_json::Value, serde_json::Value), ScriptError> {
        let (user, context) = match returned {
            Handed::Json(user, context) => return Ok((user, context)),
            Handed::Js(pair) => pair,
        };
        self.context.with(|ctx| {
            let json = |value: Persistent<Value<'static>>| {
                let value = value.restore(&ctx).map_err(|e| e.to_string())?;
                from_js(&ctx, Some(value))
            };
            json(user)
                .and_then(|user| Ok((user, json(context)?)))
                .map_err(|message| ScriptError::Failed {
                    script: name.to_owned(),
                    message,
                })
        })
    }

    fn action(
        &self,
        name: &str,
        source: &str,
        trigger: Trigger,
        event: &serde_json::Value,
    ) -> Result<ActionOutcome, ScriptError> {
        self.worker.recorder.borrow_mut().script = name.to_owned();
        let slot: Slot = Rc::new(RefCell::new(None));
        let started = self.context.with(|ctx| -> Result<(), ScriptError> {
            let oom = || out_of_memory(name);
            let body = compile(&ctx, self.worker, name, &action_wrapper(source))?;
            let module = Object::new(ctx.clone()).map_err(|_| oom())?;
            let exports = Object::new(ctx.clone()).map_err(|_| oom())?;
            module.set("exports", exports.clone()).map_err(|_| oom())?;
            let require: Value = ctx.globals().get("require").map_err(|_| oom())?;
            if let Err(e) = body
                .call::<_, Value>((exports, module.clone(), require))
                .catch(&ctx)
            {
                return Err(classify(&self.worker.deadline, name, e, false));
            }
            let handler = module
                .get::<_, Object>("exports")
                .ok()
                .and_then(|exports| exports.get::<_, Function>(trigger.handler()).ok())
                .ok_or_else(|| ScriptError::Failed {
                    script: name.to_owned(),
                    message: format!("the action does not export {}", trigger.handler()),
                })?;
            let event = to_js(&ctx, event).map_err(|_| oom())?;
            let action_api = self
                .helpers
                .action_api
                .clone()
                .restore(&ctx)
                .map_err(|_| oom())?;
            let api: Value = action_api
                .call((trigger.id(), event.clone()))
                .map_err(|_| oom())?;
            match handler.call::<_, Value>((event, api)).catch(&ctx) {
                Err(e) => Err(classify(&self.worker.deadline, name, e, false)),
                Ok(value) if value.is_promise() => {
                    watch(&ctx, &self.worker.scripts, value, &slot, name, true)
                }
                Ok(_) => {
                    *slot.borrow_mut() = Some(Ok(()));
                    Ok(())
                }
            }
        });
        self.finish(name, started, &slot)?;
        Ok(ActionOutcome {
            effects: self.take_effects(name)?,
        })
    }

    /// Runs promise jobs and timers until the script has finished and has nothing left to
    /// run, or until its deadline, and says how it finished. Before the script finishes, an
    /// error nothing handled (a promise rejected with no handler once the jobs run out, a
    /// timer that threw) fails it with that error, as an uncaught exception ends a Node
    /// process; after, it is only logged. Timers due past the deadline of a script that has
    /// finished are dropped.
    fn finish(
        &self,
        name: &str,
        started: Result<(), ScriptError>,
        slot: &Slot,
    ) -> Result<(), ScriptError> {
        let worker = self.worker;
        let result = self.settle(name, started, slot);
        worker.unhandled.borrow_mut().clear();
        self.context.with(|ctx| {
            if let Ok(drop_timers) = self.helpers.drop_timers.clone().restore(&ctx) {
                let _ = drop_timers.call::<_, ()>(());
            }
        });
        if result.is_err() {
            worker.recorder.borrow_mut().take_effects();
        }
        result
    }

    fn settle(
        &self,
        name: &str,
        started: Result<(), ScriptError>,
        slot: &Slot,
    ) -> Result<(), ScriptError> {
        let worker = self.worker;
        if let Err(e) = started {
            // The runtime is locked inside `with`, so memory is checked here: an exception
            // raised under memory pressure is often not the out-of-memory error itself.
            let pressure = matches!(e, ScriptError::Threw { .. } | ScriptError::Syntax { .. })
                && near_limit(&worker.runtime, &worker.limits);
            return Err(if pressure { out_of_memory(name) } else { e });
        }
        let failed = || slot.borrow().as_ref().is_some_and(Result::is_err);
        loop {
            self.run_jobs(name, slot)?;
            if failed() {
                break;
            }
            if let Some(uncaught) = self.uncaught(name, slot) {
                return Err(uncaught);
            }
            match self.next_timer(name, slot)? {
                Timer::Ran => continue,
                Timer::None => break,
                Timer::Later(wait) => {
                    let deadline = worker.deadline.get();
                    let at = Instant::now() + wait;
                    if at >= deadline && slot.borrow().is_some() {
                        break;
                    }
                    std::thread::sleep(at.min(deadline).saturating_duration_since(Instant::now()));
                    overran(worker, name)?;
                }
            }
        }
        let finished = slot.borrow_mut().take();
        overran(worker, name)?;
        finished.unwrap_or_else(|| {
            Err(ScriptError::NeverCalledBack {
                script: name.to_owned(),
            })
        })
    }

    /// Runs promise jobs until none is left.
    fn run_jobs(&self, name: &str, slot: &Slot) -> Result<(), ScriptError> {
        let worker = self.worker;
        while worker.runtime.is_job_pending() {
            overran(worker, name)?;
            if worker.runtime.execute_pending_job().is_err() {
                overran(worker, name)?;
                if near_limit(&worker.runtime, &worker.limits) {
                    return Err(out_of_memory(name));
                }
            }
            if slot.borrow().as_ref().is_some_and(Result::is_err) {
                return Ok(());
            }
        }
        Ok(())
    }

    /// A promise rejected that nothing handled once the jobs ran out: the script's failure
    /// if it has not finished, a logged error if it has.
    fn uncaught(&self, name: &str, slot: &Slot) -> Option<ScriptError> {
        let rejections = std::mem::take(&mut *self.worker.unhandled.borrow_mut());
        let first = rejections.into_iter().next()?;
        if slot.borrow().is_some() {
            let text = format!("Unhandled promise rejection: {}", first.message);
            self.worker.recorder.borrow_mut().log("error", &text);
            return None;
        }
        Some(ScriptError::Threw {
            script: name.to_owned(),
            message: first.message,
            stack: first.stack,
        })
    }

    /// Runs the earliest timer if it is due.
    fn next_timer(&self, name: &str, slot: &Slot) -> Result<Timer, ScriptError> {
        let ran = self.context.with(|ctx| {
            let run_timer = self
                .helpers
                .run_timer
                .clone()
                .restore(&ctx)
                .map_err(|_| out_of_memory(name))?;
            match run_timer.call::<_, f64>(()).catch(&ctx) {
                Ok(wait) if wait < 0.0 => Ok(Timer::None),
                Ok(0.0) => Ok(Timer::Ran),
                Ok(wait) => Ok(Timer::Later(Duration::from_secs_f64(wait / 1000.0))),
                Err(e) => Err(classify(&self.worker.deadline, name, e, false)),
            }
        });
        match ran {
            Err(ScriptError::Threw { message, .. }) if slot.borrow().is_some() => {
                let text = format!("Uncaught exception in a timer: {message}");
                self.worker.recorder.borrow_mut().log("error", &text);
                Ok(Timer::Ran)
            }
            other => other,
        }
    }

    fn take_effects(&self, name: &str) -> Result<Vec<crate::Effect>, ScriptError> {
        let mut recorder = self.worker.recorder.borrow_mut();
        let effects = recorder.take_effects();
        if std::mem::take(&mut recorder.overflowed) {
            return Err(ScriptError::Failed {
                script: name.to_owned(),
                message: format!(
                    "the changes asked for exceed {} KiB",
                    effects::max_effect_bytes() / 1024
                ),
            });
        }
        Ok(effects)
    }
}

/// `callback(err, user, context)`: the first call wins. The values are kept as they are,
/// for the next rule or to be taken as JSON when the batch ends.
fn rule_callback<'js>(
    ctx: &Ctx<'js>,
    slot: &Slot,
    returned: &Rc<RefCell<Option<Handed>>>,
    name: &str,
) -> rquickjs::Result<Function<'js>> {
    let (slot, returned, name) = (Rc::clone(slot), Rc::clone(returned), name.to_owned());
    Function::new(
        ctx.clone(),
        move |ctx: Ctx<'js>,
              err: Opt<Value<'js>>,
              user: Opt<Value<'js>>,
              context: Opt<Value<'js>>| {
            if slot.borrow().is_some() {
                return; // Auth0 honours the first call only.
            }
            let result = match err.0.filter(|e| !e.is_null() && !e.is_undefined()) {
                Some(err) => Err(callback_error(&name, &err)),
                None => {
                    let keep = |value: Option<Value<'js>>| {
                        let value = value.unwrap_or_else(|| Value::new_undefined(ctx.clone()));
                        Persistent::save(&ctx, value)
                    };
                    *returned.borrow_mut() = Some(Handed::Js((keep(user.0), keep(context.0))));
                    Ok(())
                }
            };
            *slot.borrow_mut() = Some(result);
        },
    )
}

fn callback_error(name: &str, err: &Value<'_>) -> ScriptError {
    let (kind, message) = match err.as_object() {
        Some(obj) => (
            get_string(obj, "name"),
            get_string(obj, "message").unwrap_or_default(),
        ),
        None => (None, value_to_string(err)),
    };
    let script = name.to_owned();
    if kind.as_deref() == Some("UnauthorizedError") {
        ScriptError::Denied { script, message }
    } else {
        ScriptError::Failed { script, message }
    }
}

/// Watches the promise a script returned: a rejection is a throw; for actions, settling
/// is finishing.
fn watch<'js>(
    ctx: &Ctx<'js>,
    scripts: &CompiledScripts,
    promise: Value<'js>,
    slot: &Slot,
    name: &str,
    resolving_finishes: bool,
) -> Result<(), ScriptError> {
    let oom = || out_of_memory(name);
    let on_resolve = {
        let slot = Rc::clone(slot);
        Function::new(ctx.clone(), move || {
            if resolving_finishes && slot.borrow().is_none() {
                *slot.borrow_mut() = Some(Ok(()));
            }
        })
        .map_err(|_| oom())?
    };
    let on_reject = {
        let slot = Rc::clone(slot);
        let name = name.to_owned();
        Function::new(ctx.clone(), move |reason: Opt<Value<'js>>| {
            if slot.borrow().is_some() {
                return;
            }
            let (message, stack) = match reason.0 {
                Some(v) => describe_reason(&v),
                None => ("undefined".into(), None),
            };
            *slot.borrow_mut() = Some(Err(ScriptError::Threw {
                script: name.clone(),
                message,
                stack,
            }));
        })
        .map_err(|_| oom())?
    };
    let watch = scripts
        .evaluate(ctx, WATCH)
        .ok()
        .and_then(Value::into_function)
        .ok_or_else(oom)?;
    watch
        .call::<_, ()>((promise, on_resolve, on_reject))
        .map_err(|_| oom())
}

/// The message and stack of what a promise was rejected with or a script threw.
pub(crate) fn describe_reason(reason: &Value<'_>) -> (String, Option<String>) {
    match reason.as_object() {
        Some(obj) => (
            get_string(obj, "message").unwrap_or_else(|| value_to_string(reason)),
            get_string(obj, "stack"),
        ),
        None => (value_to_string(reason), None),
    }
}

fn out_of_memory(name: &str) -> ScriptError {
    ScriptError::OutOfMemory {
        script: name.to_owned(),
    }
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
    name: &str,
    error: CaughtError<'_>,
    compiling: bool,
) -> ScriptError {
    let script = name.to_owned();
    if Instant::now() >= deadline.get() {
        return ScriptError::TimedOut { script };
    }
    let (message, stack, kind, line, column) = match &error {
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
    // memory use afterwards cannot tell this apart from a script's own `throw null`: both
    // are reported as out of memory.
    let null_exception = matches!(error, CaughtError::Value(ref v) if v.is_null());
    if oom_message || null_exception {
        return ScriptError::OutOfMemory { script };
    }
    if compiling && kind.as_deref() == Some("SyntaxError") {
        let (line, column) = match (line, column) {
            (Some(l), Some(c)) => (l, c),
            _ => position_from_stack(stack.as_deref()).unwrap_or((2, 1)),
        };
        return ScriptError::Syntax {
            script,
            line: line.saturating_sub(1).max(1),
            column,
            message,
        };
    }
    ScriptError::Threw {
        script,
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
