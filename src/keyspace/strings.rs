//! String commands: `SET` and its variants, counters, `APPEND`, ranges, `GETEX`/`GETDEL`.

use bytes::{Bytes, BytesMut};

use super::float::{format_human, parse_double};
use super::value::{Value, ValueType};
use super::write_op::{GetExExpiry, SetCondition, SetExpiry};
use super::{parse_i64, Keyspace, KeyspaceError, MAX_STRING_LEN};
use crate::reply::Reply;

impl Keyspace {
    /// The string at `key`: `None` if missing, `WrongType` if another type.
    pub(crate) fn string(&self, now: u64, key: &[u8]) -> Result<Option<&Bytes>, KeyspaceError> {
        Ok(self
            .typed(now, key, ValueType::String)?
            .map(Value::as_string))
    }

    pub(crate) fn apply_set(
        &mut self,
        now: u64,
        key: &Bytes,
        value: &Bytes,
        condition: SetCondition,
        expiry: SetExpiry,
        get: bool,
    ) -> Result<Reply, KeyspaceError> {
        let old = self.live(now, key);
        let old_value = if get {
            // SET … GET on a non-string fails without writing, as in Redis.
            self.string(now, key)?.cloned()
        } else {
            None
        };
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
                self.remove(key);
            } else {
                let value = Bytes::copy_from_slice(value);
                self.insert(key, Value::String(value), expires_at_ms);
            }
        }
        Ok(match (get, allowed) {
            (true, _) => Reply::from_option(old_value),
            (false, true) => Reply::Ok,
            (false, false) => Reply::Nil,
        })
    }

    /// Replaces the string at `key`, keeping its deadline (counters, `APPEND`, `SETRANGE`).
    fn store_string_keep_ttl(&mut self, now: u64, key: &Bytes, value: Bytes) {
        match self.live_mut(now, key) {
            Some(item) => item.value = Value::String(value),
            None => self.insert(key, Value::String(value), None),
        }
    }

    pub(crate) fn apply_incr(
        &mut self,
        now: u64,
        key: &Bytes,
        delta: i64,
    ) -> Result<Reply, KeyspaceError> {
        let current = match self.string(now, key)? {
            None => 0,
            Some(s) => parse_i64(s).ok_or(KeyspaceError::NotInteger)?,
        };
        let next = current.checked_add(delta).ok_or(KeyspaceError::Overflow)?;
        self.store_string_keep_ttl(now, key, Bytes::from(next.to_string()));
        Ok(Reply::Integer(next))
    }

    pub(crate) fn apply_incr_float(
        &mut self,
        now: u64,
        key: &Bytes,
        delta: f64,
    ) -> Result<Reply, KeyspaceError> {
        let current = match self.string(now, key)? {
            None => 0.0,
            Some(s) => parse_double(s).ok_or(KeyspaceError::NotFloat)?,
        };
        let next = current + delta;
        if !next.is_finite() {
            return Err(KeyspaceError::NanOrInfinity);
        }
        let text = Bytes::from(format_human(next));
        self.store_string_keep_ttl(now, key, text.clone());
        Ok(Reply::Bulk(text))
    }

    pub(crate) fn apply_mset(&mut self, pairs: &[(Bytes, Bytes)]) -> Reply {
        for (key, value) in pairs {
            self.insert(key, Value::String(Bytes::copy_from_slice(value)), None);
        }
        Reply::Ok
    }

    pub(crate) fn apply_msetnx(&mut self, now: u64, pairs: &[(Bytes, Bytes)]) -> Reply {
        if pairs.iter().any(|(key, _)| self.live(now, key).is_some()) {
            return Reply::Integer(0);
        }
        self.apply_mset(pairs);
        Reply::Integer(1)
    }

    pub(crate) fn apply_append(
        &mut self,
        now: u64,
        key: &Bytes,
        value: &Bytes,
    ) -> Result<Reply, KeyspaceError> {
        let current = self.string(now, key)?.cloned().unwrap_or_default();
        if current.len() + value.len() > MAX_STRING_LEN {
            return Err(KeyspaceError::StringTooLong);
        }
        let mut next = BytesMut::with_capacity(current.len() + value.len());
        next.extend_from_slice(&current);
        next.extend_from_slice(value);
        let len = next.len();
        self.store_string_keep_ttl(now, key, next.freeze());
        Ok(Reply::Integer(len as i64))
    }

    pub(crate) fn apply_setrange(
        &mut self,
        now: u64,
        key: &Bytes,
        offset: usize,
        value: &Bytes,
    ) -> Result<Reply, KeyspaceError> {
        let current = self.string(now, key)?.cloned();
        let current_len = current.as_ref().map_or(0, |c| c.len());
        if value.is_empty() {
            // Nothing to write: Redis neither creates the key nor pads it.
            return Ok(Reply::Integer(current_len as i64));
        }
        let end = offset
            .checked_add(value.len())
            .filter(|&end| end <= MAX_STRING_LEN)
            .ok_or(KeyspaceError::StringTooLong)?;
        let mut next = BytesMut::from(current.as_deref().unwrap_or_default());
        if next.len() < end {
            next.resize(end, 0);
        }
        next[offset..end].copy_from_slice(value);
        let len = next.len();
        self.store_string_keep_ttl(now, key, next.freeze());
        Ok(Reply::Integer(len as i64))
    }

    pub(crate) fn apply_getdel(&mut self, now: u64, key: &Bytes) -> Result<Reply, KeyspaceError> {
        let value = self.string(now, key)?.cloned();
        if value.is_some() {
            self.remove(key);
        }
        Ok(Reply::from_option(value))
    }

    pub(crate) fn apply_getex(
        &mut self,
        now: u64,
        key: &Bytes,
        expiry: GetExExpiry,
    ) -> Result<Reply, KeyspaceError> {
        let Some(value) = self.string(now, key)?.cloned() else {
            return Ok(Reply::Nil);
        };
        match expiry {
            GetExExpiry::Keep => {}
            GetExExpiry::Persist => {
                self.set_deadline(now, key, None);
            }
            GetExExpiry::At(at) if at <= now => {
                self.remove(key);
            }
            GetExExpiry::At(at) => {
                self.set_deadline(now, key, Some(at));
            }
        }
        Ok(Reply::Bulk(value))
    }

    // ---- reads ----

    pub fn get(&self, now_ms: u64, key: &[u8]) -> Result<Option<Bytes>, KeyspaceError> {
        Ok(self.string(now_ms, key)?.cloned())
    }

    pub(crate) fn read_mget(&self, now: u64, keys: &[Bytes]) -> Reply {
        // MGET answers nil for a key holding a non-string, as Redis does.
        Reply::Array(
            keys.iter()
                .map(|k| Reply::from_option(self.string(now, k).ok().flatten().cloned()))
                .collect(),
        )
    }

    pub(crate) fn read_strlen(&self, now: u64, key: &[u8]) -> Result<Reply, KeyspaceError> {
        Ok(Reply::Integer(
            self.string(now, key)?.map_or(0, |s| s.len()) as i64,
        ))
    }

    pub(crate) fn read_getrange(
        &self,
        now: u64,
        key: &[u8],
        start: i64,
        end: i64,
    ) -> Result<Reply, KeyspaceError> {
        let Some(s) = self.string(now, key)? else {
            return Ok(Reply::bulk(Bytes::new()));
        };
        let len = s.len() as i64;
        if (start < 0 && end < 0 && start > end) || len == 0 {
            return Ok(Reply::bulk(Bytes::new()));
        }
        let mut start = if start < 0 { len + start } else { start };
        let mut end = if end < 0 { len + end } else { end };
        start = start.max(0);
        end = end.max(0).min(len - 1);
        if start > end {
            return Ok(Reply::bulk(Bytes::new()));
        }
        Ok(Reply::Bulk(s.slice(start as usize..=end as usize)))
    }
}
