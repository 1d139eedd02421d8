//! Commands: a request's raw arguments turned into a typed, closed `Command`, with Redis 7.0's
//! syntax rules and error texts, plus the static metadata (`table`) that `COMMAND` reports and
//! that routing uses to find keys.
//!
//! Owns syntax only. It does not know slots, groups, Raft or the keyspace: whether `SELECT 1`
//! is allowed, what time it is, or whether a key exists is decided by the layers that execute
//! commands. Parsing follows Redis' order of checks, because the first failing check decides the
//! error text a client sees: unknown command, then unknown subcommand, then arity (all from the
//! table), then the command's own parser.
//!
//! One file per command family (`connection`, `server`, `cluster`, `string`, `keyspace`) holds
//! that family's argument types and parsers; `parsers` names each command's parser as the
//! generated table refers to it; `table` holds every supported command's metadata (generated
//! from redis-server 7.0.15 for the names in `table/commands.txt`) and the look-ups. Commands
//! Redis has and we do not are `CommandError::UnknownCommand`.

pub mod client;
pub mod cluster;
pub mod config;
pub mod connection;
pub mod error;
pub mod hash;
pub mod keyspace;
pub mod list;
pub mod parse;
mod parsers;
pub mod scan;
pub mod server;
pub mod set;
pub mod spec;
pub mod string;
pub mod table;
pub mod transaction;
pub mod zset;

use bytes::Bytes;

pub use client::{ClientSub, KillFilter, LibAttr};
pub use cluster::ClusterSub;
pub use config::ConfigSub;
pub use error::CommandError;
pub use keyspace::{ExpireCondition, TimeUnit};
pub use parse::Parse;
pub use server::{CommandSub, ListFilter};
pub use spec::CommandSpec;
pub use string::{GetExOption, SetArgs, SetCondition, SetExpiry};

use crate::keyspace::{ReadOp, ScanArgs, WriteOp};

/// How the reply of a write is reshaped for commands that share another command's op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyAs {
    /// `OK` → 1, nil → 0 (`SETNX`).
    Flag,
    /// Anything but an error → `OK` (`HMSET`).
    Ok,
}

