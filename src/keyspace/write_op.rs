//! `WriteOp`: a write as it is stored in the Raft log.
//!
//! Every field is decided before proposing, so applying an op never needs a clock or a random
//! number: relative expirations are already absolute deadlines (DESIGN.md rule 3).

use bytes::Bytes;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WriteOp {
    Set {
        key: Bytes,
        value: Bytes,
        condition: SetCondition,
        expiry: SetExpiry,
        get: bool,
    },
    Del {
        keys: Vec<Bytes>,
    },
    IncrBy {
        key: Bytes,
        delta: i64,
    },
    MSet {
        pairs: Vec<(Bytes, Bytes)>,
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
    /// Active expiry: the leader found these keys past their deadline.
    EvictExpired {
        keys: Vec<Bytes>,
    },
}

impl WriteOp {
    /// The keys this op touches (all in one slot; checked before proposing).
    pub fn keys(&self) -> Vec<&Bytes> {
        match self {
            WriteOp::Set { key, .. }
            | WriteOp::IncrBy { key, .. }
            | WriteOp::ExpireAt { key, .. }
            | WriteOp::Persist { key } => vec![key],
            WriteOp::Del { keys } | WriteOp::EvictExpired { keys } => keys.iter().collect(),
            WriteOp::MSet { pairs } => pairs.iter().map(|(k, _)| k).collect(),
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
