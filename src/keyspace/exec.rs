//! Routes each `WriteOp` and `ReadOp` to the family file that implements it.

use super::read_op::ReadOp;
use super::sorted_sets::ZRangeBy;
use super::write_op::WriteOp;
use super::{Keyspace, KeyspaceError};
use crate::reply::Reply;

impl Keyspace {
    /// Applies a single-command write (`Multi`, eviction and flush are handled by `apply`).
    pub(super) fn apply_command(&mut self, now: u64, op: &WriteOp) -> Result<Reply, KeyspaceError> {
        match op {
            WriteOp::Set {
                key,
                value,
                condition,
                expiry,
                get,
            } => self.apply_set(now, key, value, *condition, *expiry, *get),
            WriteOp::IncrBy { key, delta } => self.apply_incr(now, key, *delta),
            WriteOp::IncrByFloat { key, delta } => self.apply_incr_float(now, key, *delta),
            WriteOp::MSet { pairs } => Ok(self.apply_mset(pairs)),
            WriteOp::MSetNx { pairs } => Ok(self.apply_msetnx(now, pairs)),
            WriteOp::Append { key, value } => self.apply_append(now, key, value),
            WriteOp::SetRange { key, offset, value } => {
                self.apply_setrange(now, key, *offset, value)
            }
            WriteOp::GetDel { key } => self.apply_getdel(now, key),
            WriteOp::GetEx { key, expiry } => self.apply_getex(now, key, *expiry),

            WriteOp::Del { keys } => {
                let removed = keys.iter().filter(|k| self.remove_live(now, k)).count();
                Ok(Reply::Integer(removed as i64))
            }
            WriteOp::ExpireAt {
                key,
                at_ms,
                condition,
            } => Ok(Reply::Integer(
                self.apply_expire_at(now, key, *at_ms, *condition) as i64,
            )),
            WriteOp::Persist { key } => Ok(self.apply_persist(now, key)),
            WriteOp::Rename { src, dst, nx } => self.apply_rename(now, src, dst, *nx),
            WriteOp::Copy { src, dst, replace } => self.apply_copy(now, src, dst, *replace),

            WriteOp::HSet { key, pairs, nx } => self.apply_hset(now, key, pairs, *nx),
            WriteOp::HDel { key, fields } => self.apply_hdel(now, key, fields),
            WriteOp::HIncrBy { key, field, delta } => self.apply_hincrby(now, key, field, *delta),
            WriteOp::HIncrByFloat { key, field, delta } => {
                self.apply_hincrbyfloat(now, key, field, *delta)
            }

            WriteOp::Push {
                key,
                values,
                end,
                only_if_exists,
            } => self.apply_push(now, key, values, *end, *only_if_exists),
            WriteOp::Pop { key, end, count } => self.apply_pop(now, key, *end, *count),
            WriteOp::LSet { key, index, value } => self.apply_lset(now, key, *index, value),
            WriteOp::LInsert {
                key,
                pivot,
                pivot_value,
                value,
            } => self.apply_linsert(now, key, *pivot, pivot_value, value),
            WriteOp::LRem { key, count, value } => self.apply_lrem(now, key, *count, value),
            WriteOp::LTrim { key, start, stop } => self.apply_ltrim(now, key, *start, *stop),
            WriteOp::LMove { src, dst, from, to } => self.apply_lmove(now, src, dst, *from, *to),
            WriteOp::LMPop { keys, end, count } => self.apply_lmpop(now, keys, *end, *count),

            WriteOp::SAdd { key, members } => self.apply_sadd(now, key, members),
            WriteOp::SRem { key, members } => self.apply_srem(now, key, members),
            WriteOp::SPop { key, count, seed } => self.apply_spop(now, key, *count, *seed),
            WriteOp::SMove { src, dst, member } => self.apply_smove(now, src, dst, member),
            WriteOp::SetStore { algebra, dst, keys } => {
                self.apply_setstore(now, *algebra, dst, keys)
            }

            WriteOp::ZAdd { key, flags, pairs } => self.apply_zadd(now, key, *flags, pairs),
            WriteOp::ZIncrBy { key, delta, member } => {
                let flags = super::ZAddFlags {
                    condition: super::ZAddCondition::Always,
                    gt: false,
                    lt: false,
                    ch: false,
                    incr: true,
                };
                self.apply_zadd(now, key, flags, &[(*delta, member.clone())])
            }
            WriteOp::ZRem { key, members } => self.apply_zrem(now, key, members),
            WriteOp::ZRemRange { key, range } => self.apply_zremrange(now, key, range),
            WriteOp::ZPop { key, max, count } => self.apply_zpop(now, key, *max, *count),
            WriteOp::ZMPop { keys, max, count } => self.apply_zmpop(now, keys, *max, *count),
            WriteOp::ZRangeStore { dst, src, range } => {
                self.apply_zrangestore(now, dst, src, range)
            }
            WriteOp::ZStore { dst, args } => self.apply_zstore(now, dst, args),

            WriteOp::Multi(_) | WriteOp::EvictExpired { .. } | WriteOp::FlushAll => {
                unreachable!("handled by Keyspace::apply")
            }
        }
    }

