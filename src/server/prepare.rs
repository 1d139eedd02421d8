//! The leader-side preparation of a write command: everything that depends on time or chance
//! is decided here, before proposing, so the log carries the decision (rule 3 in
//! ARCHITECTURE.md): relative TTLs become absolute deadlines on the leader's clock, and each
//! command becomes the `WriteOp` that every replica applies alike.

use super::replies::err;
use crate::command::{
    Command, ExpireCondition, GetExOption, ReplyAs, SetArgs, SetCondition, SetExpiry, TimeUnit,
};
use crate::keyspace::{self, WriteOp};
use crate::resp::Frame;

/// The log op of a keyspace write command, with everything time-dependent made absolute by
/// the leader's clock (ARCHITECTURE.md rule 3), and how its reply is reshaped.
pub(super) fn write_op(cmd: Command, now: u64) -> Result<(WriteOp, Option<ReplyAs>), Frame> {
    let op = match cmd {
        Command::Write(op) => op,
        Command::WriteAs(op, how) => return Ok((op, Some(how))),
        Command::Set(args) => set_op(args, now)?,
        Command::Del(keys) => WriteOp::Del { keys },
        Command::IncrBy { key, delta } => WriteOp::IncrBy { key, delta },
        Command::MSet(pairs) => WriteOp::MSet { pairs },
        Command::Persist(key) => WriteOp::Persist { key },
        Command::Expire {
            key,
            amount,
            unit,
            condition,
        } => WriteOp::ExpireAt {
            at_ms: absolute_deadline(amount, unit, false, now).ok_or_else(|| {
                err(format!(
                    "ERR invalid expire time in '{}' command",
                    if unit == TimeUnit::Seconds {
                        "expire"
                    } else {
                        "pexpire"
                    }
                ))
            })?,
            key,
            condition: expire_condition(condition),
        },
        Command::ExpireAt {
            key,
            at,
            unit,
            condition,
        } => WriteOp::ExpireAt {
            at_ms: absolute_deadline(at, unit, true, now).ok_or_else(|| {
                err(format!(
                    "ERR invalid expire time in '{}' command",
                    if unit == TimeUnit::Seconds {
                        "expireat"
                    } else {
                        "pexpireat"
                    }
                ))
            })?,
            key,
            condition: expire_condition(condition),
        },
        Command::GetEx { key, option } => {
            let invalid = || err("ERR invalid expire time in 'getex' command");
            let expiry = match option {
                GetExOption::Keep => keyspace::GetExExpiry::Keep,
                GetExOption::Persist => keyspace::GetExExpiry::Persist,
                GetExOption::In(unit, n) => keyspace::GetExExpiry::At(
                    absolute_deadline(n, unit, false, now).ok_or_else(invalid)?,
                ),
                GetExOption::At(unit, n) => keyspace::GetExExpiry::At(
                    absolute_deadline(n, unit, true, now).ok_or_else(invalid)?,
                ),
            };
            WriteOp::GetEx { key, expiry }
        }
        other => unreachable!("{} is not a keyspace write", other.name()),
    };
    Ok((op, None))
}

/// Redis's EXPIRE/PEXPIRE(AT) arithmetic: `None` on overflow ("invalid expire time").
fn absolute_deadline(amount: i64, unit: TimeUnit, absolute: bool, now: u64) -> Option<u64> {
    let ms = match unit {
        TimeUnit::Seconds => amount.checked_mul(1000)?,
        TimeUnit::Milliseconds => amount,
    };
    let at = if absolute {
        ms
    } else {
        ms.checked_add(i64::try_from(now).ok()?)?
    };
    // A deadline at or before now deletes the key; clamp negatives to 0.
    Some(at.max(0) as u64)
}

fn expire_condition(c: ExpireCondition) -> keyspace::ExpireCondition {
    match c {
        ExpireCondition::Always => keyspace::ExpireCondition::Always,
        ExpireCondition::Nx => keyspace::ExpireCondition::IfNone,
        ExpireCondition::Xx => keyspace::ExpireCondition::IfSome,
        ExpireCondition::Gt => keyspace::ExpireCondition::IfGreater,
        ExpireCondition::Lt => keyspace::ExpireCondition::IfLess,
        ExpireCondition::XxLt => keyspace::ExpireCondition::IfSomeAndLess,
    }
}

pub(super) fn set_op(args: SetArgs, now: u64) -> Result<WriteOp, Frame> {
    let invalid = || err("ERR invalid expire time in 'set' command");
    let expiry = match args.expiry {
        SetExpiry::None => keyspace::SetExpiry::Clear,
        SetExpiry::KeepTtl => keyspace::SetExpiry::Keep,
        SetExpiry::In(unit, n) => {
            keyspace::SetExpiry::At(absolute_deadline(n, unit, false, now).ok_or_else(invalid)?)
        }
        SetExpiry::At(unit, n) => {
            keyspace::SetExpiry::At(absolute_deadline(n, unit, true, now).ok_or_else(invalid)?)
        }
    };
    let condition = match args.condition {
        SetCondition::Always => keyspace::SetCondition::Always,
        SetCondition::IfNotExists => keyspace::SetCondition::IfNotExists,
        SetCondition::IfExists => keyspace::SetCondition::IfExists,
    };
    Ok(WriteOp::Set {
        key: args.key,
        value: args.value,
        condition,
        expiry,
        get: args.get,
    })
}
