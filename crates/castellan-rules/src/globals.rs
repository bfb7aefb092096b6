//! `global` and `api.cache` across log-ins. Auth0 keeps `global` per container, for as long
//! as the container lives, and rules cache in it; `api.cache` likewise persists across
//! executions. Here a worker is the container. Each log-in still gets a fresh context, so
//! only the names scripts added to the global object are carried over: the built-ins
//! (`JSON`, `Object.prototype`, ...) and the prelude's globals are new in every log-in, and
//! tampering with them does not outlive it.

use std::collections::HashSet;

use rquickjs::{Ctx, Filter, Persistent, Value};

/// What a worker's next log-ins get from the ones before.
#[derive(Default)]
pub(crate) struct KeptGlobals {
    /// Names scripts added to the global object, with their values.
    names: Vec<(String, Persistent<Value<'static>>)>,
    /// Every name a fresh context's global object has (the built-ins, enumerable or not,
    /// and the prelude's): the same in each, so read once.
    own: Option<HashSet<String>>,
    /// The map behind actions' `api.cache`.
    action_cache: Option<Persistent<Value<'static>>>,
}

impl KeptGlobals {
    /// Puts the kept names on a fresh context's global object (after reading, once, the
    /// names such an object has of its own).
    pub fn install(&mut self, ctx: &Ctx<'_>) -> Option<()> {
        let globals = ctx.globals();
        if self.own.is_none() {
            let names = globals.own_keys::<String>(Filter::new().string());
            self.own = Some(names.collect::<Result<_, _>>().ok()?);
        }
        for (name, value) in &self.names {
            globals
                .set(name.as_str(), value.clone().restore(ctx).ok()?)
                .ok()?;
        }
        Some(())
    }

    /// Keeps what the scripts of a log-in left on the global object (`global.x = ...`, or
    /// a sloppy `x = ...`), in place of what was kept. The global object's own names are
    /// not the scripts' to keep: not even a built-in a script deleted and set again.
    pub fn keep_added(&mut self, ctx: &Ctx<'_>) {
        let Some(own) = &self.own else {
            return;
        };
        self.names = ctx
            .globals()
            .props::<String, Value>()
            .filter_map(Result::ok)
            .filter(|(name, _)| !own.contains(name))
            .map(|(name, value)| (name, Persistent::save(ctx, value)))
            .collect();
    }

    pub fn action_cache<'js>(&self, ctx: &Ctx<'js>) -> Option<Value<'js>> {
        self.action_cache.clone()?.restore(ctx).ok()
    }

    /// Keeps the map a log-in's `api.cache` used, when none is kept yet.
    pub fn keep_action_cache<'js>(&mut self, ctx: &Ctx<'js>, cache: Value<'js>) {
        if self.action_cache.is_none() {
            self.action_cache = Some(Persistent::save(ctx, cache));
        }
    }
}
