//! Command execution: parse, route, then one of three paths.
//!
//! - connection and server commands (`PING`, `HELLO`, `CLUSTER …`, `INFO`, …) answer locally;
//! - reads run on the group's leader after openraft's ReadIndex confirms leadership with a
//!   quorum and the state machine has applied up to the read index (linearizable), or on a
//!   follower after `READONLY` (stale reads, as Redis Cluster replicas serve them);
//! - writes become a `WriteOp` with every deadline made absolute, are proposed through
//!   openraft, and are answered only with the result of applying the committed entry.
//!
//! Errors follow DESIGN.md rule 4: `-MOVED`/`-CLUSTERDOWN` only when the write certainly did
//! not happen; `-OUTCOMEUNKNOWN` when it was proposed and leadership was lost or the commit did
//! not come in time (it may or may not be applied).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use openraft::errors::{ClientWriteError, LinearizableReadError, RaftError};
use openraft::ReadPolicy;

use super::cluster_view;
use super::info;
use super::route::{common_slot, Route, Router};
use super::stats::ServerStats;
use crate::command::{
    self, ClusterSub, Command, CommandSub, ExpireCondition, SetArgs, SetCondition, SetExpiry,
    TimeUnit,
};
use crate::keyspace::{self, KeyspaceError, WriteOp};
use crate::raft::{GroupId, Request};
use crate::registry::{Group, GroupRegistry};
use crate::reply::Reply;
use crate::resp::{Frame, Limits, Protocol};

/// Shared by all connections.
pub struct Context {
    pub registry: Arc<GroupRegistry>,
    pub stats: Arc<ServerStats>,
    pub limits: Limits,
    pub maxclients: usize,
    /// How long a command waits for a leaderless group to elect one.
    pub leader_wait: Duration,
    /// How long a proposed write waits for its commit before its outcome is reported unknown.
    pub write_timeout: Duration,
}

/// Per-connection state.
pub struct Session {
    pub id: u64,
    pub peer: SocketAddr,
    pub protocol: Protocol,
    /// Set by `READONLY`: reads may be served by followers.
    pub readonly: bool,
    pub name: Option<Bytes>,
}

impl Session {
    pub fn new(id: u64, peer: SocketAddr) -> Self {
        Self {
            id,
            peer,
            protocol: Protocol::Resp2,
            readonly: false,
            name: None,
        }
    }
}

pub struct Outcome {
    pub frame: Frame,
    /// Close the connection after writing `frame` (QUIT).
    pub close: bool,
}

fn reply(frame: Frame) -> Outcome {
    Outcome {
        frame,
        close: false,
    }
}

fn err(text: impl Into<String>) -> Frame {
    Frame::Error(text.into())
}

fn keyspace_result(r: Result<Reply, KeyspaceError>) -> Frame {
    match r {
        Ok(reply) => reply.into_frame(),
        Err(e) => err(e.to_string()),
    }
}

/// What a read produced, or why it could not run here.
enum ReadError {
    Route(Frame),
}

