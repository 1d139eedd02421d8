//! List commands (non-blocking): `LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LRANGE LINDEX LLEN LSET
//! LINSERT LREM LTRIM LPOS LMOVE RPOPLPUSH LMPOP`.

use super::parse::Parse;
use super::{Command, CommandError};
use crate::keyspace::{End, Pivot, ReadOp, WriteOp};

fn push(p: &mut Parse<'_>, end: End, only_if_exists: bool) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let values = p.rest();
    if values.is_empty() {
        return Err(CommandError::WrongArity(p.name()));
    }
    Ok(Command::Write(WriteOp::Push {
        key,
        values,
        end,
        only_if_exists,
    }))
}

pub(crate) fn parse_lpush(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    push(p, End::Left, false)
}

pub(crate) fn parse_rpush(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    push(p, End::Right, false)
}

pub(crate) fn parse_lpushx(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    push(p, End::Left, true)
}

pub(crate) fn parse_rpushx(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    push(p, End::Right, true)
}

fn pop(p: &mut Parse<'_>, end: End) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let count = match p.remaining() {
        0 => None,
        _ => Some(p.next_count()?),
    };
    p.finish()?;
    Ok(Command::Write(WriteOp::Pop { key, end, count }))
}

pub(crate) fn parse_lpop(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    pop(p, End::Left)
}

pub(crate) fn parse_rpop(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    pop(p, End::Right)
}

pub(crate) fn parse_lrange(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let start = p.next_int()?;
    let stop = p.next_int()?;
    p.finish()?;
    Ok(Command::Read(ReadOp::LRange { key, start, stop }))
}

pub(crate) fn parse_lindex(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let index = p.next_int()?;
    p.finish()?;
    Ok(Command::Read(ReadOp::LIndex { key, index }))
}

pub(crate) fn parse_llen(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    p.finish()?;
    Ok(Command::Read(ReadOp::LLen { key }))
}

pub(crate) fn parse_lset(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let index = p.next_int()?;
    let value = p.next_bytes()?;
    p.finish()?;
    Ok(Command::Write(WriteOp::LSet { key, index, value }))
}

pub(crate) fn parse_linsert(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let pivot = match p.next_option().as_deref() {
        Some("BEFORE") => Pivot::Before,
        Some("AFTER") => Pivot::After,
        _ => return Err(CommandError::Syntax),
    };
    let pivot_value = p.next_bytes()?;
    let value = p.next_bytes()?;
    p.finish()?;
    Ok(Command::Write(WriteOp::LInsert {
        key,
        pivot,
        pivot_value,
        value,
    }))
}

pub(crate) fn parse_lrem(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let count = p.next_int()?;
    let value = p.next_bytes()?;
    p.finish()?;
    Ok(Command::Write(WriteOp::LRem { key, count, value }))
}

pub(crate) fn parse_ltrim(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let start = p.next_int()?;
    let stop = p.next_int()?;
    p.finish()?;
    Ok(Command::Write(WriteOp::LTrim { key, start, stop }))
}

/// `LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]`.
pub(crate) fn parse_lpos(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let element = p.next_bytes()?;
    let (mut rank, mut count, mut maxlen) = (1i64, None, 0usize);
    while let Some(option) = p.next_option() {
        match option.as_str() {
            "RANK" if p.remaining() > 0 => {
                rank = p.next_int()?;
                if rank == 0 {
                    return Err(CommandError::Invalid(
                        "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
                    ));
                }
                if rank == i64::MIN {
                    return Err(CommandError::Invalid(
                        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
                    ));
                }
            }
            "COUNT" if p.remaining() > 0 => {
                let n = p.next_int()?;
                count = Some(
                    usize::try_from(n)
                        .map_err(|_| CommandError::Invalid("ERR COUNT can't be negative"))?,
                );
            }
            "MAXLEN" if p.remaining() > 0 => {
                let n = p.next_int()?;
                maxlen = usize::try_from(n)
                    .map_err(|_| CommandError::Invalid("ERR MAXLEN can't be negative"))?;
            }
            _ => return Err(CommandError::Syntax),
        }
    }
    Ok(Command::Read(ReadOp::LPos {
        key,
        element,
        rank,
        count,
        maxlen,
    }))
}

fn end(p: &mut Parse<'_>) -> Result<End, CommandError> {
    match p.next_option().as_deref() {
        Some("LEFT") => Ok(End::Left),
        Some("RIGHT") => Ok(End::Right),
        _ => Err(CommandError::Syntax),
    }
}

pub(crate) fn parse_lmove(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let src = p.next_bytes()?;
    let dst = p.next_bytes()?;
    let from = end(p)?;
    let to = end(p)?;
    p.finish()?;
    Ok(Command::Write(WriteOp::LMove { src, dst, from, to }))
}

pub(crate) fn parse_rpoplpush(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let src = p.next_bytes()?;
    let dst = p.next_bytes()?;
    p.finish()?;
    Ok(Command::Write(WriteOp::LMove {
        src,
        dst,
        from: End::Right,
        to: End::Left,
    }))
}

/// `numkeys key [key …]` as `LMPOP`, `ZMPOP` and `SINTERCARD` read it. Too large a count is
/// a syntax error for the pops and its own error for `SINTERCARD`, as in Redis.
pub(crate) fn numkeys(
    p: &mut Parse<'_>,
    too_many: CommandError,
) -> Result<Vec<bytes::Bytes>, CommandError> {
    let n = p.next_int()?;
    if n <= 0 {
        return Err(CommandError::Invalid(
            "ERR numkeys should be greater than 0",
        ));
    }
    if n as usize > p.remaining() {
        return Err(too_many);
    }
    (0..n).map(|_| p.next_bytes()).collect()
}

/// `[COUNT count]` after `LMPOP`/`ZMPOP`'s direction.
pub(crate) fn mpop_count(p: &mut Parse<'_>) -> Result<usize, CommandError> {
    let mut count = None;
    while let Some(option) = p.next_option() {
        match option.as_str() {
            "COUNT" if count.is_none() && p.remaining() > 0 => {
                let n = p.next_int()?;
                if n <= 0 {
                    return Err(CommandError::Invalid("ERR count should be greater than 0"));
                }
                count = Some(n as usize);
            }
            _ => return Err(CommandError::Syntax),
        }
    }
    Ok(count.unwrap_or(1))
}

/// `LMPOP numkeys key [key …] LEFT|RIGHT [COUNT count]`.
pub(crate) fn parse_lmpop(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let keys = numkeys(p, CommandError::Syntax)?;
    let end = end(p)?;
    let count = mpop_count(p)?;
    Ok(Command::Write(WriteOp::LMPop { keys, end, count }))
}