    /// Runs a read on the applied state; `now_ms` is the reader's clock.
    pub fn read(&self, now: u64, op: &ReadOp) -> Result<Reply, KeyspaceError> {
        match op {
            ReadOp::Get { key } => Ok(Reply::from_option(self.get(now, key)?)),
            ReadOp::MGet { keys } => Ok(self.read_mget(now, keys)),
            ReadOp::StrLen { key } => self.read_strlen(now, key),
            ReadOp::GetRange { key, start, end } => self.read_getrange(now, key, *start, *end),

            ReadOp::Exists { keys } | ReadOp::Touch { keys } => Ok(Reply::Integer(
                keys.iter().filter(|k| self.exists(now, k)).count() as i64,
            )),
            ReadOp::Type { key } => Ok(self.read_type(now, key)),
            ReadOp::Ttl { key, kind } => Ok(self.read_ttl(now, key, *kind)),

            ReadOp::HGet { key, field } => self.read_hget(now, key, field),
            ReadOp::HMGet { key, fields } => self.read_hmget(now, key, fields),
            ReadOp::HGetAll { key } => self.read_hgetall(now, key),
            ReadOp::HKeys { key } => self.read_hkeys(now, key, false),
            ReadOp::HVals { key } => self.read_hkeys(now, key, true),
            ReadOp::HLen { key } => self.read_hlen(now, key),
            ReadOp::HExists { key, field } => self.read_hexists(now, key, field),
            ReadOp::HStrLen { key, field } => self.read_hstrlen(now, key, field),
            ReadOp::HRandField {
                key,
                count,
                with_values,
                seed,
            } => self.read_hrandfield(now, key, *count, *with_values, *seed),
            ReadOp::HScan { key, args } => self.read_hscan(now, key, args),

            ReadOp::LRange { key, start, stop } => self.read_lrange(now, key, *start, *stop),
            ReadOp::LIndex { key, index } => self.read_lindex(now, key, *index),
            ReadOp::LLen { key } => self.read_llen(now, key),
            ReadOp::LPos {
                key,
                element,
                rank,
                count,
                maxlen,
            } => self.read_lpos(now, key, element, *rank, *count, *maxlen),

            ReadOp::SMembers { key } => self.read_smembers(now, key),
            ReadOp::SIsMember { key, member } => self.read_sismember(now, key, member),
            ReadOp::SMIsMember { key, members } => self.read_smismember(now, key, members),
            ReadOp::SCard { key } => self.read_scard(now, key),
            ReadOp::SRandMember { key, count, seed } => {
                self.read_srandmember(now, key, *count, *seed)
            }
            ReadOp::SAlgebra { algebra, keys } => self.read_salgebra(now, *algebra, keys),
            ReadOp::SInterCard { keys, limit } => self.read_sintercard(now, keys, *limit),
            ReadOp::SScan { key, args } => self.read_sscan(now, key, args),

            ReadOp::ZScore { key, member } => self.read_zscore(now, key, member),
            ReadOp::ZMScore { key, members } => self.read_zmscore(now, key, members),
            ReadOp::ZCard { key } => self.read_zcard(now, key),
            ReadOp::ZCount { key, min, max } => self.read_zcount(
                now,
                key,
                ZRangeBy::Score {
                    min: *min,
                    max: *max,
                },
            ),
            ReadOp::ZLexCount { key, min, max } => self.read_zcount(
                now,
                key,
                ZRangeBy::Lex {
                    min: min.clone(),
                    max: max.clone(),
                },
            ),
            ReadOp::ZRank { key, member, rev } => self.read_zrank(now, key, member, *rev),
            ReadOp::ZRange {
                key,
                range,
                with_scores,
            } => self.read_zrange(now, key, range, *with_scores),
            ReadOp::ZRandMember {
                key,
                count,
                with_scores,
                seed,
            } => self.read_zrandmember(now, key, *count, *with_scores, *seed),
            ReadOp::ZCombine { args, with_scores } => self.read_zcombine(now, args, *with_scores),
            ReadOp::ZScan { key, args } => self.read_zscan(now, key, args),
        }
    }
}
