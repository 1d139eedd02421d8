//! Keyspace commands (Redis' "generic" group): `DEL`, `EXISTS`, `EXPIRE`, `PEXPIRE`, `TTL`,
//! `PTTL`, `PERSIST`, and the time units and conditions they share with `SET`.

use bytes::Bytes;

use super::parse::{parse_int, Parse};
use super::{Command, CommandError};
use crate::keyspace::{ReadOp, TtlKind, WriteOp};

/// Seconds or milliseconds: the `EXPIRE`/`PEXPIRE`, `TTL`/`PTTL`, `EX`/`PX` distinction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum TimeUnit {
    /// Seconds.
    Seconds,
    /// Milliseconds.
    Milliseconds,
}

impl TimeUnit {
    /// `amount` in milliseconds, or `None` if that overflows `i64`.
    pub fn to_millis(self, amount: i64) -> Option<i64> {
        match self {
            TimeUnit::Seconds => amount.checked_mul(1000),
            TimeUnit::Milliseconds => Some(amount),
        }
    }
}

/// `EXPIRE`'s condition on the key's current TTL (Redis 7.0), named after the options. A key
/// without a TTL counts as having an infinite one. Redis accepts `XX` together with `GT` or
/// `LT`; `XX GT` means the same as `GT` (an infinite TTL is never less than the new one), but
/// `XX LT` differs from `LT`, hence its own variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ExpireCondition {
    /// No option: always set.
    Always,
    /// `NX`: only if the key has no TTL.
    Nx,
    /// `XX`: only if the key has a TTL.
    Xx,
    /// `GT` (or `XX GT`): only if the new deadline is later than the current one, so never on
    /// a key without a TTL.
    Gt,
    /// `LT`: only if the new deadline is earlier than the current one, so always on a key
    /// without a TTL.
    Lt,
    /// `XX LT`: only if the key has a TTL and the new deadline is earlier.
    XxLt,
}

pub(crate) fn parse_del(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    Ok(Command::Del(p.rest()))
}

pub(crate) fn parse_exists(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    Ok(Command::Exists(p.rest()))
}

pub(crate) fn parse_expire(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    expire(p, TimeUnit::Seconds)
}

pub(crate) fn parse_pexpire(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    expire(p, TimeUnit::Milliseconds)
}

/// `EXPIRE key amount [NX|XX|GT|LT …]`, checked in Redis' order: the options first (unknown
/// option, then incompatible ones), then the amount (integer, then not overflowing once in
/// milliseconds). Adding the clock is the leader's job (`server::prepare`).
fn expire(p: &mut Parse<'_>, unit: TimeUnit) -> Result<Command, CommandError> {
    let (key, amount, condition) = expire_args(p, unit)?;
    Ok(Command::Expire {
        key,
        amount,
        unit,
        condition,
    })
}

pub(crate) fn parse_expireat(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let (key, at, condition) = expire_args(p, TimeUnit::Seconds)?;
    Ok(Command::ExpireAt {
        key,
        at,
        unit: TimeUnit::Seconds,
        condition,
    })
}

pub(crate) fn parse_pexpireat(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let (key, at, condition) = expire_args(p, TimeUnit::Milliseconds)?;
    Ok(Command::ExpireAt {
        key,
        at,
        unit: TimeUnit::Milliseconds,
        condition,
    })
}

fn expire_args(
    p: &mut Parse<'_>,
    unit: TimeUnit,
) -> Result<(bytes::Bytes, i64, ExpireCondition), CommandError> {
    let key = p.next_bytes()?;
    let amount = p.next_bytes()?;
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for option in p.rest() {
        let is = |name: &str| option.eq_ignore_ascii_case(name.as_bytes());
        if is("NX") {
            nx = true;
        } else if is("XX") {
            xx = true;
        } else if is("GT") {
            gt = true;
        } else if is("LT") {
            lt = true;
        } else {
            return Err(CommandError::UnsupportedOption(option));
        }
    }
    if nx && (xx || gt || lt) {
        return Err(CommandError::ExpireNxConflict);
    }
    if gt && lt {
        return Err(CommandError::ExpireGtLtConflict);
    }
    let condition = match (nx, xx, gt, lt) {
        (true, ..) => ExpireCondition::Nx,
        (_, _, true, _) => ExpireCondition::Gt,
        (_, true, _, true) => ExpireCondition::XxLt,
        (_, _, _, true) => ExpireCondition::Lt,
        (_, true, ..) => ExpireCondition::Xx,
        _ => ExpireCondition::Always,
    };
    let amount = parse_int(&amount)?;
    if unit.to_millis(amount).is_none() {
        return Err(CommandError::InvalidExpireTime(p.name()));
    }
    Ok((key, amount, condition))
}

