//! Transaction commands: `MULTI EXEC DISCARD WATCH UNWATCH`. The connection queues commands
//! between `MULTI` and `EXEC`; `EXEC` proposes them as one log entry.

use super::parse::Parse;
use super::{Command, CommandError};

pub(crate) fn parse_multi(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    p.finish()?;
    Ok(Command::Multi)
}

pub(crate) fn parse_exec(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    p.finish()?;
    Ok(Command::Exec)
}

pub(crate) fn parse_discard(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    p.finish()?;
    Ok(Command::Discard)
}

pub(crate) fn parse_watch(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    Ok(Command::Watch(p.rest()))
}

pub(crate) fn parse_unwatch(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    p.finish()?;
    Ok(Command::Unwatch)
}
