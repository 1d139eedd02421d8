//! Server commands: `COMMAND` and its subcommands, `INFO`, `DBSIZE`.
//!
//! `COMMAND` is answered from `table` (cluster clients call it on connect to learn key
//! positions); `INFO` and `DBSIZE` report server state the caller owns.

use bytes::Bytes;

use super::parse::Parse;
use super::{Command, CommandError};

/// Which names `COMMAND LIST FILTERBY` keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListFilter {
    /// `MODULE name`: commands of a loaded module (we load none: always empty).
    Module(Bytes),
    /// `ACLCAT category`: commands in the ACL category (name without `@`, any case).
    AclCategory(Bytes),
    /// `PATTERN glob`: names matching the glob, any case (`cluster|*`).
    Pattern(Bytes),
}

/// The forms of `COMMAND`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandSub {
    /// `COMMAND`: info on every command.
    All,
    /// `COMMAND COUNT`.
    Count,
    /// `COMMAND INFO [name …]`: info on the named commands (all when none are named).
    Info(Vec<Bytes>),
    /// `COMMAND DOCS [name …]`: docs of the named commands (all when none are named).
    Docs(Vec<Bytes>),
    /// `COMMAND LIST [FILTERBY MODULE|ACLCAT|PATTERN x]`: command and subcommand names.
    List(Option<ListFilter>),
    /// `COMMAND GETKEYS command [arg …]`: the keys of the given command line.
    GetKeys(Vec<Bytes>),
    /// `COMMAND HELP`.
    Help,
}

impl CommandSub {
    /// The `COMMAND HELP` reply lines (each sent as a simple string), as Redis 7.0 words them,
    /// for the forms we support.
    pub const HELP: &'static [&'static str] = &[
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "HELP",
        "    Prints this help.",
    ];
}

pub(crate) fn parse_command(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    p.finish()?;
    Ok(Command::Command(CommandSub::All))
}

pub(crate) fn parse_command_count(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    p.finish()?;
    Ok(Command::Command(CommandSub::Count))
}

pub(crate) fn parse_command_info(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    Ok(Command::Command(CommandSub::Info(p.rest())))
}

pub(crate) fn parse_command_docs(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    Ok(Command::Command(CommandSub::Docs(p.rest())))
}

/// `COMMAND LIST`: Redis accepts exactly one `FILTERBY <type> <value>`, the type in any case;
/// anything else after `LIST` is a syntax error.
pub(crate) fn parse_command_list(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let filter = match p.rest().as_slice() {
        [] => None,
        [filterby, kind, value] if filterby.eq_ignore_ascii_case(b"filterby") => {
            Some(if kind.eq_ignore_ascii_case(b"module") {
                ListFilter::Module(value.clone())
            } else if kind.eq_ignore_ascii_case(b"aclcat") {
                ListFilter::AclCategory(value.clone())
            } else if kind.eq_ignore_ascii_case(b"pattern") {
                ListFilter::Pattern(value.clone())
            } else {
                return Err(CommandError::Syntax);
            })
        }
        _ => return Err(CommandError::Syntax),
    };
    Ok(Command::Command(CommandSub::List(filter)))
}

pub(crate) fn parse_command_getkeys(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    Ok(Command::Command(CommandSub::GetKeys(p.rest())))
}

pub(crate) fn parse_command_help(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    p.finish()?;
    Ok(Command::Command(CommandSub::Help))
}

/// `INFO [section …]`: Redis matches section names case-insensitively, so they are lower-cased
/// here once.
pub(crate) fn parse_info(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    let sections = p
        .rest()
        .iter()
        .map(|s| String::from_utf8_lossy(s).to_ascii_lowercase())
        .collect();
    Ok(Command::Info(sections))
}

pub(crate) fn parse_dbsize(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    p.finish()?;
    Ok(Command::DbSize)
}
