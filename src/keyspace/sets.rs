//! Set commands: `SADD`, `SREM`, `SPOP` (seeded by the leader), `SMOVE`, membership,
//! `SRANDMEMBER`, the algebra (`SINTER`/`SUNION`/`SDIFF`, their `STORE` forms, `SINTERCARD`).

use bytes::Bytes;
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::scan::{scan_collection, ScanArgs};
use super::value::{SetValue, Value, ValueType};
use super::{Keyspace, KeyspaceError};
use crate::reply::Reply;

/// Which set operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SetAlgebra {
    Inter,
    Union,
    Diff,
}

fn members_reply(set: impl IntoIterator<Item = Bytes>) -> Reply {
    Reply::Set(set.into_iter().map(Reply::Bulk).collect())
}

impl Keyspace {
    fn set(&self, now: u64, key: &[u8]) -> Result<Option<&SetValue>, KeyspaceError> {
        Ok(self.typed(now, key, ValueType::Set)?.map(Value::as_set))
    }

    pub(crate) fn apply_sadd(
        &mut self,
        now: u64,
        key: &Bytes,
        members: &[Bytes],
    ) -> Result<Reply, KeyspaceError> {
        let set = self
            .typed_or_insert(now, key, ValueType::Set, Value::empty_set)?
            .as_set_mut();
        let added = members
            .iter()
            .filter(|m| set.insert(Bytes::copy_from_slice(m)))
            .count();
        Ok(Reply::Integer(added as i64))
    }

    pub(crate) fn apply_srem(
        &mut self,
        now: u64,
        key: &Bytes,
        members: &[Bytes],
    ) -> Result<Reply, KeyspaceError> {
        let Some(value) = self.typed_mut(now, key, ValueType::Set)? else {
            return Ok(Reply::Integer(0));
        };
        let set = value.as_set_mut();
        let removed = members
            .iter()
            .filter(|m| set.swap_remove(m.as_ref()))
            .count();
        self.drop_if_empty(key);
        Ok(Reply::Integer(removed as i64))
    }

    pub(crate) fn apply_spop(
        &mut self,
        now: u64,
        key: &Bytes,
        count: Option<usize>,
        seed: u64,
    ) -> Result<Reply, KeyspaceError> {
        let Some(value) = self.typed_mut(now, key, ValueType::Set)? else {
            return Ok(if count.is_some() {
                Reply::Set(vec![])
            } else {
                Reply::Nil
            });
        };
        let set = value.as_set_mut();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let n = count.unwrap_or(1).min(set.len());
        let mut popped = Vec::with_capacity(n);
        for _ in 0..n {
            let i = rng.gen_range(0..set.len());
            popped.push(set.swap_remove_index(i).expect("in range"));
        }
        self.drop_if_empty(key);
        Ok(match count {
            None => Reply::from_option(popped.pop()),
            Some(_) => members_reply(popped),
        })
    }

    pub(crate) fn apply_smove(
        &mut self,
        now: u64,
        src: &Bytes,
        dst: &Bytes,
        member: &Bytes,
    ) -> Result<Reply, KeyspaceError> {
        let Some(source) = self.set(now, src)? else {
            return Ok(Reply::Integer(0));
        };
        let present = source.contains(member);
        self.set(now, dst)?;
        if src == dst || !present {
            return Ok(Reply::Integer(present as i64));
        }
        self.apply_srem(now, src, std::slice::from_ref(member))?;
        self.apply_sadd(now, dst, std::slice::from_ref(member))?;
        Ok(Reply::Integer(1))
    }

    /// The result of a set operation over `keys` (missing keys are empty sets), in a
    /// deterministic order: that of the first set, then of the others.
    fn algebra(
        &self,
        now: u64,
        algebra: SetAlgebra,
        keys: &[Bytes],
    ) -> Result<SetValue, KeyspaceError> {
        let sets = keys
            .iter()
            .map(|k| self.set(now, k))
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = SetValue::default();
        match algebra {
            SetAlgebra::Union => {
                for set in sets.iter().flatten() {
                    out.extend(set.iter().cloned());
                }
            }
            SetAlgebra::Inter => {
                if sets.iter().any(Option::is_none) {
                    return Ok(out);
                }
                let mut sets: Vec<&SetValue> = sets.into_iter().flatten().collect();
                // Walk the smallest set, as Redis does.
                sets.sort_by_key(|s| s.len());
                if let Some((first, rest)) = sets.split_first() {
                    out.extend(
                        first
                            .iter()
                            .filter(|m| rest.iter().all(|s| s.contains(*m)))
                            .cloned(),
                    );
                }
            }
            SetAlgebra::Diff => {
                if let Some(Some(first)) = sets.first() {
                    out.extend(
                        first
                            .iter()
                            .filter(|m| sets[1..].iter().flatten().all(|s| !s.contains(*m)))
                            .cloned(),
                    );
                }
            }
        }
        Ok(out)
    }

