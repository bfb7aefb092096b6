//! The pool of worker processes, and the handles the async side talks to them through: a
//! [`Session`] holds one worker (and its fresh context) for one log-in.
//!
//! Each worker process has a driver thread here that hands it the requests and waits for
//! its answers, each until the script's deadline and [`GRACE`]. A worker that has not
//! answered by then is killed (`SIGKILL`, which ends whatever native code it was in and
//! gives its CPU back at once), the caller gets `TimedOut` naming the script, and a new
//! worker is started in its place.

use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::engine::{ADOPTING_TIME, KEEPING_TIME};
use crate::fetch::Fetcher;
use crate::wire::{FromWorker, Init, ToWorker, VERSION, Wire, WireError};
use crate::{
    ActionOutcome, Limits, LogLine, RuleBatch, RuleOutcome, ScriptError, ScriptKind, Setup, Trigger,
};

/// How long past a script's deadline its worker may take to answer before it is killed.
/// A worker normally stops the script at the deadline itself; this is for one stuck in a
/// built-in that does not look at the clock.
pub(crate) const GRACE: Duration = Duration::from_millis(500);

/// How long a new worker may take to start and make its first context.
const STARTING_TIME: Duration = Duration::from_secs(10);

/// How long a worker may take between log-ins: keeping what the last one left on `global`,
/// collecting garbage and copying it into the next context.
const CLOSING_TIME: Duration = Duration::from_secs(1)
    .saturating_add(KEEPING_TIME)
    .saturating_add(ADOPTING_TIME)
    .saturating_add(GRACE);

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

/// A pool of worker processes, each with its own QuickJS runtime.
pub struct Sandbox {
    sender: Mutex<Option<mpsc::Sender<Request>>>,
    pool: Arc<Pool>,
}

/// What the driver threads share.
struct Pool {
    limits: Limits,
    fetcher: Option<Fetcher>,
    /// Each driver's worker process, where `Sandbox::drop` can kill it too.
    processes: Vec<Mutex<Option<Child>>>,
    /// Set when the sandbox is dropped: no worker is started any more.
    closing: AtomicBool,
}

impl Sandbox {
    /// Starts `limits.workers` worker processes (at least one), each from its own driver
    /// thread; requests wait for the first that is free.
    pub fn new(limits: Limits) -> Sandbox {
        let (tx, rx) = mpsc::channel::<Request>();
        let rx = Arc::new(Mutex::new(rx));
        let count = limits.workers.max(1);
        let pool = Arc::new(Pool {
            fetcher: Fetcher::new(limits.fetch_allow.clone(), limits.fetch_proxy.as_ref()),
            limits,
            processes: (0..count).map(|_| Mutex::new(None)).collect(),
            closing: AtomicBool::new(false),
        });
        for slot in 0..count {
            let rx = Arc::clone(&rx);
            let pool = Arc::clone(&pool);
            thread::Builder::new()
                .name(format!("castellan-rules-{slot}"))
                .spawn(move || drive(&pool, slot, &rx))
                .expect("spawn rules driver thread");
        }
        Sandbox {
            sender: Mutex::new(Some(tx)),
            pool,
        }
    }

