//! `global` across log-ins. Auth0 keeps `global` per container, for as long as the container
//! lives, and rules use it as a cache; here a worker is the container. Each log-in still
//! gets a fresh context, so only the names scripts added to the global object are carried
//! over: the built-ins (`JSON`, `Object.prototype`, ...) and the prelude's globals are new
//! in every log-in, and tampering with them does not outlive it.

use std::collections::HashSet;

use rquickjs::{Ctx, Persistent, Value};

/// Names scripts added to the global object, with their values, for the worker's next
/// log-ins.
#[derive(Default)]
pub(crate) struct KeptGlobals(Vec<(String, Persistent<Value<'static>>)>);

impl KeptGlobals {
    /// Puts the kept names on a fresh context's global object, and returns the names it had
    /// before: the ones that are not the scripts' to keep.
    pub fn install(&self, ctx: &Ctx<'_>) -> Option<HashSet<String>> {
        let globals = ctx.globals();
        let own = globals.keys::<String>().collect::<Result<_, _>>().ok()?;
        for (name, value) in &self.0 {
            globals
                .set(name.as_str(), value.clone().restore(ctx).ok()?)
                .ok()?;
        }
        Some(own)
    }

    /// What the scripts of a log-in added to the global object (`global.x = ...`, or a
    /// sloppy `x = ...`), beside the names it had `before`.
    pub fn added(ctx: &Ctx<'_>, before: &HashSet<String>) -> KeptGlobals {
        let added = ctx
            .globals()
            .props::<String, Value>()
            .filter_map(Result::ok)
            .filter(|(name, _)| !before.contains(name))
            .map(|(name, value)| (name, Persistent::save(ctx, value)))
            .collect();
        KeptGlobals(added)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
