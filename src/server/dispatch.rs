//! Command execution: parse, route, then one of three paths.
//!
//! - connection and server commands (`PING`, `HELLO`, `CLUSTER …`, `INFO`, …) answer locally;
//! - reads run on the group's leader after the group's ReadIndex confirms leadership with a
//!   quorum and the state machine has applied up to the read index (linearizable), or on a
//!   follower after `READONLY` (stale reads, as Redis Cluster replicas serve them);
//! - writes become a `WriteOp` with every deadline made absolute, are proposed through
//!   the group API (`group::Group::propose`), and are answered only with the result of
//!   applying the committed entry.
//!
//! Errors follow ARCHITECTURE.md rule 4: `-MOVED`/`-CLUSTERDOWN` only when the write certainly did
//! not happen; `-OUTCOMEUNKNOWN` when it was proposed and leadership was lost or the commit did
//! not come in time (it may or may not be applied).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use std::sync::RwLock;

use super::clients::{ClientInfo, ClientRegistry};
use super::cluster_view;
use super::info;
use super::route::{common_slot, Local, Route, Router};
use super::stats::ServerStats;
use super::transaction::Transaction;
use crate::cluster::topology::ClientNetwork;
use crate::cluster::{GroupId, NodeId};
use crate::command::{
    self, ClusterSub, Command, CommandError, CommandSub, ExpireCondition, GetExOption, ReplyAs,
    SetArgs, SetCondition, SetExpiry, TimeUnit,
};
use crate::group::{Group, GroupError, GroupRegistry};
use crate::keyspace::{self, KeyspaceError, ReadOp, TtlKind, WatchedKey, WriteOp};
use crate::reply::Reply;
use crate::resp::{Frame, Limits, Protocol};

/// Shared by all connections.
pub struct Context {
    pub registry: Arc<GroupRegistry>,
    pub stats: Arc<ServerStats>,
    pub clients: Arc<ClientRegistry>,
    pub limits: Limits,
    pub maxclients: usize,
    /// How long a command waits for a leaderless group to elect one.
    pub leader_wait: Duration,
    /// How long a proposed write waits for its commit before its outcome is reported unknown.
    pub write_timeout: Duration,
    /// `requirepass`: when set, clients must `AUTH` first. Changed by `CONFIG SET`.
    pub requirepass: RwLock<Option<Bytes>>,
    /// Static values `CONFIG GET` reports (port, dir, …).
    pub config_values: Vec<(&'static str, String)>,
}

/// Per-connection state.
pub struct Session {
    pub id: u64,
    pub peer: SocketAddr,
    pub local: Option<SocketAddr>,
    pub protocol: Protocol,
    /// Set by `READONLY`: reads may be served by followers.
    pub readonly: bool,
    pub name: Option<Bytes>,
    /// `CLIENT SETINFO LIB-NAME` / `LIB-VER`: shown in `CLIENT LIST`.
    pub lib_name: Option<Bytes>,
    pub lib_ver: Option<Bytes>,
    /// False until `AUTH` succeeds, when a password is required.
    pub authenticated: bool,
    /// Commands queued since `MULTI`.
    pub multi: Option<Transaction>,
    /// Keys under `WATCH`, with their versions.
    pub watched: Vec<WatchedKey>,
    pub created: std::time::Instant,
    pub last_command: &'static str,
    /// The network the client came through (which listener): decides the node addresses it
    /// is given in `CLUSTER SLOTS`/`SHARDS`/`NODES` and `-MOVED`.
    pub network: ClientNetwork,
}

impl Session {
    pub fn new(id: u64, peer: SocketAddr, network: ClientNetwork) -> Self {
        Self {
            id,
            peer,
            local: None,
            protocol: Protocol::Resp2,
            readonly: false,
            name: None,
            lib_name: None,
            lib_ver: None,
            authenticated: false,
            multi: None,
            watched: Vec::new(),
            created: std::time::Instant::now(),
            last_command: "NULL",
            network,
        }
    }

    fn resp3(&self) -> bool {
        self.protocol == Protocol::Resp3
    }

