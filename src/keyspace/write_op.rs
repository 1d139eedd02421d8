//! `WriteOp`: a write as it is stored in the Raft log.
//!
//! Every field is decided before proposing, so applying an op never needs a clock or a random
//! number: relative expirations are already absolute deadlines, and ops that pick at random
//! carry the leader's seed (ARCHITECTURE.md rule 3).

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::lists::{End, Pivot};
use super::read_op::ReadOp;
use super::sets::SetAlgebra;
use super::sorted_sets::{ZAddFlags, ZRange, ZStoreArgs};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum WriteOp {
    // ---- strings ----
    Set {
        key: Bytes,
        value: Bytes,
        condition: SetCondition,
        expiry: SetExpiry,
        get: bool,
    },
    IncrBy {
        key: Bytes,
        delta: i64,
    },
    IncrByFloat {
        key: Bytes,
        delta: f64,
    },
    MSet {
        pairs: Vec<(Bytes, Bytes)>,
    },
    /// `MSETNX`: all or nothing.
    MSetNx {
        pairs: Vec<(Bytes, Bytes)>,
    },
    Append {
        key: Bytes,
        value: Bytes,
    },
    SetRange {
        key: Bytes,
        offset: usize,
        value: Bytes,
    },
    GetDel {
        key: Bytes,
    },
    GetEx {
        key: Bytes,
        expiry: GetExExpiry,
    },

    // ---- keys ----
    Del {
        keys: Vec<Bytes>,
    },
    /// EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT with the deadline already absolute.
    ExpireAt {
        key: Bytes,
        at_ms: u64,
        condition: ExpireCondition,
    },
    Persist {
        key: Bytes,
    },
    Rename {
        src: Bytes,
        dst: Bytes,
        /// `RENAMENX`.
        nx: bool,
    },
    Copy {
        src: Bytes,
        dst: Bytes,
        replace: bool,
    },
    /// `FLUSHALL`/`FLUSHDB`: every key of the group.
    FlushAll,
    /// Active expiry: the leader found these keys past their deadline.
    EvictExpired {
        keys: Vec<Bytes>,
    },

    // ---- hashes ----
    HSet {
        key: Bytes,
        pairs: Vec<(Bytes, Bytes)>,
        /// `HSETNX`: only fields that do not exist yet.
        nx: bool,
    },
    HDel {
        key: Bytes,
        fields: Vec<Bytes>,
    },
    HIncrBy {
        key: Bytes,
        field: Bytes,
        delta: i64,
    },
    HIncrByFloat {
        key: Bytes,
        field: Bytes,
        delta: f64,
    },

    // ---- lists ----
    Push {
        key: Bytes,
        values: Vec<Bytes>,
        end: End,
        /// `LPUSHX`/`RPUSHX`.
        only_if_exists: bool,
    },
    Pop {
        key: Bytes,
        end: End,
        count: Option<usize>,
    },
    LSet {
        key: Bytes,
        index: i64,
        value: Bytes,
    },
    LInsert {
        key: Bytes,
        pivot: Pivot,
        pivot_value: Bytes,
        value: Bytes,
    },
    LRem {
        key: Bytes,
        count: i64,
        value: Bytes,
    },
    LTrim {
        key: Bytes,
        start: i64,
        stop: i64,
    },
    LMove {
        src: Bytes,
        dst: Bytes,
        from: End,
        to: End,
    },
    LMPop {
        keys: Vec<Bytes>,
        end: End,
        count: usize,
    },

    // ---- sets ----
    SAdd {
        key: Bytes,
        members: Vec<Bytes>,
    },
    SRem {
        key: Bytes,
        members: Vec<Bytes>,
    },
    SPop {
        key: Bytes,
        count: Option<usize>,
        /// The leader's random choice: every replica removes the same members.
        seed: u64,
    },
    SMove {
        src: Bytes,
        dst: Bytes,
        member: Bytes,
    },
    SetStore {
        algebra: SetAlgebra,
        dst: Bytes,
        keys: Vec<Bytes>,
    },

    // ---- sorted sets ----
    ZAdd {
        key: Bytes,
        flags: ZAddFlags,
        pairs: Vec<(f64, Bytes)>,
    },
    ZIncrBy {
        key: Bytes,
        delta: f64,
        member: Bytes,
    },
    ZRem {
        key: Bytes,
        members: Vec<Bytes>,
    },
    ZRemRange {
        key: Bytes,
        range: ZRange,
    },
    ZPop {
        key: Bytes,
        max: bool,
        count: Option<usize>,
    },
    ZMPop {
        keys: Vec<Bytes>,
        max: bool,
        count: usize,
    },
    ZRangeStore {
        dst: Bytes,
        src: Bytes,
        range: ZRange,
    },
    ZStore {
        dst: Bytes,
        args: ZStoreArgs,
    },

    // ---- transactions ----
    /// `MULTI … EXEC`: one log entry, applied atomically on every replica.
    Multi(MultiOp),
}

