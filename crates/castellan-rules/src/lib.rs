//! Sandbox for log-in scripts: Auth0-style rules (`function (user, context, callback)`) and
//! Actions (`exports.onExecutePostLogin = async (event, api) => {}`) run on QuickJS
//! (through rquickjs) in a pool of worker processes.
//!
//! This crate knows nothing of `castellan-core`. A log-in opens a [`Session`], runs its
//! scripts one after another in it, and gets back for each one the JSON it handed back
//! plus the [`Effect`]s it asked for (metadata updates, role changes, claims). Applying
//! those effects is the caller's job, which lets the caller show the next script what the
//! previous one changed.
//!
//! Isolation choices:
//! - Scripts run in **worker processes** (`process.rs`), each with one QuickJS `Runtime`
//!   with a memory limit, a stack limit and an interrupt handler that stops a script at its
//!   deadline. QuickJS looks at that handler only every ten thousand or so operations, and
//!   one operation may be a built-in that computes for seconds (`BigInt` arithmetic and
//!   printing, searches in long strings), so the deadline is also kept from outside: the
//!   server waits for a worker's answer until the deadline and a short grace, then kills
//!   the process (which gives back its CPU at once) and starts another (`pool.rs`). The
//!   program is the server's own binary (`castellan rules-worker`, see [`WorkerProgram`]).
//! - Every session (one log-in) gets a **fresh `Context`**, shared by all the scripts of
//!   that log-in, so one run's tampering with the built-ins (`Object.prototype`, `JSON`,
//!   ...) cannot leak into another log-in. What scripts add to `global` is the exception:
//!   Auth0 keeps `global` per container and rules cache in it, so each worker carries
//!   those names to its next log-ins, copied into each new context so that they have its
//!   prototypes (`globals.rs`), unless the session is a dry run. A `global` that fills half
//!   the worker's memory is dropped, as Auth0 replaces a container, and so is a worker's
//!   whole `global` when the worker is killed.
//! - No file system, no process, no network: the context has the ECMAScript intrinsics,
//!   the globals of `prelude.js` and the Node globals of `node.js` (`Buffer`, `URL`,
//!   timers, a `process` whose `env` is empty); `require(name)` gives the modules of
//!   Auth0's rule runtime listed in `modules/` and throws
//!   `Error("module '<name>' is not available")` for any other; `fetch` exists only when
//!   an allow-list names hosts or the server's own origin is given (see `fetch.rs`); the
//!   server makes those requests, not the worker. Workers start with an empty environment.
//! - Scripts run in sloppy mode, as Auth0 runs them in Node. Each source is compiled once
//!   per worker process and kept as bytecode keyed by the source (`compiled.rs`, the only
//!   `unsafe` code of the workspace); a log-in's fresh context reads the bytecode back
//!   instead of parsing again.
//! - What a script records (effects, console output) lives on the Rust side, outside the
//!   runtime's memory limit, so both are capped per session.
//!
//! Callback contract: the first `callback(...)` wins and later calls are ignored (as in
//! Auth0), even if the rule then throws. Promise jobs and timers run after the script
//! returns, also after it called back: work it started (a request's callback) finishes
//! before the next rule starts, within the rule's deadline, and what it changes counts.
//! A script that is still running at its deadline fails, whatever it called back with; a
//! timer due after the deadline of a script that called back is dropped. A script with
//! nothing left to run that has not finished fails at once instead of waiting for the
//! deadline, with the message of an error nothing caught (a rejected promise, a timer
//! that threw) when there is one.

mod compiled;
mod effects;
mod engine;
mod fetch;
mod globals;
mod host;
mod modules;
mod pool;
mod process;
mod wire;
mod worker;

use std::path::PathBuf;
use std::time::Duration;

pub use castellan_script_types::{
    ActionOutcome, Effect, LogLine, MultifactorRequest, RuleBatch, RuleOutcome, ScriptError,
    ScriptKind, Setup, Trigger, Unsupported,
};
pub use fetch::{AllowList, read_fetch_roots};
pub use modules::available as available_modules;
pub use pool::{Sandbox, Session};
pub use process::worker_main;

/// The argument that makes the server's binary a worker process (`castellan rules-worker`):
/// its `main` hands over to [`worker_main`] when it is the first argument.
pub const WORKER_ARG: &str = "rules-worker";

/// How a worker process is started: a program that runs [`worker_main`] when given `args`.
/// It talks to the server over its standard input (a socket) and gets an empty
/// environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerProgram {
    pub path: PathBuf,
    pub args: Vec<String>,
}

impl WorkerProgram {
    pub fn new(path: impl Into<PathBuf>, args: &[&str]) -> WorkerProgram {
        WorkerProgram {
            path: path.into(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
        }
    }

    /// The running executable with [`WORKER_ARG`]: on Linux through `/proc/self/exe`, so a
    /// binary replaced on disk while the server runs does not change what its workers run.
    pub fn current_exe() -> WorkerProgram {
        let path = if cfg!(target_os = "linux") {
            PathBuf::from("/proc/self/exe")
        } else {
            std::env::current_exe().unwrap_or_else(|_| PathBuf::from("castellan"))
        };
        WorkerProgram::new(path, &[WORKER_ARG])
    }
}

/// Resource limits of a [`Sandbox`].
#[derive(Debug, Clone)]
pub struct Limits {
    /// Number of worker processes (each with its own QuickJS runtime).
    pub workers: usize,
    /// Memory limit of each worker's runtime, in bytes.
    pub memory_bytes: usize,
    /// Maximum JavaScript stack size, in bytes.
    pub stack_bytes: usize,
    /// Wall-clock deadline of one script.
    pub per_rule: Duration,
    /// Wall-clock deadline of all the scripts of one log-in (one session).
    pub per_login: Duration,
    /// Where `fetch` may go; empty (the default) means scripts have no `fetch`. The
    /// server adds its own origin ([`AllowList::with_own_origin`]).
    pub fetch_allow: AllowList,
    /// An HTTP proxy `fetch` goes through (`http://proxy.internal:3128`), which then
    /// resolves names and is trusted to enforce egress; the allow-list still applies.
    pub fetch_proxy: Option<url::Url>,
    /// A PEM file of certificate authorities `fetch` trusts besides the system's: an
    /// egress proxy that inspects TLS, services under a private authority. Read with
    /// [`read_fetch_roots`], which the settings call first so that a bad file stops the
    /// start.
    pub fetch_ca_file: Option<std::path::PathBuf>,
    /// What a worker process runs.
    pub worker: WorkerProgram,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            workers: 2,
            memory_bytes: 32 * 1024 * 1024,
            stack_bytes: 512 * 1024,
            per_rule: Duration::from_secs(5),
            per_login: Duration::from_secs(20),
            fetch_allow: AllowList::default(),
            fetch_proxy: None,
            fetch_ca_file: None,
            worker: WorkerProgram::current_exe(),
        }
    }
}
