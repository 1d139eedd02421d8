//! `MULTI`/`EXEC`/`WATCH` on a connection.
//!
//! Commands between `MULTI` and `EXEC` are queued here. `EXEC` turns the queued keyspace
//! commands into one `WriteOp::Multi` — one Raft entry, applied atomically on every replica —
//! together with the watched keys and the versions seen at `WATCH`; the state machine decides
//! at apply time whether a watched key changed, so every replica agrees (nil reply if so).
//! All keys of a transaction must hash to one slot (`-CROSSSLOT` otherwise), as in Redis
//! Cluster. Commands that do not touch keys (`PING`, `TIME`, …) are answered at `EXEC` time
//! on this node, outside the log.

use bytes::Bytes;

use super::context::Context;
use super::prepare::{prepare, Prepared};
use super::replies::{err, keyspace_result, reshape};
use super::route::common_slot;
use super::session::Session;
use crate::command::{self, Command, ReplyAs};
use crate::keyspace::{MultiOp, MultiStep, WatchedKey, WriteOp};
use crate::reply::Reply;
use crate::resp::Frame;

/// Where the reply of each queued command comes from at `EXEC`.
enum Plan {
    /// The n-th reply of the applied `Multi` entry.
    Logged(usize, Option<ReplyAs>),
    /// Run on this node at `EXEC` time.
    Local(Command),
    /// Refused when `EXEC` prepared it (an expire time that overflows on the leader's clock):
    /// reported in place, as Redis reports run-time errors inside the `EXEC` reply.
    Failed(Frame),
}

impl Context {
    /// While in `MULTI`: queues the request and returns `+QUEUED` (or an error), or `None`
    /// for the commands that act at once (`EXEC`, `DISCARD`, `QUIT`).
    pub(super) fn queue(&self, session: &mut Session, args: &[Bytes]) -> Option<Frame> {
        // `CLIENT SETINFO` is served outside the 7.0.15 table (see `command::client`); like
        // any command, only its arity is checked while queuing.
        let resolved = if command::client::is_client_setinfo(args) {
            match args.len() {
                4 => Ok(command::client::SETINFO_NAME),
                _ => Err(command::CommandError::WrongArity(
                    command::client::SETINFO_NAME,
                )),
            }
        } else {
            command::table::resolve(args).map(|spec| spec.name)
        };
        let name = match resolved {
            Ok(name) => name,
            Err(e) => {
                if let Some(tx) = session.multi.as_mut() {
                    // Redis refuses the whole transaction at EXEC after a queuing error.
                    tx.failed = true;
                }
                return Some(err(e.to_string()));
            }
        };
        let tx = session.multi.as_mut()?;
        match name {
            "exec" | "discard" | "quit" => None,
            "multi" => Some(err("ERR MULTI calls can not be nested")),
            "watch" => Some(err("ERR WATCH inside MULTI is not allowed")),
            _ => {
                tx.steps.push(args.to_vec());
                Some(Frame::Simple("QUEUED".into()))
            }
        }
    }

    pub(super) async fn exec_or_discard(&self, session: &mut Session, cmd: &Command) -> Frame {
        let tx = session.multi.take().unwrap_or_default();
        let watched = std::mem::take(&mut session.watched);
        if matches!(cmd, Command::Discard) {
            return Frame::ok();
        }
        if tx.failed {
            return err("EXECABORT Transaction discarded because of previous errors.");
        }
        self.exec(session, tx.steps, watched).await
    }

