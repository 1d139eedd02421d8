//! The stored value types (`Value`; the sorted set's two indexes are `zset::ZSet`). Collections keep a deterministic element order (insertion order
//! with `swap_remove`, or score order), never a randomly seeded hash order: operations that
//! pick elements (`SPOP`) or copy collections (`SINTERSTORE`) must give the same result on
//! every replica and after a snapshot round trip.

pub mod zset;

use std::collections::VecDeque;

use bytes::Bytes;
use indexmap::{IndexMap, IndexSet};
use serde::{Deserialize, Serialize};

use zset::ZSet;

/// Fixed-seed hasher for collections: hash order does not matter (iteration follows insertion),
/// but a fixed seed keeps snapshots byte-identical across replicas.
pub type Hasher = std::hash::BuildHasherDefault<xxhash_rust::xxh3::Xxh3>;
pub type HashValue = IndexMap<Bytes, Bytes, Hasher>;
pub type SetValue = IndexSet<Bytes, Hasher>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Value {
    String(Bytes),
    List(VecDeque<Bytes>),
    Hash(Box<HashValue>),
    Set(Box<SetValue>),
    ZSet(Box<ZSet>),
}

/// The type of a value, as `TYPE` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ValueType {
    String,
    List,
    Hash,
    Set,
    ZSet,
}

impl ValueType {
    /// The name `TYPE` replies and `SCAN … TYPE` accepts.
    pub fn name(self) -> &'static str {
        match self {
            ValueType::String => "string",
            ValueType::List => "list",
            ValueType::Hash => "hash",
            ValueType::Set => "set",
            ValueType::ZSet => "zset",
        }
    }

    /// The type named `name` (any case), as `SCAN … TYPE` parses it.
    pub fn from_name(name: &[u8]) -> Option<ValueType> {
        [
            ValueType::String,
            ValueType::List,
            ValueType::Hash,
            ValueType::Set,
            ValueType::ZSet,
        ]
        .into_iter()
        .find(|t| t.name().as_bytes().eq_ignore_ascii_case(name))
    }
}

impl Value {
    pub fn kind(&self) -> ValueType {
        match self {
            Value::String(_) => ValueType::String,
            Value::List(_) => ValueType::List,
            Value::Hash(_) => ValueType::Hash,
            Value::Set(_) => ValueType::Set,
            Value::ZSet(_) => ValueType::ZSet,
        }
    }

    pub(crate) fn empty_list() -> Value {
        Value::List(VecDeque::new())
    }

    pub(crate) fn empty_hash() -> Value {
        Value::Hash(Box::default())
    }

    pub(crate) fn empty_set() -> Value {
        Value::Set(Box::default())
    }

    pub(crate) fn empty_zset() -> Value {
        Value::ZSet(Box::default())
    }

    pub(crate) fn is_empty_collection(&self) -> bool {
        match self {
            Value::String(_) => false,
            Value::List(l) => l.is_empty(),
            Value::Hash(h) => h.is_empty(),
            Value::Set(s) => s.is_empty(),
            Value::ZSet(z) => z.is_empty(),
        }
    }

    /// Rough heap bytes held, for `INFO memory` and `MEMORY USAGE`-like estimates.
    pub fn approx_bytes(&self) -> usize {
        const ENTRY: usize = 48;
        match self {
            Value::String(s) => s.len(),
            Value::List(l) => l.iter().map(|e| e.len() + 32).sum(),
            Value::Hash(h) => h.iter().map(|(k, v)| k.len() + v.len() + ENTRY + 64).sum(),
            Value::Set(s) => s.iter().map(|e| e.len() + ENTRY).sum(),
            Value::ZSet(z) => z.len() * (ENTRY * 3),
        }
    }
}

// The accessors below are called only after a `typed` check, so the other arms are bugs.
macro_rules! accessor {
    ($name:ident, $name_mut:ident, $variant:ident, $ty:ty) => {
        impl Value {
            pub(crate) fn $name(&self) -> &$ty {
                match self {
                    Value::$variant(v) => v,
                    other => unreachable!("{:?} is not a {}", other.kind(), stringify!($variant)),
                }
            }
            pub(crate) fn $name_mut(&mut self) -> &mut $ty {
                match self {
                    Value::$variant(v) => v,
                    other => unreachable!("{:?} is not a {}", other.kind(), stringify!($variant)),
                }
            }
        }
    };
}

accessor!(as_list, as_list_mut, List, VecDeque<Bytes>);
accessor!(as_hash, as_hash_mut, Hash, HashValue);
accessor!(as_set, as_set_mut, Set, SetValue);
accessor!(as_zset, as_zset_mut, ZSet, ZSet);
impl Value {
    pub(crate) fn as_string(&self) -> &Bytes {
        match self {
            Value::String(v) => v,
            other => unreachable!("{:?} is not a String", other.kind()),
        }
    }
}
