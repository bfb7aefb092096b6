//! What one worker process owns: its QuickJS runtime with its limits, and what the log-ins
//! it serves share (compiled scripts, the recorder, the way to `fetch`, the kept `global`).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Instant;

use rquickjs::Runtime;

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
    pub scripts: CompiledScripts,
    /// What the running script asked for and printed. One for all contexts: a function an
    /// earlier log-in kept on `global` records into the log-in that calls it.
    pub recorder: Rc<RefCell<Recorder>>,
    pub fetch: Option<FetchHost>,
    /// When the running script must stop; the runtime's interrupt handler reads it.
    pub deadline: Rc<Cell<Instant>>,
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
        Some(Worker {
            kept: KeptGlobals::default(),
            runtime,
            limits,
            scripts: CompiledScripts::default(),
            recorder: Rc::default(),
            fetch,
            deadline,
        })
    }

    /// Memory the runtime holds, in bytes.
    pub fn memory_used(&self) -> usize {
        usize::try_from(self.runtime.memory_usage().malloc_size).unwrap_or(0)
    }
}