impl Context {
    fn router(&self) -> Router<'_> {
        Router {
            registry: &self.registry,
            leader_wait: self.leader_wait,
        }
    }

    pub async fn execute(&self, session: &mut Session, args: Vec<Bytes>) -> Outcome {
        let cmd = match Command::parse(&args) {
            Ok(cmd) => cmd,
            Err(e) => return reply(err(e.to_string())),
        };
        self.stats.count_command(cmd.name());
        match cmd {
            Command::Quit => Outcome {
                frame: Frame::ok(),
                close: true,
            },
            other => reply(self.run(session, other).await),
        }
    }

    async fn run(&self, session: &mut Session, cmd: Command) -> Frame {
        let now = crate::clock::now_ms();
        match cmd {
            Command::Quit => Frame::ok(),
            Command::Ping(None) => Frame::Simple("PONG".into()),
            Command::Ping(Some(msg)) => Frame::Bulk(msg),
            Command::Echo(msg) => Frame::Bulk(msg),
            Command::Hello {
                protover,
                auth: _,
                setname,
            } => {
                // No password is configured: like Redis's default user with `nopass`, any AUTH
                // in HELLO is accepted.
                if let Some(v) = protover {
                    session.protocol = if v == 3 {
                        Protocol::Resp3
                    } else {
                        Protocol::Resp2
                    };
                }
                if let Some(name) = setname {
                    session.name = Some(name);
                }
                self.hello(session)
            }
            Command::Select(0) => Frame::ok(),
            Command::Select(_) => err("ERR SELECT is not allowed in cluster mode"),
            Command::ReadOnly => {
                session.readonly = true;
                Frame::ok()
            }
            Command::ReadWrite => {
                session.readonly = false;
                Frame::ok()
            }
            Command::Command(sub) => command_reply(sub),
            Command::Info(sections) => Frame::Verbatim {
                format: *b"txt",
                text: info::render(self, &sections).into(),
            },
            Command::Cluster(sub) => self.cluster(sub, now),
            Command::DbSize => Frame::Integer(
                self.led_groups()
                    .map(|g| g.state.read().map(|s| s.keyspace.len(now)).unwrap_or(0))
                    .sum::<usize>() as i64,
            ),

            Command::Get(key) => {
                self.read(session, vec![key.clone()], move |ks, now| {
                    keyspace_result(ks.get(now, &key).map(Reply::from_option))
                })
                .await
            }
            Command::Exists(keys) => {
                let ks_keys = keys.clone();
                self.read(session, keys, move |ks, now| {
                    Frame::Integer(ks_keys.iter().filter(|k| ks.exists(now, k)).count() as i64)
                })
                .await
            }
            Command::MGet(keys) => {
                let ks_keys = keys.clone();
                self.read(session, keys, move |ks, now| {
                    // MGET answers nil for a key holding a non-string, as Redis does.
                    Frame::Array(
                        ks_keys
                            .iter()
                            .map(|k| {
                                ks.get(now, k)
                                    .ok()
                                    .flatten()
                                    .map(Frame::Bulk)
                                    .unwrap_or(Frame::Null)
                            })
                            .collect(),
                    )
                })
                .await
            }
            Command::Ttl { key, unit } => {
                self.read(session, vec![key.clone()], move |ks, now| {
                    let ms = ks.pttl(now, &key);
                    Frame::Integer(match unit {
                        _ if ms < 0 => ms,
                        TimeUnit::Milliseconds => ms,
                        // Redis rounds to the nearest second.
                        TimeUnit::Seconds => (ms + 500) / 1000,
                    })
                })
                .await
            }

            Command::Set(args) => match set_op(args, now) {
                Ok(op) => self.write(op, now).await,
                Err(frame) => frame,
            },
            Command::Del(keys) => self.write(WriteOp::Del { keys }, now).await,
            Command::IncrBy { key, delta } => self.write(WriteOp::IncrBy { key, delta }, now).await,
            Command::MSet(pairs) => self.write(WriteOp::MSet { pairs }, now).await,
            Command::Expire {
                key,
                amount,
                unit,
                condition,
            } => match absolute_deadline(amount, unit, false, now) {
                Some(at_ms) => {
                    self.write(
                        WriteOp::ExpireAt {
                            key,
                            at_ms,
                            condition: expire_condition(condition),
                        },
                        now,
                    )
                    .await
                }
                None => err(format!(
                    "ERR invalid expire time in '{}' command",
                    if matches!(unit, TimeUnit::Seconds) {
                        "expire"
                    } else {
                        "pexpire"
                    }
                )),
            },
            Command::Persist(key) => self.write(WriteOp::Persist { key }, now).await,
        }
    }

    fn hello(&self, session: &Session) -> Frame {
        let proto = match session.protocol {
            Protocol::Resp2 => 2,
            Protocol::Resp3 => 3,
        };
        Frame::Map(vec![
            (Frame::bulk("server"), Frame::bulk("redis")),
            (Frame::bulk("version"), Frame::bulk(info::REDIS_VERSION)),
            (Frame::bulk("proto"), Frame::Integer(proto)),
            (Frame::bulk("id"), Frame::Integer(session.id as i64)),
            (Frame::bulk("mode"), Frame::bulk("cluster")),
            (Frame::bulk("role"), Frame::bulk("master")),
            (Frame::bulk("modules"), Frame::Array(vec![])),
        ])
    }

    /// Groups this node currently leads: the slots it is "master" of toward clients.
    fn led_groups(&self) -> impl Iterator<Item = &Group> {
        let me = self.registry.topology().self_id();
        self.registry
            .groups()
            .filter(move |g| g.current_leader() == Some(me))
    }

    fn cluster(&self, sub: ClusterSub, now: u64) -> Frame {
        let view = cluster_view::ClusterView::new(&self.registry);
        match sub {
            ClusterSub::Help => help(ClusterSub::HELP),
            ClusterSub::Slots => view.slots(),
            ClusterSub::Shards => view.shards(),
            ClusterSub::Nodes => Frame::Bulk(view.nodes().into()),
            ClusterSub::Info => Frame::Verbatim {
                format: *b"txt",
                text: view.info().into(),
            },
            ClusterSub::MyId => Frame::bulk(
                self.registry
                    .topology()
                    .node_name(self.registry.topology().self_id()),
            ),
            ClusterSub::KeySlot(key) => Frame::Integer(i64::from(crate::slot::key_slot(&key))),
            ClusterSub::CountKeysInSlot(slot) => {
                let group = self
                    .registry
                    .group(self.registry.topology().group_of_slot(slot));
                let count = group
                    .map(|g| {
                        g.state
                            .read()
                            .map(|s| s.keyspace.count_in_slot(now, slot))
                            .unwrap_or(0)
                    })
                    .unwrap_or(0);
                Frame::Integer(count as i64)
            }
        }
    }

    /// Routes keys to their group; errors are the ready-made reply.
    async fn route(&self, keys: &[Bytes], allow_follower: bool) -> Result<Route<'_>, Frame> {
        let slot = match common_slot(keys) {
            None => return Err(err("CROSSSLOT Keys in request don't hash to the same slot")),
            Some(None) => return Err(err("ERR no keys")),
            Some(Some(slot)) => slot,
        };
        match self.router().route(slot, allow_follower).await {
            Route::CrossSlot => Err(err("CROSSSLOT Keys in request don't hash to the same slot")),
            Route::Moved { slot, addr } => Err(err(format!("MOVED {slot} {addr}"))),
            Route::Down { group } => Err(cluster_down(group)),
            route => Ok(route),
        }
    }

    /// A read: linearizable on the leader, or stale on a follower after `READONLY`.
    async fn read<F>(&self, session: &Session, keys: Vec<Bytes>, f: F) -> Frame
    where
        F: FnOnce(&keyspace::Keyspace, u64) -> Frame,
    {
        let route = match self.route(&keys, session.readonly).await {
            Ok(route) => route,
            Err(frame) => return frame,
        };
        let (group, slot) = match route {
            Route::Leader(group, slot) => {
                if let Err(ReadError::Route(frame)) = self.confirm_read(group, slot).await {
                    return frame;
                }
                (group, slot)
            }
            Route::Follower(group, slot) => (group, slot),
            _ => unreachable!("route() returns only Leader or Follower"),
        };
        let _ = slot;
        let state = match group.state.read() {
            Ok(state) => state,
            Err(_) => return err("ERR internal error: state machine lock poisoned"),
        };
        f(&state.keyspace, crate::clock::now_ms())
    }

    /// ReadIndex: confirms with a quorum that this node still leads, then waits until the
    /// state machine has applied everything committed at that moment. openraft batches the
    /// confirmations of concurrent readers into shared heartbeat rounds.
    async fn confirm_read(&self, group: &Group, slot: u16) -> Result<(), ReadError> {
        let confirm = group.raft.ensure_linearizable(ReadPolicy::ReadIndex);
        match tokio::time::timeout(self.write_timeout, confirm).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(RaftError::APIError(LinearizableReadError::ForwardToLeader(f)))) => {
                Err(ReadError::Route(
                    match f.leader_id.and_then(|id| self.registry.topology().node(id)) {
                        Some(node) => err(format!("MOVED {slot} {}", node.resp)),
                        None => cluster_down(group.id()),
                    },
                ))
            }
            Ok(Err(e)) => Err(ReadError::Route(err(format!(
                "TRYAGAIN cannot confirm leadership of slot group {}: {e}",
                group.id()
            )))),
            Err(_) => Err(ReadError::Route(err(format!(
                "TRYAGAIN cannot confirm leadership of slot group {} with a quorum (partitioned?)",
                group.id()
            )))),
        }
    }

    /// A write: propose, wait for commit and apply, reply with the applied result.
    async fn write(&self, op: WriteOp, now: u64) -> Frame {
        let keys: Vec<Bytes> = op.keys().into_iter().cloned().collect();
        let deadline = tokio::time::Instant::now() + self.leader_wait;
        loop {
            let (group, slot) = match self.route(&keys, false).await {
                Ok(Route::Leader(group, slot)) => (group, slot),
                Ok(_) => unreachable!("writes never route to followers"),
                Err(frame) => return frame,
            };
            let request = Request {
                now_ms: now,
                op: op.clone(),
            };
            #[cfg(not(feature = "unsafe-ack"))]
            let proposal = group.raft.client_write(request);
            // TEST-ONLY, broken on purpose (see the `unsafe-ack` feature in Cargo.toml): a
            // write not committed within UNSAFE_ACK_AFTER is acknowledged anyway, the way
            // asynchronous replication acknowledges. The torture suite must catch this.
            #[cfg(feature = "unsafe-ack")]
            let proposal = {
                let raft = group.raft.clone();
                let mut task = tokio::spawn(async move { raft.client_write(request).await });
                match tokio::time::timeout(UNSAFE_ACK_AFTER, &mut task).await {
                    Err(_) => return Frame::ok(),
                    Ok(joined) => async move { joined.expect("client_write task panicked") },
                }
            };
            match tokio::time::timeout(self.write_timeout, proposal).await {
                Ok(Ok(resp)) => return keyspace_result(resp.data),
                // Rejected before it was appended: safe to send the client elsewhere.
                Ok(Err(RaftError::APIError(ClientWriteError::ForwardToLeader(f)))) => {
                    match f.leader_id.and_then(|id| self.registry.topology().node(id)) {
                        Some(node) if f.leader_id != Some(self.registry.topology().self_id()) => {
                            return err(format!("MOVED {slot} {}", node.resp));
                        }
                        // Leaderless for now: wait for an election, then route again.
                        _ if tokio::time::Instant::now() < deadline => {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            continue;
                        }
                        _ => return cluster_down(group.id()),
                    }
                }
                Ok(Err(RaftError::APIError(ClientWriteError::LogEntryDiscarded(_)))) => {
                    return outcome_unknown(
                        group.id(),
                        "leadership changed after the write was proposed",
                    )
                }
                Ok(Err(e)) => return outcome_unknown(group.id(), &e.to_string()),
                Err(_) => {
                    return outcome_unknown(
                        group.id(),
                        "no commit within the write timeout (leader cut off from its quorum?)",
                    )
                }
            }
        }
    }
}

