//! The worker threads, and the handles the async side talks to them through: a
//! [`Session`] holds one worker (and its fresh context) for one log-in.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;

use tokio::sync::oneshot;

use crate::compiled::CompiledScripts;
use crate::engine;
use crate::fetch::Fetcher;
use crate::globals::KeptGlobals;
use crate::worker::Worker;
use crate::{
    ActionOutcome, Limits, LogLine, RuleBatch, RuleOutcome, ScriptError, ScriptKind, Setup, Trigger,
};

/// A script's result with the console output it wrote.
pub(crate) struct Answer<T> {
    pub result: Result<T, ScriptError>,
    pub logs: Vec<LogLine>,
}

pub(crate) enum Command {
    Rules {
        /// Names and sources, in order.
        rules: Vec<(String, String)>,
        user: serde_json::Value,
        context: serde_json::Value,
        reply: oneshot::Sender<Answer<RuleBatch>>,
    },
    Action {
        name: String,
        source: String,
        trigger: Trigger,
        event: serde_json::Value,
        reply: oneshot::Sender<Answer<ActionOutcome>>,
    },
}

enum Request {
    Open {
        setup: Setup,
        commands: mpsc::Receiver<Command>,
    },
    Check {
        kind: ScriptKind,
        name: String,
        source: String,
        reply: oneshot::Sender<Result<(), ScriptError>>,
    },
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
        let fetcher = Fetcher::new(limits.fetch_allow.clone()).map(Arc::new);
        let scripts = Arc::new(CompiledScripts::default());
        let workers = (0..limits.workers.max(1))
            .map(|i| {
                let rx = Arc::clone(&rx);
                let limits = limits.clone();
                let fetcher = fetcher.clone();
                let scripts = Arc::clone(&scripts);
                thread::Builder::new()
                    .name(format!("castellan-rules-{i}"))
                    .stack_size(limits.stack_bytes.saturating_mul(4).max(4 * 1024 * 1024))
                    .spawn(move || worker(limits, scripts, fetcher, rx))
                    .expect("spawn rules worker thread")
            })
            .collect();
        Sandbox {
            sender: Mutex::new(Some(tx)),
            workers,
        }
    }

    fn send(&self, request: Request) -> bool {
        match self.sender.lock() {
            Ok(guard) => guard.as_ref().is_some_and(|tx| tx.send(request).is_ok()),
            Err(_) => false,
        }
    }

    /// Opens a session: with its first script, the next free worker takes it, with a fresh
    /// context, and runs its scripts in order until the session is dropped or its log-in
    /// deadline passes.
    pub fn open(&self, setup: Setup) -> Session {
        let (commands, receiver) = mpsc::channel();
        let pool = self.sender.lock().ok().and_then(|tx| tx.clone());
        Session {
            commands,
            pending: pool.map(|pool| (pool, setup, receiver)),
            logs: Vec::new(),
        }
    }

    /// Compiles a script without running it: `Err(ScriptError::Syntax { line, column, .. })`
    /// when it does not compile or a rule is not a function (for refusing to save it).
    pub async fn check(
        &self,
        kind: ScriptKind,
        name: &str,
        source: &str,
    ) -> Result<(), ScriptError> {
        let (reply, answer) = oneshot::channel();
        let request = Request::Check {
            kind,
            name: name.to_owned(),
            source: source.to_owned(),
            reply,
        };
        let unavailable = || ScriptError::Unavailable {
            script: name.to_owned(),
        };
        if !self.send(request) {
            return Err(unavailable());
        }
        answer.await.unwrap_or_else(|_| Err(unavailable()))
    }

    /// Runs one rule in a session of its own, with empty settings.
    pub async fn run_rule(
        &self,
        name: &str,
        source: &str,
        user: serde_json::Value,
        context: serde_json::Value,
    ) -> Result<RuleOutcome, ScriptError> {
        self.open(Setup::default())
            .run_rule(name, source, user, context)
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

/// The scripts of one log-in, run in order in one context. Dropping it frees the worker.
pub struct Session {
    commands: mpsc::Sender<Command>,
    /// Until the first script: the session goes to a worker together with it, so the
    /// worker wakes once and finds its first command waiting.
    pending: Option<(mpsc::Sender<Request>, Setup, mpsc::Receiver<Command>)>,
    logs: Vec<LogLine>,
}

impl Session {
    /// Runs an Auth0 rule `function (user, context, callback)`.
    pub async fn run_rule(
        &mut self,
        name: &str,
        source: &str,
        user: serde_json::Value,
        context: serde_json::Value,
    ) -> Result<RuleOutcome, ScriptError> {
        let rules = [(name.to_owned(), source.to_owned())];
        Ok(self.run_rules(&rules, user, context).await?.outcome)
    }

    /// Runs rules in order, each handed what the one before handed back, in one trip to
    /// the worker; it stops after the first rule that asked for a change, so the caller
    /// can apply it before the next rule runs. An error names the rule that failed.
    pub async fn run_rules(
        &mut self,
        rules: &[(String, String)],
        user: serde_json::Value,
        context: serde_json::Value,
    ) -> Result<RuleBatch, ScriptError> {
        let first = rules.first().map_or("", |(name, _)| name.as_str());
        let (reply, answer) = oneshot::channel();
        let command = Command::Rules {
            rules: rules.to_vec(),
            user,
            context,
            reply,
        };
        self.ask(first, command, answer).await
    }

    /// Runs the handler of `trigger` that an action's module exports, with `event` and
    /// the `api` of that trigger.
    pub async fn run_action(
        &mut self,
        name: &str,
        source: &str,
        trigger: Trigger,
        event: serde_json::Value,
    ) -> Result<ActionOutcome, ScriptError> {
        let (reply, answer) = oneshot::channel();
        let command = Command::Action {
            name: name.to_owned(),
            source: source.to_owned(),
            trigger,
            event,
            reply,
        };
        self.ask(name, command, answer).await
    }

    /// The console output written so far, oldest first.
    pub fn take_logs(&mut self) -> Vec<LogLine> {
        std::mem::take(&mut self.logs)
    }

    async fn ask<T>(
        &mut self,
        name: &str,
        command: Command,
        answer: oneshot::Receiver<Answer<T>>,
    ) -> Result<T, ScriptError> {
        let unavailable = || ScriptError::Unavailable {
            script: name.to_owned(),
        };
        if self.commands.send(command).is_err() {
            return Err(unavailable());
        }
        if let Some((pool, setup, commands)) = self.pending.take()
            && pool.send(Request::Open { setup, commands }).is_err()
        {
            return Err(unavailable());
        }
        match answer.await {
            Ok(answer) => {
                self.logs.extend(answer.logs);
                answer.result
            }
            // The worker ended the session (its deadline passed) or lost its runtime.
            Err(_) => Err(ScriptError::TimedOut {
                script: name.to_owned(),
            }),
        }
    }
}

/// Requests served between two full collections of a worker's runtime.
const GC_EVERY: u64 = 16;

fn worker(
    limits: Limits,
    scripts: Arc<CompiledScripts>,
    fetcher: Option<Arc<Fetcher>>,
    rx: Arc<Mutex<mpsc::Receiver<Request>>>,
) {
    let Some(mut worker) = Worker::new(limits, scripts, fetcher) else {
        return;
    };
    let mut spare = engine::prepare(&worker);
    let mut served_count: u64 = 0;
    loop {
        let next = match rx.lock() {
            Ok(guard) => guard.recv(),
            Err(_) => return,
        };
        let Ok(request) = next else {
            return;
        };
        let prepared = spare.take();
        let served = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match request {
            Request::Check {
                kind,
                name,
                source,
                reply,
            } => {
                let _ = reply.send(engine::check(&worker, kind, &name, &source));
            }
            Request::Open { setup, commands } => {
                if let Some(prepared) = prepared.or_else(|| engine::prepare(&worker)) {
                    engine::serve_session(&mut worker, prepared, &setup, &commands);
                }
            }
        }));
        if served.is_ok() {
            // A finished context frees its objects by reference counting; only cycles wait
            // for the collector, which need not run after every log-in.
            // A script that ran out of memory leaves more, so the collector runs then too.
            served_count += 1;
            let limit = worker.limits.memory_bytes;
            if served_count.is_multiple_of(GC_EVERY) || worker.memory_used() > limit / 4 {
                worker.runtime.run_gc();
            }
            // What `global` and `api.cache` hold fills half the memory: start over, as
            // Auth0 does when a container is replaced.
            if worker.memory_used() > limit / 2 {
                worker.kept = KeptGlobals::default();
                worker.runtime.run_gc();
            }
            spare = engine::prepare(&worker);
            continue;
        }
        // A bug on our side: the waiting caller sees its reply dropped.
        if !worker.replace_runtime() {
            return;
        }
    }
}