    async fn exec(
        &self,
        session: &mut Session,
        steps: Vec<Vec<Bytes>>,
        watched: Vec<WatchedKey>,
    ) -> Frame {
        let now = crate::clock::now_ms();
        let resp3 = session.protocol == crate::resp::Protocol::Resp3;
        let mut ops = Vec::new();
        let mut plan = Vec::new();
        for args in steps {
            let cmd = match Command::parse_named(&args) {
                Ok((name, cmd)) => {
                    self.stats.count_command(name);
                    cmd
                }
                Err(e) => {
                    plan.push(Plan::Failed(err(e.to_string())));
                    continue;
                }
            };
            if let Command::Read(op) = cmd {
                plan.push(Plan::Logged(ops.len(), None));
                ops.push(MultiStep::Read(op));
                continue;
            }
            let read = match &cmd {
                Command::Get(key) => Some(crate::keyspace::ReadOp::Get { key: key.clone() }),
                Command::Exists(keys) => {
                    Some(crate::keyspace::ReadOp::Exists { keys: keys.clone() })
                }
                Command::MGet(keys) => Some(crate::keyspace::ReadOp::MGet { keys: keys.clone() }),
                Command::Ttl { key, unit } => Some(crate::keyspace::ReadOp::Ttl {
                    key: key.clone(),
                    kind: match *unit {
                        crate::command::TimeUnit::Seconds => crate::keyspace::TtlKind::Ttl,
                        crate::command::TimeUnit::Milliseconds => crate::keyspace::TtlKind::PTtl,
                    },
                }),
                _ => None,
            };
            if let Some(op) = read {
                plan.push(Plan::Logged(ops.len(), None));
                ops.push(MultiStep::Read(op));
            } else {
                match prepare(cmd, now) {
                    Ok(Prepared::Write(op, how)) => {
                        plan.push(Plan::Logged(ops.len(), how));
                        ops.push(MultiStep::Write(op));
                    }
                    Ok(Prepared::Local(cmd)) => plan.push(Plan::Local(cmd)),
                    // A write that is invalid for the leader's clock: Redis reports such
                    // errors in place, inside the EXEC reply.
                    Err(frame) => plan.push(Plan::Failed(frame)),
                }
            }
        }
        let mut logged: Vec<Reply> = Vec::new();
        if !ops.is_empty() || !watched.is_empty() {
            let multi = MultiOp { ops, watched };
            let op = WriteOp::Multi(multi);
            let keys: Vec<Bytes> = op.keys().into_iter().cloned().collect();
            if common_slot(&keys).is_none() {
                return err("CROSSSLOT Keys in request don't hash to the same slot");
            }
            match self.propose(op, now, session.network).await {
                Ok(Ok(Reply::Array(replies))) => logged = replies,
                Ok(Ok(Reply::NullArray)) => return Frame::NullArray,
                Ok(Ok(other)) => return other.into_frame(resp3),
                Ok(Err(e)) => return err(e.to_string()),
                Err(frame) => return frame,
            }
        }
        let mut out = Vec::with_capacity(plan.len());
        for step in plan {
            out.push(match step {
                Plan::Logged(i, how) => keyspace_result(
                    Ok(reshape(logged.get(i).cloned().unwrap_or(Reply::Nil), how)),
                    resp3,
                ),
                Plan::Failed(frame) => frame,
                Plan::Local(cmd) => Box::pin(self.run(session, cmd)).await,
            });
        }
        Frame::Array(out)
    }

    /// `WATCH`: records each key's version as of a linearizable read on its group's leader.
    pub(super) async fn watch(&self, session: &mut Session, keys: Vec<Bytes>) -> Frame {
        for key in keys {
            let group = match self
                .route(std::slice::from_ref(&key), false, session.network)
                .await
            {
                Ok(local) => {
                    if let Err(frame) = self.confirm(&local, session.network).await {
                        return frame;
                    }
                    local.group
                }
                Err(frame) => return frame,
            };
            let Ok(state) = group.state().read() else {
                return err("ERR internal error: state machine lock poisoned");
            };
            session.watched.push(WatchedKey {
                version: state.keyspace.version(crate::clock::now_ms(), &key),
                watched_at_index: state.last_applied.map_or(0, |l| l.index),
                key,
            });
        }
        Frame::ok()
    }
}
