//! The in-memory keyspace of one slot group: the state that Raft replicates.
//!
//! It owns the key → value map and the expiry deadlines, applies `WriteOp`s (log entries) and
//! answers reads. It is a leaf: no tokio, openraft, tonic or clock inside. Time is an argument:
//! writes get the leader-chosen `now_ms` stored in the log entry, so every replica applies the
//! same entry to the same result (DESIGN.md rule 3); reads get the reader's wall clock, so a read
//! never returns a key whose deadline has passed even before the leader proposes its deletion.

mod write_op;

pub use write_op::{ExpireCondition, SetCondition, SetExpiry, WriteOp};

use std::collections::HashMap;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::reply::Reply;
use crate::slot::key_slot;

/// Errors a command can deterministically produce when applied; the texts are Redis's.
#[derive(Debug, Clone, Error, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyspaceError {
    #[error("WRONGTYPE Operation against a key holding the wrong kind of value")]
    WrongType,
    #[error("ERR value is not an integer or out of range")]
    NotInteger,
    #[error("ERR increment or decrement would overflow")]
    Overflow,
}

/// A stored value. Only strings exist so far; the other Redis types join this enum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Value {
    String(Bytes),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Item {
    value: Value,
    /// Absolute unix time in milliseconds after which the key does not exist.
    expires_at_ms: Option<u64>,
}