/// How long the `unsafe-ack` build waits for a commit before acknowledging regardless.
#[cfg(feature = "unsafe-ack")]
const UNSAFE_ACK_AFTER: Duration = Duration::from_millis(20);

fn cluster_down(group: GroupId) -> Frame {
    err(format!(
        "CLUSTERDOWN The cluster is down: slot group {group} has no leader"
    ))
}

fn outcome_unknown(group: GroupId, why: &str) -> Frame {
    err(format!(
        "OUTCOMEUNKNOWN the write may or may not have been applied (slot group {group}: {why}); check before retrying a non-idempotent write"
    ))
}

/// Redis's EXPIRE/PEXPIRE(AT) arithmetic: `None` on overflow ("invalid expire time").
fn absolute_deadline(amount: i64, unit: TimeUnit, absolute: bool, now: u64) -> Option<u64> {
    let ms = match unit {
        TimeUnit::Seconds => amount.checked_mul(1000)?,
        TimeUnit::Milliseconds => amount,
    };
    let at = if absolute {
        ms
    } else {
        ms.checked_add(i64::try_from(now).ok()?)?
    };
    // A deadline at or before now deletes the key; clamp negatives to 0.
    Some(at.max(0) as u64)
}

fn expire_condition(c: ExpireCondition) -> keyspace::ExpireCondition {
    match c {
        ExpireCondition::Always => keyspace::ExpireCondition::Always,
        ExpireCondition::Nx => keyspace::ExpireCondition::IfNone,
        ExpireCondition::Xx => keyspace::ExpireCondition::IfSome,
        ExpireCondition::Gt => keyspace::ExpireCondition::IfGreater,
        ExpireCondition::Lt => keyspace::ExpireCondition::IfLess,
        ExpireCondition::XxLt => keyspace::ExpireCondition::IfSomeAndLess,
    }
}

