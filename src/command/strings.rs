//! String commands: `GET`, `SET` and its variants (`SETNX`, `SETEX`, `PSETEX`, `GETSET`,
//! `GETEX`, `GETDEL`), counters, `MGET`, `MSET(NX)`, `APPEND`, `STRLEN`, `GETRANGE`, `SETRANGE`.

use bytes::Bytes;

use super::keys::TimeUnit;
use super::parse::{parse_int, Parse};
use super::{Command, CommandError, ReplyAs};
use crate::keyspace::{ReadOp, SetCondition as WSetCondition, SetExpiry as WSetExpiry, WriteOp};

/// Everything `SET` was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetArgs {
    /// The key.
    pub key: Bytes,
    /// The new value.
    pub value: Bytes,
    /// `NX`/`XX`: when to write at all.
    pub condition: SetCondition,
    /// What happens to the key's TTL.
    pub expiry: SetExpiry,
    /// `GET`: reply with the old value instead of `OK`.
    pub get: bool,
}

/// `SET`'s existence condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum SetCondition {
    /// No option: always write.
    Always,
    /// `NX`: only if the key does not exist.
    IfNotExists,
    /// `XX`: only if the key exists.
    IfExists,
}

/// What `SET` does to the key's TTL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum SetExpiry {
    /// No option: the write clears any TTL.
    None,
    /// `KEEPTTL`: the key keeps its TTL.
    KeepTtl,
    /// `EX`/`PX n`: expire `n` units from now. `n` is positive and fits in milliseconds.
    In(TimeUnit, i64),
    /// `EXAT`/`PXAT t`: expire at Unix time `t`. `t` is positive and fits in milliseconds.
    At(TimeUnit, i64),
}

impl SetExpiry {
    /// The absolute deadline in Unix milliseconds, given the leader's clock: `Ok(None)` for
    /// `None` and `KeepTtl`. A relative TTL that overflows once `now_ms` is added is the same
    /// error Redis gives (it adds its clock at the same point).
    pub fn deadline_ms(&self, now_ms: i64) -> Result<Option<i64>, CommandError> {
        let invalid = CommandError::InvalidExpireTime("set");
        match *self {
            SetExpiry::None | SetExpiry::KeepTtl => Ok(None),
            SetExpiry::In(unit, amount) => {
                let millis = unit.to_millis(amount).ok_or(invalid.clone())?;
                match millis.checked_add(now_ms) {
                    Some(deadline) if deadline > 0 => Ok(Some(deadline)),
                    _ => Err(invalid),
                }
            }
            SetExpiry::At(unit, at) => unit.to_millis(at).map(Some).ok_or(invalid),
        }
    }
}

pub(crate) fn parse_get(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    p.finish()?;
    Ok(Command::Get(key))
}

/// Which expiry option `SET` saw, before its value is checked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ExpiryOption {
    Ex,
    Px,
    ExAt,
    PxAt,
}

