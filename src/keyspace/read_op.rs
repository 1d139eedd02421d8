//! `ReadOp`: a read of one slot's keys, run on the applied state (after ReadIndex on the
//! leader, or on a follower after `READONLY`), or inside a transaction at apply time.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::scan::ScanArgs;
use super::sets::SetAlgebra;
use super::sorted_sets::{LexBound, ScoreBound, ZRange, ZStoreArgs};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ReadOp {
    // ---- strings ----
    Get {
        key: Bytes,
    },
    MGet {
        keys: Vec<Bytes>,
    },
    StrLen {
        key: Bytes,
    },
    GetRange {
        key: Bytes,
        start: i64,
        end: i64,
    },

    // ---- keys ----
    Exists {
        keys: Vec<Bytes>,
    },
    /// `TOUCH`: counts existing keys (there is no LRU to update).
    Touch {
        keys: Vec<Bytes>,
    },
    Type {
        key: Bytes,
    },
    Ttl {
        key: Bytes,
        kind: TtlKind,
    },

    // ---- hashes ----
    HGet {
        key: Bytes,
        field: Bytes,
    },
    HMGet {
        key: Bytes,
        fields: Vec<Bytes>,
    },
    HGetAll {
        key: Bytes,
    },
    HKeys {
        key: Bytes,
    },
    HVals {
        key: Bytes,
    },
    HLen {
        key: Bytes,
    },
    HExists {
        key: Bytes,
        field: Bytes,
    },
    HStrLen {
        key: Bytes,
        field: Bytes,
    },
    HRandField {
        key: Bytes,
        count: Option<i64>,
        with_values: bool,
        seed: u64,
    },
    HScan {
        key: Bytes,
        args: ScanArgs,
    },

    // ---- lists ----
    LRange {
        key: Bytes,
        start: i64,
        stop: i64,
    },
    LIndex {
        key: Bytes,
        index: i64,
    },
    LLen {
        key: Bytes,
    },
    LPos {
        key: Bytes,
        element: Bytes,
        rank: i64,
        count: Option<usize>,
        maxlen: usize,
    },

    // ---- sets ----
    SMembers {
        key: Bytes,
    },
    SIsMember {
        key: Bytes,
        member: Bytes,
    },
    SMIsMember {
        key: Bytes,
        members: Vec<Bytes>,
    },
    SCard {
        key: Bytes,
    },
    SRandMember {
        key: Bytes,
        count: Option<i64>,
        seed: u64,
    },
    SAlgebra {
        algebra: SetAlgebra,
        keys: Vec<Bytes>,
    },
    SInterCard {
        keys: Vec<Bytes>,
        limit: usize,
    },
    SScan {
        key: Bytes,
        args: ScanArgs,
    },

    // ---- sorted sets ----
    ZScore {
        key: Bytes,
        member: Bytes,
    },
    ZMScore {
        key: Bytes,
        members: Vec<Bytes>,
    },
    ZCard {
        key: Bytes,
    },
    ZCount {
        key: Bytes,
        min: ScoreBound,
        max: ScoreBound,
    },
    ZLexCount {
        key: Bytes,
        min: LexBound,
        max: LexBound,
    },
    ZRank {
        key: Bytes,
        member: Bytes,
        rev: bool,
    },
    ZRange {
        key: Bytes,
        range: ZRange,
        with_scores: bool,
    },
    ZRandMember {
        key: Bytes,
        count: Option<i64>,
        with_scores: bool,
        seed: u64,
    },
    ZCombine {
        args: ZStoreArgs,
        with_scores: bool,
    },
    ZScan {
        key: Bytes,
        args: ScanArgs,
    },
}

/// Which of `TTL`, `PTTL`, `EXPIRETIME`, `PEXPIRETIME`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TtlKind {
    Ttl,
    PTtl,
    ExpireTime,
    PExpireTime,
}

impl ReadOp {
    /// Gives a read that picks at random (`SRANDMEMBER`) the reader's seed.
    pub fn reseed(&mut self, seed: u64) {
        match self {
            ReadOp::HRandField { seed: s, .. }
            | ReadOp::SRandMember { seed: s, .. }
            | ReadOp::ZRandMember { seed: s, .. } => *s = seed,
            _ => {}
        }
    }

    /// The keys this read touches (all in one slot; checked before running it).
    pub fn keys(&self) -> Vec<&Bytes> {
        match self {
            ReadOp::MGet { keys }
            | ReadOp::Exists { keys }
            | ReadOp::Touch { keys }
            | ReadOp::SAlgebra { keys, .. }
            | ReadOp::SInterCard { keys, .. } => keys.iter().collect(),
            ReadOp::ZCombine { args, .. } => args.keys.iter().collect(),
            ReadOp::Get { key }
            | ReadOp::StrLen { key }
            | ReadOp::GetRange { key, .. }
            | ReadOp::Type { key }
            | ReadOp::Ttl { key, .. }
            | ReadOp::HGet { key, .. }
            | ReadOp::HMGet { key, .. }
            | ReadOp::HGetAll { key }
            | ReadOp::HKeys { key }
            | ReadOp::HVals { key }
            | ReadOp::HLen { key }
            | ReadOp::HExists { key, .. }
            | ReadOp::HStrLen { key, .. }
            | ReadOp::HRandField { key, .. }
            | ReadOp::HScan { key, .. }
            | ReadOp::LRange { key, .. }
            | ReadOp::LIndex { key, .. }
            | ReadOp::LLen { key }
            | ReadOp::LPos { key, .. }
            | ReadOp::SMembers { key }
            | ReadOp::SIsMember { key, .. }
            | ReadOp::SMIsMember { key, .. }
            | ReadOp::SCard { key }
            | ReadOp::SRandMember { key, .. }
            | ReadOp::SScan { key, .. }
            | ReadOp::ZScore { key, .. }
            | ReadOp::ZMScore { key, .. }
            | ReadOp::ZCard { key }
            | ReadOp::ZCount { key, .. }
            | ReadOp::ZLexCount { key, .. }
            | ReadOp::ZRank { key, .. }
            | ReadOp::ZRange { key, .. }
            | ReadOp::ZRandMember { key, .. }
            | ReadOp::ZScan { key, .. } => vec![key],
        }
    }
}