fn set_op(args: SetArgs, now: u64) -> Result<WriteOp, Frame> {
    let invalid = || err("ERR invalid expire time in 'set' command");
    let expiry = match args.expiry {
        SetExpiry::None => keyspace::SetExpiry::Clear,
        SetExpiry::KeepTtl => keyspace::SetExpiry::Keep,
        SetExpiry::In(unit, n) => {
            keyspace::SetExpiry::At(absolute_deadline(n, unit, false, now).ok_or_else(invalid)?)
        }
        SetExpiry::At(unit, n) => {
            keyspace::SetExpiry::At(absolute_deadline(n, unit, true, now).ok_or_else(invalid)?)
        }
    };
    let condition = match args.condition {
        SetCondition::Always => keyspace::SetCondition::Always,
        SetCondition::IfNotExists => keyspace::SetCondition::IfNotExists,
        SetCondition::IfExists => keyspace::SetCondition::IfExists,
    };
    Ok(WriteOp::Set {
        key: args.key,
        value: args.value,
        condition,
        expiry,
        get: args.get,
    })
}

fn help(lines: &[&str]) -> Frame {
    Frame::Array(
        lines
            .iter()
            .map(|l| Frame::Simple((*l).to_string()))
            .collect(),
    )
}

fn command_reply(sub: CommandSub) -> Frame {
    match sub {
        CommandSub::Help => help(CommandSub::HELP),
        CommandSub::All => Frame::Array(
            command::table::all()
                .iter()
                .map(|s| s.info_frame())
                .collect(),
        ),
        CommandSub::Count => Frame::Integer(command::table::all().len() as i64),
        CommandSub::List => Frame::Array(
            command::table::all()
                .iter()
                .map(|s| Frame::bulk(s.name))
                .collect(),
        ),
        // No names: every command, as Redis 7 does. An unknown name answers nil.
        CommandSub::Info(names) if names.is_empty() => Frame::Array(
            command::table::all()
                .iter()
                .map(|s| s.info_frame())
                .collect(),
        ),
        CommandSub::Info(names) => Frame::Array(
            names
                .iter()
                .map(|n| {
                    std::str::from_utf8(n)
                        .ok()
                        .and_then(command::table::lookup)
                        .map(|s| s.info_frame())
                        .unwrap_or(Frame::Null)
                })
                .collect(),
        ),
        CommandSub::Docs(names) => {
            let specs: Vec<_> = if names.is_empty() {
                command::table::all().iter().collect()
            } else {
                names
                    .iter()
                    .filter_map(|n| {
                        std::str::from_utf8(n)
                            .ok()
                            .and_then(|n| command::table::lookup(&n.to_ascii_lowercase()))
                    })
                    .collect()
            };
            Frame::Map(
                specs
                    .into_iter()
                    .map(|s| (Frame::bulk(s.name), s.docs_frame()))
                    .collect(),
            )
        }
        CommandSub::GetKeys(args) => match command::table::get_keys(&args) {
            Ok(keys) => Frame::Array(keys.into_iter().map(Frame::Bulk).collect()),
            Err(e) => err(e.to_string()),
        },
    }
}
