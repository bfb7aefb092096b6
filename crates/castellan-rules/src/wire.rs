//! What the server and a worker process say to each other over the socket between them:
//! length-prefixed JSON frames, each one message. Only the server reads with a deadline;
//! a worker that misses it is killed, so the worker side simply blocks.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{ActionOutcome, LogLine, RuleBatch, ScriptError, ScriptKind, Setup, Trigger};

/// Bumped whenever a message changes: the server refuses a worker that answers another.
pub(crate) const VERSION: u32 = 3;

/// What a worker is started with, before anything else.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Init {
    pub version: u32,
    pub memory_bytes: usize,
    pub stack_bytes: usize,
    pub per_rule_ms: u64,
    pub per_login_ms: u64,
    /// Whether scripts get `fetch` (the server makes the requests).
    pub fetch: bool,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ToWorker {
    Check {
        kind: ScriptKind,
        name: String,
        source: String,
    },
    /// A log-in starts: a fresh context with its settings.
    Open { setup: Setup },
    Rules {
        rules: Vec<(String, String)>,
        user: serde_json::Value,
        context: serde_json::Value,
    },
    Action {
        name: String,
        source: String,
        trigger: Trigger,
        event: serde_json::Value,
    },
    /// The log-in is over: keep what it left on `global`, then get the next context ready.
    Close,
    /// The answer to [`FromWorker::Fetch`]: the response as JSON, or why there is none.
    Fetched(Result<String, String>),
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum FromWorker {
    /// Started and ready for requests; carries the protocol version.
    Ready(u32),
    /// The rule at this index of the batch starts (sent from the second on).
    Started(usize),
    Fetch {
        url: String,
        method: String,
        headers: String,
        body: Option<String>,
    },
    Checked(Result<(), ScriptError>),
    Ruled {
        result: Result<RuleBatch, ScriptError>,
        logs: Vec<LogLine>,
    },
    Acted {
        result: Result<ActionOutcome, ScriptError>,
        logs: Vec<LogLine>,
    },
    /// Done with `Close`: ready for the next log-in.
    Idle,
    /// Done with `Close`, but the log-in left promise jobs that never end (a script that
    /// ran out of time inside an endless chain). A runtime cannot drop its jobs, so the
    /// worker ends and another takes its place.
    Retiring,
}

/// Why no message came.
#[derive(Debug)]
pub(crate) enum WireError {
    /// The deadline passed first.
    TimedOut,
    /// The other side went away, or said something that is not a message.
    Broken(String),
}

impl From<io::Error> for WireError {
    fn from(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => WireError::TimedOut,
            _ => WireError::Broken(e.to_string()),
        }
    }
}

/// One end of the socket.
pub(crate) struct Wire {
    stream: UnixStream,
    /// What was read past the last message.
    buffer: Vec<u8>,
    /// Whether a read or write timeout is set on the socket.
    timed: bool,
    /// The largest frame accepted.
    max_frame: usize,
}

impl Wire {
    pub fn new(stream: UnixStream, max_frame: usize) -> Wire {
        Wire {
            stream,
            buffer: Vec::new(),
            timed: false,
            max_frame,
        }
    }

    /// Sends one message; a server bounds the write by `deadline` too (a worker that does
    /// not read is as stuck as one that does not answer).
    pub fn send<T: Serialize>(
        &mut self,
        message: &T,
        deadline: Option<Instant>,
    ) -> Result<(), WireError> {
        let mut frame = vec![0; 4];
        serde_json::to_writer(&mut frame, message).map_err(|e| WireError::Broken(e.to_string()))?;
        let len = u32::try_from(frame.len() - 4)
            .map_err(|_| WireError::Broken("frame too big".into()))?;
        frame[..4].copy_from_slice(&len.to_le_bytes());
        self.time(deadline, UnixStream::set_write_timeout)?;
        self.stream.write_all(&frame)?;
        Ok(())
    }

    /// The next message, waiting at most until `deadline` (forever with `None`).
    pub fn receive<T: DeserializeOwned>(
        &mut self,
        deadline: Option<Instant>,
    ) -> Result<T, WireError> {
        self.fill(4, deadline)?;
        let len = u32::from_le_bytes([
            self.buffer[0],
            self.buffer[1],
            self.buffer[2],
            self.buffer[3],
        ]) as usize;
        if len > self.max_frame {
            return Err(WireError::Broken(format!("a frame of {len} bytes")));
        }
        self.fill(4 + len, deadline)?;
        let message = serde_json::from_slice(&self.buffer[4..4 + len]);
        self.buffer.drain(..4 + len);
        message.map_err(|e| WireError::Broken(e.to_string()))
    }

    /// Reads until `need` bytes are buffered (usually one read gets a whole message).
    fn fill(&mut self, need: usize, deadline: Option<Instant>) -> Result<(), WireError> {
        let mut chunk = [0; 64 * 1024];
        while self.buffer.len() < need {
            self.time(deadline, UnixStream::set_read_timeout)?;
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    return Err(WireError::Broken("the other side closed the socket".into()));
                }
                Ok(n) => self.buffer.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Sets the socket's timeout for what is left until `deadline`; without a deadline,
    /// clears it if one was set.
    fn time(
        &mut self,
        deadline: Option<Instant>,
        set: fn(&UnixStream, Option<Duration>) -> io::Result<()>,
    ) -> Result<(), WireError> {
        match deadline {
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(WireError::TimedOut);
                }
                set(&self.stream, Some(left))?;
                self.timed = true;
            }
            None if self.timed => {
                self.stream.set_read_timeout(None)?;
                self.stream.set_write_timeout(None)?;
                self.timed = false;
            }
            None => {}
        }
        Ok(())
    }
}
