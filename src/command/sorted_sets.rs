//! Sorted-set commands: `ZADD ZINCRBY ZREM ZSCORE ZMSCORE ZCARD ZCOUNT ZLEXCOUNT ZRANK ZREVRANK
//! ZRANGE ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX ZREVRANGE ZRANGESTORE
//! ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX ZPOPMIN ZPOPMAX ZRANDMEMBER ZSCAN
//! ZUNIONSTORE ZINTERSTORE ZDIFFSTORE ZUNION ZINTER ZDIFF ZMPOP`.

use bytes::Bytes;

use super::lists::mpop_count;
use super::parse::{parse_int, Parse};
use super::scan::parse_scan_args;
use super::{Command, CommandError};
use crate::keyspace::{
    parse_double, Aggregate, LexBound, ReadOp, ScoreBound, SetAlgebra, WriteOp, ZAddCondition,
    ZAddFlags, ZRange, ZRangeBy, ZStoreArgs,
};

const NOT_FLOAT_RANGE: &str = "ERR min or max is not a float";
const NOT_LEX_RANGE: &str = "ERR min or max not valid string range item";

/// `1.5`, `(1.5`, `-inf`, `+inf`.
pub(crate) fn score_bound(arg: &[u8]) -> Result<ScoreBound, CommandError> {
    let (exclusive, text) = match arg.split_first() {
        Some((b'(', rest)) => (true, rest),
        _ => (false, arg),
    };
    let value = parse_double(text).ok_or(CommandError::Invalid(NOT_FLOAT_RANGE))?;
    Ok(ScoreBound { value, exclusive })
}

/// `-`, `+`, `[member`, `(member`.
pub(crate) fn lex_bound(arg: &Bytes) -> Result<LexBound, CommandError> {
    match arg.first() {
        Some(b'-') if arg.len() == 1 => Ok(LexBound::NegInf),
        Some(b'+') if arg.len() == 1 => Ok(LexBound::PosInf),
        Some(b'[') => Ok(LexBound::Inclusive(arg.slice(1..))),
        Some(b'(') => Ok(LexBound::Exclusive(arg.slice(1..))),
        _ => Err(CommandError::Invalid(NOT_LEX_RANGE)),
    }
}

