//! Sorted-set commands: `ZADD` with all its flags, ranges by rank, score and lex (with `REV`
//! and `LIMIT`), pops, counts, `ZRANGESTORE`, and the union/intersection/difference family.

use bytes::Bytes;
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::float::format_score;
use super::scan::{scan_collection, ScanArgs};
use super::sets::SetAlgebra;
use super::value::zset::ZSet;
use super::value::{Value, ValueType};
use super::{Keyspace, KeyspaceError};
use crate::reply::Reply;

/// `ZADD`'s NX/XX.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ZAddCondition {
    Always,
    IfNotExists,
    IfExists,
}

/// `ZADD`'s options (the parser has rejected the incompatible combinations).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZAddFlags {
    pub condition: ZAddCondition,
    /// GT: only update when the new score is greater.
    pub gt: bool,
    /// LT: only update when the new score is less.
    pub lt: bool,
    /// CH: count changed members, not only added ones.
    pub ch: bool,
    /// INCR: add to the score, reply with the new score.
    pub incr: bool,
}

/// One end of a score range: `1.5`, `(1.5` (exclusive), `-inf`, `+inf`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoreBound {
    pub value: f64,
    pub exclusive: bool,
}

impl ScoreBound {
    fn below(&self, score: f64) -> bool {
        if self.exclusive {
            self.value < score
        } else {
            self.value <= score
        }
    }

    fn above(&self, score: f64) -> bool {
        if self.exclusive {
            score < self.value
        } else {
            score <= self.value
        }
    }
}

/// One end of a lex range: `-`, `+`, `[member` (inclusive), `(member` (exclusive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LexBound {
    NegInf,
    PosInf,
    Inclusive(Bytes),
    Exclusive(Bytes),
}

impl LexBound {
    fn below(&self, member: &[u8]) -> bool {
        match self {
            LexBound::NegInf => true,
            LexBound::PosInf => false,
            LexBound::Inclusive(b) => b.as_ref() <= member,
            LexBound::Exclusive(b) => b.as_ref() < member,
        }
    }

    fn above(&self, member: &[u8]) -> bool {
        match self {
            LexBound::NegInf => false,
            LexBound::PosInf => true,
            LexBound::Inclusive(b) => member <= b.as_ref(),
            LexBound::Exclusive(b) => member < b.as_ref(),
        }
    }
}

/// What a range selects. Bounds are always given as (low, high), whatever the direction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ZRangeBy {
    Rank { start: i64, stop: i64 },
    Score { min: ScoreBound, max: ScoreBound },
    Lex { min: LexBound, max: LexBound },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZRange {
    pub by: ZRangeBy,
    /// Descending order (`REV`, `ZREVRANGE…`).
    pub rev: bool,
    /// `LIMIT offset count`; a negative count means all.
    pub limit: Option<(i64, i64)>,
}

/// `AGGREGATE SUM|MIN|MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Aggregate {
    Sum,
    Min,
    Max,
}

/// The inputs of `ZUNION`/`ZINTER`/`ZDIFF` and their `STORE` forms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZStoreArgs {
    pub algebra: SetAlgebra,
    pub keys: Vec<Bytes>,
    /// One weight per key (all 1 when not given).
    pub weights: Vec<f64>,
    pub aggregate: Aggregate,
}

fn pairs_reply<'a>(items: impl IntoIterator<Item = (&'a Bytes, f64)>, with_scores: bool) -> Reply {
    if with_scores {
        Reply::Pairs(
            items
                .into_iter()
                .map(|(m, s)| (Reply::Bulk(m.clone()), Reply::Double(s)))
                .collect(),
        )
    } else {
        Reply::Array(
            items
                .into_iter()
                .map(|(m, _)| Reply::Bulk(m.clone()))
                .collect(),
        )
    }
}

