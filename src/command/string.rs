//! String commands: `GET`, `SET`, `INCR`/`DECR`/`INCRBY`/`DECRBY`, `MGET`, `MSET`.

use bytes::Bytes;

use super::keyspace::TimeUnit;
use super::parse::{parse_int, Parse};
use super::{Command, CommandError};

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