/// `ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member …]`, with Redis' checks
/// in Redis' order.
pub(crate) fn parse_zadd(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let mut args = p.rest();
    let (mut nx, mut xx, mut gt, mut lt, mut ch, mut incr) =
        (false, false, false, false, false, false);
    let mut i = 0;
    while i < args.len() {
        let opt = String::from_utf8_lossy(&args[i]).to_ascii_uppercase();
        match opt.as_str() {
            "NX" => nx = true,
            "XX" => xx = true,
            "GT" => gt = true,
            "LT" => lt = true,
            "CH" => ch = true,
            "INCR" => incr = true,
            _ => break,
        }
        i += 1;
    }
    let rest = args.split_off(i);
    if rest.is_empty() || !rest.len().is_multiple_of(2) {
        return Err(CommandError::Syntax);
    }
    if nx && xx {
        return Err(CommandError::Invalid(
            "ERR XX and NX options at the same time are not compatible",
        ));
    }
    if (nx && (gt || lt)) || (gt && lt) {
        return Err(CommandError::Invalid(
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if incr && rest.len() > 2 {
        return Err(CommandError::Invalid(
            "ERR INCR option supports a single increment-element pair",
        ));
    }
    let mut pairs = Vec::with_capacity(rest.len() / 2);
    let mut it = rest.into_iter();
    while let (Some(score), Some(member)) = (it.next(), it.next()) {
        let score = parse_double(&score).ok_or(CommandError::NotFloat)?;
        pairs.push((score, member));
    }
    let condition = match (nx, xx) {
        (true, _) => ZAddCondition::IfNotExists,
        (_, true) => ZAddCondition::IfExists,
        _ => ZAddCondition::Always,
    };
    Ok(Command::Write(WriteOp::ZAdd {
        key,
        flags: ZAddFlags {
            condition,
            gt,
            lt,
            ch,
            incr,
        },
        pairs,
    }))
}

pub(crate) fn parse_zincrby(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let delta = p.next_float()?;
    let member = p.next_bytes()?;
    p.finish()?;
    Ok(Command::Write(WriteOp::ZIncrBy { key, delta, member }))
}

pub(crate) fn parse_zrem(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    Ok(Command::Write(WriteOp::ZRem {
        key,
        members: p.rest(),
    }))
}

pub(crate) fn parse_zscore(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let member = p.next_bytes()?;
    p.finish()?;
    Ok(Command::Read(ReadOp::ZScore { key, member }))
}

pub(crate) fn parse_zmscore(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    Ok(Command::Read(ReadOp::ZMScore {
        key,
        members: p.rest(),
    }))
}

pub(crate) fn parse_zcard(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    p.finish()?;
    Ok(Command::Read(ReadOp::ZCard { key }))
}

pub(crate) fn parse_zcount(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let min = score_bound(&p.next_bytes()?)?;
    let max = score_bound(&p.next_bytes()?)?;
    p.finish()?;
    Ok(Command::Read(ReadOp::ZCount { key, min, max }))
}

pub(crate) fn parse_zlexcount(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let min = lex_bound(&p.next_bytes()?)?;
    let max = lex_bound(&p.next_bytes()?)?;
    p.finish()?;
    Ok(Command::Read(ReadOp::ZLexCount { key, min, max }))
}

fn rank(p: &mut Parse<'_>, rev: bool) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let member = p.next_bytes()?;
    p.finish()?;
    Ok(Command::Read(ReadOp::ZRank { key, member, rev }))
}

pub(crate) fn parse_zrank(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    rank(p, false)
}

pub(crate) fn parse_zrevrank(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    rank(p, true)
}

/// How a range's two bound arguments are read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum By {
    Rank,
    Score,
    Lex,
}

/// Builds the range from its two bound arguments. With `rev`, score and lex ranges are given
/// high bound first (`ZREVRANGEBYSCORE key max min`).
fn range_of(
    by: By,
    first: &Bytes,
    second: &Bytes,
    rev: bool,
    limit: Option<(i64, i64)>,
) -> Result<ZRange, CommandError> {
    let by = match by {
        By::Rank => ZRangeBy::Rank {
            start: parse_int(first)?,
            stop: parse_int(second)?,
        },
        By::Score => {
            let (a, b) = (score_bound(first)?, score_bound(second)?);
            let (min, max) = if rev { (b, a) } else { (a, b) };
            ZRangeBy::Score { min, max }
        }
        By::Lex => {
            let (a, b) = (lex_bound(first)?, lex_bound(second)?);
            let (min, max) = if rev { (b, a) } else { (a, b) };
            ZRangeBy::Lex { min, max }
        }
    };
    Ok(ZRange { by, rev, limit })
}

/// Options after a range's bounds: `BYSCORE`/`BYLEX` and `REV` (only for `ZRANGE` and
/// `ZRANGESTORE`), `LIMIT offset count`, `WITHSCORES` (not for the `STORE` form).
struct RangeOptions {
    by: By,
    rev: bool,
    limit: Option<(i64, i64)>,
    with_scores: bool,
}

fn range_options(
    p: &mut Parse<'_>,
    by: By,
    rev: bool,
    allow_by: bool,
    allow_withscores: bool,
) -> Result<RangeOptions, CommandError> {
    let mut o = RangeOptions {
        by,
        rev,
        limit: None,
        with_scores: false,
    };
    while let Some(option) = p.next_option() {
        match option.as_str() {
            "WITHSCORES" if allow_withscores => o.with_scores = true,
            "LIMIT" if p.remaining() >= 2 => {
                let offset = p.next_int()?;
                let count = p.next_int()?;
                o.limit = Some((offset, count));
            }
            "BYSCORE" if allow_by && o.by == By::Rank => o.by = By::Score,
            "BYLEX" if allow_by && o.by == By::Rank => o.by = By::Lex,
            "REV" if allow_by => o.rev = true,
            _ => return Err(CommandError::Syntax),
        }
    }
    if o.limit.is_some() && o.by == By::Rank {
        return Err(CommandError::Invalid(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if o.with_scores && o.by == By::Lex {
        return Err(CommandError::Invalid(
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    Ok(o)
}

fn zrange(p: &mut Parse<'_>, by: By, rev: bool, allow_by: bool) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let first = p.next_bytes()?;
    let second = p.next_bytes()?;
    let o = range_options(p, by, rev, allow_by, true)?;
    let range = range_of(o.by, &first, &second, o.rev, o.limit)?;
    Ok(Command::Read(ReadOp::ZRange {
        key,
        range,
        with_scores: o.with_scores,
    }))
}

pub(crate) fn parse_zrange(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    zrange(p, By::Rank, false, true)
}

pub(crate) fn parse_zrevrange(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    zrange(p, By::Rank, true, false)
}

pub(crate) fn parse_zrangebyscore(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    zrange(p, By::Score, false, false)
}

pub(crate) fn parse_zrevrangebyscore(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    zrange(p, By::Score, true, false)
}

pub(crate) fn parse_zrangebylex(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    zrange(p, By::Lex, false, false)
}

pub(crate) fn parse_zrevrangebylex(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    zrange(p, By::Lex, true, false)
}

pub(crate) fn parse_zrangestore(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let dst = p.next_bytes()?;
    let src = p.next_bytes()?;
    let first = p.next_bytes()?;
    let second = p.next_bytes()?;
    let o = range_options(p, By::Rank, false, true, false)?;
    let range = range_of(o.by, &first, &second, o.rev, o.limit)?;
    Ok(Command::Write(WriteOp::ZRangeStore { dst, src, range }))
}

fn remrange(p: &mut Parse<'_>, by: By) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let first = p.next_bytes()?;
    let second = p.next_bytes()?;
    p.finish()?;
    let range = range_of(by, &first, &second, false, None)?;
    Ok(Command::Write(WriteOp::ZRemRange { key, range }))
}

pub(crate) fn parse_zremrangebyrank(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    remrange(p, By::Rank)
}

pub(crate) fn parse_zremrangebyscore(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    remrange(p, By::Score)
}

pub(crate) fn parse_zremrangebylex(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    remrange(p, By::Lex)
}

fn pop(p: &mut Parse<'_>, max: bool) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let count = match p.remaining() {
        0 => None,
        1 => Some(p.next_count()?),
        _ => return Err(CommandError::Syntax),
    };
    Ok(Command::Write(WriteOp::ZPop { key, max, count }))
}

pub(crate) fn parse_zpopmin(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    pop(p, false)
}

pub(crate) fn parse_zpopmax(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    pop(p, true)
}

/// `ZMPOP numkeys key [key …] MIN|MAX [COUNT count]`.
pub(crate) fn parse_zmpop(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let keys = super::lists::numkeys(p, CommandError::Syntax)?;
    let max = match p.next_option().as_deref() {
        Some("MIN") => false,
        Some("MAX") => true,
        _ => return Err(CommandError::Syntax),
    };
    let count = mpop_count(p)?;
    Ok(Command::Write(WriteOp::ZMPop { keys, max, count }))
}

pub(crate) fn parse_zrandmember(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let count = match p.next_optional() {
        None => None,
        Some(c) => Some(parse_int(&c)?),
    };
    let with_scores = match p.next_option() {
        None => false,
        Some(o) if o == "WITHSCORES" && count.is_some() => true,
        Some(_) => return Err(CommandError::Syntax),
    };
    p.finish()?;
    if count.is_some_and(|c| c.checked_abs().is_none_or(|a| a > i64::MAX / 2)) {
        return Err(CommandError::Invalid("ERR value is out of range"));
    }
    Ok(Command::Read(ReadOp::ZRandMember {
        key,
        count,
        with_scores,
        seed: 0,
    }))
}

pub(crate) fn parse_zscan(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let args = parse_scan_args(p, false)?;
    Ok(Command::Read(ReadOp::ZScan { key, args }))
}

/// `numkeys key [key …] [WEIGHTS w …] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]` of the
/// union/intersection/difference family; `store` forms have no `WITHSCORES`, `ZDIFF` has no
/// weights or aggregate.
fn combine_args(
    p: &mut Parse<'_>,
    algebra: SetAlgebra,
    store: bool,
) -> Result<(ZStoreArgs, bool), CommandError> {
    let n = p.next_int()?;
    if n < 1 {
        return Err(CommandError::NotSupported(format!(
            "ERR at least 1 input key is needed for '{}' command",
            p.name()
        )));
    }
    if n as usize > p.remaining() {
        return Err(CommandError::Syntax);
    }
    let keys: Vec<Bytes> = (0..n).map(|_| p.next_bytes()).collect::<Result<_, _>>()?;
    let mut args = ZStoreArgs {
        algebra,
        weights: vec![1.0; keys.len()],
        keys,
        aggregate: Aggregate::Sum,
    };
    let mut with_scores = false;
    let weighted = algebra != SetAlgebra::Diff;
    while let Some(option) = p.next_option() {
        match option.as_str() {
            "WEIGHTS" if weighted && p.remaining() >= args.keys.len() => {
                for w in args.weights.iter_mut() {
                    *w = parse_double(&p.next_bytes()?)
                        .ok_or(CommandError::Invalid("ERR weight value is not a float"))?;
                }
            }
            "AGGREGATE" if weighted && p.remaining() > 0 => {
                args.aggregate = match p.next_option().as_deref() {
                    Some("SUM") => Aggregate::Sum,
                    Some("MIN") => Aggregate::Min,
                    Some("MAX") => Aggregate::Max,
                    _ => return Err(CommandError::Syntax),
                };
            }
            "WITHSCORES" if !store => with_scores = true,
            _ => return Err(CommandError::Syntax),
        }
    }
    Ok((args, with_scores))
}

fn zstore(p: &mut Parse<'_>, algebra: SetAlgebra) -> Result<Command, CommandError> {
    let dst = p.next_bytes()?;
    let (args, _) = combine_args(p, algebra, true)?;
    Ok(Command::Write(WriteOp::ZStore { dst, args }))
}

fn zcombine(p: &mut Parse<'_>, algebra: SetAlgebra) -> Result<Command, CommandError> {
    let (args, with_scores) = combine_args(p, algebra, false)?;
    Ok(Command::Read(ReadOp::ZCombine { args, with_scores }))
}

pub(crate) fn parse_zunionstore(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    zstore(p, SetAlgebra::Union)
}

pub(crate) fn parse_zinterstore(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    zstore(p, SetAlgebra::Inter)
}

pub(crate) fn parse_zdiffstore(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    zstore(p, SetAlgebra::Diff)
}

pub(crate) fn parse_zunion(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    zcombine(p, SetAlgebra::Union)
}

pub(crate) fn parse_zinter(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    zcombine(p, SetAlgebra::Inter)
}

pub(crate) fn parse_zdiff(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    zcombine(p, SetAlgebra::Diff)
}