/// Redis' `zunionInterAggregate`, NaN (from `inf + -inf`) counted as 0.
fn aggregate(agg: Aggregate, a: f64, b: f64) -> f64 {
    let v = match agg {
        Aggregate::Sum => a + b,
        Aggregate::Min => a.min(b),
        Aggregate::Max => a.max(b),
    };
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

impl ZSet {
    /// The members `range` selects, in reply order.
    pub fn select(&self, range: &ZRange) -> Vec<(&Bytes, f64)> {
        let items: Vec<(&Bytes, f64)> = match &range.by {
            ZRangeBy::Rank { start, stop } => {
                let len = self.len() as i64;
                let start = if *start < 0 {
                    (len + start).max(0)
                } else {
                    *start
                };
                let stop = if *stop < 0 {
                    len + stop
                } else {
                    (*stop).min(len - 1)
                };
                if start > stop || start >= len {
                    return vec![];
                }
                let n = (stop - start + 1) as usize;
                if range.rev {
                    self.iter().rev().skip(start as usize).take(n).collect()
                } else {
                    self.iter().skip(start as usize).take(n).collect()
                }
            }
            ZRangeBy::Score { min, max } => {
                let matching = self
                    .from_score(min.value)
                    .skip_while(|(_, s)| !min.below(*s))
                    .take_while(|(_, s)| max.above(*s));
                if range.rev {
                    let mut v: Vec<_> = matching.collect();
                    v.reverse();
                    v
                } else {
                    matching.collect()
                }
            }
            ZRangeBy::Lex { min, max } => {
                let matching = self.iter().filter(|(m, _)| min.below(m) && max.above(m));
                if range.rev {
                    let mut v: Vec<_> = matching.collect();
                    v.reverse();
                    v
                } else {
                    matching.collect()
                }
            }
        };
        match range.limit {
            None => items,
            Some((offset, _)) if offset < 0 => vec![],
            Some((offset, count)) => {
                let count = if count < 0 {
                    usize::MAX
                } else {
                    count as usize
                };
                items
                    .into_iter()
                    .skip(offset as usize)
                    .take(count)
                    .collect()
            }
        }
    }
}

impl Keyspace {
    fn zset(&self, now: u64, key: &[u8]) -> Result<Option<&ZSet>, KeyspaceError> {
        Ok(self.typed(now, key, ValueType::ZSet)?.map(Value::as_zset))
    }

    pub(crate) fn apply_zadd(
        &mut self,
        now: u64,
        key: &Bytes,
        flags: ZAddFlags,
        pairs: &[(f64, Bytes)],
    ) -> Result<Reply, KeyspaceError> {
        let existing = self.zset(now, key)?.is_some();
        if !existing && flags.condition == ZAddCondition::IfExists {
            return Ok(if flags.incr {
                Reply::Nil
            } else {
                Reply::Integer(0)
            });
        }
        let z = self
            .typed_or_insert(now, key, ValueType::ZSet, Value::empty_zset)?
            .as_zset_mut();
        let (mut added, mut changed) = (0, 0);
        let mut incr_result = None;
        for (score, member) in pairs {
            let current = z.score(member);
            let new = match current {
                Some(cur) => {
                    if flags.condition == ZAddCondition::IfNotExists {
                        continue;
                    }
                    let new = if flags.incr { cur + score } else { *score };
                    if new.is_nan() {
                        self.drop_if_empty(key);
                        return Err(KeyspaceError::ScoreNan);
                    }
                    if (flags.gt && new <= cur) || (flags.lt && new >= cur) {
                        continue;
                    }
                    if new != cur {
                        changed += 1;
                    }
                    new
                }
                None => {
                    if flags.condition == ZAddCondition::IfExists {
                        continue;
                    }
                    added += 1;
                    *score
                }
            };
            z.insert(Bytes::copy_from_slice(member), new);
            incr_result = Some(new);
        }
        self.drop_if_empty(key);
        Ok(if flags.incr {
            incr_result.map_or(Reply::Nil, Reply::Double)
        } else if flags.ch {
            Reply::Integer(added + changed)
        } else {
            Reply::Integer(added)
        })
    }

    pub(crate) fn apply_zrem(
        &mut self,
        now: u64,
        key: &Bytes,
        members: &[Bytes],
    ) -> Result<Reply, KeyspaceError> {
        let Some(value) = self.typed_mut(now, key, ValueType::ZSet)? else {
            return Ok(Reply::Integer(0));
        };
        let z = value.as_zset_mut();
        let removed = members.iter().filter(|m| z.remove(m).is_some()).count();
        self.drop_if_empty(key);
        Ok(Reply::Integer(removed as i64))
    }

    pub(crate) fn apply_zremrange(
        &mut self,
        now: u64,
        key: &Bytes,
        range: &ZRange,
    ) -> Result<Reply, KeyspaceError> {
        let Some(z) = self.zset(now, key)? else {
            return Ok(Reply::Integer(0));
        };
        let doomed: Vec<Bytes> = z
            .select(range)
            .into_iter()
            .map(|(m, _)| m.clone())
            .collect();
        self.apply_zrem(now, key, &doomed)
    }

    pub(crate) fn apply_zpop(
        &mut self,
        now: u64,
        key: &Bytes,
        max: bool,
        count: Option<usize>,
    ) -> Result<Reply, KeyspaceError> {
        let popped = self.zpop(now, key, max, count.unwrap_or(1))?;
        Ok(match count {
            // Without COUNT: a flat [member, score] in both protocols.
            None => Reply::Array(
                popped
                    .into_iter()
                    .flat_map(|(m, s)| [Reply::Bulk(m), Reply::Double(s)])
                    .collect(),
            ),
            Some(_) => Reply::Pairs(
                popped
                    .into_iter()
                    .map(|(m, s)| (Reply::Bulk(m), Reply::Double(s)))
                    .collect(),
            ),
        })
    }

    fn zpop(
        &mut self,
        now: u64,
        key: &Bytes,
        max: bool,
        count: usize,
    ) -> Result<Vec<(Bytes, f64)>, KeyspaceError> {
        let Some(value) = self.typed_mut(now, key, ValueType::ZSet)? else {
            return Ok(vec![]);
        };
        let z = value.as_zset_mut();
        let popped = (0..count)
            .map_while(|_| if max { z.pop_last() } else { z.pop_first() })
            .collect();
        self.drop_if_empty(key);
        Ok(popped)
    }

    pub(crate) fn apply_zmpop(
        &mut self,
        now: u64,
        keys: &[Bytes],
        max: bool,
        count: usize,
    ) -> Result<Reply, KeyspaceError> {
        for key in keys {
            if self.zset(now, key)?.is_some() {
                let popped = self.zpop(now, key, max, count)?;
                return Ok(Reply::Array(vec![
                    Reply::Bulk(key.clone()),
                    Reply::Array(
                        popped
                            .into_iter()
                            .map(|(m, s)| Reply::Array(vec![Reply::Bulk(m), Reply::Double(s)]))
                            .collect(),
                    ),
                ]));
            }
        }
        Ok(Reply::NullArray)
    }

    fn store_zset(&mut self, dst: &Bytes, z: ZSet) -> Reply {
        let len = z.len();
        self.remove(dst);
        if len > 0 {
            self.insert(dst, Value::ZSet(Box::new(z)), None);
        }
        Reply::Integer(len as i64)
    }

    pub(crate) fn apply_zrangestore(
        &mut self,
        now: u64,
        dst: &Bytes,
        src: &Bytes,
        range: &ZRange,
    ) -> Result<Reply, KeyspaceError> {
        let mut out = ZSet::default();
        if let Some(z) = self.zset(now, src)? {
            for (m, s) in z.select(range) {
                out.insert(m.clone(), s);
            }
        }
        Ok(self.store_zset(dst, out))
    }

    pub(crate) fn apply_zstore(
        &mut self,
        now: u64,
        dst: &Bytes,
        args: &ZStoreArgs,
    ) -> Result<Reply, KeyspaceError> {
        let z = self.combine(now, args)?;
        Ok(self.store_zset(dst, z))
    }

    /// The members and scores of a sorted set or (score 1) of a plain set at `key`.
    fn scored_members(
        &self,
        now: u64,
        key: &[u8],
    ) -> Result<Option<Vec<(Bytes, f64)>>, KeyspaceError> {
        match self.live(now, key) {
            None => Ok(None),
            Some(item) => match &item.value {
                Value::ZSet(z) => Ok(Some(z.iter().map(|(m, s)| (m.clone(), s)).collect())),
                Value::Set(s) => Ok(Some(s.iter().map(|m| (m.clone(), 1.0)).collect())),
                _ => Err(KeyspaceError::WrongType),
            },
        }
    }

    fn combine(&self, now: u64, args: &ZStoreArgs) -> Result<ZSet, KeyspaceError> {
        let inputs = args
            .keys
            .iter()
            .map(|k| self.scored_members(now, k))
            .collect::<Result<Vec<_>, _>>()?;
        let weight = |i: usize| args.weights.get(i).copied().unwrap_or(1.0);
        let weighted = |s: f64, w: f64| {
            let v = s * w;
            if v.is_nan() {
                0.0
            } else {
                v
            }
        };
        let mut out = ZSet::default();
        match args.algebra {
            SetAlgebra::Union => {
                for (i, input) in inputs.iter().enumerate() {
                    for (m, s) in input.iter().flatten() {
                        let s = weighted(*s, weight(i));
                        let next = match out.score(m) {
                            Some(cur) => aggregate(args.aggregate, cur, s),
                            None => s,
                        };
                        out.insert(m.clone(), next);
                    }
                }
            }
            SetAlgebra::Inter => {
                if inputs.iter().any(Option::is_none) {
                    return Ok(out);
                }
                let maps: Vec<std::collections::HashMap<&Bytes, f64>> = inputs
                    .iter()
                    .flatten()
                    .map(|v| v.iter().map(|(m, s)| (m, *s)).collect())
                    .collect();
                if let Some(first) = inputs[0].as_ref() {
                    'members: for (m, s) in first {
                        let mut acc = weighted(*s, weight(0));
                        for (i, map) in maps.iter().enumerate().skip(1) {
                            match map.get(m) {
                                None => continue 'members,
                                Some(s) => {
                                    acc = aggregate(args.aggregate, acc, weighted(*s, weight(i)))
                                }
                            }
                        }
                        out.insert(m.clone(), acc);
                    }
                }
            }
            SetAlgebra::Diff => {
                if let Some(Some(first)) = inputs.first() {
                    for (m, s) in first {
                        let elsewhere = inputs[1..]
                            .iter()
                            .flatten()
                            .any(|other| other.iter().any(|(o, _)| o == m));
                        if !elsewhere {
                            out.insert(m.clone(), *s);
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    // ---- reads ----

    pub(crate) fn read_zscore(
        &self,
        now: u64,
        key: &[u8],
        member: &[u8],
    ) -> Result<Reply, KeyspaceError> {
        Ok(self
            .zset(now, key)?
            .and_then(|z| z.score(member))
            .map_or(Reply::Nil, Reply::Double))
    }

    pub(crate) fn read_zmscore(
        &self,
        now: u64,
        key: &[u8],
        members: &[Bytes],
    ) -> Result<Reply, KeyspaceError> {
        let z = self.zset(now, key)?;
        Ok(Reply::Array(
            members
                .iter()
                .map(|m| z.and_then(|z| z.score(m)).map_or(Reply::Nil, Reply::Double))
                .collect(),
        ))
    }

    pub(crate) fn read_zcard(&self, now: u64, key: &[u8]) -> Result<Reply, KeyspaceError> {
        Ok(Reply::Integer(
            self.zset(now, key)?.map_or(0, |z| z.len()) as i64
        ))
    }

    pub(crate) fn read_zcount(
        &self,
        now: u64,
        key: &[u8],
        by: ZRangeBy,
    ) -> Result<Reply, KeyspaceError> {
        let range = ZRange {
            by,
            rev: false,
            limit: None,
        };
        Ok(Reply::Integer(
            self.zset(now, key)?.map_or(0, |z| z.select(&range).len()) as i64,
        ))
    }

    pub(crate) fn read_zrank(
        &self,
        now: u64,
        key: &[u8],
        member: &[u8],
        rev: bool,
    ) -> Result<Reply, KeyspaceError> {
        let Some(z) = self.zset(now, key)? else {
            return Ok(Reply::Nil);
        };
        Ok(match z.rank(member) {
            None => Reply::Nil,
            Some(r) if rev => Reply::Integer((z.len() - 1 - r) as i64),
            Some(r) => Reply::Integer(r as i64),
        })
    }

    pub(crate) fn read_zrange(
        &self,
        now: u64,
        key: &[u8],
        range: &ZRange,
        with_scores: bool,
    ) -> Result<Reply, KeyspaceError> {
        Ok(match self.zset(now, key)? {
            None => Reply::Array(vec![]),
            Some(z) => pairs_reply(z.select(range), with_scores),
        })
    }

    pub(crate) fn read_zrandmember(
        &self,
        now: u64,
        key: &[u8],
        count: Option<i64>,
        with_scores: bool,
        seed: u64,
    ) -> Result<Reply, KeyspaceError> {
        let z = self.zset(now, key)?;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let Some(count) = count else {
            return Ok(match z {
                None => Reply::Nil,
                Some(z) => {
                    let i = rng.gen_range(0..z.len());
                    Reply::Bulk(z.iter().nth(i).expect("in range").0.clone())
                }
            });
        };
        let Some(z) = z else {
            return Ok(Reply::Array(vec![]));
        };
        let all: Vec<(&Bytes, f64)> = z.iter().collect();
        let picks: Vec<usize> = if count >= 0 {
            sample(&mut rng, all.len(), (count as usize).min(all.len())).into_vec()
        } else {
            (0..count.unsigned_abs())
                .map(|_| rng.gen_range(0..all.len()))
                .collect()
        };
        Ok(pairs_reply(picks.into_iter().map(|i| all[i]), with_scores))
    }

    pub(crate) fn read_zcombine(
        &self,
        now: u64,
        args: &ZStoreArgs,
        with_scores: bool,
    ) -> Result<Reply, KeyspaceError> {
        let z = self.combine(now, args)?;
        Ok(pairs_reply(z.iter(), with_scores))
    }

    /// `ZSCAN` (see `scan_collection`).
    pub(crate) fn read_zscan(
        &self,
        now: u64,
        key: &[u8],
        args: &ScanArgs,
    ) -> Result<Reply, KeyspaceError> {
        let members = self.zset(now, key)?.map(|z| {
            z.iter()
                .map(|(m, s)| (m, Some(Reply::Bulk(format_score(s).into()))))
        });
        Ok(scan_collection(args, members))
    }
}
