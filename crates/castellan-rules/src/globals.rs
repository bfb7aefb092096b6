//! `global` and `api.cache` across log-ins. Auth0 keeps `global` per container, for as long
//! as the container lives, and rules cache in it; `api.cache` likewise persists across
//! executions. Here a worker process is the container. Each log-in still gets a fresh
//! context, so only the names scripts added to the global object are carried over: the
//! built-ins (`JSON`, `Object.prototype`, ...) and the prelude's globals are new in every
//! log-in, and tampering with them does not outlive it.
//!
//! What is carried over is copied into the next context when the worker prepares it (the
//! prelude's `adopt`): an object kept on `global` gets that context's prototypes, as if
//! the log-in had made it, instead of holding on to the context of the log-in that did.
//! Functions cannot be copied and are kept as they are.

use std::collections::HashSet;

use rquickjs::{Array, Ctx, Filter, Function, Persistent, Value};

/// What a worker's next log-ins get from the ones before.
#[derive(Default)]
pub(crate) struct KeptGlobals {
    /// Names scripts added to the global object, with their values.
    names: Vec<(String, Persistent<Value<'static>>)>,
    /// The map behind actions' `api.cache`.
    action_cache: Option<Persistent<Value<'static>>>,
    /// The built-ins of the context the values above belong to (the prelude's list), for
    /// `adopt` to tell them apart from what scripts made.
    intrinsics: Option<Persistent<Value<'static>>>,
    /// Every name a fresh context's global object has (the built-ins, enumerable or not,
    /// and the prelude's): the same in each, so read once.
    own: Option<HashSet<String>>,
}

impl KeptGlobals {
    pub fn is_empty(&self) -> bool {
        self.names.is_empty() && self.action_cache.is_none()
    }

    /// Reads, once, the names a fresh context's global object has of its own.
    pub fn learn_own_names(&mut self, ctx: &Ctx<'_>) -> Option<()> {
        if self.own.is_none() {
            let names = ctx.globals().own_keys::<String>(Filter::new().string());
            self.own = Some(names.collect::<Result<_, _>>().ok()?);
        }
        Some(())
    }

    /// Copies what is kept into a fresh context (`adopt` and `intrinsics` are its
    /// prelude's) and puts the names on its global object; from then on what is kept is
    /// these copies. `None` when the copy fails (it ran out of time or memory): the caller
    /// then starts over without anything kept.
    pub fn adopt_into<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        adopt: &Function<'js>,
        intrinsics: &Value<'js>,
    ) -> Option<()> {
        if self.is_empty() {
            return Some(());
        }
        let earlier = self.intrinsics.clone()?.restore(ctx).ok()?;
        let values = Array::new(ctx.clone()).ok()?;
        for (i, (_, value)) in self.names.iter().enumerate() {
            values.set(i, value.clone().restore(ctx).ok()?).ok()?;
        }
        if let Some(cache) = &self.action_cache {
            values
                .set(self.names.len(), cache.clone().restore(ctx).ok()?)
                .ok()?;
        }
        let copies: Array = adopt.call((values, earlier)).ok()?;
        let globals = ctx.globals();
        let mut names = Vec::with_capacity(self.names.len());
        for (i, (name, _)) in self.names.iter().enumerate() {
            let copy: Value = copies.get(i).ok()?;
            globals.set(name.as_str(), copy.clone()).ok()?;
            names.push((name.clone(), Persistent::save(ctx, copy)));
        }
        if self.action_cache.is_some() {
            let cache: Value = copies.get(self.names.len()).ok()?;
            self.action_cache = Some(Persistent::save(ctx, cache));
        }
        self.names = names;
        self.intrinsics = Some(Persistent::save(ctx, intrinsics.clone()));
        Some(())
    }

    /// Keeps what the scripts of a log-in left on the global object (`global.x = ...`, or
    /// a sloppy `x = ...`), in place of what was kept. The global object's own names are
    /// not the scripts' to keep: not even a built-in a script deleted and set again.
    pub fn keep_added<'js>(&mut self, ctx: &Ctx<'js>, intrinsics: &Value<'js>) {
        let Some(own) = &self.own else {
            return;
        };
        // Names first, values only of the scripts' own: reading a value may run a getter,
        // and the context's own lazy globals (`Buffer`) load a module when read.
        let globals = ctx.globals();
        self.names = globals
            .keys::<String>()
            .filter_map(Result::ok)
            .filter(|name| !own.contains(name))
            .filter_map(|name| {
                let value: Value = globals.get(name.as_str()).ok()?;
                Some((name, Persistent::save(ctx, value)))
            })
            .collect();
        self.intrinsics = Some(Persistent::save(ctx, intrinsics.clone()));
    }

    pub fn action_cache<'js>(&self, ctx: &Ctx<'js>) -> Option<Value<'js>> {
        self.action_cache.clone()?.restore(ctx).ok()
    }

    /// Keeps the map a log-in's `api.cache` used (the kept one, copied into its context,
    /// or its own), or none when nothing was ever put in it.
    pub fn keep_action_cache<'js>(&mut self, ctx: &Ctx<'js>, cache: Option<Value<'js>>) {
        self.action_cache = cache.map(|cache| Persistent::save(ctx, cache));
    }

    /// Forgets what is kept, as Auth0 does when it replaces a container; the names of a
    /// fresh global object stay known.
    pub fn forget(&mut self) {
        self.names.clear();
        self.action_cache = None;
        self.intrinsics = None;
    }
}
