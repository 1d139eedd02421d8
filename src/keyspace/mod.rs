//! The in-memory keyspace of one slot group: the state that Raft replicates.
//!
//! It owns the key → value map and the expiry deadlines, applies `WriteOp`s (log entries) and
//! answers `ReadOp`s. It is a leaf: no tokio, openraft, tonic or clock inside. Time is an
//! argument: writes get the leader-chosen `now_ms` stored in the log entry, so every replica
//! applies the same entry to the same result (ARCHITECTURE.md rule 3); reads get the reader's wall
//! clock, so a read never returns a key whose deadline has passed even before the leader
//! proposes its deletion. Randomness is an argument too: writes that pick at random (`SPOP`)
//! carry a leader-chosen seed in the op, and collections keep a deterministic element order, so
//! every replica picks the same elements.
//!
//! One file per Redis type family holds that family's commands (`strings`, `keys`, `hashes`,
//! `lists`, `sets`, `sorted_sets`); `value` holds the stored types, `scan` the cursor scheme.

mod exec;
mod float;
mod hashes;
mod keys;
mod lists;
mod read_op;
mod scan;
mod sets;
mod sorted_sets;
mod strings;
mod value;
mod write_op;

pub use float::{format_human, format_score, parse_double};
pub use lists::{End, Pivot};
pub use read_op::{ReadOp, TtlKind};
pub use scan::{glob_match, ScanArgs};
pub use sets::SetAlgebra;
pub use sorted_sets::{
    Aggregate, LexBound, ScoreBound, ZAddCondition, ZAddFlags, ZRange, ZRangeBy, ZStoreArgs,
};
pub use value::zset::ZSet;
pub use value::{Value, ValueType};
pub use write_op::{
    ExpireCondition, GetExExpiry, MultiOp, SetCondition, SetExpiry, WatchedKey, WriteOp,
};

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::cluster::slot::key_slot;
use crate::reply::Reply;
use scan::ScanKey;

/// Errors a command can deterministically produce when applied; the texts are Redis's.
#[derive(Debug, Clone, Error, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyspaceError {
    #[error("WRONGTYPE Operation against a key holding the wrong kind of value")]
    WrongType,
    #[error("ERR value is not an integer or out of range")]
    NotInteger,
    #[error("ERR value is not a valid float")]
    NotFloat,
    #[error("ERR increment or decrement would overflow")]
    Overflow,
    #[error("ERR increment would produce NaN or Infinity")]
    NanOrInfinity,
    #[error("ERR hash value is not an integer")]
    HashNotInteger,
    #[error("ERR hash value is not a float")]
    HashNotFloat,
    #[error("ERR no such key")]
    NoSuchKey,
    #[error("ERR index out of range")]
    IndexOutOfRange,
    #[error("ERR resulting score is not a number (NaN)")]
    ScoreNan,
    #[error("ERR string exceeds maximum allowed size (proto-max-bulk-len)")]
    StringTooLong,
    #[error("ERR weight value is not a float")]
    WeightNotFloat,
}

/// Largest string value, as Redis' default `proto-max-bulk-len` (512 MiB).
pub const MAX_STRING_LEN: usize = 512 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Item {
    pub(crate) value: Value,
    /// Absolute unix time in milliseconds after which the key does not exist. Changed only by
    /// `Keyspace::insert`, `set_deadline` and `remove`, which keep `Keyspace::deadlines` in step.
    pub(crate) expires_at_ms: Option<u64>,
    /// Log index of the last write that changed this key (WATCH compares it).
    pub(crate) version: u64,
}

impl Item {
    fn new(value: Value, version: u64) -> Self {
        Self {
            value,
            expires_at_ms: None,
            version,
        }
    }

    fn is_live(&self, now_ms: u64) -> bool {
        self.expires_at_ms.is_none_or(|at| at > now_ms)
    }
}

/// How long (in log entries) a deleted key's version is remembered for `WATCH`: a transaction
/// whose `WATCH` is older than that is aborted when it watched a key that is gone, because we
/// cannot tell whether the key changed in between (safe: clients retry aborted transactions).
const TOMBSTONE_WINDOW: u64 = 100_000;

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "StoredKeyspace")]
pub struct Keyspace {
    /// Ordered by a fixed hash of the key, so `SCAN` cursors are positions that stay valid
    /// while keys come and go (and on every replica).
    items: BTreeMap<ScanKey, Item>,
    /// The greatest `now_ms` applied so far. Leaders' clocks may disagree, so apply time never
    /// runs backwards: a key that expired on one leader's clock stays expired on every replica.
    applied_now_ms: u64,
    /// Log index of the entry being applied (0 outside of `apply`, e.g. in tests).
    index: u64,
    /// Versions of recently deleted keys, for `WATCH` (see `TOMBSTONE_WINDOW`).
    tombstones: BTreeMap<Bytes, u64>,
    /// Oldest index from which `tombstones` is complete.
    tombstones_since: u64,
    /// Every key with a deadline, ordered by deadline: active expiry takes expired keys from
    /// the front instead of scanning the whole keyspace (which, every 100 ms per group, cost
    /// O(keys) under the state-machine lock). Derived from `items`: not stored in snapshots,
    /// rebuilt when one is loaded. Serialized fields must match `StoredKeyspace`, in order.
    #[serde(skip_serializing)]
    deadlines: BTreeSet<(u64, ScanKey)>,
    /// Number of stored keys (live or expired-not-yet-evicted) per hash slot, so
    /// `CLUSTER COUNTKEYSINSLOT` (asked once per slot by resharding tools) does not hash every
    /// key of the group. Derived from `items` like `deadlines`; slots with no key are absent.
    #[serde(skip_serializing)]
    slot_counts: BTreeMap<u16, usize>,
}

