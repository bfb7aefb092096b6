//! What one worker thread owns: its QuickJS runtime with its limits, and what the log-ins
//! it serves share (compiled scripts, the `fetch` client, the kept `global` names).

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use rquickjs::Runtime;

use crate::Limits;
use crate::compiled::CompiledScripts;
use crate::fetch::Fetcher;
use crate::globals::KeptGlobals;

pub(crate) struct Worker {
    // Declared before the runtime: kept values must be dropped before it.
    pub kept: KeptGlobals,
    pub runtime: Runtime,
    pub limits: Limits,
    pub scripts: Arc<CompiledScripts>,
    pub fetcher: Option<Arc<Fetcher>>,
    /// When the running script must stop; the runtime's interrupt handler reads it.
    pub deadline: Rc<Cell<Instant>>,
}

impl Worker {
    pub fn new(
        limits: Limits,
        scripts: Arc<CompiledScripts>,
        fetcher: Option<Arc<Fetcher>>,
    ) -> Option<Worker> {
        let deadline = Rc::new(Cell::new(Instant::now() + limits.per_rule));
        Some(Worker {
            kept: KeptGlobals::default(),
            runtime: new_runtime(&limits, &deadline)?,
            limits,
            scripts,
            fetcher,
            deadline,
        })
    }

    /// Memory the runtime holds, in bytes.
    pub fn memory_used(&self) -> usize {
        usize::try_from(self.runtime.memory_usage().malloc_size).unwrap_or(0)
    }

    /// After a bug on our side: continues on a fresh runtime. The old one, and what was kept
    /// in it, are leaked rather than dropped, as their state is unknown.
    pub fn replace_runtime(&mut self) -> bool {
        let Some(fresh) = new_runtime(&self.limits, &self.deadline) else {
            return false;
        };
        std::mem::forget(std::mem::take(&mut self.kept));
        std::mem::forget(std::mem::replace(&mut self.runtime, fresh));
        true
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