pub(crate) fn parse_ttl(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    ttl(p, TimeUnit::Seconds)
}

pub(crate) fn parse_pttl(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    ttl(p, TimeUnit::Milliseconds)
}

fn ttl(p: &mut Parse<'_>, unit: TimeUnit) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    p.finish()?;
    Ok(Command::Ttl { key, unit })
}

pub(crate) fn parse_persist(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    p.finish()?;
    Ok(Command::Persist(key))
}

fn key_only(p: &mut Parse<'_>) -> Result<Bytes, CommandError> {
    let key = p.next_bytes()?;
    p.finish()?;
    Ok(key)
}

fn ttl_kind(p: &mut Parse<'_>, kind: TtlKind) -> Result<Command, CommandError> {
    Ok(Command::Read(ReadOp::Ttl {
        key: key_only(p)?,
        kind,
    }))
}

pub(crate) fn parse_expiretime(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    ttl_kind(p, TtlKind::ExpireTime)
}

pub(crate) fn parse_pexpiretime(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    ttl_kind(p, TtlKind::PExpireTime)
}

pub(crate) fn parse_unlink(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    Ok(Command::Del(p.rest()))
}

pub(crate) fn parse_touch(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    Ok(Command::Read(ReadOp::Touch { keys: p.rest() }))
}

pub(crate) fn parse_type(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    Ok(Command::Read(ReadOp::Type { key: key_only(p)? }))
}

fn rename(p: &mut Parse<'_>, nx: bool) -> Result<Command, CommandError> {
    let src = p.next_bytes()?;
    let dst = p.next_bytes()?;
    p.finish()?;
    Ok(Command::Write(WriteOp::Rename { src, dst, nx }))
}

pub(crate) fn parse_rename(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    rename(p, false)
}

pub(crate) fn parse_renamenx(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    rename(p, true)
}

/// `COPY source destination [DB destination-db] [REPLACE]`; only database 0 exists.
pub(crate) fn parse_copy(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let src = p.next_bytes()?;
    let dst = p.next_bytes()?;
    let mut replace = false;
    while let Some(option) = p.next_option() {
        match option.as_str() {
            "REPLACE" => replace = true,
            "DB" if p.remaining() > 0 => {
                if p.next_int()? != 0 {
                    return Err(CommandError::Invalid(
                        "ERR Copying to another database is not allowed in cluster mode",
                    ));
                }
            }
            _ => return Err(CommandError::Syntax),
        }
    }
    Ok(Command::Write(WriteOp::Copy { src, dst, replace }))
}

pub(crate) fn parse_randomkey(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    p.finish()?;
    Ok(Command::RandomKey)
}

pub(crate) fn parse_keys(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let pattern = p.next_bytes()?;
    p.finish()?;
    Ok(Command::Keys(pattern))
}

/// `FLUSHALL`/`FLUSHDB [ASYNC|SYNC]`: both flush the slot groups this node leads.
pub(crate) fn parse_flushall(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    match p.next_option().as_deref() {
        None | Some("ASYNC") | Some("SYNC") => {}
        Some(_) => return Err(CommandError::Syntax),
    }
    p.finish().map_err(|_| CommandError::Syntax)?;
    Ok(Command::FlushAll)
}

pub(crate) fn parse_flushdb(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    parse_flushall(p)
}

/// Commands Redis Cluster refuses, with its error texts.
pub(crate) fn parse_move(_: &mut Parse<'_>) -> Result<Command, CommandError> {
    Err(CommandError::Invalid(
        "ERR MOVE is not allowed in cluster mode",
    ))
}

pub(crate) fn parse_swapdb(_: &mut Parse<'_>) -> Result<Command, CommandError> {
    Err(CommandError::Invalid(
        "ERR SWAPDB is not allowed in cluster mode",
    ))
}

pub(crate) fn parse_migrate(_: &mut Parse<'_>) -> Result<Command, CommandError> {
    Err(CommandError::Invalid(
        "ERR MIGRATE is not supported: slotraft moves slots between Raft groups, not keys between nodes",
    ))
}