    /// The snapshot `CLIENT LIST` shows.
    pub fn info(&self) -> ClientInfo {
        let text = |b: &Option<Bytes>| {
            b.as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default()
        };
        ClientInfo {
            id: self.id,
            addr: self.peer,
            laddr: self.local,
            name: text(&self.name),
            lib_name: text(&self.lib_name),
            lib_ver: text(&self.lib_ver),
            created: self.created,
            last_command_at: std::time::Instant::now(),
            last_command: self.last_command,
            resp: if self.resp3() { 3 } else { 2 },
            multi: self.multi.as_ref().map_or(-1, |t| t.steps.len() as i64),
            user: "default".into(),
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

pub(super) fn err(text: impl Into<String>) -> Frame {
    Frame::Error(text.into())
}

pub(super) fn keyspace_result(r: Result<Reply, KeyspaceError>, resp3: bool) -> Frame {
    match r {
        Ok(reply) => reply.into_frame(resp3),
        Err(e) => err(e.to_string()),
    }
}

/// Reshapes a write's reply for commands that share another command's op.
pub(super) fn reshape(reply: Reply, how: Option<ReplyAs>) -> Reply {
    match (how, reply) {
        (_, Reply::Error(e)) => Reply::Error(e),
        (None, r) => r,
        (Some(ReplyAs::Flag), Reply::Ok) => Reply::Integer(1),
        (Some(ReplyAs::Flag), Reply::Nil) => Reply::Integer(0),
        (Some(ReplyAs::Flag), r) => r,
        (Some(ReplyAs::Ok), _) => Reply::Ok,
    }
}

/// What to do after a group refused a request.
enum Refusal {
    /// Route again: a hand-off finished, or an election may have.
    Retry,
    /// Answer the client with this (`-MOVED`, `-CLUSTERDOWN`, `-TRYAGAIN`, `-OUTCOMEUNKNOWN`).
    Reply(Frame),
}

/// A command that may run without `AUTH` when a password is set (Redis' `no-auth` flag).
fn allowed_before_auth(name: &[u8]) -> bool {
    [&b"auth"[..], b"hello", b"quit"]
        .iter()
        .any(|n| n.eq_ignore_ascii_case(name))
}

impl Context {
    /// The context a node's RESP listener runs with.
    pub fn new(registry: Arc<GroupRegistry>, config: &crate::config::Config) -> Context {
        let config_values = vec![
            ("port", config.port.to_string()),
            ("bind", config.bind.clone()),
            ("dir", config.dir.display().to_string()),
            ("maxclients", config.maxclients.to_string()),
            ("proto-max-bulk-len", config.limits.max_bulk_len.to_string()),
            ("cluster-enabled", "yes".into()),
            (
                "cluster-node-timeout",
                config.election_timeout_ms.to_string(),
            ),
            ("databases", "1".into()),
            // The Raft log is fsynced before every acknowledgement: the equivalent of an
            // always-fsynced AOF, with no RDB snapshots on a timer.
            ("appendonly", "yes".into()),
            ("appendfsync", "always".into()),
            ("save", String::new()),
            ("maxmemory", "0".into()),
            ("maxmemory-policy", "noeviction".into()),
            ("timeout", "0".into()),
            ("tcp-keepalive", "300".into()),
            ("cluster-require-full-coverage", "yes".into()),
            ("cluster-allow-reads-when-down", "no".into()),
            ("lua-time-limit", "5000".into()),
            ("busy-reply-threshold", "5000".into()),
            ("slowlog-log-slower-than", "10000".into()),
            ("slowlog-max-len", "128".into()),
            ("notify-keyspace-events", String::new()),
            ("hash-max-listpack-entries", "128".into()),
            ("set-max-intset-entries", "512".into()),
            ("zset-max-listpack-entries", "128".into()),
        ];
        Context {
            registry,
            stats: Arc::new(ServerStats::default()),
            clients: Arc::new(ClientRegistry::default()),
            limits: config.limits.clone(),
            maxclients: config.maxclients,
            leader_wait: Duration::from_millis(config.election_timeout_ms * 2),
            write_timeout: Duration::from_millis(config.write_timeout_ms),
            requirepass: RwLock::new(config.requirepass.clone().map(Bytes::from)),
            config_values,
        }
    }

    fn router(&self) -> Router<'_> {
        Router {
            registry: &self.registry,
            leader_wait: self.leader_wait,
        }
    }

    pub async fn execute(&self, session: &mut Session, args: Vec<Bytes>) -> Outcome {
        if !session.authenticated
            && !allowed_before_auth(args.first().map(|a| a.as_ref()).unwrap_or_default())
            && self.requirepass.read().map(|p| p.is_some()).unwrap_or(true)
        {
            if let Some(tx) = session.multi.as_mut() {
                tx.failed = true;
            }
            return reply(err("NOAUTH Authentication required."));
        }
        if session.multi.is_some() {
            if let Some(frame) = self.queue(session, &args) {
                return reply(frame);
            }
        }
        let (name, cmd) = match Command::parse_named(&args) {
            Ok(parsed) => parsed,
            Err(CommandError::WrongArity("exec")) => {
                // Redis aborts the transaction whenever it rejects an EXEC, and says so.
                session.multi = None;
                session.watched.clear();
                return reply(err(format!(
                    "EXECABORT Transaction discarded because of: {}",
                    CommandError::WrongArity("exec")
                        .to_string()
                        .trim_start_matches("ERR ")
                )));
            }
            Err(e) => return reply(err(e.to_string())),
        };
        self.stats.count_command(name);
        session.last_command = name;
        match cmd {
            Command::Quit => Outcome {
                frame: Frame::ok(),
                close: true,
            },
            Command::Exec | Command::Discard if session.multi.is_some() => {
                reply(self.exec_or_discard(session, &cmd).await)
            }
            other => reply(self.run(session, other).await),
        }
    }

    pub(super) async fn run(&self, session: &mut Session, cmd: Command) -> Frame {
        let now = crate::clock::now_ms();
        let resp3 = session.resp3();
        match cmd {
            Command::Quit => Frame::ok(),
            Command::Ping(None) => Frame::Simple("PONG".into()),
            Command::Ping(Some(msg)) => Frame::Bulk(msg),
            Command::Echo(msg) => Frame::Bulk(msg),
            Command::Hello {
                protover,
                auth,
                setname,
            } => {
                if let Some((user, pass)) = auth {
                    if let Err(frame) = self.authenticate(session, Some(&user), &pass) {
                        return frame;
                    }
                } else if !session.authenticated
                    && self.requirepass.read().map(|p| p.is_some()).unwrap_or(true)
                {
                    return err("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
                }
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
            Command::Auth { username, password } => {
                match self.authenticate(session, username.as_ref(), &password) {
                    Ok(()) => Frame::ok(),
                    Err(frame) => frame,
                }
            }
            Command::Asking => Frame::ok(),
            Command::Wait => Frame::Integer(
                self.registry
                    .groups()
                    .iter()
                    .map(|g| (g.spec().members.len() / 2) as i64)
                    .min()
                    .unwrap_or(0),
            ),
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
            Command::Cluster(sub) => self.cluster(sub, session.network, now),
            Command::Client(sub) => self.client(session, sub),
            Command::Config(sub) => self.config(sub, resp3),
            Command::Time => {
                let t = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                Frame::Array(vec![
                    Frame::bulk(t.as_secs().to_string()),
                    Frame::bulk(t.subsec_micros().to_string()),
                ])
            }
            Command::DbSize => Frame::Integer(
                self.led_groups()
                    .iter()
                    .map(|g| g.state().read().map(|s| s.keyspace.len(now)).unwrap_or(0))
                    .sum::<usize>() as i64,
            ),
            Command::Keys(pattern) => Frame::Array(
                self.led_groups()
                    .iter()
                    .flat_map(|g| {
                        g.state()
                            .read()
                            .map(|s| s.keyspace.keys_matching(now, &pattern))
                            .unwrap_or_default()
                    })
                    .map(Frame::Bulk)
                    .collect(),
            ),
            Command::Scan(args) => self.scan(args, now),
            Command::RandomKey => {
                let mut groups = self.led_groups();
                let seed: u64 = rand::random();
                let len = groups.len().max(1);
                groups.rotate_left((seed as usize) % len);
                let key = groups.iter().find_map(|g| {
                    g.state()
                        .read()
                        .ok()
                        .and_then(|s| s.keyspace.random_key(now, seed))
                });
                key.map(Frame::Bulk).unwrap_or(Frame::Null)
            }
            Command::FlushAll => self.flush_all(now).await,
            Command::Multi => {
                session.multi = Some(Transaction::default());
                Frame::ok()
            }
            Command::Exec => err("ERR EXEC without MULTI"),
            Command::Discard => err("ERR DISCARD without MULTI"),
            Command::Watch(keys) => self.watch(session, keys).await,
            Command::Unwatch => {
                session.watched.clear();
                Frame::ok()
            }

            Command::Get(key) => self.read(session, ReadOp::Get { key }).await,
            Command::Exists(keys) => self.read(session, ReadOp::Exists { keys }).await,
            Command::MGet(keys) => self.read(session, ReadOp::MGet { keys }).await,
            Command::Ttl { key, unit } => {
                let kind = match unit {
                    TimeUnit::Seconds => TtlKind::Ttl,
                    TimeUnit::Milliseconds => TtlKind::PTtl,
                };
                self.read(session, ReadOp::Ttl { key, kind }).await
            }
            Command::Read(op) => self.read(session, op).await,

            other => match write_op(other, now) {
                Ok((op, how)) => self.write(op, how, now, resp3, session.network).await,
                Err(frame) => frame,
            },
        }
    }

    /// `AUTH`: the one user is `default`; with no `requirepass`, any password is accepted (as
    /// Redis' `nopass` default user does).
    fn authenticate(
        &self,
        session: &mut Session,
        username: Option<&Bytes>,
        password: &Bytes,
    ) -> Result<(), Frame> {
        let required = self
            .requirepass
            .read()
            .map(|p| p.clone())
            .map_err(|_| err("ERR internal error"))?;
        let user_ok = username.is_none_or(|u| u.as_ref() == b"default");
        match required {
            None if username.is_none() => Err(err("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")),
            None if user_ok => {
                session.authenticated = true;
                Ok(())
            }
            Some(pass) if user_ok && constant_time_eq(&pass, password) => {
                session.authenticated = true;
                Ok(())
            }
            _ => Err(err(
                "WRONGPASS invalid username-password pair or user is disabled.",
            )),
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

    /// Groups this node currently leads, in group-id order: the slots it is "master" of
    /// toward clients.
    pub(super) fn led_groups(&self) -> Vec<Arc<Group>> {
        let me = self.registry.topology().self_id();
        self.registry
            .groups()
            .into_iter()
            .filter(|g| g.current_leader() == Some(me))
            .collect()
    }

    fn cluster(&self, sub: ClusterSub, network: ClientNetwork, now: u64) -> Frame {
        let view = cluster_view::ClusterView::new(&self.registry, network);
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
            ClusterSub::KeySlot(key) => {
                Frame::Integer(i64::from(crate::cluster::slot::key_slot(&key)))
            }
            ClusterSub::CountKeysInSlot(slot) => {
                let group = self
                    .registry
                    .group(self.registry.topology().group_of_slot(slot));
                let count = group
                    .map(|g| {
                        g.state()
                            .read()
                            .map(|s| s.keyspace.count_in_slot(now, slot))
                            .unwrap_or(0)
                    })
                    .unwrap_or(0);
                Frame::Integer(count as i64)
            }
        }
    }

    /// `-MOVED slot host:port`, with the address `node` has on the client's network.
    fn moved(&self, network: ClientNetwork, slot: u16, node: NodeId) -> Frame {
        let addr = self
            .registry
            .topology()
            .client_addr(node, network)
            .unwrap_or_default();
        err(format!("MOVED {slot} {addr}"))
    }

    /// Turns a group's refusal into the reply for the client, or into "route again".
    /// `write`: a write that finds the group leaderless waits (until `deadline`) for an
    /// election; a read answers `-CLUSTERDOWN` at once.
    async fn refusal(
        &self,
        local: &Local,
        network: ClientNetwork,
        e: GroupError,
        deadline: tokio::time::Instant,
        write: bool,
    ) -> Refusal {
        let group = local.group.id();
        match e {
            // Handing off: the target is named but would send the client straight back until
            // it has won its election. Wait until this node has seen that, then route again.
            GroupError::NotLeader {
                handing_off: true, ..
            } => {
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                if local.group.wait_for_handoff(left).await {
                    Refusal::Retry
                } else {
                    Refusal::Reply(cluster_down(group))
                }
            }
            GroupError::NotLeader {
                leader: Some(id), ..
            } => Refusal::Reply(self.moved(network, local.slot, id)),
            GroupError::NotLeader { leader: None, .. }
                if write && tokio::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Refusal::Retry
            }
            GroupError::NotLeader { leader: None, .. } => Refusal::Reply(cluster_down(group)),
            GroupError::OutcomeUnknown(why) => Refusal::Reply(outcome_unknown(group, &why)),
            GroupError::Unconfirmed(why) => Refusal::Reply(err(format!(
                "TRYAGAIN cannot confirm leadership of slot group {group}: {why}"
            ))),
        }
    }

    /// Routes keys to their group; errors are the ready-made reply.
    pub(super) async fn route(
        &self,
        keys: &[Bytes],
        allow_follower: bool,
        network: ClientNetwork,
    ) -> Result<Local, Frame> {
        let slot = match common_slot(keys) {
            None => return Err(err("CROSSSLOT Keys in request don't hash to the same slot")),
            Some(None) => return Err(err("ERR no keys")),
            Some(Some(slot)) => slot,
        };
        match self.router().route(slot, allow_follower).await {
            Route::Local(local) => Ok(local),
            Route::Moved { slot, node } => Err(self.moved(network, slot, node)),
            Route::Down { group } => Err(cluster_down(group)),
        }
    }

    /// A read: linearizable on the leader, or stale on a follower after `READONLY`.
    pub(super) async fn read(&self, session: &Session, mut op: ReadOp) -> Frame {
        let keys: Vec<Bytes> = op.keys().into_iter().cloned().collect();
        op.reseed(rand::random());
        let deadline = tokio::time::Instant::now() + self.leader_wait;
        let group = loop {
            let local = match self.route(&keys, session.readonly, session.network).await {
                Ok(local) => local,
                Err(frame) => return frame,
            };
            if !local.leader {
                break local.group;
            }
            match local.group.confirm_read(self.write_timeout).await {
                Ok(()) => break local.group,
                Err(e) => match self
                    .refusal(&local, session.network, e, deadline, false)
                    .await
                {
                    Refusal::Retry => continue,
                    Refusal::Reply(frame) => return frame,
                },
            }
        };
        let state = match group.state().read() {
            Ok(state) => state,
            Err(_) => return err("ERR internal error: state machine lock poisoned"),
        };
        keyspace_result(
            state.keyspace.read(crate::clock::now_ms(), &op),
            session.resp3(),
        )
    }

    /// Confirms a linearizable read on the leader `local` once, with the reply to send when
    /// that fails (a hand-off in progress is waited out and reported as `-MOVED` to the new
    /// leader).
    pub(super) async fn confirm(&self, local: &Local, network: ClientNetwork) -> Result<(), Frame> {
        let deadline = tokio::time::Instant::now() + self.leader_wait;
        let Err(e) = local.group.confirm_read(self.write_timeout).await else {
            return Ok(());
        };
        match self.refusal(local, network, e, deadline, false).await {
            Refusal::Reply(frame) => Err(frame),
            Refusal::Retry => Err(match local.group.current_leader() {
                Some(leader) => self.moved(network, local.slot, leader),
                None => cluster_down(local.group.id()),
            }),
        }
    }

    /// A write: propose, wait for commit and apply, reply with the applied result.
    pub(super) async fn write(
        &self,
        op: WriteOp,
        how: Option<ReplyAs>,
        now: u64,
        resp3: bool,
        network: ClientNetwork,
    ) -> Frame {
        match self.propose(op, now, network).await {
            Ok(result) => keyspace_result(result.map(|r| reshape(r, how)), resp3),
            Err(frame) => frame,
        }
    }

    /// Proposes a write through the group API and waits for its applied result; `Err` is the
    /// routing or outcome-unknown reply.
    pub(super) async fn propose(
        &self,
        mut op: WriteOp,
        now: u64,
        network: ClientNetwork,
    ) -> Result<Result<Reply, KeyspaceError>, Frame> {
        op.reseed(rand::random());
        let keys: Vec<Bytes> = op.keys().into_iter().cloned().collect();
        let deadline = tokio::time::Instant::now() + self.leader_wait;
        loop {
            let local = self.route(&keys, false, network).await?;
            match local
                .group
                .propose(op.clone(), now, self.write_timeout)
                .await
            {
                Ok(result) => return Ok(result),
                Err(e) => match self.refusal(&local, network, e, deadline, true).await {
                    Refusal::Retry => continue,
                    Refusal::Reply(frame) => return Err(frame),
                },
            }
        }
    }
}

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

/// The log op of a keyspace write command, with everything time-dependent made absolute by
/// the leader's clock (ARCHITECTURE.md rule 3), and how its reply is reshaped.
pub(super) fn write_op(cmd: Command, now: u64) -> Result<(WriteOp, Option<ReplyAs>), Frame> {
    let op = match cmd {
        Command::Write(op) => op,
        Command::WriteAs(op, how) => return Ok((op, Some(how))),
        Command::Set(args) => set_op(args, now)?,
        Command::Del(keys) => WriteOp::Del { keys },
        Command::IncrBy { key, delta } => WriteOp::IncrBy { key, delta },
        Command::MSet(pairs) => WriteOp::MSet { pairs },
        Command::Persist(key) => WriteOp::Persist { key },
        Command::Expire {
            key,
            amount,
            unit,
            condition,
        } => WriteOp::ExpireAt {
            at_ms: absolute_deadline(amount, unit, false, now).ok_or_else(|| {
                err(format!(
                    "ERR invalid expire time in '{}' command",
                    if unit == TimeUnit::Seconds {
                        "expire"
                    } else {
                        "pexpire"
                    }
                ))
            })?,
            key,
            condition: expire_condition(condition),
        },
        Command::ExpireAt {
            key,
            at,
            unit,
            condition,
        } => WriteOp::ExpireAt {
            at_ms: absolute_deadline(at, unit, true, now).ok_or_else(|| {
                err(format!(
                    "ERR invalid expire time in '{}' command",
                    if unit == TimeUnit::Seconds {
                        "expireat"
                    } else {
                        "pexpireat"
                    }
                ))
            })?,
            key,
            condition: expire_condition(condition),
        },
        Command::GetEx { key, option } => {
            let invalid = || err("ERR invalid expire time in 'getex' command");
            let expiry = match option {
                GetExOption::Keep => keyspace::GetExExpiry::Keep,
                GetExOption::Persist => keyspace::GetExExpiry::Persist,
                GetExOption::In(unit, n) => keyspace::GetExExpiry::At(
                    absolute_deadline(n, unit, false, now).ok_or_else(invalid)?,
                ),
                GetExOption::At(unit, n) => keyspace::GetExExpiry::At(
                    absolute_deadline(n, unit, true, now).ok_or_else(invalid)?,
                ),
            };
            WriteOp::GetEx { key, expiry }
        }
        other => unreachable!("{} is not a keyspace write", other.name()),
    };
    Ok((op, None))
}

/// Compares a password without leaking where it differs through timing.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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

pub(super) fn set_op(args: SetArgs, now: u64) -> Result<WriteOp, Frame> {
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
        CommandSub::List(filter) => Frame::Array(
            command::table::list(filter.as_ref())
                .into_iter()
                .map(Frame::bulk)
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
