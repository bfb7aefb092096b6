//! The QuickJS sandbox (`castellan-rules`) behind core's script-engine port. Core knows
//! only the port, so it builds without a JavaScript engine or an HTTP client; this is the
//! one place that joins the two.

use std::sync::Arc;

use async_trait::async_trait;
use castellan_core::scripts::Scripts;
use castellan_core::scripts::engine::{
    ActionOutcome, LogLine, RuleBatch, ScriptEngine, ScriptError, ScriptKind, ScriptSession, Setup,
    Trigger,
};
use castellan_core::secrets::MasterKey;
use castellan_rules::{Sandbox, Session};
use serde_json::Value;

use crate::config::Settings;

/// The scripts of the log-in pipeline, run by a sandbox with the configured limits. Their
/// `fetch` always reaches this server (`auth0.baseUrl`), whatever `fetch_allow` says.
pub fn scripts(settings: &Settings, master: MasterKey) -> Scripts {
    let mut limits = settings.scripts.clone();
    limits.fetch_allow = limits.fetch_allow.with_own_origin(&settings.issuer);
    let engine = QuickJs(Sandbox::new(limits));
    let scripts = Scripts::new(Arc::new(engine), master, &settings.issuer);
    match &settings.geoip_database {
        Some(database) => scripts.with_geoip(Arc::new(database.clone())),
        None => scripts,
    }
}

struct QuickJs(Sandbox);

struct QuickJsSession(Session);

#[async_trait]
impl ScriptEngine for QuickJs {
    async fn check(&self, kind: ScriptKind, name: &str, source: &str) -> Result<(), ScriptError> {
        self.0.check(kind, name, source).await
    }

    fn open(&self, setup: Setup) -> Box<dyn ScriptSession> {
        Box::new(QuickJsSession(self.0.open(setup)))
    }

    fn worker_pids(&self) -> Vec<u32> {
        self.0.worker_pids()
    }
}

#[async_trait]
impl ScriptSession for QuickJsSession {
    async fn run_rules(
        &mut self,
        rules: &[(String, String)],
        user: Value,
        context: Value,
    ) -> Result<RuleBatch, ScriptError> {
        self.0.run_rules(rules, user, context).await
    }

    async fn run_action(
        &mut self,
        name: &str,
        source: &str,
        trigger: Trigger,
        event: Value,
    ) -> Result<ActionOutcome, ScriptError> {
        self.0.run_action(name, source, trigger, event).await
    }

    fn take_logs(&mut self) -> Vec<LogLine> {
        self.0.take_logs()
    }
}
