//! Set commands: `SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD SPOP SRANDMEMBER SMOVE SINTER
//! SUNION SDIFF SINTERSTORE SUNIONSTORE SDIFFSTORE SINTERCARD SSCAN`.

use super::lists::numkeys;
use super::parse::{parse_int, Parse};
use super::scan::parse_scan_args;
use super::{Command, CommandError};
use crate::keyspace::{ReadOp, SetAlgebra, WriteOp};

pub(crate) fn parse_sadd(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    Ok(Command::Write(WriteOp::SAdd {
        key,
        members: p.rest(),
    }))
}

pub(crate) fn parse_srem(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    Ok(Command::Write(WriteOp::SRem {
        key,
        members: p.rest(),
    }))
}

pub(crate) fn parse_smembers(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    p.finish()?;
    Ok(Command::Read(ReadOp::SMembers { key }))
}

pub(crate) fn parse_sismember(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let member = p.next_bytes()?;
    p.finish()?;
    Ok(Command::Read(ReadOp::SIsMember { key, member }))
}

pub(crate) fn parse_smismember(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    Ok(Command::Read(ReadOp::SMIsMember {
        key,
        members: p.rest(),
    }))
}

pub(crate) fn parse_scard(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    p.finish()?;
    Ok(Command::Read(ReadOp::SCard { key }))
}

pub(crate) fn parse_spop(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let count = match p.remaining() {
        0 => None,
        1 => Some(p.next_count()?),
        _ => return Err(CommandError::Syntax),
    };
    Ok(Command::Write(WriteOp::SPop {
        key,
        count,
        seed: 0,
    }))
}

pub(crate) fn parse_srandmember(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let count = match p.remaining() {
        0 => None,
        1 => Some(parse_int(&p.next_bytes()?)?),
        _ => return Err(CommandError::Syntax),
    };
    if count.is_some_and(|c| c.checked_abs().is_none_or(|a| a > i64::MAX / 2)) {
        return Err(CommandError::Invalid("ERR value is out of range"));
    }
    Ok(Command::Read(ReadOp::SRandMember {
        key,
        count,
        seed: 0,
    }))
}

pub(crate) fn parse_smove(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let src = p.next_bytes()?;
    let dst = p.next_bytes()?;
    let member = p.next_bytes()?;
    p.finish()?;
    Ok(Command::Write(WriteOp::SMove { src, dst, member }))
}

fn algebra(p: &mut Parse<'_>, algebra: SetAlgebra) -> Result<Command, CommandError> {
    Ok(Command::Read(ReadOp::SAlgebra {
        algebra,
        keys: p.rest(),
    }))
}

fn store(p: &mut Parse<'_>, algebra: SetAlgebra) -> Result<Command, CommandError> {
    let dst = p.next_bytes()?;
    Ok(Command::Write(WriteOp::SetStore {
        algebra,
        dst,
        keys: p.rest(),
    }))
}

pub(crate) fn parse_sinter(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    algebra(p, SetAlgebra::Inter)
}

pub(crate) fn parse_sunion(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    algebra(p, SetAlgebra::Union)
}

pub(crate) fn parse_sdiff(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    algebra(p, SetAlgebra::Diff)
}

pub(crate) fn parse_sinterstore(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    store(p, SetAlgebra::Inter)
}

pub(crate) fn parse_sunionstore(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    store(p, SetAlgebra::Union)
}

pub(crate) fn parse_sdiffstore(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    store(p, SetAlgebra::Diff)
}

/// `SINTERCARD numkeys key [key …] [LIMIT limit]`.
pub(crate) fn parse_sintercard(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let keys = numkeys(
        p,
        CommandError::Invalid("ERR Number of keys can't be greater than number of args"),
    )?;
    let mut limit = 0;
    while let Some(option) = p.next_option() {
        match option.as_str() {
            "LIMIT" if p.remaining() > 0 => {
                limit = usize::try_from(p.next_int()?)
                    .map_err(|_| CommandError::Invalid("ERR LIMIT can't be negative"))?;
            }
            _ => return Err(CommandError::Syntax),
        }
    }
    Ok(Command::Read(ReadOp::SInterCard { keys, limit }))
}

pub(crate) fn parse_sscan(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let args = parse_scan_args(p, false)?;
    Ok(Command::Read(ReadOp::SScan { key, args }))
}
