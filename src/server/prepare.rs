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

/// What preparing a command gave.
pub(super) enum Prepared {
    /// A keyspace write: its log op, and how its reply is reshaped.
    Write(WriteOp, Option<ReplyAs>),
    /// Not a keyspace write: it runs on this node as it is.
    Local(Command),
}

/// The log op of a keyspace write command, with everything time-dependent made absolute by
/// the leader's clock (ARCHITECTURE.md rule 3), and how its reply is reshaped; `Err` is the
/// reply for a value that is invalid on the leader's clock (an expire time that overflows).
/// This match is the one list of which commands are keyspace writes.
pub(super) fn prepare(cmd: Command, now: u64) -> Result<Prepared, Frame> {
    let op = match cmd {
        Command::Write(op) => op,
        Command::WriteAs(op, how) => return Ok(Prepared::Write(op, Some(how))),
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
        other => return Ok(Prepared::Local(other)),
    };
    Ok(Prepared::Write(op, None))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys routing hashes (the prepared op's) are the keys Redis's `COMMAND GETKEYS`
    /// names, for every kind of keyspace write.
    #[test]
    fn routed_keys_of_writes_agree_with_getkeys() {
        for line in [
            &["set", "a", "v", "GET"][..],
            &["del", "a", "b"],
            &["incr", "a"],
            &["decrby", "a", "3"],
            &["mset", "a", "1", "b", "2"],
            &["pexpire", "a", "5", "GT"],
            &["expireat", "a", "5"],
            &["persist", "a"],
            &["getex", "a", "EX", "5"],
            &["setnx", "a", "v"],
            &["hset", "h", "f", "v"],
            &["rpush", "l", "x"],
            &["sadd", "s", "m"],
            &["zadd", "z", "1", "m"],
            &["rename", "a", "b"],
        ] {
            let args: Vec<bytes::Bytes> = line
                .iter()
                .map(|a| bytes::Bytes::from(a.to_string()))
                .collect();
            let cmd = Command::parse(&args).unwrap();
            let Ok(Prepared::Write(op, _)) = prepare(cmd, 1_700_000_000_000) else {
                panic!("{line:?} is a keyspace write");
            };
            let routed: Vec<bytes::Bytes> = op.keys().into_iter().cloned().collect();
            assert_eq!(
                routed,
                crate::command::table::get_keys(&args).unwrap(),
                "{line:?}"
            );
        }
    }

    #[test]
    fn expire_deadlines_add_the_leaders_clock() {
        let now = 1_700_000_000_000u64;
        let at = |amount, unit, absolute| absolute_deadline(amount, unit, absolute, now);
        assert_eq!(at(10, TimeUnit::Seconds, false), Some(now + 10_000));
        assert_eq!(at(-10, TimeUnit::Milliseconds, false), Some(now - 10));
        assert_eq!(at(5, TimeUnit::Seconds, true), Some(5_000));
        // A deadline before the epoch deletes the key, as one in the past does.
        assert_eq!(at(-5, TimeUnit::Seconds, true), Some(0));
        // Redis: `EXPIRE k 9223372036854775` passes the unit check, then overflows with the clock.
        assert_eq!(at(9223372036854775, TimeUnit::Seconds, false), None);
        assert_eq!(at(i64::MAX, TimeUnit::Milliseconds, false), None);
        assert_eq!(at(i64::MAX, TimeUnit::Seconds, true), None);
    }
}
