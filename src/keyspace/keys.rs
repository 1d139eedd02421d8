//! Generic key commands: `DEL`, expiry, `RENAME`, `COPY`, `TYPE`, `TTL` and friends, `SCAN`,
//! `KEYS`, `RANDOMKEY`.

use bytes::Bytes;
use rand::{Rng, SeedableRng};

use super::read_op::TtlKind;
use super::scan::{glob_match, ScanArgs, ScanKey};
use super::write_op::ExpireCondition;
use super::{Keyspace, KeyspaceError};
use crate::reply::Reply;

impl Keyspace {
    pub(crate) fn apply_expire_at(
        &mut self,
        now: u64,
        key: &[u8],
        at_ms: u64,
        cond: ExpireCondition,
    ) -> bool {
        let Some(current) = self.live(now, key).map(|item| item.expires_at_ms) else {
            return false;
        };
        // Redis treats "no deadline" as an infinite TTL for GT/LT.
        let allowed = match (cond, current) {
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
            self.remove(key);
        } else {
            self.set_deadline(now, key, Some(at_ms));
        }
        true
    }

    pub(crate) fn apply_persist(&mut self, now: u64, key: &[u8]) -> Reply {
        let has_deadline = self
            .live(now, key)
            .is_some_and(|item| item.expires_at_ms.is_some());
        if has_deadline {
            self.set_deadline(now, key, None);
        }
        Reply::Integer(has_deadline as i64)
    }

    pub(crate) fn apply_rename(
        &mut self,
        now: u64,
        src: &Bytes,
        dst: &Bytes,
        nx: bool,
    ) -> Result<Reply, KeyspaceError> {
        if self.live(now, src).is_none() {
            return Err(KeyspaceError::NoSuchKey);
        }
        if src == dst {
            return Ok(if nx { Reply::Integer(0) } else { Reply::Ok });
        }
        if nx && self.live(now, dst).is_some() {
            return Ok(Reply::Integer(0));
        }
        let item = self.remove(src).expect("checked live");
        self.remove(dst);
        self.insert(dst, item.value, item.expires_at_ms);
        Ok(if nx { Reply::Integer(1) } else { Reply::Ok })
    }

    pub(crate) fn apply_copy(
        &mut self,
        now: u64,
        src: &Bytes,
        dst: &Bytes,
        replace: bool,
    ) -> Result<Reply, KeyspaceError> {
        if src == dst {
            return Ok(Reply::Error(
                "ERR source and destination objects are the same".into(),
            ));
        }
        let Some(item) = self.live(now, src).cloned() else {
            return Ok(Reply::Integer(0));
        };
        if self.live(now, dst).is_some() && !replace {
            return Ok(Reply::Integer(0));
        }
        self.remove(dst);
        self.insert(dst, item.value, item.expires_at_ms);
        Ok(Reply::Integer(1))
    }

    // ---- reads ----

    pub fn exists(&self, now_ms: u64, key: &[u8]) -> bool {
        self.live(now_ms, key).is_some()
    }

    pub(crate) fn read_type(&self, now: u64, key: &[u8]) -> Reply {
        Reply::Status(
            self.live(now, key)
                .map_or("none", |item| item.value.kind().name())
                .to_string(),
        )
    }

    /// Remaining time to live in milliseconds: `-2` when the key does not exist, `-1` when it
    /// has no deadline (Redis's TTL/PTTL convention).
    pub fn pttl(&self, now_ms: u64, key: &[u8]) -> i64 {
        match self.live(now_ms, key) {
            None => -2,
            Some(item) => match item.expires_at_ms {
                None => -1,
                Some(at) => (at - now_ms) as i64,
            },
        }
    }

    pub(crate) fn read_ttl(&self, now: u64, key: &[u8], kind: TtlKind) -> Reply {
        let deadline = match self.live(now, key) {
            None => return Reply::Integer(-2),
            Some(item) => match item.expires_at_ms {
                None => return Reply::Integer(-1),
                Some(at) => at,
            },
        };
        let remaining = deadline.saturating_sub(now) as i64;
        Reply::Integer(match kind {
            // Redis rounds to the nearest second.
            TtlKind::Ttl => (remaining + 500) / 1000,
            TtlKind::PTtl => remaining,
            TtlKind::ExpireTime => (deadline as i64 + 500) / 1000,
            TtlKind::PExpireTime => deadline as i64,
        })
    }

    /// One `SCAN` step over this group's keys: keys at cursor positions `[cursor, next)`,
    /// visiting about `count` keys; `next` is 0 at the end.
    pub fn scan(&self, now: u64, args: &ScanArgs) -> (u64, Vec<Bytes>) {
        let mut keys = Vec::new();
        for (visited, (k, item)) in self.items.range(ScanKey::at(args.cursor)..).enumerate() {
            if visited >= args.count.max(1) {
                // Continue at this key's position (keys sharing its hash are revisited, which
                // SCAN allows; none are skipped).
                return (k.hash, keys);
            }
            if !item.is_live(now)
                || args.kind.is_some_and(|t| t != item.value.kind())
                || args
                    .pattern
                    .as_ref()
                    .is_some_and(|p| !glob_match(p, &k.key))
            {
                continue;
            }
            keys.push(k.key.clone());
        }
        (0, keys)
    }

    /// Every live key matching `pattern` (`KEYS`).
    pub fn keys_matching(&self, now: u64, pattern: &[u8]) -> Vec<Bytes> {
        self.items
            .iter()
            .filter(|(k, item)| item.is_live(now) && glob_match(pattern, &k.key))
            .map(|(k, _)| k.key.clone())
            .collect()
    }

    /// A random live key (`RANDOMKEY`), picked with the reader's seed.
    pub fn random_key(&self, now: u64, seed: u64) -> Option<Bytes> {
        if self.items.is_empty() {
            return None;
        }
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        // Start at a random cursor position and take the next live key, wrapping around.
        let start = ScanKey::at(rng.gen());
        self.items
            .range(start..)
            .chain(self.items.iter())
            .find(|(_, item)| item.is_live(now))
            .map(|(k, _)| k.key.clone())
    }
}