/// A parsed client command. Keys and values are the client's bytes, uninterpreted.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `PING [message]`.
    Ping(Option<Bytes>),
    /// `ECHO message`.
    Echo(Bytes),
    /// `HELLO [protover [AUTH username password] [SETNAME clientname]]`.
    Hello {
        /// 2 or 3; `None` keeps the connection's protocol.
        protover: Option<u8>,
        /// Username and password, when given.
        auth: Option<(Bytes, Bytes)>,
        /// New client name, already checked for forbidden bytes.
        setname: Option<Bytes>,
    },
    /// `QUIT` (arguments are ignored, as in Redis).
    Quit,
    /// `SELECT index`: any `int`; the server decides which databases exist.
    Select(i64),
    /// `COMMAND [subcommand …]`.
    Command(CommandSub),
    /// `INFO [section …]`, sections lower-cased.
    Info(Vec<String>),
    /// `READONLY`: allow reads from replicas on this connection.
    ReadOnly,
    /// `READWRITE`: back to reading from masters only.
    ReadWrite,
    /// `CLUSTER subcommand …`.
    Cluster(ClusterSub),
    /// `GET key`.
    Get(Bytes),
    /// `SET key value [NX|XX] [GET] [EX|PX|EXAT|PXAT n|KEEPTTL]`.
    Set(SetArgs),
    /// `DEL key [key …]`.
    Del(Vec<Bytes>),
    /// `EXISTS key [key …]`.
    Exists(Vec<Bytes>),
    /// `INCR`, `DECR`, `INCRBY`, `DECRBY`: add `delta` to the integer at `key`.
    IncrBy {
        /// The counter.
        key: Bytes,
        /// What to add (already negated for the `DECR` forms).
        delta: i64,
    },
    /// `MGET key [key …]`.
    MGet(Vec<Bytes>),
    /// `MSET key value [key value …]`.
    MSet(Vec<(Bytes, Bytes)>),
    /// `EXPIRE`/`PEXPIRE key amount [NX|XX|GT|LT]`: a TTL relative to now; the leader turns it
    /// into an absolute deadline before proposing (see `keyspace::expire_deadline_ms`).
    Expire {
        /// The key.
        key: Bytes,
        /// The TTL; may be negative (the key then expires at once, as in Redis).
        amount: i64,
        /// Unit of `amount`.
        unit: TimeUnit,
        /// When to apply it, relative to the key's current TTL.
        condition: ExpireCondition,
    },
    /// `TTL`/`PTTL key`.
    Ttl {
        /// The key.
        key: Bytes,
        /// Unit of the reply.
        unit: TimeUnit,
    },
    /// `PERSIST key`.
    Persist(Bytes),
    /// `DBSIZE`.
    DbSize,
    /// A keyspace read that needs no leader-side preparation.
    Read(ReadOp),
    /// A keyspace write proposed as is (ops that pick at random get the leader's seed).
    Write(WriteOp),
    /// A write whose reply is reshaped.
    WriteAs(WriteOp, ReplyAs),
    /// `GETEX key [EX|PX|EXAT|PXAT n|PERSIST]`.
    GetEx {
        /// The key.
        key: Bytes,
        /// What to do with the TTL.
        option: GetExOption,
    },
    /// `EXPIREAT`/`PEXPIREAT key time [NX|XX|GT|LT]`.
    ExpireAt {
        /// The key.
        key: Bytes,
        /// Unix time in `unit`.
        at: i64,
        /// Unit of `at`.
        unit: TimeUnit,
        /// When to apply it.
        condition: ExpireCondition,
    },
    /// `KEYS pattern` over the groups this node leads.
    Keys(Bytes),
    /// `SCAN cursor …` over the groups this node leads.
    Scan(ScanArgs),
    /// `RANDOMKEY`.
    RandomKey,
    /// `FLUSHALL`/`FLUSHDB`: the groups this node leads.
    FlushAll,
    /// `MULTI`.
    Multi,
    /// `EXEC`.
    Exec,
    /// `DISCARD`.
    Discard,
    /// `WATCH key [key …]`.
    Watch(Vec<Bytes>),
    /// `UNWATCH`.
    Unwatch,
    /// `AUTH [username] password`.
    Auth {
        /// `None` for the one-argument form (the default user).
        username: Option<Bytes>,
        /// The password.
        password: Bytes,
    },
    /// `CLIENT subcommand …`.
    Client(ClientSub),
    /// `CONFIG subcommand …`.
    Config(ConfigSub),
    /// `TIME`.
    Time,
    /// `ASKING`.
    Asking,
    /// `WAIT numreplicas timeout`.
    Wait,
}

impl Command {
    /// Parses a request (`args[0]` is the command name, any case). The arguments the command
    /// keeps are cheap clones of the request's `Bytes` (shared buffers, no copy).
    pub fn parse(args: &[Bytes]) -> Result<Command, CommandError> {
        Self::parse_named(args).map(|(_, cmd)| cmd)
    }

    /// `parse`, also returning the table name of the command the client sent (`setnx`,
    /// `client|list`), which `INFO commandstats` counts by.
    pub fn parse_named(args: &[Bytes]) -> Result<(&'static str, Command), CommandError> {
        if client::is_client_setinfo(args) {
            return client::parse_client_setinfo(args).map(|cmd| (client::SETINFO_NAME, cmd));
        }
        let spec = table::resolve(args)?;
        let depth = if spec.name.contains('|') { 2 } else { 1 };
        let mut parse = Parse::new(spec.name, args.get(depth..).unwrap_or_default());
        (spec.parser)(&mut parse).map(|cmd| (spec.name, cmd))
    }

