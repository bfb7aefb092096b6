//! Scripts compiled once per process: the first use of a source parses it and keeps its
//! QuickJS bytecode, keyed by the source; every later use, in any worker's fresh context,
//! only reads that bytecode back.
//!
//! This is the workspace's only `unsafe` code. rquickjs writes and reads bytecode only for
//! modules, and module code is always strict, while Auth0 runs rules and actions as sloppy
//! scripts (a rule may assign an undeclared `i = 0`). So the four QuickJS calls that
//! compile a script, write it, read it back and run it are made here directly.
#![allow(unsafe_code)]

use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::sync::{Arc, Mutex};

use rquickjs::{Ctx, Value, qjs};

/// Sources and bytecode kept at most. Past it the cache starts over: scripts change rarely,
/// so this only bounds a tenant that goes through very many versions.
const MAX_CACHED_BYTES: usize = 16 * 1024 * 1024;

/// The file name stack traces show for a script's lines.
const FILE_NAME: &CStr = c"eval_script";

/// Compiled scripts, shared by all workers of a sandbox.
#[derive(Default)]
pub(crate) struct CompiledScripts {
    entries: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    by_source: HashMap<Box<str>, Arc<[u8]>>,
    bytes: usize,
}

impl CompiledScripts {
    /// Runs `source`, a sloppy-mode script, in `ctx` and returns its value, from bytecode
    /// when the same source was compiled before. A syntax error is `Err(Error::Exception)`
    /// with the exception pending, as from `Ctx::eval`.
    pub(crate) fn evaluate<'js>(
        &self,
        ctx: &Ctx<'js>,
        source: &str,
    ) -> rquickjs::Result<Value<'js>> {
        if let Some(bytecode) = self.cached(source) {
            return run(ctx, read(ctx, &bytecode)?);
        }
        let compiled = compile(ctx, source)?;
        if let Some(bytecode) = write(ctx, &compiled) {
            self.keep(source, bytecode);
        }
        run(ctx, compiled)
    }

    /// How many sources are compiled and kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.lock().map_or(0, |e| e.by_source.len())
    }

    fn cached(&self, source: &str) -> Option<Arc<[u8]>> {
        let entries = self.entries.lock().ok()?;
        entries.by_source.get(source).cloned()
    }

    fn keep(&self, source: &str, bytecode: Arc<[u8]>) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        let size = source.len() + bytecode.len();
        if entries.bytes + size > MAX_CACHED_BYTES {
            entries.by_source.clear();
            entries.bytes = 0;
        }
        entries.bytes += size;
        if let Some(replaced) = entries.by_source.insert(source.into(), bytecode) {
            entries.bytes -= source.len() + replaced.len();
        }
    }
}

/// Parses a script without running it: the result is QuickJS's compiled function object.
fn compile<'js>(ctx: &Ctx<'js>, source: &str) -> rquickjs::Result<Value<'js>> {
    let input = CString::new(source)?;
    let flags = (qjs::JS_EVAL_TYPE_GLOBAL | qjs::JS_EVAL_FLAG_COMPILE_ONLY) as i32;
    // SAFETY: `ctx` proves the runtime is locked by this thread. QuickJS requires the input
    // to be NUL-terminated past `input_len`, which `CString` guarantees.
    let value = unsafe {
        qjs::JS_Eval(
            ctx.as_raw().as_ptr(),
            input.as_ptr(),
            source.len() as _,
            FILE_NAME.as_ptr(),
            flags,
        )
    };
    owned(ctx, value)
}

/// The bytecode of a compiled script, or `None` when QuickJS cannot write it (out of
/// memory), in which case the script simply is not kept.
fn write(ctx: &Ctx<'_>, compiled: &Value<'_>) -> Option<Arc<[u8]>> {
    let mut len = 0;
    let flags = qjs::JS_WRITE_OBJ_BYTECODE as i32;
    // SAFETY: the runtime is locked (`ctx`) and `compiled` is alive for the call.
    let buffer =
        unsafe { qjs::JS_WriteObject(ctx.as_raw().as_ptr(), &mut len, compiled.as_raw(), flags) };
    if buffer.is_null() {
        drop(ctx.catch());
        return None;
    }
    // SAFETY: QuickJS returned a buffer of `len` bytes that we own until we free it, which
    // is right after copying it.
    let bytecode = Arc::from(unsafe { std::slice::from_raw_parts(buffer, len as usize) });
    unsafe { qjs::js_free(ctx.as_raw().as_ptr(), buffer.cast()) };
    Some(bytecode)
}

