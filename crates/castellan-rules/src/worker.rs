//! What one worker process owns: its QuickJS runtime with its limits, and what the log-ins
//! it serves share (compiled scripts, the recorder, the way to `fetch`, the kept `global`).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Instant;

use std::hash::{Hash, Hasher};

use rquickjs::{Runtime, Value};

use crate::Limits;
use crate::compiled::CompiledScripts;
use crate::effects::Recorder;
use crate::globals::KeptGlobals;

/// Asks the server for `fetch(url, {method, headers, body})` and waits for its answer.
pub(crate) type FetchHost =
    Rc<dyn Fn(String, String, String, Option<String>) -> Result<String, String>>;

pub(crate) struct Worker {
    // Declared before the runtime: kept values must be dropped before it.
    pub kept: KeptGlobals,
    pub runtime: Runtime,
    pub limits: Limits,
    pub scripts: Rc<CompiledScripts>,
    /// What the running script asked for and printed. One for all contexts: a function an
    /// earlier log-in kept on `global` records into the log-in that calls it.
    pub recorder: Rc<RefCell<Recorder>>,
    pub fetch: Option<FetchHost>,
    /// When the running script must stop; the runtime's interrupt handler reads it.
    pub deadline: Rc<Cell<Instant>>,
    /// Promises rejected with no handler yet, as the runtime reports them.
    pub unhandled: Rc<RefCell<Vec<Rejection>>>,
}

/// A promise rejected while nothing handled it: an uncaught error, unless a handler comes
/// before the promise jobs run out.
pub(crate) struct Rejection {
    /// The promise's identity (a hash of the value), to forget it when a handler comes.
    promise: u64,
    pub message: String,
    pub stack: Option<String>,
}

impl Worker {
    pub fn new(limits: Limits, fetch: Option<FetchHost>) -> Option<Worker> {
        let deadline = Rc::new(Cell::new(Instant::now() + limits.per_rule));
        let runtime = Runtime::new().ok()?;
        runtime.set_memory_limit(limits.memory_bytes);
        runtime.set_max_stack_size(limits.stack_bytes);
        let handler_deadline = Rc::clone(&deadline);
        runtime.set_interrupt_handler(Some(Box::new(move || {
            Instant::now() >= handler_deadline.get()
        })));
        let unhandled: Rc<RefCell<Vec<Rejection>>> = Rc::default();
        let tracked = Rc::clone(&unhandled);
        runtime.set_host_promise_rejection_tracker(Some(Box::new(
            move |_ctx, promise, reason, handled| {
                let promise = identity(&promise);
                let mut tracked = tracked.borrow_mut();
                if handled {
                    tracked.retain(|r| r.promise != promise);
                } else {
                    let (message, stack) = crate::engine::describe_reason(&reason);
                    tracked.push(Rejection {
                        promise,
                        message,
                        stack,
                    });
                }
            },
        )));
        Some(Worker {
            kept: KeptGlobals::default(),
            runtime,
            limits,
            scripts: Rc::default(),
            recorder: Rc::default(),
            fetch,
            deadline,
            unhandled,
        })
    }

    /// Memory the runtime holds, in bytes.
    pub fn memory_used(&self) -> usize {
        usize::try_from(self.runtime.memory_usage().malloc_size).unwrap_or(0)
    }
}

fn identity(value: &Value<'_>) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}