    pub(crate) fn apply_setstore(
        &mut self,
        now: u64,
        algebra: SetAlgebra,
        dst: &Bytes,
        keys: &[Bytes],
    ) -> Result<Reply, KeyspaceError> {
        let result = self.algebra(now, algebra, keys)?;
        let len = result.len();
        self.remove(dst);
        if len > 0 {
            self.insert(dst, Value::Set(Box::new(result)), None);
        }
        Ok(Reply::Integer(len as i64))
    }

    // ---- reads ----

    pub(crate) fn read_smembers(&self, now: u64, key: &[u8]) -> Result<Reply, KeyspaceError> {
        Ok(members_reply(
            self.set(now, key)?.into_iter().flatten().cloned(),
        ))
    }

    pub(crate) fn read_sismember(
        &self,
        now: u64,
        key: &[u8],
        member: &[u8],
    ) -> Result<Reply, KeyspaceError> {
        Ok(Reply::Integer(
            self.set(now, key)?.is_some_and(|s| s.contains(member)) as i64,
        ))
    }

    pub(crate) fn read_smismember(
        &self,
        now: u64,
        key: &[u8],
        members: &[Bytes],
    ) -> Result<Reply, KeyspaceError> {
        let set = self.set(now, key)?;
        Ok(Reply::Array(
            members
                .iter()
                .map(|m| Reply::Integer(set.is_some_and(|s| s.contains(m)) as i64))
                .collect(),
        ))
    }

    pub(crate) fn read_scard(&self, now: u64, key: &[u8]) -> Result<Reply, KeyspaceError> {
        Ok(Reply::Integer(
            self.set(now, key)?.map_or(0, |s| s.len()) as i64
        ))
    }

    pub(crate) fn read_srandmember(
        &self,
        now: u64,
        key: &[u8],
        count: Option<i64>,
        seed: u64,
    ) -> Result<Reply, KeyspaceError> {
        let set = self.set(now, key)?;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let Some(count) = count else {
            return Ok(match set {
                None => Reply::Nil,
                Some(s) => Reply::Bulk(s[rng.gen_range(0..s.len())].clone()),
            });
        };
        let Some(s) = set else {
            return Ok(Reply::Array(vec![]));
        };
        let picks: Vec<usize> = if count >= 0 {
            sample(&mut rng, s.len(), (count as usize).min(s.len())).into_vec()
        } else {
            (0..count.unsigned_abs())
                .map(|_| rng.gen_range(0..s.len()))
                .collect()
        };
        Ok(Reply::Array(
            picks
                .into_iter()
                .map(|i| Reply::Bulk(s[i].clone()))
                .collect(),
        ))
    }

    pub(crate) fn read_salgebra(
        &self,
        now: u64,
        algebra: SetAlgebra,
        keys: &[Bytes],
    ) -> Result<Reply, KeyspaceError> {
        Ok(members_reply(self.algebra(now, algebra, keys)?))
    }

    pub(crate) fn read_sintercard(
        &self,
        now: u64,
        keys: &[Bytes],
        limit: usize,
    ) -> Result<Reply, KeyspaceError> {
        let n = self.algebra(now, SetAlgebra::Inter, keys)?.len();
        Ok(Reply::Integer(
            if limit == 0 { n } else { n.min(limit) } as i64
        ))
    }

    /// `SSCAN` (see `scan_collection`).
    pub(crate) fn read_sscan(
        &self,
        now: u64,
        key: &[u8],
        args: &ScanArgs,
    ) -> Result<Reply, KeyspaceError> {
        let members = self.set(now, key)?.map(|s| s.iter().map(|m| (m, None)));
        Ok(scan_collection(args, members))
    }
}
