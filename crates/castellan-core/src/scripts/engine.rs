//! The script-engine port: what the pipeline needs from whatever runs JavaScript. Core
//! drives it and never names an engine; the binary plugs the QuickJS sandbox in
//! (`castellan::script_engine`), and tests can plug in an engine that answers from a list.

use async_trait::async_trait;
pub use castellan_script_types::{
    ActionOutcome, Effect, LogLine, MultifactorRequest, RuleBatch, RuleOutcome, ScriptError,
    ScriptKind, Setup, Trigger, Unsupported,
};
use serde_json::Value;

/// Runs scripts, one log-in's worth at a time.
#[async_trait]
pub trait ScriptEngine: Send + Sync {
    /// Compiles a script and evaluates what it runs besides its function, without calling
    /// it: `Err(ScriptError::Syntax { .. })` when it does not compile or a rule is not a
    /// function, so it can be refused when it is saved.
    async fn check(&self, kind: ScriptKind, name: &str, source: &str) -> Result<(), ScriptError>;

    /// The session of one log-in: its scripts run in it in order, sharing one context.
    /// Dropping the session ends it.
    fn open(&self, setup: Setup) -> Box<dyn ScriptSession>;

    /// The operating-system processes scripts run in now, for tests and diagnostics; an
    /// engine that runs in the server's process has none.
    fn worker_pids(&self) -> Vec<u32> {
        Vec::new()
    }
}

/// The scripts of one log-in.
#[async_trait]
pub trait ScriptSession: Send {
    /// Runs `(name, source)` rules in order, each handed what the one before handed back,
    /// stopping after the first that asked for a change, so the pipeline applies it before
    /// the next rule runs. An error names the rule that failed.
    async fn run_rules(
        &mut self,
        rules: &[(String, String)],
        user: Value,
        context: Value,
    ) -> Result<RuleBatch, ScriptError>;

    /// Runs the handler of `trigger` that an action exports, with `event`.
    async fn run_action(
        &mut self,
        name: &str,
        source: &str,
        trigger: Trigger,
        event: Value,
    ) -> Result<ActionOutcome, ScriptError>;

    /// The console output written so far, oldest first.
    fn take_logs(&mut self) -> Vec<LogLine>;
}
