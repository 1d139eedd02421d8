//! Hash commands: `HSET HGET HMGET HMSET HDEL HEXISTS HGETALL HKEYS HVALS HLEN HINCRBY
//! HINCRBYFLOAT HSETNX HSTRLEN HSCAN HRANDFIELD`.

use bytes::Bytes;

use super::parse::Parse;
use super::scan::parse_scan_args;
use super::{Command, CommandError, ReplyAs};
use crate::keyspace::{ReadOp, WriteOp};

fn field_value_pairs(p: &mut Parse<'_>) -> Result<Vec<(Bytes, Bytes)>, CommandError> {
    if p.remaining() == 0 || !p.remaining().is_multiple_of(2) {
        return Err(CommandError::WrongArity(p.name()));
    }
    let mut args = p.rest().into_iter();
    let mut pairs = Vec::with_capacity(args.len() / 2);
    while let (Some(f), Some(v)) = (args.next(), args.next()) {
        pairs.push((f, v));
    }
    Ok(pairs)
}

pub(crate) fn parse_hset(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let pairs = field_value_pairs(p)?;
    Ok(Command::Write(WriteOp::HSet {
        key,
        pairs,
        nx: false,
    }))
}

/// `HMSET`: `HSET` answering `OK`.
pub(crate) fn parse_hmset(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let pairs = field_value_pairs(p)?;
    Ok(Command::WriteAs(
        WriteOp::HSet {
            key,
            pairs,
            nx: false,
        },
        ReplyAs::Ok,
    ))
}

pub(crate) fn parse_hsetnx(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let field = p.next_bytes()?;
    let value = p.next_bytes()?;
    p.finish()?;
    Ok(Command::Write(WriteOp::HSet {
        key,
        pairs: vec![(field, value)],
        nx: true,
    }))
}

pub(crate) fn parse_hget(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let field = p.next_bytes()?;
    p.finish()?;
    Ok(Command::Read(ReadOp::HGet { key, field }))
}

pub(crate) fn parse_hmget(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let fields = p.rest();
    Ok(Command::Read(ReadOp::HMGet { key, fields }))
}

pub(crate) fn parse_hdel(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let fields = p.rest();
    Ok(Command::Write(WriteOp::HDel { key, fields }))
}

pub(crate) fn parse_hexists(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let field = p.next_bytes()?;
    p.finish()?;
    Ok(Command::Read(ReadOp::HExists { key, field }))
}

pub(crate) fn parse_hstrlen(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let field = p.next_bytes()?;
    p.finish()?;
    Ok(Command::Read(ReadOp::HStrLen { key, field }))
}

fn key_only(p: &mut Parse<'_>) -> Result<Bytes, CommandError> {
    let key = p.next_bytes()?;
    p.finish()?;
    Ok(key)
}

pub(crate) fn parse_hgetall(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    Ok(Command::Read(ReadOp::HGetAll { key: key_only(p)? }))
}

pub(crate) fn parse_hkeys(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    Ok(Command::Read(ReadOp::HKeys { key: key_only(p)? }))
}

pub(crate) fn parse_hvals(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    Ok(Command::Read(ReadOp::HVals { key: key_only(p)? }))
}

pub(crate) fn parse_hlen(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    Ok(Command::Read(ReadOp::HLen { key: key_only(p)? }))
}

pub(crate) fn parse_hincrby(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let field = p.next_bytes()?;
    let delta = p.next_int()?;
    p.finish()?;
    Ok(Command::Write(WriteOp::HIncrBy { key, field, delta }))
}

pub(crate) fn parse_hincrbyfloat(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let field = p.next_bytes()?;
    let delta = p.next_float()?;
    p.finish()?;
    Ok(Command::Write(WriteOp::HIncrByFloat { key, field, delta }))
}

/// `HRANDFIELD key [count [WITHVALUES]]`.
pub(crate) fn parse_hrandfield(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let count = match p.next_optional() {
        None => None,
        Some(c) => Some(super::parse::parse_int(&c)?),
    };
    let with_values = match p.next_option() {
        None => false,
        Some(o) if o == "WITHVALUES" && count.is_some() => true,
        Some(_) => return Err(CommandError::Syntax),
    };
    p.finish()?;
    if count.is_some_and(|c| c.checked_abs().is_none_or(|a| a > i64::MAX / 2)) {
        return Err(CommandError::Invalid("ERR value is out of range"));
    }
    Ok(Command::Read(ReadOp::HRandField {
        key,
        count,
        with_values,
        seed: 0,
    }))
}

pub(crate) fn parse_hscan(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let args = parse_scan_args(p, false)?;
    Ok(Command::Read(ReadOp::HScan { key, args }))
}
