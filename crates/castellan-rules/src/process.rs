//! The worker process: one QuickJS runtime serving the server's requests, one at a time,
//! over the socket it gets as standard input. It keeps no deadline of its own beyond the
//! runtime's interrupt handler: the server kills it when it misses one. It ends when the
//! server closes the socket or goes away.

use std::cell::RefCell;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;

use crate::engine::{self, Live, Prepared};
use crate::wire::{FromWorker, Init, ToWorker, VERSION, Wire};
use crate::worker::{FetchHost, Worker};
use crate::{Limits, ScriptError, Setup};

/// Requests served between two full collections of the runtime.
const GC_EVERY: u64 = 16;

/// The server sends nothing this big; the bound only stops a confused reader.
const MAX_FRAME: usize = 1 << 30;

type Shared = Rc<RefCell<Wire>>;

/// Runs a worker process until the server closes its socket. A program that hosts the
/// sandbox calls this when started with [`crate::WORKER_ARG`] (see [`crate::WorkerProgram`]).
pub fn worker_main() -> ExitCode {
    let Ok(fd) = std::io::stdin().as_fd().try_clone_to_owned() else {
        return ExitCode::FAILURE;
    };
    watch_parent();
    let wire: Shared = Rc::new(RefCell::new(Wire::new(UnixStream::from(fd), MAX_FRAME)));
    let Ok(init) = wire.borrow_mut().receive::<Init>(None) else {
        return ExitCode::FAILURE;
    };
    if init.version != VERSION {
        eprintln!(
            "castellan rules worker: the server speaks version {}, this worker {VERSION}",
            init.version
        );
        return ExitCode::FAILURE;
    }
    let limits = Limits {
        workers: 1,
        memory_bytes: init.memory_bytes,
        stack_bytes: init.stack_bytes,
        per_rule: Duration::from_millis(init.per_rule_ms),
        per_login: Duration::from_millis(init.per_login_ms),
        ..Limits::default()
    };
    let fetch = init.fetch.then(|| fetch_host(&wire));
    let Some(mut worker) = Worker::new(limits, fetch) else {
        return ExitCode::FAILURE;
    };
    let mut spare = engine::prepare(&mut worker, true);
    send(&wire, &FromWorker::Ready(VERSION));
    let mut served: u64 = 0;
    loop {
        match receive(&wire) {
            ToWorker::Check { kind, name, source } => {
                let checked = engine::check(&worker, kind, &name, &source);
                send(&wire, &FromWorker::Checked(checked));
            }
            ToWorker::Open { setup } => {
                let prepared = usable(&worker, spare.take(), &setup)
                    .or_else(|| engine::prepare(&mut worker, setup.keep_global));
                let live = prepared.and_then(|p| engine::open(&mut worker, p, &setup));
                serve(&mut worker, live.as_ref(), &wire);
                if let Some(live) = live {
                    live.close(&mut worker);
                }
                if worker.runtime.is_job_pending() {
                    send(&wire, &FromWorker::Retiring);
                    return ExitCode::SUCCESS;
                }
                tidy(&mut worker, served);
                spare = engine::prepare(&mut worker, true);
                send(&wire, &FromWorker::Idle);
            }
            _ => return ExitCode::FAILURE,
        }
        served += 1;
    }
}

/// The spare context, when it fits the log-in: with what is kept on `global` for a log-in
/// that keeps it, without for a dry run.
fn usable(worker: &Worker, spare: Option<Prepared>, setup: &Setup) -> Option<Prepared> {
    let spare = spare?;
    let fits = if setup.keep_global {
        spare.with_kept || worker.kept.is_empty()
    } else {
        !spare.with_kept
    };
    fits.then_some(spare)
}

/// Runs the log-in's scripts until the server closes it.
fn serve(worker: &mut Worker, live: Option<&Live>, wire: &Shared) {
    loop {
        match receive(wire) {
            ToWorker::Rules {
                rules,
                user,
                context,
            } => {
                let (result, logs) = match live {
                    Some(live) => live.rules(worker, &rules, user, context, &mut |i| {
                        send(wire, &FromWorker::Started(i));
                    }),
                    None => (
                        Err(unavailable(rules.first().map(|r| r.0.as_str()))),
                        vec![],
                    ),
                };
                send(wire, &FromWorker::Ruled { result, logs });
            }
            ToWorker::Action {
                name,
                source,
                trigger,
                event,
            } => {
                let (result, logs) = match live {
                    Some(live) => live.action(worker, &name, &source, trigger, &event),
                    None => (Err(unavailable(Some(&name))), vec![]),
                };
                send(wire, &FromWorker::Acted { result, logs });
            }
            ToWorker::Close => return,
            _ => std::process::exit(1),
        }
    }
}

fn unavailable(name: Option<&str>) -> ScriptError {
    ScriptError::Unavailable {
        script: name.unwrap_or_default().to_owned(),
    }
}

/// Between log-ins: a finished context frees its objects by reference counting; only
/// cycles wait for the collector, which need not run after every log-in. A script that
/// ran out of memory leaves more, so the collector runs then too. When what `global` and
/// `api.cache` hold fills half the memory, they are dropped, as Auth0 replaces a container.
fn tidy(worker: &mut Worker, served: u64) {
    let limit = worker.limits.memory_bytes;
    if (served + 1).is_multiple_of(GC_EVERY) || worker.memory_used() > limit / 4 {
        worker.runtime.run_gc();
    }
    if worker.memory_used() > limit / 2 {
        worker.kept.forget();
        worker.runtime.run_gc();
    }
}

/// `fetch`: the server makes the request and answers before the script's deadline.
fn fetch_host(wire: &Shared) -> FetchHost {
    let wire = Rc::clone(wire);
    Rc::new(move |url, method, headers, body| {
        send(
            &wire,
            &FromWorker::Fetch {
                url,
                method,
                headers,
                body,
            },
        );
        match receive(&wire) {
            ToWorker::Fetched(answer) => answer,
            _ => std::process::exit(1),
        }
    })
}

/// The server went away (or sent something else than a message): nothing is left to do.
fn receive(wire: &Shared) -> ToWorker {
    match wire.borrow_mut().receive(None) {
        Ok(message) => message,
        Err(_) => std::process::exit(0),
    }
}

fn send(wire: &Shared, message: &FromWorker) {
    if wire.borrow_mut().send(message, None).is_err() {
        std::process::exit(0);
    }
}

/// Ends the process when the server does, even while a script computes: the server kills
/// its workers when it stops, but not when it is killed itself.
fn watch_parent() {
    let parent = std::os::unix::process::parent_id();
    let _ = std::thread::Builder::new()
        .name("parent-watch".into())
        .stack_size(64 * 1024)
        .spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(500));
                if std::os::unix::process::parent_id() != parent {
                    std::process::exit(0);
                }
            }
        });
}