/// What a snapshot stores of a `Keyspace`: every field but the derived indexes (`deadlines`,
/// `slot_counts`), in the same order (bincode is positional).
#[derive(Deserialize)]
struct StoredKeyspace {
    items: BTreeMap<ScanKey, Item>,
    applied_now_ms: u64,
    index: u64,
    tombstones: BTreeMap<Bytes, u64>,
    tombstones_since: u64,
}

/// The indexes derived from `items` (see `Keyspace::deadlines` and `Keyspace::slot_counts`),
/// built from scratch: when a snapshot is loaded, and by tests to check the maintained ones.
fn derive_indexes(
    items: &BTreeMap<ScanKey, Item>,
) -> (BTreeSet<(u64, ScanKey)>, BTreeMap<u16, usize>) {
    let mut deadlines = BTreeSet::new();
    let mut slot_counts = BTreeMap::new();
    for (key, item) in items {
        if let Some(at) = item.expires_at_ms {
            deadlines.insert((at, key.clone()));
        }
        *slot_counts.entry(key_slot(&key.key)).or_insert(0) += 1;
    }
    (deadlines, slot_counts)
}

impl From<StoredKeyspace> for Keyspace {
    fn from(stored: StoredKeyspace) -> Self {
        let (deadlines, slot_counts) = derive_indexes(&stored.items);
        Self {
            items: stored.items,
            applied_now_ms: stored.applied_now_ms,
            index: stored.index,
            tombstones: stored.tombstones,
            tombstones_since: stored.tombstones_since,
            deadlines,
            slot_counts,
        }
    }
}

impl Keyspace {
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one committed write. Deterministic: the result depends only on the current
    /// state, `now_ms` from the entry and the operation.
    pub fn apply(&mut self, now_ms: u64, op: &WriteOp) -> Result<Reply, KeyspaceError> {
        let index = self.index + 1;
        self.apply_at(index, now_ms, op)
    }

    /// `apply` for the entry at log index `index` (the state machine's entry point).
    pub fn apply_at(
        &mut self,
        index: u64,
        now_ms: u64,
        op: &WriteOp,
    ) -> Result<Reply, KeyspaceError> {
        let now = now_ms.max(self.applied_now_ms);
        self.applied_now_ms = now;
        self.index = index;
        self.prune_tombstones();
        self.apply_op(now, op)
    }

    fn apply_op(&mut self, now: u64, op: &WriteOp) -> Result<Reply, KeyspaceError> {
        match op {
            WriteOp::Multi(multi) => Ok(self.apply_multi(now, multi)),
            WriteOp::EvictExpired { keys } => {
                // Only keys still expired at this entry's time go: a key rewritten after the
                // leader chose it for eviction must survive.
                let mut evicted = 0;
                for key in keys {
                    if self.get_item(key).is_some_and(|item| !item.is_live(now)) {
                        self.remove(key);
                        evicted += 1;
                    }
                }
                Ok(Reply::Integer(evicted))
            }
            WriteOp::FlushAll => {
                let keys: Vec<Bytes> = self.items.keys().map(|k| k.key.clone()).collect();
                for key in keys {
                    self.remove(&key);
                }
                Ok(Reply::Ok)
            }
            op => self.apply_command(now, op),
        }
    }

    /// A transaction: every command in order, their replies in one array; `nil` when a watched
    /// key changed since `WATCH` (decided here, at apply time, so every replica agrees).
    fn apply_multi(&mut self, now: u64, multi: &MultiOp) -> Reply {
        let changed = multi.watched.iter().any(|w| self.changed_since(now, w));
        if changed {
            return Reply::NullArray;
        }
        Reply::Array(
            multi
                .ops
                .iter()
                .map(|op| match op {
                    MultiStep::Write(op) => self.apply_op(now, op),
                    MultiStep::Read(op) => self.read(now, op),
                })
                .map(|r| r.unwrap_or_else(|e| Reply::Error(e.to_string())))
                .collect(),
        )
    }

