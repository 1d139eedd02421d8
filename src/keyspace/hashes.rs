//! Hash commands: `HSET`, `HGET`, `HDEL`, `HINCRBY(FLOAT)`, `HGETALL`, `HRANDFIELD`, `HSCAN` ….

use bytes::Bytes;
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};

use super::float::{format_human, parse_double};
use super::scan::{scan_collection, ScanArgs};
use super::value::{HashValue, Value, ValueType};
use super::{parse_i64, Keyspace, KeyspaceError};
use crate::reply::Reply;

impl Keyspace {
    fn hash(&self, now: u64, key: &[u8]) -> Result<Option<&HashValue>, KeyspaceError> {
        Ok(self.typed(now, key, ValueType::Hash)?.map(Value::as_hash))
    }

    fn hash_or_insert(&mut self, now: u64, key: &Bytes) -> Result<&mut HashValue, KeyspaceError> {
        Ok(self
            .typed_or_insert(now, key, ValueType::Hash, Value::empty_hash)?
            .as_hash_mut())
    }

    pub(crate) fn apply_hset(
        &mut self,
        now: u64,
        key: &Bytes,
        pairs: &[(Bytes, Bytes)],
        nx: bool,
    ) -> Result<Reply, KeyspaceError> {
        let hash = self.hash_or_insert(now, key)?;
        let mut added = 0;
        for (field, value) in pairs {
            if nx && hash.contains_key(field) {
                continue;
            }
            let field = Bytes::copy_from_slice(field);
            if hash.insert(field, Bytes::copy_from_slice(value)).is_none() {
                added += 1;
            }
        }
        self.drop_if_empty(key);
        Ok(Reply::Integer(added))
    }

    pub(crate) fn apply_hdel(
        &mut self,
        now: u64,
        key: &Bytes,
        fields: &[Bytes],
    ) -> Result<Reply, KeyspaceError> {
        let Some(value) = self.typed_mut(now, key, ValueType::Hash)? else {
            return Ok(Reply::Integer(0));
        };
        let hash = value.as_hash_mut();
        let removed = fields
            .iter()
            .filter(|f| hash.swap_remove(f.as_ref()).is_some())
            .count();
        self.drop_if_empty(key);
        Ok(Reply::Integer(removed as i64))
    }

    pub(crate) fn apply_hincrby(
        &mut self,
        now: u64,
        key: &Bytes,
        field: &Bytes,
        delta: i64,
    ) -> Result<Reply, KeyspaceError> {
        let current = match self.hash(now, key)?.and_then(|h| h.get(field)) {
            None => 0,
            Some(v) => parse_i64(v).ok_or(KeyspaceError::HashNotInteger)?,
        };
        let next = current.checked_add(delta).ok_or(KeyspaceError::Overflow)?;
        self.hash_or_insert(now, key)?
            .insert(Bytes::copy_from_slice(field), Bytes::from(next.to_string()));
        Ok(Reply::Integer(next))
    }

    pub(crate) fn apply_hincrbyfloat(
        &mut self,
        now: u64,
        key: &Bytes,
        field: &Bytes,
        delta: f64,
    ) -> Result<Reply, KeyspaceError> {
        let current = match self.hash(now, key)?.and_then(|h| h.get(field)) {
            None => 0.0,
            Some(v) => parse_double(v).ok_or(KeyspaceError::HashNotFloat)?,
        };
        let next = current + delta;
        if !next.is_finite() {
            return Err(KeyspaceError::NanOrInfinity);
        }
        let text = Bytes::from(format_human(next));
        self.hash_or_insert(now, key)?
            .insert(Bytes::copy_from_slice(field), text.clone());
        Ok(Reply::Bulk(text))
    }

    // ---- reads ----

    pub(crate) fn read_hget(
        &self,
        now: u64,
        key: &[u8],
        field: &[u8],
    ) -> Result<Reply, KeyspaceError> {
        Ok(Reply::from_option(
            self.hash(now, key)?.and_then(|h| h.get(field)).cloned(),
        ))
    }