/// Reads bytecode back into a compiled function object of `ctx`.
fn read<'js>(ctx: &Ctx<'js>, bytecode: &[u8]) -> rquickjs::Result<Value<'js>> {
    let flags = qjs::JS_READ_OBJ_BYTECODE as i32;
    // SAFETY: JS_ReadObject trusts its input to be bytecode written by the same QuickJS
    // build. These bytes were written by `write` in this process: the cache lives in memory
    // only and nothing else fills it. Reading copies the bytes.
    let value = unsafe {
        qjs::JS_ReadObject(
            ctx.as_raw().as_ptr(),
            bytecode.as_ptr(),
            bytecode.len() as _,
            flags,
        )
    };
    owned(ctx, value)
}

/// Runs a compiled script in the global scope and returns its value.
fn run<'js>(ctx: &Ctx<'js>, compiled: Value<'js>) -> rquickjs::Result<Value<'js>> {
    // SAFETY: JS_EvalFunction takes over one reference to the function it runs; it gets a
    // new one, and `compiled` drops its own.
    let value = unsafe {
        let function = qjs::JS_DupValue(ctx.as_raw().as_ptr(), compiled.as_raw());
        qjs::JS_EvalFunction(ctx.as_raw().as_ptr(), function)
    };
    owned(ctx, value)
}

/// Takes ownership of a value QuickJS just returned, or reports its pending exception.
fn owned<'js>(ctx: &Ctx<'js>, value: qjs::JSValue) -> rquickjs::Result<Value<'js>> {
    // SAFETY: QuickJS returned `value` with one reference that belongs to the caller, and
    // it belongs to the context `ctx` is for; an exception value holds nothing.
    unsafe {
        if qjs::JS_IsException(value) {
            return Err(rquickjs::Error::Exception);
        }
        Ok(Value::from_raw(ctx.clone(), value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rquickjs::{CatchResultExt, Context, Runtime};

    fn call_twice(scripts: &CompiledScripts, source: &str) -> Vec<i32> {
        let runtime = Runtime::new().unwrap();
        (0..2)
            .map(|_| {
                let context = Context::full(&runtime).unwrap();
                context.with(|ctx| {
                    let function = scripts.evaluate(&ctx, source).unwrap();
                    let function = function.into_function().unwrap();
                    function.call::<_, i32>((20,)).unwrap()
                })
            })
            .collect()
    }

    #[test]
    fn a_source_is_compiled_once_and_loaded_in_later_contexts() {
        let scripts = CompiledScripts::default();
        let source = "(function (x) { total = x + 1; return total * 2; })";
        // Sloppy mode: `total` is an undeclared global, as Auth0's Node allows.
        assert_eq!(call_twice(&scripts, source), vec![42, 42]);
        assert_eq!(scripts.len(), 1);
        assert_eq!(
            call_twice(&scripts, "(function (x) { return x; })"),
            vec![20, 20]
        );
        assert_eq!(scripts.len(), 2);
    }

    #[test]
    fn a_syntax_error_is_the_pending_exception_and_is_not_kept() {
        let scripts = CompiledScripts::default();
        let runtime = Runtime::new().unwrap();
        let context = Context::full(&runtime).unwrap();
        context.with(|ctx| {
            let error = scripts
                .evaluate(&ctx, "(function ( {)")
                .catch(&ctx)
                .unwrap_err();
            let rquickjs::CaughtError::Exception(exception) = error else {
                panic!("{error}");
            };
            let kind: String = exception.as_object().get("name").unwrap();
            assert_eq!(kind, "SyntaxError");
            let error = scripts.evaluate(&ctx, "(1\0)").catch(&ctx).unwrap_err();
            assert!(error.to_string().contains("nul"), "{error}");
        });
        assert_eq!(scripts.len(), 0);
    }

    #[test]
    fn the_cache_starts_over_past_its_size() {
        let scripts = CompiledScripts::default();
        scripts.keep("a", Arc::from(vec![0; MAX_CACHED_BYTES - 10]));
        scripts.keep("b", Arc::from(vec![0; 20]));
        assert_eq!(scripts.len(), 1);
        assert!(scripts.cached("a").is_none() && scripts.cached("b").is_some());
    }
}