    /// The version `WATCH` records for a key: the index of the write that last changed it, 0
    /// if never (or long ago) written.
    pub fn version(&self, now_ms: u64, key: &[u8]) -> u64 {
        match self.get_item(key) {
            Some(item) if item.is_live(now_ms) => item.version,
            // An expired key counts as deleted when its deadline passed: changed "now".
            Some(_) => u64::MAX,
            None => self.tombstones.get(key).copied().unwrap_or(0),
        }
    }

    /// Whether the watched key may have changed since `WATCH` read its version.
    fn changed_since(&self, now: u64, w: &WatchedKey) -> bool {
        let current = self.version(now, &w.key);
        if current == 0 && w.version == 0 {
            // Never existed in the window we remember: unchanged only if the window covers
            // the WATCH.
            return w.watched_at_index < self.tombstones_since;
        }
        current != w.version
    }

    fn prune_tombstones(&mut self) {
        let horizon = self.index.saturating_sub(TOMBSTONE_WINDOW);
        if horizon > self.tombstones_since + TOMBSTONE_WINDOW / 10 {
            self.tombstones.retain(|_, v| *v >= horizon);
            self.tombstones_since = horizon;
        }
    }

    // ---- item access shared by the command families ----

    pub(crate) fn get_item(&self, key: &[u8]) -> Option<&Item> {
        let start = ScanKey::lower_bound(key);
        self.items
            .range(start..)
            .take_while(|(k, _)| k.hash == scan::key_hash(key))
            .find(|(k, _)| k.key == key)
            .map(|(_, item)| item)
    }

    fn get_item_mut(&mut self, key: &[u8]) -> Option<&mut Item> {
        let hash = scan::key_hash(key);
        let start = ScanKey::lower_bound(key);
        self.items
            .range_mut(start..)
            .take_while(|(k, _)| k.hash == hash)
            .find(|(k, _)| k.key == key)
            .map(|(_, item)| item)
    }

    /// The live item at `key`, if any.
    pub(crate) fn live(&self, now_ms: u64, key: &[u8]) -> Option<&Item> {
        self.get_item(key).filter(|item| item.is_live(now_ms))
    }

    /// The live item at `key` for modification; an expired item is removed first so that the
    /// caller sees "no key", as Redis' `lookupKeyWrite` does. Marks the key as changed.
    pub(crate) fn live_mut(&mut self, now_ms: u64, key: &[u8]) -> Option<&mut Item> {
        if self.get_item(key).is_some_and(|item| !item.is_live(now_ms)) {
            self.remove(key);
            return None;
        }
        let index = self.index;
        let item = self.get_item_mut(key)?;
        item.version = index;
        Some(item)
    }

    /// Stores a value under `key`, replacing what was there (and its deadline).
    pub(crate) fn insert(&mut self, key: &Bytes, value: Value, expires_at_ms: Option<u64>) {
        let mut item = Item::new(value, self.index);
        item.expires_at_ms = expires_at_ms;
        // Copy the key so a stored key never pins a larger network buffer it was sliced from.
        let key = ScanKey::new(Bytes::copy_from_slice(key));
        self.tombstones.remove(&key.key);
        match self.items.insert(key.clone(), item) {
            Some(old) => {
                if let Some(at) = old.expires_at_ms {
                    self.deadlines.remove(&(at, key.clone()));
                }
            }
            None => *self.slot_counts.entry(key_slot(&key.key)).or_insert(0) += 1,
        }
        if let Some(at) = expires_at_ms {
            self.deadlines.insert((at, key));
        }
    }

    /// Sets (`Some`) or clears (`None`) the deadline of the live key `key` and marks it
    /// changed; false if there is no live key.
    pub(crate) fn set_deadline(&mut self, now_ms: u64, key: &[u8], at_ms: Option<u64>) -> bool {
        if self.live_mut(now_ms, key).is_none() {
            return false;
        }
        let hash = scan::key_hash(key);
        let Some((scan_key, item)) = self
            .items
            .range_mut(ScanKey::lower_bound(key)..)
            .take_while(|(k, _)| k.hash == hash)
            .find(|(k, _)| k.key == key)
        else {
            return false;
        };
        let old = std::mem::replace(&mut item.expires_at_ms, at_ms);
        let scan_key = scan_key.clone();
        if let Some(old) = old {
            self.deadlines.remove(&(old, scan_key.clone()));
        }
        if let Some(at) = at_ms {
            self.deadlines.insert((at, scan_key));
        }
        true
    }