    pub(crate) fn read_hmget(
        &self,
        now: u64,
        key: &[u8],
        fields: &[Bytes],
    ) -> Result<Reply, KeyspaceError> {
        let hash = self.hash(now, key)?;
        Ok(Reply::Array(
            fields
                .iter()
                .map(|f| Reply::from_option(hash.and_then(|h| h.get(f)).cloned()))
                .collect(),
        ))
    }

    pub(crate) fn read_hgetall(&self, now: u64, key: &[u8]) -> Result<Reply, KeyspaceError> {
        Ok(Reply::Map(
            self.hash(now, key)?
                .into_iter()
                .flatten()
                .map(|(f, v)| (Reply::Bulk(f.clone()), Reply::Bulk(v.clone())))
                .collect(),
        ))
    }

    pub(crate) fn read_hkeys(
        &self,
        now: u64,
        key: &[u8],
        values: bool,
    ) -> Result<Reply, KeyspaceError> {
        Ok(Reply::Array(
            self.hash(now, key)?
                .into_iter()
                .flatten()
                .map(|(f, v)| Reply::Bulk(if values { v.clone() } else { f.clone() }))
                .collect(),
        ))
    }

    pub(crate) fn read_hlen(&self, now: u64, key: &[u8]) -> Result<Reply, KeyspaceError> {
        Ok(Reply::Integer(
            self.hash(now, key)?.map_or(0, |h| h.len()) as i64
        ))
    }

    pub(crate) fn read_hexists(
        &self,
        now: u64,
        key: &[u8],
        field: &[u8],
    ) -> Result<Reply, KeyspaceError> {
        Ok(Reply::Integer(
            self.hash(now, key)?.is_some_and(|h| h.contains_key(field)) as i64,
        ))
    }

    pub(crate) fn read_hstrlen(
        &self,
        now: u64,
        key: &[u8],
        field: &[u8],
    ) -> Result<Reply, KeyspaceError> {
        Ok(Reply::Integer(
            self.hash(now, key)?
                .and_then(|h| h.get(field))
                .map_or(0, |v| v.len()) as i64,
        ))
    }

    pub(crate) fn read_hrandfield(
        &self,
        now: u64,
        key: &[u8],
        count: Option<i64>,
        with_values: bool,
        seed: u64,
    ) -> Result<Reply, KeyspaceError> {
        let hash = self.hash(now, key)?;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let Some(count) = count else {
            return Ok(match hash {
                None => Reply::Nil,
                Some(h) => {
                    let i = rng.gen_range(0..h.len());
                    Reply::Bulk(h.get_index(i).expect("in range").0.clone())
                }
            });
        };
        let Some(h) = hash else {
            return Ok(Reply::Array(vec![]));
        };
        let picks: Vec<usize> = if count >= 0 {
            let n = (count as usize).min(h.len());
            sample(&mut rng, h.len(), n).into_vec()
        } else {
            // Negative count: that many picks, repetitions allowed.
            (0..count.unsigned_abs())
                .map(|_| rng.gen_range(0..h.len()))
                .collect()
        };
        let entries = picks.into_iter().map(|i| h.get_index(i).expect("in range"));
        Ok(if with_values {
            Reply::Pairs(
                entries
                    .map(|(f, v)| (Reply::Bulk(f.clone()), Reply::Bulk(v.clone())))
                    .collect(),
            )
        } else {
            Reply::Array(entries.map(|(f, _)| Reply::Bulk(f.clone())).collect())
        })
    }

    /// `HSCAN` (see `scan_collection`).
    pub(crate) fn read_hscan(
        &self,
        now: u64,
        key: &[u8],
        args: &ScanArgs,
    ) -> Result<Reply, KeyspaceError> {
        let fields = self
            .hash(now, key)?
            .map(|h| h.iter().map(|(f, v)| (f, Some(Reply::Bulk(v.clone())))));
        Ok(scan_collection(args, fields))
    }
}