/// `SET key value [NX|XX] [GET] [EX|PX|EXAT|PXAT n|KEEPTTL]`, following Redis'
/// `parseExtendedStringArgumentsOrReply`: options in any order and any case; repeating the
/// same option is allowed (the last value wins); `NX` with `XX`, `KEEPTTL` with an expiry, two
/// different expiry options, or an expiry option with no value is a syntax error. Only after
/// all options are accepted is the expiry value checked: integer, then positive and
/// representable in milliseconds.
pub(crate) fn parse_set(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let value = p.next_bytes()?;
    let mut condition = SetCondition::Always;
    let mut get = false;
    let mut keep_ttl = false;
    let mut expiry: Option<(ExpiryOption, Bytes)> = None;
    while let Some(option) = p.next_optional() {
        let is = |name: &str| option.eq_ignore_ascii_case(name.as_bytes());
        let expiry_option = if is("EX") {
            Some(ExpiryOption::Ex)
        } else if is("PX") {
            Some(ExpiryOption::Px)
        } else if is("EXAT") {
            Some(ExpiryOption::ExAt)
        } else if is("PXAT") {
            Some(ExpiryOption::PxAt)
        } else {
            None
        };
        if is("NX") && condition != SetCondition::IfExists {
            condition = SetCondition::IfNotExists;
        } else if is("XX") && condition != SetCondition::IfNotExists {
            condition = SetCondition::IfExists;
        } else if is("GET") {
            get = true;
        } else if is("KEEPTTL") && expiry.is_none() {
            keep_ttl = true;
        } else if let Some(kind) = expiry_option.filter(|kind| {
            !keep_ttl && expiry.as_ref().is_none_or(|(seen, _)| seen == kind) && p.remaining() > 0
        }) {
            expiry = Some((kind, p.next_bytes()?));
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let expiry = match expiry {
        None if keep_ttl => SetExpiry::KeepTtl,
        None => SetExpiry::None,
        Some((kind, amount)) => {
            let amount = parse_int(&amount)?;
            let unit = match kind {
                ExpiryOption::Ex | ExpiryOption::ExAt => TimeUnit::Seconds,
                ExpiryOption::Px | ExpiryOption::PxAt => TimeUnit::Milliseconds,
            };
            if amount <= 0 || unit.to_millis(amount).is_none() {
                return Err(CommandError::InvalidExpireTime("set"));
            }
            match kind {
                ExpiryOption::Ex | ExpiryOption::Px => SetExpiry::In(unit, amount),
                ExpiryOption::ExAt | ExpiryOption::PxAt => SetExpiry::At(unit, amount),
            }
        }
    };
    Ok(Command::Set(SetArgs {
        key,
        value,
        condition,
        expiry,
        get,
    }))
}

pub(crate) fn parse_incr(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    incr_by(p, 1)
}

pub(crate) fn parse_decr(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    incr_by(p, -1)
}

pub(crate) fn parse_incrby(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let delta = p.next_int()?;
    p.finish()?;
    Ok(Command::IncrBy { key, delta })
}

/// `DECRBY key n` is `INCRBY key -n`, except that `-i64::MIN` does not exist.
pub(crate) fn parse_decrby(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let decrement = p.next_int()?;
    p.finish()?;
    let delta = decrement
        .checked_neg()
        .ok_or(CommandError::DecrementOverflow)?;
    Ok(Command::IncrBy { key, delta })
}

fn incr_by(p: &mut Parse<'_>, delta: i64) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    p.finish()?;
    Ok(Command::IncrBy { key, delta })
}

pub(crate) fn parse_mget(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    Ok(Command::MGet(p.rest()))
}

/// `MSET key value [key value …]`: an unpaired key is an arity error, as in Redis.
pub(crate) fn parse_mset(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    if !p.remaining().is_multiple_of(2) {
        return Err(CommandError::WrongArity(p.name()));
    }
    let mut args = p.rest().into_iter();
    let mut pairs = Vec::with_capacity(args.len() / 2);
    while let (Some(key), Some(value)) = (args.next(), args.next()) {
        pairs.push((key, value));
    }
    Ok(Command::MSet(pairs))
}

fn key_value(p: &mut Parse<'_>) -> Result<(Bytes, Bytes), CommandError> {
    let key = p.next_bytes()?;
    let value = p.next_bytes()?;
    p.finish()?;
    Ok((key, value))
}

fn write_set(key: Bytes, value: Bytes, condition: WSetCondition, get: bool) -> WriteOp {
    WriteOp::Set {
        key,
        value,
        condition,
        expiry: WSetExpiry::Clear,
        get,
    }
}

/// `SETNX key value`: `SET … NX` answering 1 or 0.
pub(crate) fn parse_setnx(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let (key, value) = key_value(p)?;
    Ok(Command::WriteAs(
        write_set(key, value, WSetCondition::IfNotExists, false),
        ReplyAs::Flag,
    ))
}

/// `GETSET key value`: `SET … GET`.
pub(crate) fn parse_getset(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let (key, value) = key_value(p)?;
    Ok(Command::Write(write_set(
        key,
        value,
        WSetCondition::Always,
        true,
    )))
}

fn setex(p: &mut Parse<'_>, unit: TimeUnit) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let amount = p.next_int()?;
    let value = p.next_bytes()?;
    p.finish()?;
    if amount <= 0 || unit.to_millis(amount).is_none() {
        return Err(CommandError::InvalidExpireTime(p.name()));
    }
    Ok(Command::Set(SetArgs {
        key,
        value,
        condition: SetCondition::Always,
        expiry: SetExpiry::In(unit, amount),
        get: false,
    }))
}

pub(crate) fn parse_setex(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    setex(p, TimeUnit::Seconds)
}

pub(crate) fn parse_psetex(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    setex(p, TimeUnit::Milliseconds)
}

pub(crate) fn parse_msetnx(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    match parse_mset(p)? {
        Command::MSet(pairs) => Ok(Command::Write(WriteOp::MSetNx { pairs })),
        _ => unreachable!("parse_mset returns MSet"),
    }
}

pub(crate) fn parse_append(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let (key, value) = key_value(p)?;
    Ok(Command::Write(WriteOp::Append { key, value }))
}

pub(crate) fn parse_strlen(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    p.finish()?;
    Ok(Command::Read(ReadOp::StrLen { key }))
}

pub(crate) fn parse_getrange(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let start = p.next_int()?;
    let end = p.next_int()?;
    p.finish()?;
    Ok(Command::Read(ReadOp::GetRange { key, start, end }))
}

pub(crate) fn parse_setrange(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let offset = p.next_int()?;
    let value = p.next_bytes()?;
    p.finish()?;
    let offset =
        usize::try_from(offset).map_err(|_| CommandError::Invalid("ERR offset is out of range"))?;
    Ok(Command::Write(WriteOp::SetRange { key, offset, value }))
}

pub(crate) fn parse_getdel(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    p.finish()?;
    Ok(Command::Write(WriteOp::GetDel { key }))
}

pub(crate) fn parse_incrbyfloat(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let delta = p.next_float()?;
    p.finish()?;
    Ok(Command::Write(WriteOp::IncrByFloat { key, delta }))
}

/// What `GETEX` was asked to do with the TTL, before the leader makes it absolute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetExOption {
    Keep,
    Persist,
    In(TimeUnit, i64),
    At(TimeUnit, i64),
}

/// `GETEX key [EX seconds | PX milliseconds | EXAT unix-time | PXAT unix-time-ms | PERSIST]`.
pub(crate) fn parse_getex(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let key = p.next_bytes()?;
    let mut option = GetExOption::Keep;
    while let Some(name) = p.next_option() {
        let (unit, absolute) = match name.as_str() {
            "PERSIST" if option == GetExOption::Keep => {
                option = GetExOption::Persist;
                continue;
            }
            "EX" => (TimeUnit::Seconds, false),
            "PX" => (TimeUnit::Milliseconds, false),
            "EXAT" => (TimeUnit::Seconds, true),
            "PXAT" => (TimeUnit::Milliseconds, true),
            _ => return Err(CommandError::Syntax),
        };
        if option != GetExOption::Keep || p.remaining() == 0 {
            return Err(CommandError::Syntax);
        }
        let amount = p.next_int()?;
        if amount <= 0 || unit.to_millis(amount).is_none() {
            return Err(CommandError::InvalidExpireTime("getex"));
        }
        option = if absolute {
            GetExOption::At(unit, amount)
        } else {
            GetExOption::In(unit, amount)
        };
    }
    Ok(Command::GetEx { key, option })
}
