//! The `SCAN` cursor scheme: keys are ordered by a fixed 64-bit hash (xxh3) of the key, and a
//! cursor is a position in that order. A cursor stays meaningful while keys are added and
//! removed — every key present for the whole iteration is returned at least once, as Redis
//! guarantees — and means the same on every replica, so a scan can continue on the new leader.

use std::cmp::Ordering;

use bytes::Bytes;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::value::ValueType;
use crate::reply::Reply;

/// Options of `SCAN` / `HSCAN` / `SSCAN` / `ZSCAN`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanArgs {
    pub cursor: u64,
    /// `MATCH pattern`.
    pub pattern: Option<Bytes>,
    /// `COUNT n`: how many entries to visit (a hint, as in Redis).
    pub count: usize,
    /// `TYPE name` (`SCAN` only).
    pub kind: Option<ValueType>,
    /// An option error that Redis reports only once it has found the key (`HSCAN`, `SSCAN`,
    /// `ZSCAN` on a missing key answer an empty scan, on a key of another type `WRONGTYPE`).
    pub deferred_error: Option<String>,
}

impl ScanArgs {
    /// The deferred option error, as a reply, for a key that exists with the right type.
    pub(crate) fn check(&self) -> Result<(), crate::reply::Reply> {
        match &self.deferred_error {
            Some(e) => Err(crate::reply::Reply::Error(e.clone())),
            None => Ok(()),
        }
    }
}

pub fn key_hash(key: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(key)
}

/// A key with its hash, ordered by (hash, key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanKey {
    pub hash: u64,
    pub key: Bytes,
}

impl ScanKey {
    pub fn new(key: Bytes) -> Self {
        Self {
            hash: key_hash(&key),
            key,
        }
    }

    /// The smallest `ScanKey` with `key`'s hash: where a look-up for `key` starts.
    pub fn lower_bound(key: &[u8]) -> Self {
        Self {
            hash: key_hash(key),
            key: Bytes::new(),
        }
    }

    /// The smallest `ScanKey` at cursor position `hash`.
    pub fn at(hash: u64) -> Self {
        Self {
            hash,
            key: Bytes::new(),
        }
    }
}

impl PartialOrd for ScanKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ScanKey {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.hash, &self.key).cmp(&(other.hash, &other.key))
    }
}

impl Serialize for ScanKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.key.serialize(s)
    }
}

impl<'de> Deserialize<'de> for ScanKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(ScanKey::new(Bytes::deserialize(d)?))
    }
}

pub use crate::glob::glob_match;

/// The two-element `[cursor, items]` reply of the SCAN family.
pub(crate) fn scan_reply(cursor: u64, items: Vec<Reply>) -> Reply {
    Reply::Array(vec![
        Reply::Bulk(Bytes::from(cursor.to_string())),
        Reply::Array(items),
    ])
}

/// `HSCAN`/`SSCAN`/`ZSCAN`: the whole collection in one step (cursor 0), as Redis does for small
/// collections. The COUNT hint is allowed to be exceeded; returning everything at once never
/// skips an element. `members` (`None`: no such key) yields each member with what follows it
/// in the reply: a hash field's value, a member's score, or nothing (`SSCAN`).
pub(crate) fn scan_collection<'a>(
    args: &ScanArgs,
    members: Option<impl Iterator<Item = (&'a Bytes, Option<Reply>)>>,
) -> Reply {
    let Some(members) = members else {
        return scan_reply(0, vec![]);
    };
    if let Err(reply) = args.check() {
        return reply;
    }
    let items = members
        .filter(|(m, _)| args.pattern.as_ref().is_none_or(|p| glob_match(p, m)))
        .flat_map(|(m, then)| std::iter::once(Reply::Bulk(m.clone())).chain(then))
        .collect();
    scan_reply(0, items)
}