    /// The full lower-case name of the command this value represents, as in the table
    /// (`incrby` also for `INCR`/`DECR`/`DECRBY`, `cluster|slots` for subcommands).
    pub fn name(&self) -> &'static str {
        match self {
            Command::Ping(_) => "ping",
            Command::Echo(_) => "echo",
            Command::Hello { .. } => "hello",
            Command::Quit => "quit",
            Command::Select(_) => "select",
            Command::Command(sub) => sub.name(),
            Command::Info(_) => "info",
            Command::ReadOnly => "readonly",
            Command::ReadWrite => "readwrite",
            Command::Cluster(sub) => sub.name(),
            Command::Get(_) => "get",
            Command::Set(_) => "set",
            Command::Del(_) => "del",
            Command::Exists(_) => "exists",
            Command::IncrBy { .. } => "incrby",
            Command::MGet(_) => "mget",
            Command::MSet(_) => "mset",
            Command::Expire {
                unit: TimeUnit::Seconds,
                ..
            } => "expire",
            Command::Expire {
                unit: TimeUnit::Milliseconds,
                ..
            } => "pexpire",
            Command::Ttl {
                unit: TimeUnit::Seconds,
                ..
            } => "ttl",
            Command::Ttl {
                unit: TimeUnit::Milliseconds,
                ..
            } => "pttl",
            Command::Persist(_) => "persist",
            Command::DbSize => "dbsize",
            // Commands sharing an op count under the op's family; `INFO commandstats` counts
            // by the name the client sent (see `dispatch`).
            Command::Read(_) => "read",
            Command::Write(_) | Command::WriteAs(..) => "write",
            Command::GetEx { .. } => "getex",
            Command::ExpireAt {
                unit: TimeUnit::Seconds,
                ..
            } => "expireat",
            Command::ExpireAt { .. } => "pexpireat",
            Command::Keys(_) => "keys",
            Command::Scan(_) => "scan",
            Command::RandomKey => "randomkey",
            Command::FlushAll => "flushall",
            Command::Multi => "multi",
            Command::Exec => "exec",
            Command::Discard => "discard",
            Command::Watch(_) => "watch",
            Command::Unwatch => "unwatch",
            Command::Auth { .. } => "auth",
            Command::Client(sub) => sub.name(),
            Command::Config(sub) => sub.name(),
            Command::Time => "time",
            Command::Asking => "asking",
            Command::Wait => "wait",
        }
    }

    /// The keys the command touches, in argument order: what slot routing hashes. Empty for
    /// commands without keys (`CLUSTER KEYSLOT`'s argument is not a key: it is only hashed).
    pub fn keys(&self) -> Vec<&Bytes> {
        match self {
            Command::Get(key)
            | Command::Persist(key)
            | Command::IncrBy { key, .. }
            | Command::Expire { key, .. }
            | Command::Ttl { key, .. } => vec![key],
            Command::Set(args) => vec![&args.key],
            Command::Del(keys) | Command::Exists(keys) | Command::MGet(keys) => {
                keys.iter().collect()
            }
            Command::MSet(pairs) => pairs.iter().map(|(key, _)| key).collect(),
            Command::Read(op) => op.keys(),
            Command::Write(op) | Command::WriteAs(op, _) => op.keys(),
            Command::GetEx { key, .. } | Command::ExpireAt { key, .. } => vec![key],
            Command::Watch(keys) => keys.iter().collect(),
            Command::Keys(_)
            | Command::Scan(_)
            | Command::RandomKey
            | Command::FlushAll
            | Command::Multi
            | Command::Exec
            | Command::Discard
            | Command::Unwatch
            | Command::Auth { .. }
            | Command::Client(_)
            | Command::Config(_)
            | Command::Time
            | Command::Asking
            | Command::Wait
            | Command::Ping(_)
            | Command::Echo(_)
            | Command::Hello { .. }
            | Command::Quit
            | Command::Select(_)
            | Command::Command(_)
            | Command::Info(_)
            | Command::ReadOnly
            | Command::ReadWrite
            | Command::Cluster(_)
            | Command::DbSize => vec![],
        }
    }

    /// Whether the command may modify the keyspace, so must go through the Raft log (the
    /// table's `write` flag).
    pub fn is_write(&self) -> bool {
        match self {
            Command::Set(_)
            | Command::Del(_)
            | Command::IncrBy { .. }
            | Command::MSet(_)
            | Command::Expire { .. }
            | Command::Persist(_)
            | Command::Write(_)
            | Command::WriteAs(..)
            | Command::GetEx { .. }
            | Command::ExpireAt { .. }
            | Command::FlushAll => true,
            Command::Read(_)
            | Command::Keys(_)
            | Command::Scan(_)
            | Command::RandomKey
            | Command::Multi
            | Command::Exec
            | Command::Discard
            | Command::Watch(_)
            | Command::Unwatch
            | Command::Auth { .. }
            | Command::Client(_)
            | Command::Config(_)
            | Command::Time
            | Command::Asking
            | Command::Wait => false,
            Command::Ping(_)
            | Command::Echo(_)
            | Command::Hello { .. }
            | Command::Quit
            | Command::Select(_)
            | Command::Command(_)
            | Command::Info(_)
            | Command::ReadOnly
            | Command::ReadWrite
            | Command::Cluster(_)
            | Command::Get(_)
            | Command::Exists(_)
            | Command::MGet(_)
            | Command::Ttl { .. }
            | Command::DbSize => false,
        }
    }
}

#[cfg(test)]
mod tests;
