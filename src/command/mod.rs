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

pub mod cluster;
pub mod connection;
pub mod error;
pub mod keyspace;
pub mod parse;
mod parsers;
pub mod server;
pub mod spec;
pub mod string;
pub mod table;

use bytes::Bytes;

pub use cluster::ClusterSub;
pub use error::CommandError;
pub use keyspace::{ExpireCondition, TimeUnit};
pub use parse::Parse;
pub use server::{CommandSub, ListFilter};
pub use spec::CommandSpec;
pub use string::{SetArgs, SetCondition, SetExpiry};

/// A parsed client command. Keys and values are the client's bytes, uninterpreted.
#[derive(Debug, Clone, PartialEq, Eq)]
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
}

impl Command {
    /// Parses a request (`args[0]` is the command name, any case). The arguments the command
    /// keeps are cheap clones of the request's `Bytes` (shared buffers, no copy).
    pub fn parse(args: &[Bytes]) -> Result<Command, CommandError> {
        let spec = table::resolve(args)?;
        let depth = if spec.name.contains('|') { 2 } else { 1 };
        let mut parse = Parse::new(spec.name, args.get(depth..).unwrap_or_default());
        (spec.parser)(&mut parse)
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
            | Command::Persist(_) => true,
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