/// A transaction as it travels in the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MultiOp {
    /// The queued commands, in order.
    pub ops: Vec<MultiStep>,
    /// Keys under `WATCH`, with the versions seen when they were watched.
    pub watched: Vec<WatchedKey>,
}

/// One queued command of a transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MultiStep {
    Write(WriteOp),
    /// Reads run at apply time, so they see the transaction's own earlier writes.
    Read(ReadOp),
}

/// A key under `WATCH`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchedKey {
    pub key: Bytes,
    /// `Keyspace::version` when it was watched.
    pub version: u64,
    /// The applied log index the version was read at.
    pub watched_at_index: u64,
}

impl WriteOp {
    /// Gives an op that picks at random the leader's seed (`SPOP`), so every replica picks
    /// the same elements.
    pub fn reseed(&mut self, seed: u64) {
        match self {
            WriteOp::SPop { seed: s, .. } => *s = seed,
            WriteOp::Multi(multi) => {
                for (i, step) in multi.ops.iter_mut().enumerate() {
                    match step {
                        MultiStep::Write(op) => op.reseed(seed.wrapping_add(i as u64)),
                        MultiStep::Read(op) => op.reseed(seed.wrapping_add(i as u64)),
                    }
                }
            }
            _ => {}
        }
    }

    /// The keys this op touches (all in one slot; checked before proposing).
    pub fn keys(&self) -> Vec<&Bytes> {
        match self {
            WriteOp::Set { key, .. }
            | WriteOp::IncrBy { key, .. }
            | WriteOp::IncrByFloat { key, .. }
            | WriteOp::Append { key, .. }
            | WriteOp::SetRange { key, .. }
            | WriteOp::GetDel { key }
            | WriteOp::GetEx { key, .. }
            | WriteOp::ExpireAt { key, .. }
            | WriteOp::Persist { key }
            | WriteOp::HSet { key, .. }
            | WriteOp::HDel { key, .. }
            | WriteOp::HIncrBy { key, .. }
            | WriteOp::HIncrByFloat { key, .. }
            | WriteOp::Push { key, .. }
            | WriteOp::Pop { key, .. }
            | WriteOp::LSet { key, .. }
            | WriteOp::LInsert { key, .. }
            | WriteOp::LRem { key, .. }
            | WriteOp::LTrim { key, .. }
            | WriteOp::SAdd { key, .. }
            | WriteOp::SRem { key, .. }
            | WriteOp::SPop { key, .. }
            | WriteOp::ZAdd { key, .. }
            | WriteOp::ZIncrBy { key, .. }
            | WriteOp::ZRem { key, .. }
            | WriteOp::ZRemRange { key, .. }
            | WriteOp::ZPop { key, .. } => vec![key],
            WriteOp::Rename { src, dst, .. }
            | WriteOp::Copy { src, dst, .. }
            | WriteOp::LMove { src, dst, .. }
            | WriteOp::SMove { src, dst, .. }
            | WriteOp::ZRangeStore { dst, src, .. } => vec![src, dst],
            WriteOp::Del { keys }
            | WriteOp::EvictExpired { keys }
            | WriteOp::LMPop { keys, .. }
            | WriteOp::ZMPop { keys, .. } => keys.iter().collect(),
            WriteOp::MSet { pairs } | WriteOp::MSetNx { pairs } => {
                pairs.iter().map(|(k, _)| k).collect()
            }
            WriteOp::SetStore { dst, keys, .. } => std::iter::once(dst).chain(keys).collect(),
            WriteOp::ZStore { dst, args } => std::iter::once(dst).chain(&args.keys).collect(),
            WriteOp::FlushAll => vec![],
            WriteOp::Multi(multi) => multi
                .ops
                .iter()
                .flat_map(|step| match step {
                    MultiStep::Write(op) => op.keys(),
                    MultiStep::Read(op) => op.keys(),
                })
                .chain(multi.watched.iter().map(|w| &w.key))
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SetCondition {
    Always,
    /// NX
    IfNotExists,
    /// XX
    IfExists,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SetExpiry {
    /// No expiry option: SET removes any previous deadline.
    Clear,
    /// KEEPTTL
    Keep,
    /// Absolute deadline in unix milliseconds.
    At(u64),
}

/// What `GETEX` does to the deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GetExExpiry {
    /// No option: leave it.
    Keep,
    /// `PERSIST`.
    Persist,
    /// `EX`/`PX`/`EXAT`/`PXAT`, made absolute.
    At(u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExpireCondition {
    Always,
    /// NX: only when the key has no deadline.
    IfNone,
    /// XX: only when the key has a deadline.
    IfSome,
    /// GT: only when the new deadline is later.
    IfGreater,
    /// LT: only when the new deadline is earlier (a key without deadline counts as infinite).
    IfLess,
    /// XX LT: only when the key has a deadline and the new one is earlier.
    IfSomeAndLess,
}
