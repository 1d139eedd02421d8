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
//! One file per command family (`connection`, `server`, `cluster`, `strings`, `keys`, `hashes`,
//! `lists`, `sets`, `sorted_sets`, named as in `keyspace/`) holds
//! that family's argument types and parsers; `parser_index` names each command's parser as the
//! generated table refers to it; `table` holds every supported command's metadata (generated
//! from redis-server 7.0.15 for the names in `table/commands.txt`) and the look-ups. Commands
//! Redis has and we do not are `CommandError::UnknownCommand`.

pub mod client;
pub mod cluster;
pub mod config;
pub mod connection;
pub mod error;
pub mod hashes;
pub mod keys;
pub mod lists;
pub mod parse;
mod parser_index;
pub mod scan;
pub mod server;
pub mod sets;
pub mod sorted_sets;
pub mod spec;
pub mod strings;
pub mod table;
pub mod transaction;

use bytes::Bytes;

pub use client::{ClientSub, KillFilter, LibAttr};
pub use cluster::ClusterSub;
pub use config::ConfigSub;
pub use error::CommandError;
pub use keys::{ExpireCondition, TimeUnit};
pub use parse::Parse;
pub use server::{CommandSub, ListFilter};
pub use spec::CommandSpec;
pub use strings::{GetExOption, SetArgs, SetCondition, SetExpiry};

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
    /// into an absolute deadline before proposing (see `server::prepare`).
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
}

#[cfg(test)]
mod tests;