impl Item {
    fn is_live(&self, now_ms: u64) -> bool {
        self.expires_at_ms.is_none_or(|at| at > now_ms)
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keyspace {
    items: HashMap<Bytes, Item>,
    /// The greatest `now_ms` applied so far. Leaders' clocks may disagree, so apply time never
    /// runs backwards: a key that expired on one leader's clock stays expired on every replica.
    applied_now_ms: u64,
}

impl Keyspace {
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one committed write. Deterministic: the result depends only on the current
    /// state, `now_ms` from the entry and the operation.
    pub fn apply(&mut self, now_ms: u64, op: &WriteOp) -> Result<Reply, KeyspaceError> {
        let now = now_ms.max(self.applied_now_ms);
        self.applied_now_ms = now;
        match op {
            WriteOp::Set {
                key,
                value,
                condition,
                expiry,
                get,
            } => self.apply_set(now, key, value, *condition, *expiry, *get),
            WriteOp::Del { keys } => {
                let removed = keys.iter().filter(|k| self.remove_live(now, k)).count();
                Ok(Reply::Integer(removed as i64))
            }
            WriteOp::IncrBy { key, delta } => self.apply_incr(now, key, *delta),
            WriteOp::MSet { pairs } => {
                for (key, value) in pairs {
                    self.items.insert(
                        key.clone(),
                        Item {
                            value: Value::String(value.clone()),
                            expires_at_ms: None,
                        },
                    );
                }
                Ok(Reply::Ok)
            }
            WriteOp::ExpireAt {
                key,
                at_ms,
                condition,
            } => Ok(Reply::Integer(
                self.apply_expire_at(now, key, *at_ms, *condition) as i64,
            )),
            WriteOp::Persist { key } => {
                let persisted = match self.live_mut(now, key) {
                    Some(item) if item.expires_at_ms.is_some() => {
                        item.expires_at_ms = None;
                        true
                    }
                    _ => false,
                };
                Ok(Reply::Integer(persisted as i64))
            }
            WriteOp::EvictExpired { keys } => {
                // Only keys still expired at this entry's time go: a key rewritten after the
                // leader chose it for eviction must survive.
                let mut evicted = 0;
                for key in keys {
                    if self.items.get(key).is_some_and(|item| !item.is_live(now)) {
                        self.items.remove(key);
                        evicted += 1;
                    }
                }
                Ok(Reply::Integer(evicted))
            }
        }
    }

    fn apply_set(
        &mut self,
        now: u64,
        key: &Bytes,
        value: &Bytes,
        condition: SetCondition,
        expiry: SetExpiry,
        get: bool,
    ) -> Result<Reply, KeyspaceError> {
        let old = self.live(now, key);
        let old_value = old.map(|item| match &item.value {
            Value::String(s) => s.clone(),
        });
        let exists = old.is_some();
        let old_deadline = old.and_then(|item| item.expires_at_ms);
        let allowed = match condition {
            SetCondition::Always => true,
            SetCondition::IfNotExists => !exists,
            SetCondition::IfExists => exists,
        };
        if allowed {
            let expires_at_ms = match expiry {
                SetExpiry::Clear => None,
                SetExpiry::Keep => old_deadline,
                SetExpiry::At(at) => Some(at),
            };
            if expires_at_ms.is_some_and(|at| at <= now) {
                // Redis deletes a key set with a deadline already in the past (EXAT/PXAT).
                self.items.remove(key);
            } else {
                self.items.insert(
                    key.clone(),
                    Item {
                        value: Value::String(value.clone()),
                        expires_at_ms,
                    },
                );
            }
        }
        Ok(match (get, allowed) {
            (true, _) => Reply::from_option(old_value),
            (false, true) => Reply::Ok,
            (false, false) => Reply::Nil,
        })
    }

    fn apply_incr(&mut self, now: u64, key: &Bytes, delta: i64) -> Result<Reply, KeyspaceError> {
        let (current, deadline) = match self.live(now, key) {
            None => (0, None),
            Some(Item {
                value: Value::String(s),
                expires_at_ms,
            }) => (
                parse_i64(s).ok_or(KeyspaceError::NotInteger)?,
                *expires_at_ms,
            ),
        };
        let next = current.checked_add(delta).ok_or(KeyspaceError::Overflow)?;
        self.items.insert(
            key.clone(),
            Item {
                value: Value::String(Bytes::from(next.to_string())),
                expires_at_ms: deadline,
            },
        );
        Ok(Reply::Integer(next))
    }

    fn apply_expire_at(
        &mut self,
        now: u64,
        key: &Bytes,
        at_ms: u64,
        cond: ExpireCondition,
    ) -> bool {
        let Some(item) = self.live_mut(now, key) else {
            return false;
        };
        // Redis treats "no deadline" as an infinite TTL for GT/LT.
        let allowed = match (cond, item.expires_at_ms) {
            (ExpireCondition::Always, _) => true,
            (ExpireCondition::IfNone, current) => current.is_none(),
            (ExpireCondition::IfSome, current) => current.is_some(),
            (ExpireCondition::IfGreater, None) => false,
            (ExpireCondition::IfGreater, Some(current)) => at_ms > current,
            (ExpireCondition::IfLess, None) => true,
            (ExpireCondition::IfLess, Some(current)) => at_ms < current,
            (ExpireCondition::IfSomeAndLess, None) => false,
            (ExpireCondition::IfSomeAndLess, Some(current)) => at_ms < current,
        };
        if !allowed {
            return false;
        }
        if at_ms <= now {
            self.items.remove(key);
        } else {
            item.expires_at_ms = Some(at_ms);
        }
        true
    }

    fn live(&self, now_ms: u64, key: &[u8]) -> Option<&Item> {
        self.items.get(key).filter(|item| item.is_live(now_ms))
    }

    fn live_mut(&mut self, now_ms: u64, key: &[u8]) -> Option<&mut Item> {
        self.items.get_mut(key).filter(|item| item.is_live(now_ms))
    }

    /// Removes a key if it is live; an expired key counts as already gone.
    fn remove_live(&mut self, now_ms: u64, key: &[u8]) -> bool {
        match self.items.remove(key) {
            Some(item) => item.is_live(now_ms),
            None => false,
        }
    }

    // ---- reads: `now_ms` is the reader's clock ----

    pub fn get(&self, now_ms: u64, key: &[u8]) -> Result<Option<Bytes>, KeyspaceError> {
        match self.live(now_ms, key) {
            None => Ok(None),
            Some(Item {
                value: Value::String(s),
                ..
            }) => Ok(Some(s.clone())),
        }
    }

    pub fn exists(&self, now_ms: u64, key: &[u8]) -> bool {
        self.live(now_ms, key).is_some()
    }

    /// Remaining time to live in milliseconds: `-2` when the key does not exist, `-1` when it
    /// has no deadline (Redis's TTL/PTTL convention).
    pub fn pttl(&self, now_ms: u64, key: &[u8]) -> i64 {
        match self.live(now_ms, key) {
            None => -2,
            Some(Item {
                expires_at_ms: None,
                ..
            }) => -1,
            Some(Item {
                expires_at_ms: Some(at),
                ..
            }) => (at - now_ms) as i64,
        }
    }

    /// Number of live keys.
    pub fn len(&self, now_ms: u64) -> usize {
        self.items
            .values()
            .filter(|item| item.is_live(now_ms))
            .count()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn count_in_slot(&self, now_ms: u64, slot: u16) -> usize {
        self.items
            .iter()
            .filter(|(key, item)| item.is_live(now_ms) && key_slot(key) == slot)
            .count()
    }

    /// Up to `limit` keys whose deadline has passed at `now_ms`: candidates for the leader's
    /// next eviction proposal.
    pub fn expired_keys(&self, now_ms: u64, limit: usize) -> Vec<Bytes> {
        self.items
            .iter()
            .filter(|(_, item)| !item.is_live(now_ms))
            .map(|(key, _)| key.clone())
            .take(limit)
            .collect()
    }

    /// Number of keys with a deadline (for `INFO keyspace`).
    pub fn expires_count(&self) -> usize {
        self.items
            .values()
            .filter(|item| item.expires_at_ms.is_some())
            .count()
    }
}

/// Redis's string2ll: an optional '-', digits, no leading zeros or '+', no spaces, fits i64.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let text = std::str::from_utf8(s).ok()?;
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || (digits.len() > 1 && digits.starts_with('0'))
        || text == "-0"
    {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests;