    /// Removes a key (live or not); returns the item.
    pub(crate) fn remove(&mut self, key: &[u8]) -> Option<Item> {
        let hash = scan::key_hash(key);
        let found = self
            .items
            .range(ScanKey::lower_bound(key)..)
            .take_while(|(k, _)| k.hash == hash)
            .find(|(k, _)| k.key == key)
            .map(|(k, _)| k.clone())?;
        let item = self.items.remove(&found)?;
        if let Some(at) = item.expires_at_ms {
            self.deadlines.remove(&(at, found.clone()));
        }
        let slot = key_slot(&found.key);
        if let Some(count) = self.slot_counts.get_mut(&slot) {
            *count -= 1;
            if *count == 0 {
                self.slot_counts.remove(&slot);
            }
        }
        self.tombstones.insert(found.key, self.index);
        Some(item)
    }

    /// Removes a key if it is live; an expired key counts as already gone.
    pub(crate) fn remove_live(&mut self, now_ms: u64, key: &[u8]) -> bool {
        match self.remove(key) {
            Some(item) => item.is_live(now_ms),
            None => false,
        }
    }

    /// Removes `key` if its collection became empty: Redis never keeps an empty list, hash,
    /// set or sorted set.
    pub(crate) fn drop_if_empty(&mut self, key: &[u8]) {
        if self
            .get_item(key)
            .is_some_and(|item| item.value.is_empty_collection())
        {
            self.remove(key);
        }
    }

    // ---- whole-keyspace reads: `now_ms` is the reader's clock ----

    /// Number of live keys: every stored key but those whose deadline passed and that the
    /// leader has not evicted yet (a short prefix of the deadline index).
    pub fn len(&self, now_ms: u64) -> usize {
        self.items.len() - self.expired_prefix(now_ms).count()
    }

    /// The keys whose deadline is at or before `now_ms`, earliest first.
    fn expired_prefix(&self, now_ms: u64) -> impl Iterator<Item = &ScanKey> {
        self.deadlines
            .iter()
            .take_while(move |(at, _)| *at <= now_ms)
            .map(|(_, key)| key)
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Number of live keys in hash `slot`.
    pub fn count_in_slot(&self, now_ms: u64, slot: u16) -> usize {
        let stored = self.slot_counts.get(&slot).copied().unwrap_or(0);
        let expired = self
            .expired_prefix(now_ms)
            .filter(|key| key_slot(&key.key) == slot)
            .count();
        stored - expired
    }

    /// Up to `limit` keys whose deadline has passed at `now_ms`: candidates for the leader's
    /// next eviction proposal.
    pub fn expired_keys(&self, now_ms: u64, limit: usize) -> Vec<Bytes> {
        self.expired_prefix(now_ms)
            .map(|key| key.key.clone())
            .take(limit)
            .collect()
    }

    /// Number of keys with a deadline (for `INFO keyspace`).
    pub fn expires_count(&self) -> usize {
        self.deadlines.len()
    }

    /// Whether the derived indexes (deadlines, per-slot counts) match `items` exactly (tests).
    #[cfg(test)]
    pub(crate) fn indexes_consistent(&self) -> bool {
        derive_indexes(&self.items) == (self.deadlines.clone(), self.slot_counts.clone())
    }

    /// The value at `key` if it is live and of type `ty`; `WrongType` if it is another type.
    pub(crate) fn typed(
        &self,
        now_ms: u64,
        key: &[u8],
        ty: ValueType,
    ) -> Result<Option<&Value>, KeyspaceError> {
        match self.live(now_ms, key) {
            None => Ok(None),
            Some(item) if item.value.kind() == ty => Ok(Some(&item.value)),
            Some(_) => Err(KeyspaceError::WrongType),
        }
    }

    /// The value at `key` for modification if live and of type `ty`.
    pub(crate) fn typed_mut(
        &mut self,
        now_ms: u64,
        key: &[u8],
        ty: ValueType,
    ) -> Result<Option<&mut Value>, KeyspaceError> {
        // Check the type before `live_mut` marks the key changed.
        if let Some(item) = self.live(now_ms, key) {
            if item.value.kind() != ty {
                return Err(KeyspaceError::WrongType);
            }
        }
        Ok(self.live_mut(now_ms, key).map(|item| &mut item.value))
    }

    /// The value at `key` of type `ty`, created empty (`make`) when missing.
    pub(crate) fn typed_or_insert(
        &mut self,
        now_ms: u64,
        key: &Bytes,
        ty: ValueType,
        make: fn() -> Value,
    ) -> Result<&mut Value, KeyspaceError> {
        if self.typed(now_ms, key, ty)?.is_none() {
            self.remove(key);
            self.insert(key, make(), None);
        }
        Ok(self
            .live_mut(now_ms, key)
            .map(|item| &mut item.value)
            .expect("just inserted"))
    }
}

pub use write_op::MultiStep;

/// Redis's string2ll: an optional '-', digits, no leading zeros or '+', no spaces, fits i64.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    crate::resp::number::parse_i64(s)
}

#[cfg(test)]
mod tests;