    /// The process ids of the worker processes running now.
    pub fn worker_pids(&self) -> Vec<u32> {
        (self.pool.processes.iter())
            .filter_map(|p| p.lock().ok()?.as_ref().map(Child::id))
            .collect()
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

    /// Compiles a script, and evaluates a rule's expression (which runs what a source puts
    /// beside its function), without calling it: `Err(ScriptError::Syntax { line, column,
    /// .. })` when it does not compile or a rule is not a function (for refusing to save
    /// it). Bounded like a script: past its deadline it is `TimedOut`.
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
    /// Kills every worker process, busy or not, and returns at once: the driver threads end
    /// by themselves (a busy one when it sees its process gone).
    fn drop(&mut self) {
        self.pool.closing.store(true, Ordering::SeqCst);
        if let Ok(mut guard) = self.sender.lock() {
            guard.take();
        }
        for slot in 0..self.pool.processes.len() {
            self.pool.kill(slot);
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

/// Whether a worker can take the next request, or must be replaced.
enum Health {
    Fine,
    Gone,
}

impl Pool {
    /// Starts the worker of `slot` and waits until it is ready.
    fn start(&self, slot: usize) -> Option<Wire> {
        let ready_by = Instant::now() + STARTING_TIME;
        let program = &self.limits.worker;
        let (ours, theirs) = UnixStream::pair()
            .map_err(|e| tracing::error!(error = %e, "cannot make a socket for a rules worker"))
            .ok()?;
        let child = std::process::Command::new(&program.path)
            .args(&program.args)
            .env_clear()
            .stdin(Stdio::from(OwnedFd::from(theirs)))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn();
        let child = match child {
            Ok(child) => child,
            Err(e) => {
                tracing::error!(program = %program.path.display(), error = %e, "cannot start a rules worker");
                return None;
            }
        };
        let pid = child.id();
        {
            let mut process = self.processes[slot].lock().ok()?;
            *process = Some(child);
            // `Sandbox::drop` may have gone through the processes while this one started.
            if self.closing.load(Ordering::SeqCst) {
                drop(process);
                self.kill(slot);
                return None;
            }
        }
        let max_frame = self.limits.memory_bytes.saturating_mul(2) + (1 << 20);
        let mut wire = Wire::new(ours, max_frame);
        let init = Init {
            version: VERSION,
            memory_bytes: self.limits.memory_bytes,
            stack_bytes: self.limits.stack_bytes,
            per_rule_ms: millis(self.limits.per_rule),
            per_login_ms: millis(self.limits.per_login),
            fetch: self.fetcher.is_some(),
        };
        let ready = wire
            .send(&init, Some(ready_by))
            .and_then(|()| wire.receive::<FromWorker>(Some(ready_by)));
        match ready {
            Ok(FromWorker::Ready(VERSION)) => Some(wire),
            other => {
                self.kill(slot);
                tracing::error!(
                    program = %program.path.display(),
                    pid,
                    answer = ?other,
                    "a rules worker did not start (is the program one that answers `{}`?)",
                    crate::WORKER_ARG
                );
                None
            }
        }
    }

    /// Whether the worker of `slot` is still running.
    fn running(&self, slot: usize) -> bool {
        let Ok(mut process) = self.processes[slot].lock() else {
            return false;
        };
        process
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// Kills the worker of `slot`, if it has one, and waits for it to be gone.
    fn kill(&self, slot: usize) {
        let Some(mut child) = self.processes[slot].lock().ok().and_then(|mut p| p.take()) else {
            return;
        };
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Runs a check: the answer, or `TimedOut` once the worker is killed.
    fn check(
        &self,
        slot: usize,
        wire: &mut Wire,
        (kind, name, source): (ScriptKind, String, String),
        reply: oneshot::Sender<Result<(), ScriptError>>,
    ) -> Health {
        let deadline = Instant::now() + self.limits.per_rule + GRACE;
        let message = ToWorker::Check {
            kind,
            name: name.clone(),
            source,
        };
        let answer = wire
            .send(&message, Some(deadline))
            .and_then(|()| wire.receive::<FromWorker>(Some(deadline)));
        let (result, health) = match answer {
            Ok(FromWorker::Checked(result)) => (result, Health::Fine),
            other => (Err(self.lost(slot, &name, other.err())), Health::Gone),
        };
        let _ = reply.send(result);
        health
    }

    /// Serves one log-in: its scripts in order until the session is dropped or the log-in's
    /// deadline passes, then lets the worker keep what the log-in left on `global`.
    fn session(
        &self,
        slot: usize,
        wire: &mut Wire,
        setup: Setup,
        commands: &mpsc::Receiver<Command>,
    ) -> Health {
        let login_ends = Instant::now() + self.limits.per_login;
        let mut setup = Some(setup);
        while let Ok(command) =
            commands.recv_timeout(login_ends.saturating_duration_since(Instant::now()))
        {
            let ends = |from: Instant| (from + self.limits.per_rule).min(login_ends) + GRACE;
            if let Some(setup) = setup.take()
                && let Err(e) = wire.send(&ToWorker::Open { setup }, Some(ends(Instant::now())))
            {
                let error = self.lost(slot, "", Some(e));
                refuse(command, |script| match error {
                    ScriptError::TimedOut { .. } => ScriptError::TimedOut { script },
                    _ => ScriptError::Unavailable { script },
                });
                return Health::Gone;
            }
            let health = match command {
                Command::Rules {
                    rules,
                    user,
                    context,
                    reply,
                } => {
                    let names: Vec<String> = rules.iter().map(|(name, _)| name.clone()).collect();
                    let message = ToWorker::Rules {
                        rules,
                        user,
                        context,
                    };
                    let mut deadline = ends(Instant::now());
                    let mut index = 0;
                    let answer = self.exchange(wire, &message, &mut deadline, |started| {
                        index = started;
                        Some(ends(Instant::now()))
                    });
                    let name = names.get(index).map_or("", String::as_str);
                    match answer {
                        Ok(FromWorker::Ruled { result, logs }) => {
                            let _ = reply.send(Answer { result, logs });
                            Health::Fine
                        }
                        other => {
                            let result = Err(self.lost(slot, name, other.err()));
                            let _ = reply.send(Answer {
                                result,
                                logs: vec![],
                            });
                            Health::Gone
                        }
                    }
                }
                Command::Action {
                    name,
                    source,
                    trigger,
                    event,
                    reply,
                } => {
                    let message = ToWorker::Action {
                        name: name.clone(),
                        source,
                        trigger,
                        event,
                    };
                    let mut deadline = ends(Instant::now());
                    match self.exchange(wire, &message, &mut deadline, |_| None) {
                        Ok(FromWorker::Acted { result, logs }) => {
                            let _ = reply.send(Answer { result, logs });
                            Health::Fine
                        }
                        other => {
                            let result = Err(self.lost(slot, &name, other.err()));
                            let _ = reply.send(Answer {
                                result,
                                logs: vec![],
                            });
                            Health::Gone
                        }
                    }
                }
            };
            if let Health::Gone = health {
                return health;
            }
        }
        if setup.is_some() {
            return Health::Fine; // The worker never heard of this session.
        }
        let done_by = Instant::now() + CLOSING_TIME;
        let closed = wire
            .send(&ToWorker::Close, Some(done_by))
            .and_then(|()| wire.receive::<FromWorker>(Some(done_by)));
        match closed {
            Ok(FromWorker::Idle) => Health::Fine,
            Ok(FromWorker::Retiring) => {
                self.kill(slot);
                Health::Gone
            }
            other => {
                self.lost(slot, "", other.err());
                Health::Gone
            }
        }
    }

    /// Sends a script and waits for its answer, serving the worker's `fetch` requests on
    /// the way and moving the deadline when the next rule of a batch starts (`started`
    /// gives the new one). Any other message than the answer is `Ok` too, for the caller
    /// to refuse.
    fn exchange(
        &self,
        wire: &mut Wire,
        message: &ToWorker,
        deadline: &mut Instant,
        mut started: impl FnMut(usize) -> Option<Instant>,
    ) -> Result<FromWorker, WireError> {
        wire.send(message, Some(*deadline))?;
        loop {
            match wire.receive::<FromWorker>(Some(*deadline))? {
                FromWorker::Started(index) => {
                    if let Some(next) = started(index) {
                        *deadline = next;
                    }
                }
                FromWorker::Fetch {
                    url,
                    method,
                    headers,
                    body,
                } => {
                    let left = deadline
                        .saturating_duration_since(Instant::now())
                        .saturating_sub(GRACE);
                    let answer = match &self.fetcher {
                        Some(fetcher) => fetcher.fetch(&url, &method, &headers, body, left),
                        None => Err("fetch is not available".to_owned()),
                    };
                    wire.send(&ToWorker::Fetched(answer), Some(*deadline))?;
                }
                other => return Ok(other),
            }
        }
    }

    /// The worker of `slot` missed its deadline or broke: it is killed before the caller
    /// hears of it, so its CPU is back by then. The error names the script it was running.
    fn lost(&self, slot: usize, name: &str, error: Option<WireError>) -> ScriptError {
        let pid = self.processes[slot]
            .lock()
            .ok()
            .and_then(|p| p.as_ref().map(Child::id));
        self.kill(slot);
        let script = name.to_owned();
        match error {
            Some(WireError::TimedOut) => {
                tracing::warn!(
                    pid,
                    script = name,
                    "killed a rules worker that ran past the deadline"
                );
                ScriptError::TimedOut { script }
            }
            Some(WireError::Broken(cause)) => {
                if !self.closing.load(Ordering::SeqCst) {
                    tracing::warn!(pid, script = name, %cause, "a rules worker was lost");
                }
                ScriptError::Unavailable { script }
            }
            None => {
                tracing::warn!(pid, script = name, "a rules worker answered out of turn");
                ScriptError::Unavailable { script }
            }
        }
    }
}

/// Answers a command with an error about the script it would have run first.
fn refuse(command: Command, error: impl FnOnce(String) -> ScriptError) {
    match command {
        Command::Rules { rules, reply, .. } => {
            let name = rules.into_iter().next().map(|(name, _)| name);
            let result = Err(error(name.unwrap_or_default()));
            let _ = reply.send(Answer {
                result,
                logs: vec![],
            });
        }
        Command::Action { name, reply, .. } => {
            let result = Err(error(name));
            let _ = reply.send(Answer {
                result,
                logs: vec![],
            });
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// One driver thread: keeps its worker process running and hands it requests.
fn drive(pool: &Pool, slot: usize, requests: &Mutex<mpsc::Receiver<Request>>) {
    let mut wire = pool.start(slot);
    loop {
        let next = match requests.lock() {
            Ok(guard) => guard.recv(),
            Err(_) => break,
        };
        let Ok(request) = next else {
            break;
        };
        if pool.closing.load(Ordering::SeqCst) {
            break;
        }
        // A worker that died while idle (killed from outside) is replaced before it is
        // handed a request, rather than failing it.
        if wire.is_some() && !pool.running(slot) {
            pool.kill(slot);
            wire = None;
        }
        if wire.is_none() {
            wire = pool.start(slot);
        }
        let health = match (wire.as_mut(), request) {
            (
                Some(wire),
                Request::Check {
                    kind,
                    name,
                    source,
                    reply,
                },
            ) => pool.check(slot, wire, (kind, name, source), reply),
            (Some(wire), Request::Open { setup, commands }) => {
                pool.session(slot, wire, setup, &commands)
            }
            (None, Request::Check { name, reply, .. }) => {
                let _ = reply.send(Err(ScriptError::Unavailable { script: name }));
                Health::Fine
            }
            (None, Request::Open { commands, .. }) => {
                // Each script of the session is refused as unavailable.
                while let Ok(command) = commands.try_recv() {
                    refuse(command, |script| ScriptError::Unavailable { script });
                }
                Health::Fine
            }
        };
        if let Health::Gone = health {
            // Ready for the next request, started now rather than when it comes.
            wire = if pool.closing.load(Ordering::SeqCst) {
                None
            } else {
                pool.start(slot)
            };
        }
    }
    pool.kill(slot);
}
