//! The history of a torture run: every operation's invocation and completion, in real-time
//! order, per client, plus the nemesis' actions. This is the checkers' only input, and it is
//! stored as JSON lines (one event per line) so that a run can be re-checked later
//! (`slotraft-torture check --history FILE`).
//!
//! An operation ends in one of three ways, and the difference is the whole point:
//! - `ok`: the server acknowledged it (for a write: it happened);
//! - `fail`: a definite error (`-MOVED`, `-CLUSTERDOWN`, `-TRYAGAIN`, a refused connection
//!   before anything was sent): it certainly did not happen, and a checker may rely on that;
//! - `info`: indeterminate (timeout, connection lost after sending, `-OUTCOMEUNKNOWN`): it may
//!   or may not have happened, now or at any later time.

use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::{Deserialize, Serialize};

/// What an operation asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "f", rename_all = "kebab-case")]
pub enum Call {
    /// Register read (`GET`).
    Read { key: String },
    /// Register write (`SET key value`), values unique per run.
    Write { key: String, value: i64 },
    /// Register increment (`INCR`).
    Incr { key: String },
    /// Add a unique element to a set (`SADD set element`, or `SET element element` for the
    /// strings variant, where the set is the keyspace).
    Add { set: String, element: String },
    /// Read a whole set (`SMEMBERS`, or for the strings variant an `MGET` sweep of every key
    /// that was attempted).
    ReadSet { set: String },
    /// Append a unique value to a list (`RPUSH`).
    Append { key: String, value: u64 },
    /// Read a whole list (`LRANGE key 0 -1`).
    ReadList { key: String },
}

impl Call {
    /// The key (register, list) or set the operation touches: checkers partition by it.
    pub fn key(&self) -> &str {
        match self {
            Call::Read { key }
            | Call::Write { key, .. }
            | Call::Incr { key }
            | Call::Append { key, .. }
            | Call::ReadList { key } => key,
            Call::Add { set, .. } | Call::ReadSet { set, .. } => set,
        }
    }

    /// Whether the operation may change state (indeterminate writes matter; reads do not).
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            Call::Write { .. } | Call::Incr { .. } | Call::Add { .. } | Call::Append { .. }
        )
    }
}

/// What an acknowledged operation returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Output {
    /// A write acknowledged without a value worth checking (`+OK`, a list length).
    Done,
    /// A register value (`GET`: `None` is nil; `INCR`: the new value). A value that is not an
    /// integer is recorded as `i64::MIN`, which no write produces, so the checker flags it.
    Value(Option<i64>),
    /// A set's elements (unordered).
    Members(Vec<String>),
    /// A list's elements, in order.
    List(Vec<u64>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Ok,
    Fail,
    Info,
}

/// One operation, invocation and completion together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Op {
    pub id: u64,
    /// The client (logical process) that ran it; final reads use their own client ids.
    pub client: u64,
    pub call: Call,
    /// Nanoseconds since the run started.
    pub invoke_ns: u64,
    /// `None` while in flight; an `info` op keeps its completion time, but checkers treat its
    /// effect as possible until the end of time.
    pub complete_ns: Option<u64>,
    pub status: Option<Status>,
    pub output: Option<Output>,
    /// The error text of a `fail` or `info` op.
    pub error: Option<String>,
}

/// A fault being injected or healed, for the per-fault availability figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NemesisEvent {
    pub time_ns: u64,
    /// The fault's name (`kill-leader`, `partition-ring`, …).
    pub fault: String,
    /// `start` or `stop`.
    pub action: String,
    /// Which nodes, which groups.
    pub detail: String,
}

/// One line of the history file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    Invoke {
        op: u64,
        client: u64,
        time_ns: u64,
        call: Call,
    },
    Complete {
        op: u64,
        time_ns: u64,
        status: Status,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        output: Option<Output>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    Nemesis(NemesisEvent),
}

/// A complete history: operations in invocation order and the nemesis' actions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    pub ops: Vec<Op>,
    pub nemesis: Vec<NemesisEvent>,
}

impl History {
    /// The events in real-time order (ties: invocations first), as written to the file.
    pub fn events(&self) -> Vec<Event> {
        let mut timed: Vec<(u64, u8, Event)> = Vec::with_capacity(self.ops.len() * 2);
        for op in &self.ops {
            timed.push((
                op.invoke_ns,
                0,
                Event::Invoke {
                    op: op.id,
                    client: op.client,
                    time_ns: op.invoke_ns,
                    call: op.call.clone(),
                },
            ));
            if let (Some(t), Some(status)) = (op.complete_ns, op.status) {
                timed.push((
                    t,
                    1,
                    Event::Complete {
                        op: op.id,
                        time_ns: t,
                        status,
                        output: op.output.clone(),
                        error: op.error.clone(),
                    },
                ));
            }
        }
        for n in &self.nemesis {
            timed.push((n.time_ns, 2, Event::Nemesis(n.clone())));
        }
        timed.sort_by_key(|(t, k, _)| (*t, *k));
        timed.into_iter().map(|(_, _, e)| e).collect()
    }

