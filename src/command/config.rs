//! `CONFIG GET/SET/RESETSTAT/REWRITE/HELP`, `TIME`, and the replication commands a slotraft
//! node refuses (`SYNC`, `PSYNC`).

use bytes::Bytes;

use super::parse::Parse;
use super::{Command, CommandError};

/// `CONFIG subcommand …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSub {
    /// Glob patterns of parameter names.
    Get(Vec<Bytes>),
    /// Parameter/value pairs, applied all or nothing.
    Set(Vec<(Bytes, Bytes)>),
    ResetStat,
    Rewrite,
    Help,
}

impl ConfigSub {
    pub const HELP: &'static [&'static str] = &[
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
        "HELP",
        "    Print this help.",
    ];
}

pub(crate) fn parse_config(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    Err(CommandError::WrongArity(p.name()))
}

pub(crate) fn parse_config_get(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    Ok(Command::Config(ConfigSub::Get(p.rest())))
}

pub(crate) fn parse_config_set(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let args = p.rest();
    if !args.len().is_multiple_of(2) {
        return Err(CommandError::Syntax);
    }
    let mut it = args.into_iter();
    let mut pairs = Vec::new();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        pairs.push((k, v));
    }
    Ok(Command::Config(ConfigSub::Set(pairs)))
}

pub(crate) fn parse_config_resetstat(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    p.finish()?;
    Ok(Command::Config(ConfigSub::ResetStat))
}

pub(crate) fn parse_config_rewrite(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    p.finish()?;
    Ok(Command::Config(ConfigSub::Rewrite))
}

pub(crate) fn parse_config_help(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    p.finish()?;
    Ok(Command::Config(ConfigSub::Help))
}

pub(crate) fn parse_time(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    p.finish()?;
    Ok(Command::Time)
}

pub(crate) fn parse_sync(_: &mut Parse<'_>) -> Result<Command, CommandError> {
    Err(CommandError::Invalid(
        "ERR SYNC and PSYNC are not supported: slotraft replicas are Raft members, not Redis replicas",
    ))
}

pub(crate) fn parse_psync(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    parse_sync(p)
}

/// `WAIT numreplicas timeout`: slotraft acknowledges a write only once a quorum of its group
/// has it durably, so there is nothing to wait for; the reply is how many replicas besides the
/// leader every acknowledged write has reached at least (quorum − 1).
pub(crate) fn parse_wait(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let _replicas = p.next_int()?;
    let timeout = p.next_int()?;
    p.finish()?;
    if timeout < 0 {
        return Err(CommandError::Invalid("ERR timeout is negative"));
    }
    Ok(Command::Wait)
}