    /// Rebuilds a history from its events. An invocation without a completion (the run was cut
    /// short) becomes `info`: it may have happened.
    pub fn from_events(events: impl IntoIterator<Item = Event>) -> anyhow::Result<History> {
        let mut ops: Vec<Op> = Vec::new();
        let mut index = std::collections::HashMap::new();
        let mut nemesis = Vec::new();
        for e in events {
            match e {
                Event::Invoke {
                    op,
                    client,
                    time_ns,
                    call,
                } => {
                    index.insert(op, ops.len());
                    ops.push(Op {
                        id: op,
                        client,
                        call,
                        invoke_ns: time_ns,
                        complete_ns: None,
                        status: None,
                        output: None,
                        error: None,
                    });
                }
                Event::Complete {
                    op,
                    time_ns,
                    status,
                    output,
                    error,
                } => {
                    let i = *index
                        .get(&op)
                        .ok_or_else(|| anyhow::anyhow!("completion of unknown op {op}"))?;
                    let o = &mut ops[i];
                    o.complete_ns = Some(time_ns);
                    o.status = Some(status);
                    o.output = output;
                    o.error = error;
                }
                Event::Nemesis(n) => nemesis.push(n),
            }
        }
        for o in &mut ops {
            if o.status.is_none() {
                o.status = Some(Status::Info);
                o.error = Some("no completion recorded".into());
            }
        }
        Ok(History { ops, nemesis })
    }

    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
        for e in self.events() {
            serde_json::to_writer(&mut out, &e)?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
        Ok(())
    }

    pub fn load(path: &Path) -> anyhow::Result<History> {
        let file = std::io::BufReader::new(std::fs::File::open(path)?);
        let mut events = Vec::new();
        for (n, line) in file.lines().enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            events.push(
                serde_json::from_str(&line)
                    .map_err(|e| anyhow::anyhow!("{}:{}: {e}", path.display(), n + 1))?,
            );
        }
        History::from_events(events)
    }
}

/// Collects operations from concurrent clients with one clock (`Instant` at the run's start),
/// so that invocation and completion times are comparable across clients.
#[derive(Clone)]
pub struct Recorder {
    start: Instant,
    inner: Arc<Mutex<History>>,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    pub fn new() -> Self {
        Recorder {
            start: Instant::now(),
            inner: Arc::new(Mutex::new(History::default())),
        }
    }

    pub fn now_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    /// Records an invocation; returns the op's id for `complete`.
    pub fn invoke(&self, client: u64, call: Call) -> u64 {
        self.invoke_at(client, call, self.now_ns())
    }

    /// Records an invocation that began at `invoke_ns` (an operation made of several
    /// requests, recorded once they all succeeded).
    pub fn invoke_at(&self, client: u64, call: Call, invoke_ns: u64) -> u64 {
        let mut h = self.inner.lock().expect("history lock");
        let id = h.ops.len() as u64;
        h.ops.push(Op {
            id,
            client,
            call,
            invoke_ns,
            complete_ns: None,
            status: None,
            output: None,
            error: None,
        });
        id
    }

    pub fn complete(&self, id: u64, status: Status, output: Option<Output>, error: Option<String>) {
        let t = self.now_ns();
        let mut h = self.inner.lock().expect("history lock");
        let op = &mut h.ops[id as usize];
        op.complete_ns = Some(t);
        op.status = Some(status);
        op.output = output;
        op.error = error;
    }

    pub fn nemesis(&self, fault: &str, action: &str, detail: String) {
        self.nemesis_at(self.now_ns(), fault, action, detail);
    }

    /// A nemesis event that began at `time_ns` (recorded once its detail is known).
    pub fn nemesis_at(&self, time_ns: u64, fault: &str, action: &str, detail: String) {
        self.inner
            .lock()
            .expect("history lock")
            .nemesis
            .push(NemesisEvent {
                time_ns,
                fault: fault.to_string(),
                action: action.to_string(),
                detail,
            });
    }

    /// A copy of everything so far; ops still in flight become `info`.
    pub fn snapshot(&self) -> History {
        let now = self.now_ns();
        let mut h = self.inner.lock().expect("history lock").clone();
        for o in &mut h.ops {
            if o.status.is_none() {
                o.complete_ns = Some(now);
                o.status = Some(Status::Info);
                o.error = Some("still in flight at the end of the run".into());
            }
        }
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_round_trips_through_json_lines() {
        let rec = Recorder::new();
        let a = rec.invoke(
            1,
            Call::Write {
                key: "r0".into(),
                value: 7,
            },
        );
        let b = rec.invoke(2, Call::Read { key: "r0".into() });
        rec.nemesis("kill-leader", "start", "node 2".into());
        rec.complete(a, Status::Ok, Some(Output::Done), None);
        rec.complete(b, Status::Info, None, Some("timeout".into()));
        let c = rec.invoke(
            3,
            Call::Append {
                key: "l0".into(),
                value: 4,
            },
        );
        let h = rec.snapshot();
        assert_eq!(
            h.ops[c as usize].status,
            Some(Status::Info),
            "in flight = info"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        h.save(&path).unwrap();
        let back = History::load(&path).unwrap();
        assert_eq!(back, h);
    }
}
